//! The legacy state-notification path used by `lxc-monitor` (LXC's `monitor.c`).
//!
//! Every state change (and the container's exit code) is also written as a `struct lxc_msg`
//! into the FIFO `<rundir>/lxc/<lxcpath>/monitor-fifo`, opened non-blocking so nothing happens
//! when no `lxc-monitord` reads it. `lxc-monitord LXCPATH SYNC_FD` owns the FIFO and relays each
//! message to the clients connected to its abstract socket [`monitord_socket_name`].

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::PathBuf;

use tracing::{debug, warn};

use super::address::fnv1a64;
use super::wire::{LxcMsg, MsgType};
use crate::state::State;

/// `<rundir>/lxc/<lxcpath>/monitor-fifo`.
pub fn fifo_path(lxcpath: &str) -> PathBuf {
    crate::lxcpath::lxcpath_rundir(lxcpath).join("monitor-fifo")
}

/// The abstract name (without the leading NUL) `lxc-monitord` listens on for `lxcpath`:
/// `lxc/<fnv1a64("lxc/<lxcpath>/monitor-sock") as %016x>/<lxcpath>`. Err when longer than the
/// 105 bytes an abstract name may have (LXC: ENAMETOOLONG).
pub fn monitord_socket_name(lxcpath: &str) -> Result<Vec<u8>, std::io::Error> {
    let hash = fnv1a64(format!("lxc/{lxcpath}/monitor-sock").as_bytes());
    let name = format!("lxc/{hash:016x}/{lxcpath}");
    if name.len() > super::address::MAX_ABSTRACT_NAME {
        return Err(std::io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    Ok(name.into_bytes())
}

/// Write one message to the FIFO if someone reads it; silently nothing otherwise.
pub fn send(lxcpath: &str, msg: &LxcMsg) {
    let path = fifo_path(lxcpath);
    let file =
        match std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC).open(&path) {
            Ok(f) => f,
            Err(e) => {
                if !matches!(e.raw_os_error(), Some(libc::ENXIO) | Some(libc::ENOENT)) {
                    warn!("cannot open monitor fifo {}: {e}", path.display());
                }
                return;
            }
        };
    // Only ever write into a FIFO (a regular file planted there must not grow).
    match file.metadata() {
        Ok(md) if md.file_type().is_fifo() => {}
        _ => return,
    }
    let mut file = file;
    if let Err(e) = file.write_all(&msg.encode()) {
        debug!("monitor fifo {}: {e}", path.display());
    }
}

/// Send a state message to the FIFO (LXC's `lxc_monitor_send_state`).
pub fn send_state(lxcpath: &str, name: &str, state: State) {
    send(lxcpath, &LxcMsg::state(name, state));
}

/// Send the container's exit status (raw wait status) to the FIFO
/// (LXC's `lxc_monitor_send_exit_code`).
pub fn send_exit_code(lxcpath: &str, name: &str, status: i32) {
    send(lxcpath, &LxcMsg { kind: MsgType::ExitCode as i32, name: name.to_string(), value: status });
}
