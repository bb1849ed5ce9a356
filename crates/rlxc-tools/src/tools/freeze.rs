//! `lxc-freeze`: freeze all processes of a running container, the way LXC's `lxc_freeze()`
//! does it from the client side: tell the monitor's state clients FREEZING (SERVE_STATE_CLIENTS,
//! 12, and the legacy monitor FIFO); on a pure cgroup2 host ask the monitor to freeze (FREEZE,
//! 15), otherwise write the v1 `freezer.state` of the cgroup the monitor reports
//! (GET_LIMIT_CGROUP / GET_CGROUP "freezer") and wait for it to read back; then report FROZEN
//! (or RUNNING on failure).

use rlxc_core::commands::{client, monitor_fifo, CmdError};
use rlxc_core::state::State;

use super::cmd_common;

const HELP: &str = "--name=NAME

lxc-freeze freezes a container with the identifier NAME

Options :
  -n, --name=NAME      NAME of the container
  --rcfile=FILE        Load configuration file FILE
";

/// Why a freeze or thaw failed.
#[derive(Debug)]
pub(crate) enum FreezeError {
    NotRunning,
    Command(CmdError),
    NoFreezer,
    Cgroup(String),
}

impl std::fmt::Display for FreezeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FreezeError::NotRunning => f.write_str("the container is not running"),
            FreezeError::Command(e) => write!(f, "{e}"),
            FreezeError::NoFreezer => f.write_str("no freezer cgroup found for the container"),
            FreezeError::Cgroup(e) => f.write_str(e),
        }
    }
}

fn notify(name: &str, lxcpath: &str, st: State) {
    // LXC ignores failures here too: the freeze itself decides the result.
    let _ = client::serve_state_clients(name, lxcpath, st);
    monitor_fifo::send_state(lxcpath, name, st);
}

fn do_freeze_thaw(name: &str, lxcpath: &str, freeze: bool) -> Result<(), FreezeError> {
    let layout = rlxc_cgroup::Layout::detect().map_err(|e| FreezeError::Cgroup(e.to_string()))?;
    if layout.kind == rlxc_cgroup::LayoutKind::Unified {
        let r = if freeze { client::freeze(name, lxcpath, -1) } else { client::unfreeze(name, lxcpath, -1) };
        return match r {
            // A monitor without FREEZE/UNFREEZE: do it here through its cgroup2 fd (LXC 5.0's way).
            Err(e) if e.is_not_supported() => freeze_through_fd(name, lxcpath, freeze),
            r => r.map_err(FreezeError::Command),
        };
    }
    let h = layout.v1_for("freezer").ok_or(FreezeError::NoFreezer)?;
    let rel = cmd_common::cgroup_path(name, lxcpath, Some("freezer")).ok_or(FreezeError::NoFreezer)?;
    let dir = h.dir_of(&rel);
    let cg =
        rlxc_cgroup::fsio::CgDir::open(&dir).map_err(|e| FreezeError::Cgroup(format!("{}: {e}", dir.display())))?;
    rlxc_cgroup::freezer::set_v1(&cg, freeze, -1).map_err(|e| FreezeError::Cgroup(e.to_string()))
}

/// Write `cgroup.freeze` in the directory GET_LIMIT_CGROUP2_FD hands out and wait until
/// `cgroup.events` agrees.
fn freeze_through_fd(name: &str, lxcpath: &str, freeze: bool) -> Result<(), FreezeError> {
    use std::os::fd::AsFd;
    let fd = client::get_limit_cgroup2_fd(name, lxcpath)
        .or_else(|_| client::get_cgroup2_fd(name, lxcpath))
        .map_err(FreezeError::Command)?;
    let cg = |e: std::io::Error| FreezeError::Cgroup(format!("cgroup.freeze: {e}"));
    rlxc_cgroup::fsio::write_at(fd.as_fd(), "cgroup.freeze", if freeze { "1" } else { "0" }).map_err(cg)?;
    let want = if freeze { "frozen 1" } else { "frozen 0" };
    loop {
        let ev = rlxc_cgroup::fsio::read_at(fd.as_fd(), "cgroup.events").map_err(cg)?;
        if ev.lines().any(|l| l == want) {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Freeze (`true`) or thaw a container, notifying state clients around it like LXC.
pub(crate) fn freeze_thaw(name: &str, lxcpath: &str, freeze: bool) -> Result<(), FreezeError> {
    if client::get_state(name, lxcpath).map_err(FreezeError::Command)? == State::Stopped {
        return Err(FreezeError::NotRunning);
    }
    let (mid, ok, failed) = if freeze {
        (State::Freezing, State::Frozen, State::Running)
    } else {
        (State::Thawed, State::Running, State::Frozen)
    };
    notify(name, lxcpath, mid);
    let r = do_freeze_thaw(name, lxcpath, freeze);
    notify(name, lxcpath, if r.is_ok() { ok } else { failed });
    r
}

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let c = match cmd_common::parse("lxc-freeze", args, &[], HELP, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let name = c.name.clone().unwrap_or_default();
    if let Err(e) = rlxc_core::lxcpath::check_name(&name) {
        eprintln!("lxc-freeze: {name}: {e}");
        return 1;
    }
    match freeze_thaw(&name, &c.lxcpath, true) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("lxc-freeze: {name}: {e}");
            eprintln!("lxc-freeze: {name}: Failed to freeze {}:{name}", c.lxcpath);
            1
        }
    }
}
