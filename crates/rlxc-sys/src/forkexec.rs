//! fork, clone(CLONE_PARENT), exec, signal masks and signalfd for lxc-attach, lxc-execute,
//! lxc-console and init.lxc (owned by the attach work; the start path has its own in
//! `process.rs`/`clone.rs`).
//!
//! None of the callers run threads, which is what makes forking and touching the environment
//! of a forked child sound.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// Which side of a fork we are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// In the new process.
    Child,
    /// In the caller; the child's pid.
    Parent(i32),
}

/// fork(2). Sound only in a single-threaded process (all rlxc tools are).
pub fn fork() -> io::Result<Forked> {
    // SAFETY: the callers are single-threaded, so the child gets a consistent copy of the
    // address space (no lock held by another thread).
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        p => Ok(Forked::Parent(p)),
    }
}

/// clone(CLONE_PARENT): like fork, but the new process is a child of our parent. lxc-attach's
/// intermediate process uses it after setns() so the attached process becomes lxc-attach's
/// own child (it can waitpid() for it) while living in the container's pid namespace.
pub fn fork_sibling() -> io::Result<Forked> {
    // SAFETY: raw clone without CLONE_VM and a NULL stack behaves like fork() (copy-on-write
    // of our stack); the caller is single-threaded. The exit signal of a CLONE_PARENT child is
    // inherited from the caller (SIGCHLD, as it was forked).
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            libc::CLONE_PARENT as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        p => Ok(Forked::Parent(p as i32)),
    }
}

/// _exit(2): leave a forked child without running destructors or flushing shared buffers.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no memory of ours.
    unsafe { libc::_exit(code) }
}

fn cstr(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in argument"))
}

/// execvp(3): run `argv[0]` searched in the current `PATH` with the current environment. Only
/// returns on failure.
pub fn execvp(argv: &[OsString]) -> io::Error {
    if argv.is_empty() {
        return io::Error::new(io::ErrorKind::InvalidInput, "empty command");
    }
    let cargs: Vec<CString> = match argv.iter().map(|a| cstr(a)).collect() {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut ptrs: Vec<*const libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: a NULL-terminated array of pointers into CStrings that outlive the call.
    unsafe { libc::execvp(ptrs[0], ptrs.as_ptr()) };
    io::Error::last_os_error()
}

/// A set of signals.
#[derive(Clone, Copy)]
pub struct SigSet(libc::sigset_t);

impl SigSet {
    /// No signal.
    pub fn empty() -> SigSet {
        // SAFETY: sigemptyset initialises the zeroed set it is given.
        unsafe {
            let mut s: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut s);
            SigSet(s)
        }
    }
    /// Every signal.
    pub fn full() -> SigSet {
        // SAFETY: sigfillset initialises the zeroed set it is given.
        unsafe {
            let mut s: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut s);
            SigSet(s)
        }
    }
    /// These signals.
    pub fn of(signals: &[i32]) -> SigSet {
        let mut s = SigSet::empty();
        for &sig in signals {
            s.add(sig);
        }
        s
    }
    /// Add a signal.
    pub fn add(&mut self, sig: i32) {
        // SAFETY: the set is initialised; an invalid signal number only makes the call fail.
        unsafe { libc::sigaddset(&mut self.0, sig) };
    }
    /// Remove a signal.
    pub fn remove(&mut self, sig: i32) {
        // SAFETY: as for add.
        unsafe { libc::sigdelset(&mut self.0, sig) };
    }
}

/// sigprocmask(SIG_SETMASK): replace the blocked set, returning the previous one.
pub fn set_sigmask(set: &SigSet) -> io::Result<SigSet> {
    let mut old = SigSet::empty();
    // SAFETY: both pointers refer to initialised sigset_t values we own.
    let r = unsafe { libc::sigprocmask(libc::SIG_SETMASK, &set.0, &mut old.0) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old)
}

/// sigprocmask(SIG_BLOCK): block these signals too, returning the previous mask.
pub fn block_signals(set: &SigSet) -> io::Result<SigSet> {
    let mut old = SigSet::empty();
    // SAFETY: as for set_sigmask.
    let r = unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set.0, &mut old.0) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old)
}

