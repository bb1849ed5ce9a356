//! LXC's monitor command protocol, wire-compatible with LXC 4.0 (and the numbers appended up to
//! 4.0.12 / 5.0): `commands.c`, `commands_utils.c`, `af_unix.c`.
//!
//! - [`address`]: the abstract socket name `\0<lxcpath>/<name>/command`, FNV-1a hashed when long.
//! - [`wire`]: native-layout request/response headers, `INT_TO_PTR` data, payload structs.
//! - [`client`]: one function per command, `(name, lxcpath, ...)`.
//! - [`server`]: [`server::CommandServer`] and the [`server::CommandHandler`] trait a monitor
//!   implements; no threads, the monitor polls the server's fds.
//! - [`cgroup_answers`]: GET_CGROUP_FD/GET_CGROUP_CTX answers from a `ContainerCgroups`.
//! - [`monitor_fifo`]: the legacy `lxc-monitord` path (FIFO + relay socket) for `lxc-monitor`.

pub mod address;
pub mod cgroup_answers;
pub mod client;
pub mod monitor_fifo;
pub mod server;
pub mod wire;

use std::io;

pub use wire::Cmd;

/// What can go wrong talking to a container's monitor.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    /// Nobody listens on the socket (connection refused): the container is not running.
    #[error("container {name:?} in {lxcpath} is not running")]
    NotRunning { name: String, lxcpath: String },
    /// A socket error while connecting, sending or receiving.
    #[error("command {cmd} for container {name:?}: {source}")]
    Io { cmd: Cmd, name: String, source: io::Error },
    /// The monitor answered with `ret < 0`.
    #[error("command {cmd} for container {name:?} failed: {}", errno_text(*errno))]
    Remote { cmd: Cmd, name: String, errno: i32 },
    /// The monitor closed the connection without answering.
    #[error("command {cmd} for container {name:?}: the monitor closed the connection without an answer")]
    NoAnswer { cmd: Cmd, name: String },
    /// The answer did not have the expected shape.
    #[error("command {cmd} for container {name:?}: malformed answer: {what}")]
    Protocol { cmd: Cmd, name: String, what: String },
    /// Waiting for a state ran out of time.
    #[error("timed out waiting for container {name:?} to reach {wanted}")]
    Timeout { name: String, wanted: String },
    /// A state client was answered with a state that was not asked for (the monitor exited:
    /// STOPPED), which LXC's `lxc_wait()` reports as failure.
    #[error("container {name:?} reached {reached} instead of {wanted}")]
    OtherState { name: String, reached: crate::state::State, wanted: String },
    /// The socket name cannot be formed (name or path too long even hashed).
    #[error("cannot form the command socket name for {name:?} in {lxcpath}: {what}")]
    Address { name: String, lxcpath: String, what: String },
}

impl CmdError {
    /// The errno this error stands for, when there is one (remote `ret`, or the socket error).
    pub fn errno(&self) -> Option<i32> {
        match self {
            CmdError::Remote { errno, .. } => Some(*errno),
            CmdError::Io { source, .. } => source.raw_os_error(),
            CmdError::NotRunning { .. } => Some(libc::ECONNREFUSED),
            _ => None,
        }
    }

    /// True for "the monitor does not support this" answers (ENOSYS, EOPNOTSUPP, ENOTSUP,
    /// or an unknown-command close), so callers can fall back like LXC does.
    pub fn is_not_supported(&self) -> bool {
        matches!(self.errno(), Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP)) || matches!(self, CmdError::NoAnswer { .. })
    }
}

/// `strerror`-style text for an errno value (positive or negative).
pub fn errno_text(errno: i32) -> String {
    io::Error::from_raw_os_error(errno.saturating_abs()).to_string()
}
