//! `lxc-stop`: clean shutdown through the halt signal with a timeout then kill, `-k` (hard
//! stop through the monitor), `-r` reboot, `-W` don't wait, `--nokill`. Exit codes as LXC's:
//! 0 stopped, 1 error, 2 not running.

use rlxc_core::container::Container;

use super::start::{apply_config_logging, parse_cli};
use crate::args::Opt;

const OPTS: &[Opt] = &[
    Opt::flag('r', "reboot"),
    Opt::flag('W', "nowait"),
    Opt::arg('t', "timeout"),
    Opt::flag('k', "kill"),
    Opt::long_flag("nokill"),
    Opt::long_flag("nolock"),
];

const HELP: &str = "--name=NAME

lxc-stop stops a container with the identifier NAME

Options :
  -n, --name=NAME   NAME of the container
  -r, --reboot      reboot the container
  -W, --nowait      don't wait for shutdown or reboot to complete
  -t, --timeout=T   wait T seconds before hard-stopping
  -k, --kill        kill container rather than request clean shutdown
      --nolock      Avoid using API locks
      --nokill      Only request clean shutdown, don't force kill after timeout
      --rcfile=FILE Load configuration file FILE
";

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let cli = match parse_cli("lxc-stop", args, OPTS, HELP, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let prog = cli.prog;
    let p = &cli.parsed;
    let hardstop = p.has("kill");
    let mut timeout: i32 = match p.value("timeout") {
        Some(t) => match t.parse() {
            Ok(v) => v,
            Err(_) => {
                eprintln!("{prog}: invalid timeout \"{t}\"");
                return 1;
            }
        },
        None => {
            if hardstop {
                0
            } else {
                60
            }
        }
    };
    if p.has("nowait") {
        timeout = 0;
    }
    if !hardstop && timeout < -1 {
        eprintln!("{prog}: Invalid timeout value");
        return 1;
    }
    if hardstop && p.has("nokill") {
        eprintln!("{prog}: -k can't be used with --nokill");
        return 1;
    }
    if hardstop && p.has("reboot") {
        eprintln!("{prog}: -k can't be used with -r");
        return 1;
    }
    if hardstop && p.value("timeout").map(|t| t != "0").unwrap_or(false) {
        eprintln!("{prog}: -k doesn't allow timeouts");
        return 1;
    }
    if p.has("nolock") && !hardstop {
        eprintln!("{prog}: --nolock may only be used with -k");
        return 1;
    }
    let rcfile = p.value("rcfile").map(std::path::PathBuf::from);
    let c = match Container::new(&cli.name, &cli.lxcpath, rcfile.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{prog}: {}: {e}", cli.name);
            return 1;
        }
    };
    apply_config_logging(&c);
    // A container started with `lxc-start -f FILE` has no config of its own but runs: stop it.
    if !c.is_defined() && rcfile.is_none() && !c.is_running() {
        eprintln!("{prog}: {}: Container is not defined", cli.name);
        return 1;
    }
    if !c.is_running() {
        eprintln!("{prog}: {}: {} is not running", cli.name, cli.name);
        return 2;
    }
    if p.has("reboot") {
        return match c.reboot(timeout) {
            Ok(true) => 0,
            Ok(false) => {
                eprintln!("{prog}: {}: reboot did not complete within {timeout} seconds", cli.name);
                1
            }
            Err(e) => report(prog, &cli.name, e),
        };
    }
    if hardstop {
        return match c.stop() {
            Ok(()) => 0,
            Err(e) => report(prog, &cli.name, e),
        };
    }
    match c.shutdown(timeout) {
        Ok(true) => 0,
        Ok(false) if timeout == 0 => 0,
        Ok(false) if p.has("nokill") => {
            eprintln!("{prog}: {}: clean shutdown did not complete within {timeout} seconds", cli.name);
            1
        }
        Ok(false) => match c.stop() {
            Ok(()) => 0,
            Err(e) => report(prog, &cli.name, e),
        },
        Err(rlxc_core::container::ContainerError::NotRunning(_)) => {
            eprintln!("{prog}: {}: {} is not running", cli.name, cli.name);
            2
        }
        Err(e) => report(prog, &cli.name, e),
    }
}

fn report(prog: &str, name: &str, e: rlxc_core::container::ContainerError) -> i32 {
    if let rlxc_core::container::ContainerError::NotRunning(_) = e {
        eprintln!("{prog}: {name}: {name} is not running");
        return 2;
    }
    eprintln!("{prog}: {name}: {e}");
    1
}