/// Reset every catchable signal to its default action (a child does this before exec so the
/// program does not inherit an "ignore" from us).
pub fn reset_signal_dispositions() {
    for sig in 1..=libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: SIG_DFL is always a valid disposition; failures (invalid numbers reserved
        // by libc) are harmless and ignored.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
}

/// Ignore a signal (e.g. SIGPIPE while proxying, SIGTTOU while restoring the terminal).
pub use crate::process::ignore_signal;

/// What a signalfd read returns, reduced to what we use.
#[derive(Debug, Clone, Copy)]
pub struct SigInfo {
    /// Signal number.
    pub signo: i32,
    /// Sender pid (0 for signals raised by the kernel, e.g. from a terminal).
    pub pid: i32,
    /// `si_code`: `SI_USER` (0) for kill(2), `SI_KERNEL` (0x80) for kernel-made signals.
    pub code: i32,
}

impl SigInfo {
    /// Whether a process sent this with kill(2)/sigqueue (as opposed to the kernel, e.g. a
    /// terminal's ^C which already reached the whole foreground group).
    pub fn sent_by_process(&self) -> bool {
        self.code == libc::SI_USER || self.code == libc::SI_QUEUE || self.code == libc::SI_TKILL
    }
}

/// A signalfd for a set of (blocked) signals.
pub struct SignalFd(OwnedFd);

impl SignalFd {
    /// Create a close-on-exec, non-blocking signalfd for `set`. Block the signals first.
    pub fn new(set: &SigSet) -> io::Result<SignalFd> {
        // SAFETY: -1 asks for a new fd; the set is initialised.
        let fd = unsafe { libc::signalfd(-1, &set.0, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: signalfd returned a new fd that nothing else owns.
        Ok(SignalFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Read one pending signal, `None` when none is pending.
    pub fn read(&self) -> io::Result<Option<SigInfo>> {
        // SAFETY: signalfd_siginfo is plain data; zeroed is a valid value.
        let mut si: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: we pass a buffer of exactly `size` bytes that we own.
        let n = unsafe { libc::read(self.0.as_raw_fd(), (&mut si as *mut libc::signalfd_siginfo).cast(), size) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                return Ok(None);
            }
            return Err(e);
        }
        if n as usize != size {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short signalfd read"));
        }
        Ok(Some(SigInfo { signo: si.ssi_signo as i32, pid: si.ssi_pid as i32, code: si.ssi_code }))
    }
}

impl AsFd for SignalFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// kill(2) on a pid (or a negative process group) with a raw signal number.
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill takes plain integers.
    let r = unsafe { libc::kill(pid, sig) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// pidfd_send_signal(2) with a raw signal number (rustix's `Signal` does not cover every
/// number, e.g. real-time signals).
pub fn pidfd_kill<Fd: AsFd>(pidfd: Fd, sig: i32) -> io::Result<()> {
    // SAFETY: plain integers and a NULL siginfo (the kernel fills in a SI_USER one).
    let r = unsafe {
        libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_fd().as_raw_fd(), sig, std::ptr::null::<u8>(), 0)
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// alarm(2): deliver SIGALRM in `secs` seconds (0 cancels).
pub fn alarm(secs: u32) {
    // SAFETY: alarm takes a plain integer.
    unsafe { libc::alarm(secs) };
}

/// How a waited-for child ended, in a shell's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// exit(code).
    Exited(i32),
    /// Killed by a signal.
    Signaled(i32),
}

impl ExitKind {
    /// The status a shell reports: the exit code, or 128 + signal number.
    pub fn shell_status(self) -> i32 {
        match self {
            ExitKind::Exited(c) => c,
            ExitKind::Signaled(s) => 128 + s,
        }
    }

    /// From a raw wait status.
    pub fn from_raw(status: i32) -> Option<ExitKind> {
        if libc::WIFEXITED(status) {
            Some(ExitKind::Exited(libc::WEXITSTATUS(status)))
        } else if libc::WIFSIGNALED(status) {
            Some(ExitKind::Signaled(libc::WTERMSIG(status)))
        } else {
            None
        }
    }
}

/// waitpid(2) returning the raw status; `pid` -1 = any child. `nohang` returns `Ok(None)` when
/// no child changed state. Retries on EINTR.
pub fn waitpid(pid: i32, nohang: bool) -> io::Result<Option<(i32, i32)>> {
    let flags = if nohang { libc::WNOHANG } else { 0 };
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, flags) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if r == 0 {
            return Ok(None);
        }
        return Ok(Some((r, status)));
    }
}

/// Wait until `pid` has exited or been killed and say how.
pub fn wait_exit(pid: i32) -> io::Result<ExitKind> {
    loop {
        if let Some((_, st)) = waitpid(pid, false)? {
            if let Some(k) = ExitKind::from_raw(st) {
                return Ok(k);
            }
        }
    }
}

/// setgroups(0, NULL) for the whole (single-threaded) process.
pub fn drop_supplementary_groups() -> io::Result<()> {
    // SAFETY: a zero-length list with a NULL pointer is the documented way to clear groups.
    let r = unsafe { libc::setgroups(0, std::ptr::null()) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// setresgid(gid, gid, gid) then later setresuid: glibc broadcasts these to all threads (we
/// have one), unlike rustix's per-thread calls.
pub fn set_gid(gid: u32) -> io::Result<()> {
    // SAFETY: plain integers.
    let r = unsafe { libc::setresgid(gid, gid, gid) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// setresuid(uid, uid, uid).
pub fn set_uid(uid: u32) -> io::Result<()> {
    // SAFETY: plain integers.
    let r = unsafe { libc::setresuid(uid, uid, uid) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// dup2(2) that leaves the new fd inheritable (the point of stdio redirection before exec).
pub fn dup2<Fd: AsFd>(from: Fd, to: i32) -> io::Result<()> {
    // SAFETY: dup2 takes plain integers; `to` is one of the caller's stdio numbers, which it
    // intends to replace.
    let r = unsafe { libc::dup2(from.as_fd().as_raw_fd(), to) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Clear close-on-exec on a raw stdio descriptor the caller owns by convention.
pub fn stdio_fd(n: i32) -> BorrowedFd<'static> {
    // SAFETY: 0, 1 and 2 stay open for the life of the process by convention; callers only
    // pass those numbers.
    unsafe { BorrowedFd::borrow_raw(n) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_status_like_a_shell() {
        assert_eq!(ExitKind::Exited(42).shell_status(), 42);
        assert_eq!(ExitKind::Signaled(9).shell_status(), 137);
    }

    #[test]
    fn fork_and_wait_reports_exit_code() {
        match fork().expect("fork") {
            Forked::Child => exit_now(7),
            Forked::Parent(pid) => assert_eq!(wait_exit(pid).expect("wait"), ExitKind::Exited(7)),
        }
    }
}
