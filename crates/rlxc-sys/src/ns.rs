//! setns/unshare and namespace fds (owned by the lifecycle work; attach uses it).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// unshare(2) with raw CLONE_* flags. Single-threaded callers only (CLONE_FILES/CLONE_FS would
/// otherwise split state between threads).
pub fn unshare(flags: i32) -> io::Result<()> {
    // SAFETY: plain syscall on integer flags; no memory is passed.
    if unsafe { libc::unshare(flags) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// setns(2) into the namespace `fd` refers to (`nstype` 0 = any).
pub fn setns(fd: BorrowedFd<'_>, nstype: i32) -> io::Result<()> {
    // SAFETY: the fd is borrowed and valid for the call.
    if unsafe { libc::setns(fd.as_raw_fd(), nstype) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Namespaces in LXC's `ns_info` order: (name in config, /proc/PID/ns file, CLONE_ flag, env var
/// suffix for stop hooks).
pub const NAMESPACES: &[(&str, &str, i32, &str)] = &[
    ("user", "user", libc::CLONE_NEWUSER, "USER"),
    ("mnt", "mnt", libc::CLONE_NEWNS, "MNT"),
    ("pid", "pid", libc::CLONE_NEWPID, "PID"),
    ("uts", "uts", libc::CLONE_NEWUTS, "UTS"),
    ("ipc", "ipc", libc::CLONE_NEWIPC, "IPC"),
    ("net", "net", libc::CLONE_NEWNET, "NET"),
    ("cgroup", "cgroup", libc::CLONE_NEWCGROUP, "CGROUP"),
];
