//! `lxc-autostart`: start, shut down, kill or reboot the auto-started containers of an lxcpath
//! in `lxc.start.order`, group by group (`-g`, default: containers without a group), waiting
//! `lxc.start.delay` after each start; `-L` only lists. Exit codes as LXC's: 0, 1 when every
//! container failed, 2 when some did. The selection rules live in `rlxc_core::autostart`.

use rlxc_core::autostart::{self, Action, Options};

use super::cmd_common;
use crate::args::Opt;

const OPTS: &[Opt] = &[
    Opt::flag('k', "kill"),
    Opt::flag('L', "list"),
    Opt::flag('r', "reboot"),
    Opt::flag('s', "shutdown"),
    Opt::flag('a', "all"),
    Opt::flag('A', "ignore-auto"),
    Opt::arg('g', "groups"),
    Opt::arg('t', "timeout"),
];

const HELP: &str = "
lxc-autostart managed auto-started containers

Options:
  -k, --kill        kill the containers instead of starting them
  -L, --list        list all affected containers and wait delay
  -r, --reboot      reboot the containers instead of starting them
  -s, --shutdown    shutdown the containers instead of starting them

  -a, --all         list all auto-started containers (ignore groups)
  -A, --ignore-auto ignore lxc.start.auto and select all matching containers
  -g, --groups      list of groups (comma separated) to select
  -t, --timeout=T   wait T seconds before hard-stopping
";

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let prog = "lxc-autostart";
    let common = match cmd_common::parse(prog, args, OPTS, HELP, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let p = &common.parsed;
    // LXC checks shutdown, then kill, then reboot: the first one given wins.
    let action = if p.has("shutdown") {
        Action::Shutdown
    } else if p.has("kill") {
        Action::Kill
    } else if p.has("reboot") {
        Action::Reboot
    } else {
        Action::Start
    };
    let mut o = Options {
        action,
        list: p.has("list"),
        all: p.has("all"),
        ignore_auto: p.has("ignore-auto"),
        ..Default::default()
    };
    for g in p.values("groups") {
        autostart::accumulate_groups(&mut o.groups, g);
    }
    if let Some(t) = p.value("timeout") {
        match t.trim().parse::<i32>() {
            Ok(v) => o.timeout = v,
            Err(_) => {
                eprintln!("{prog}: invalid timeout \"{t}\"");
                eprintln!("{prog}: could not parse command line");
                return 1;
            }
        }
    }
    // `-a` with `-g`: LXC logs that -a overrides (only into a log file); -a wins here too.
    let mut stdout = std::io::stdout();
    match autostart::run(&common.lxcpath, &o, &mut stdout) {
        Ok(outcome) => outcome.exit_code(),
        Err(e) => {
            eprintln!("{prog}: cannot list the containers of {}: {e}", common.lxcpath);
            1
        }
    }
}
