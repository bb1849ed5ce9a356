//! `lxc-execute`: run one command as an application container, under `init.lxc` injected from
//! the host, and exit with the command's status.

use std::path::PathBuf;

use rlxc_core::container::{set_config_item, Container};
use rlxc_core::execute;
use rlxc_core::start::StartOptions;

use super::start::{apply_config_logging, parse_cli};
use crate::args::Opt;

const PROG: &str = "lxc-execute";

const OPTS: &[Opt] = &[
    Opt::flag('d', "daemon"),
    Opt::arg('f', "rcfile"),
    Opt::arg('s', "define"),
    Opt::arg('u', "uid"),
    Opt::arg('g', "gid"),
    Opt::long_arg("share-net"),
    Opt::long_arg("share-ipc"),
    Opt::long_arg("share-uts"),
    Opt::long_arg("share-pid"),
];

const HELP: &str = "--name=NAME -- COMMAND

lxc-execute creates a container with the identifier NAME
and execs COMMAND into this container.

Options :
  -n, --name=NAME      NAME of the container
  -d, --daemon         Daemonize the container
  -f, --rcfile=FILE    Load configuration file FILE
  -s, --define KEY=VAL Assign VAL to configuration variable KEY
  -u, --uid=UID        Execute COMMAND with UID inside the container
  -g, --gid=GID        Execute COMMAND with GID inside the container
      --share-[net|ipc|uts|pid]=NAME Share a namespace with another container or pid

Common options :
  -o, --logfile=FILE               Output log to FILE instead of stderr
  -l, --logpriority=LEVEL          Set log priority to LEVEL
  -q, --quiet                      Don't produce any output
  -P, --lxcpath=PATH               Use specified container path
  -?, --help                       Give this help list
      --usage                      Give a short usage message
      --version                    Print the version number
";

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let cli = match parse_cli(PROG, args, OPTS, HELP, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let name = cli.name.clone();
    let rcfile = cli.parsed.value("rcfile").map(PathBuf::from);
    let mut c = match Container::new(&name, &cli.lxcpath, rcfile.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROG}: {name}: {e}");
            return 1;
        }
    };
    if !c.is_defined() && rcfile.is_none() {
        eprintln!("{PROG}: {name}: Failed to load config for container (no config and no --rcfile)");
        return 1;
    }
    apply_config_logging(&c);
    let mut sets: Vec<(String, String)> = Vec::new();
    for d in cli.parsed.values("define") {
        match d.split_once('=') {
            Some((k, v)) => sets.push((k.trim().to_string(), v.trim().to_string())),
            None => {
                eprintln!("{PROG}: -s {d}: expected KEY=VAL");
                return 1;
            }
        }
    }
    for (opt, key) in [("uid", "lxc.init.uid"), ("gid", "lxc.init.gid")] {
        if let Some(v) = cli.parsed.value(opt) {
            if v.parse::<u32>().is_err() {
                eprintln!("{PROG}: invalid {opt} {v:?} (expected a number)");
                return 1;
            }
            sets.push((key.into(), v.into()));
        }
    }
    for ns in ["net", "ipc", "uts", "pid"] {
        if let Some(v) = cli.parsed.value(&format!("share-{ns}")) {
            sets.push((format!("lxc.namespace.share.{ns}"), v.into()));
        }
    }
    let daemonize = cli.parsed.has("daemon");
    // Run in the foreground with the caller's stdio unless a console was configured: the
    // command's output and input are the caller's, as with LXC's lxc-execute.
    if !daemonize && c.conf.console.path.is_none() {
        sets.push(("lxc.console.path".into(), "none".into()));
    }
    for (k, v) in &sets {
        if let Err(e) = set_config_item(&mut c.conf, k, v) {
            eprintln!("{PROG}: {name}: {k} = {v}: {e}");
            return 1;
        }
    }
    let Some(command) = execute::execute_command(&c.conf, &cli.rest) else {
        eprintln!("{PROG}: {name}: Missing command to execute!");
        return 1;
    };
    if c.is_running() {
        eprintln!("{PROG}: {name}: Container is already running.");
        return 1;
    }
    // Run from a sealed image of ourselves from here on (CVE-2019-5736 class,
    // rlxc_sys::sealed_exe); the re-exec'ed process parses the same arguments again.
    // Overlap the kernel's wait before the first cgroup migration with the re-exec (see
    // warm_up_migrations); the re-executed image runs sealed and skips it.
    let _ = rlxc_sys::sealed_exe::reexec_self_sealed(rlxc_core::cgroups::warm_up_migrations);
    let argv = match execute::inject_into_config(&mut c.conf, &name, &cli.lxcpath, cli.parsed.has("quiet"), &command) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{PROG}: {name}: {e}");
            return 1;
        }
    };
    let opts = StartOptions {
        daemonize,
        argv: Some(argv),
        pidfile: None,
        close_all_fds: daemonize,
        foreground_console: false,
    };
    let result = c.start(&opts);
    if !daemonize {
        remove_placeholder(&c);
    }
    match result {
        Ok(code) => {
            if daemonize {
                0
            } else {
                code
            }
        }
        Err(e) => {
            eprintln!("{PROG}: {name}: {e}");
            eprintln!("{PROG}: {name}: Failed run an application inside container");
            1
        }
    }
}

/// init.lxc removes its bind-mount placeholder itself, unless it could not (e.g. `-u` made it
/// unprivileged): remove the empty file once the container is gone.
fn remove_placeholder(c: &Container) {
    let Some(root) = c.conf.rootfs.location.as_deref().filter(|l| l.starts_with('/')) else { return };
    let p = std::path::Path::new(root).join(execute::INJECTED_INIT_PATH.trim_start_matches('/'));
    if std::fs::symlink_metadata(&p).map(|m| m.is_file() && m.len() == 0).unwrap_or(false) {
        let _ = std::fs::remove_file(&p);
    }
}
