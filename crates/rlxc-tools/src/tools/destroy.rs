//! `lxc-destroy`: remove a container (refuses a running one without `-f`).

use rlxc_core::container::{Container, ContainerError};
use rlxc_core::snapshot;

use super::start::parse_cli;
use crate::args::Opt;

const OPTS: &[Opt] = &[Opt::flag('f', "force"), Opt::flag('s', "snapshots")];

const HELP: &str = "--name=NAME [-f] [-P lxcpath]

lxc-destroy destroys a container with the identifier NAME

Options :
  -n, --name=NAME   NAME of the container
  -s, --snapshots   destroy including all snapshots
  -f, --force       wait for the container to shut down
      --rcfile=FILE Load configuration file FILE
";

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let cli = match parse_cli("lxc-destroy", args, OPTS, HELP, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let prog = cli.prog;
    let c = match Container::new(&cli.name, &cli.lxcpath, None) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{prog}: {}: {e}", cli.name);
            return 1;
        }
    };
    if !c.is_defined() {
        eprintln!("{prog}: {}: Container is not defined", cli.name);
        return 1;
    }
    // As LXC: snapshots go first with -s; without it a container with snapshots stays.
    if cli.parsed.has("snapshots") {
        if c.is_running() && !cli.parsed.has("force") {
            eprintln!("{prog}: {}: Container is running. Stop it first or use -f", cli.name);
            return 1;
        }
        if let Err(e) = snapshot::destroy_all(&c) {
            eprintln!("{prog}: {}: Destroying snapshots of {} failed: {e}", cli.name, cli.name);
            return 1;
        }
    } else if !snapshot::list(&c).is_empty() {
        eprintln!("{prog}: {}: Destroying {} failed: {} has snapshots.", cli.name, cli.name, cli.name);
        return 1;
    }
    match c.destroy(cli.parsed.has("force")) {
        Ok(()) => {
            if !cli.parsed.has("quiet") {
                println!("Destroyed container {}", cli.name);
            }
            0
        }
        Err(ContainerError::Running(_)) => {
            eprintln!("{prog}: {}: Container is running. Stop it first or use -f", cli.name);
            1
        }
        Err(e) => {
            eprintln!("{prog}: {}: {e}", cli.name);
            1
        }
    }
}
