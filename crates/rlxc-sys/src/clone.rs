//! clone3 with CLONE_PIDFD / CLONE_INTO_CGROUP and the clone(2) fallback (owned by the lifecycle work).
//!
//! Both calls are used fork-style (no new stack, no CLONE_VM): the child continues from the call
//! with a copy of the address space. That is sound only in a single-threaded process, which is
//! the rule for everything in rlxc that forks.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// The kernel's `struct clone_args` (version 2, with `cgroup`), defined here so old libc
/// versions work too.
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// `CLONE_PIDFD`: the kernel returns a pidfd for the child.
pub const CLONE_PIDFD: u64 = 0x1000;
/// `CLONE_INTO_CGROUP` (clone3 only).
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// What a fork-style clone returned.
pub enum Cloned {
    /// We are the parent; the child's pid (in our pid namespace) and its pidfd if asked for.
    Parent { pid: i32, pidfd: Option<OwnedFd> },
    /// We are the child.
    Child,
}

/// Clone the calling (single-threaded) process with namespace `flags` (CLONE_NEW*), SIGCHLD as
/// exit signal. `want_pidfd` adds CLONE_PIDFD; `cgroup_fd` uses CLONE_INTO_CGROUP. Uses clone3
/// and falls back to clone(2) when the kernel lacks clone3 (ENOSYS) — the fallback cannot place
/// the child into a cgroup, so callers that pass `cgroup_fd` must handle `Err(ENOSYS)`-free
/// fallback by entering the cgroup themselves (we report which path was taken via `into_cgroup`).
pub fn clone_process(flags: u64, want_pidfd: bool, cgroup_fd: Option<RawFd>) -> io::Result<(Cloned, bool)> {
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: flags | if want_pidfd { CLONE_PIDFD } else { 0 },
        exit_signal: libc::SIGCHLD as u64,
        ..Default::default()
    };
    if want_pidfd {
        args.pidfd = &mut pidfd as *mut libc::c_int as u64;
    }
    if let Some(fd) = cgroup_fd {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd as u64;
    }
    // SAFETY: clone3 with stack 0 behaves like fork: the child gets a copy-on-write copy of this
    // single-threaded process and returns 0 here. `args` and `pidfd` live until the call returns.
    let ret = unsafe { libc::syscall(libc::SYS_clone3, &args as *const CloneArgs, std::mem::size_of::<CloneArgs>()) };
    if ret == 0 {
        return Ok((Cloned::Child, cgroup_fd.is_some()));
    }
    if ret > 0 {
        return Ok((parent(ret as i32, want_pidfd, pidfd), cgroup_fd.is_some()));
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() != Some(libc::ENOSYS) && !(cgroup_fd.is_some() && err.raw_os_error() == Some(libc::EINVAL)) {
        return Err(err);
    }
    // Fallback: clone(2). x86_64 argument order: flags, stack, parent_tid, child_tid, tls; with
    // CLONE_PIDFD the pidfd is stored through parent_tid.
    let cflags = (flags | if want_pidfd { CLONE_PIDFD } else { 0 }) as libc::c_ulong | libc::SIGCHLD as libc::c_ulong;
    pidfd = -1;
    // SAFETY: as above, fork-style clone without a new stack in a single-threaded process.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            cflags,
            0usize,
            if want_pidfd { &mut pidfd as *mut libc::c_int } else { std::ptr::null_mut() },
            0usize,
            0usize,
        )
    };
    match ret {
        0 => Ok((Cloned::Child, false)),
        r if r > 0 => Ok((parent(r as i32, want_pidfd, pidfd), false)),
        _ => Err(io::Error::last_os_error()),
    }
}

fn parent(pid: i32, want_pidfd: bool, pidfd: libc::c_int) -> Cloned {
    let pidfd = if want_pidfd && pidfd >= 0 {
        // SAFETY: the kernel just created this fd for us and nobody else owns it.
        Some(unsafe { OwnedFd::from_raw_fd(pidfd) })
    } else {
        None
    };
    Cloned::Parent { pid, pidfd }
}

/// Plain fork(2) for the daemonizing steps. Single-threaded callers only.
pub fn fork() -> io::Result<Option<i32>> {
    // SAFETY: rlxc never forks while other threads run, so the child's copy is consistent.
    let r = unsafe { libc::fork() };
    match r {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        pid => Ok(Some(pid)),
    }
}
