//! `lxc-wait`: wait until a container reaches one of the given states (`-s "S1|S2"`, `-t SECS`),
//! by registering a state client with its monitor (ADD_STATE_CLIENT) like LXC's `lxc_wait()`.

use std::time::Duration;

use rlxc_core::commands::client;
use rlxc_core::state::parse_state_list;

use super::cmd_common;
use crate::args::Opt;

const OPTS: &[Opt] = &[Opt::arg('s', "state"), Opt::arg('t', "timeout")];

const HELP: &str = "--name=NAME --state=STATE

lxc-wait waits for NAME container state to reach STATE

Options :
  -n, --name=NAME   NAME of the container
  -s, --state=STATE ORed states to wait for
                    STOPPED, STARTING, RUNNING, STOPPING,
                    ABORTING, FREEZING, FROZEN, THAWED
  -t, --timeout=TMO Seconds to wait for state changes
  --rcfile=FILE     Load configuration file FILE
";

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let c = match cmd_common::parse("lxc-wait", args, OPTS, HELP, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let name = c.name.clone().unwrap_or_default();
    if let Err(e) = rlxc_core::lxcpath::check_name(&name) {
        eprintln!("lxc-wait: {name}: {e}");
        return 1;
    }
    let Some(states) = c.parsed.value("state") else {
        eprintln!("lxc-wait: missing state option to wait for.");
        return 1;
    };
    let wanted = match parse_state_list(states) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("lxc-wait: {name}: {e}");
            eprintln!("lxc-wait: could not parse command line");
            return 1;
        }
    };
    let timeout = match c.parsed.value("timeout") {
        None => None,
        Some(t) => match t.trim().parse::<i64>() {
            Ok(v) if v < 0 => None,
            Ok(v) => Some(Duration::from_secs(v as u64)),
            Err(_) => {
                eprintln!("lxc-wait: invalid timeout {t:?}");
                eprintln!("lxc-wait: could not parse command line");
                return 1;
            }
        },
    };
    match client::wait_state(&name, &c.lxcpath, &wanted, timeout) {
        Ok(_) => 0,
        // LXC's lxc-wait fails silently on a timeout or when another state was reached.
        Err(rlxc_core::commands::CmdError::Timeout { .. }) | Err(rlxc_core::commands::CmdError::OtherState { .. }) => 1,
        Err(e) => {
            if !c.parsed.has("quiet") {
                eprintln!("lxc-wait: {name}: {e}");
            }
            1
        }
    }
}
