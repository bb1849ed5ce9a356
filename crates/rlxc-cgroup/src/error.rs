//! The error type of the cgroup crate: every variant names what failed (path, key, pid).

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while managing a container's cgroups.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A file or directory operation on a cgroup path failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// what we tried ("mkdir", "write", "read", "open", "rmdir")
        op: &'static str,
        /// the cgroup path
        path: PathBuf,
        /// the errno
        #[source]
        source: io::Error,
    },
    /// Writing a configured value into a cgroup file failed.
    #[error("{key} = {value}: cannot write {path}: {source}")]
    Limit {
        /// config key (e.g. `lxc.cgroup2.memory.max`)
        key: String,
        /// the value
        value: String,
        /// the file written
        path: PathBuf,
        /// the errno
        #[source]
        source: io::Error,
    },
    /// Neither mountinfo nor /proc/self/cgroup described a usable cgroup layout.
    #[error("cgroup layout: {0}")]
    Layout(String),
    /// A controller a key or `lxc.cgroup.use` needs is not available.
    #[error("{key}: controller \"{controller}\" is not available on this host ({why})")]
    MissingController {
        /// config key or the setting that asked for it
        key: String,
        /// the controller
        controller: String,
        /// where we looked
        why: String,
    },
    /// No free name for the monitor or payload cgroup (suffixes -1 .. -999 all taken).
    #[error("no free cgroup name for {0} (tried suffixes up to -999)")]
    NoFreeName(String),
    /// A device rule (`devices.allow` / `devices.deny`) could not be parsed.
    #[error("{key} = {value}: invalid device rule: {why}")]
    DeviceRule {
        /// config key
        key: String,
        /// value
        value: String,
        /// what is wrong
        why: String,
    },
    /// The kernel refused the eBPF device program, or attaching it failed.
    #[error("eBPF device program for {path}: {msg}")]
    Bpf {
        /// the cgroup
        path: PathBuf,
        /// error text, with the verifier log when there is one
        msg: String,
    },
    /// Freezing or thawing did not finish in time.
    #[error("{path}: {what} did not complete within {timeout_ms} ms")]
    Timeout {
        /// freeze/unfreeze
        what: &'static str,
        /// the cgroup
        path: PathBuf,
        /// the timeout
        timeout_ms: i64,
    },
    /// A key does not name a cgroup file we can handle.
    #[error("{key}: {why}")]
    BadKey {
        /// the key
        key: String,
        /// why
        why: String,
    },
    /// A mount for `lxc.mount.auto` cgroup failed.
    #[error("cgroup auto-mount {target}: {source}")]
    Mount {
        /// mount target
        target: PathBuf,
        /// the errno
        #[source]
        source: io::Error,
    },
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, CgroupError>;

/// Helper: wrap an io error with an operation and path.
pub(crate) fn io_err(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> CgroupError {
    let path = path.into();
    move |source| CgroupError::Io { op, path, source }
}
