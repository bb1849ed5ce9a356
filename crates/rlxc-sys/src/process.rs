//! fork, prctl (title, pdeathsig, no_new_privs), signals, exec helpers (owned by the lifecycle work).

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// PR_SET_PDEATHSIG with a raw signal number (0 clears it).
pub fn set_pdeathsig(sig: i32) -> io::Result<()> {
    // SAFETY: integer-only prctl.
    cvt(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) }).map(drop)
}

/// Make the program `cmd` will run get SIGKILL when the process spawning it dies (hooks must not
/// outlive a killed monitor).
pub fn kill_with_parent(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs between fork and exec and only calls prctl, which is
    // async-signal-safe; it touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| cvt(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0)).map(drop));
    }
}

/// PR_SET_NAME: the 15-byte `comm` of the calling thread.
pub fn set_comm(name: &str) -> io::Result<()> {
    let mut buf = [0u8; 16];
    for (d, s) in buf.iter_mut().zip(name.bytes().take(15)) {
        *d = s;
    }
    // SAFETY: buf is NUL-terminated and lives through the call.
    cvt(unsafe { libc::prctl(libc::PR_SET_NAME, buf.as_ptr() as libc::c_ulong, 0, 0, 0) }).map(drop)
}

/// PR_SET_DUMPABLE.
pub fn set_dumpable(on: bool) -> io::Result<()> {
    // SAFETY: integer-only prctl.
    cvt(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, on as libc::c_ulong, 0, 0, 0) }).map(drop)
}

/// setsid(2).
pub fn setsid() -> io::Result<()> {
    // SAFETY: no arguments.
    cvt(unsafe { libc::setsid() }).map(drop)
}

/// The process's own pid.
pub fn getpid() -> i32 {
    // SAFETY: cannot fail.
    unsafe { libc::getpid() }
}

/// Real uid and gid of the caller.
pub fn getuid_gid() -> (u32, u32) {
    // SAFETY: cannot fail.
    unsafe { (libc::getuid(), libc::getgid()) }
}

/// Switch all three uids / gids and the supplementary groups (empty list = none).
pub fn set_ids(uid: u32, gid: u32, clear_groups: bool) -> io::Result<()> {
    if clear_groups {
        // SAFETY: zero-length list, null pointer allowed.
        cvt(unsafe { libc::setgroups(0, std::ptr::null()) })?;
    }
    // SAFETY: integer-only syscalls. The raw syscalls are used so only this thread changes
    // (rlxc is single-threaded where it calls this).
    cvt(unsafe { libc::setresgid(gid, gid, gid) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::setresuid(uid, uid, uid) }).map(drop)
}

/// setgroups(0) only.
pub fn drop_groups() -> io::Result<()> {
    // SAFETY: zero-length list.
    cvt(unsafe { libc::setgroups(0, std::ptr::null()) }).map(drop)
}

/// Block every signal except the synchronous fault signals (and SIGWINCH), return the old mask.
/// This is how the monitor routes signals into its signalfd.
pub fn block_signals_for_signalfd() -> io::Result<SigMask> {
    // SAFETY: sigset_t is plain data; the sig* functions only write into it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        for s in [libc::SIGBUS, libc::SIGILL, libc::SIGSEGV, libc::SIGWINCH] {
            libc::sigdelset(&mut set, s);
        }
        let mut old: libc::sigset_t = std::mem::zeroed();
        let r = libc::sigprocmask(libc::SIG_BLOCK, &set, &mut old);
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(SigMask { set: old, blocked: set })
    }
}

/// A saved signal mask (and the set that was blocked to make the signalfd).
#[derive(Clone, Copy)]
pub struct SigMask {
    set: libc::sigset_t,
    blocked: libc::sigset_t,
}

impl SigMask {
    /// Restore this saved mask (the child does so before exec'ing init).
    pub fn restore(&self) -> io::Result<()> {
        // SAFETY: set is an initialized sigset_t.
        cvt(unsafe { libc::sigprocmask(libc::SIG_SETMASK, &self.set, std::ptr::null_mut()) }).map(drop)
    }

    /// A signalfd (CLOEXEC, NONBLOCK) receiving the signals blocked by
    /// [`block_signals_for_signalfd`].
    pub fn signalfd(&self) -> io::Result<OwnedFd> {
        // SAFETY: valid sigset; -1 asks for a new fd.
        let fd = cvt(unsafe { libc::signalfd(-1, &self.blocked, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) })?;
        // SAFETY: fresh fd.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// Reset every signal disposition to default and unblock all signals (used in a child before
/// exec so init starts with a clean slate).
pub fn reset_signals() {
    crate::forkexec::reset_signal_dispositions();
    // SAFETY: empty set, plain data.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}

/// Ignore a signal (SIG_IGN), e.g. SIGPIPE in the monitor.
pub fn ignore_signal(sig: i32) {
    // SAFETY: SIG_IGN is a valid disposition.
    unsafe {
        libc::signal(sig, libc::SIG_IGN);
    }
}

/// Restore a signal's default disposition (SIG_DFL), e.g. SIGPIPE in a command-line tool, which
/// the Rust runtime ignores: `lxc-foo | head` must end quietly as LXC's C tools do.
pub fn default_signal(sig: i32) {
    // SAFETY: SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
    }
}

/// One record read from a signalfd: the signal, sending pid, and for SIGCHLD the child's pid.
#[derive(Debug, Clone, Copy)]
pub struct SigInfo {
    pub signo: i32,
    pub pid: i32,
    pub code: i32,
    pub status: i32,
}

/// Read one signal from a non-blocking signalfd; `Ok(None)` when none is pending.
pub fn read_signalfd(fd: BorrowedFd<'_>) -> io::Result<Option<SigInfo>> {
    // SAFETY: signalfd_siginfo is plain data; we read exactly its size into it.
    unsafe {
        let mut info: libc::signalfd_siginfo = std::mem::zeroed();
        let sz = std::mem::size_of::<libc::signalfd_siginfo>();
        let r = libc::read(fd.as_raw_fd(), &mut info as *mut _ as *mut libc::c_void, sz);
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                return Ok(None);
            }
            return Err(e);
        }
        if r as usize != sz {
            return Ok(None);
        }
        Ok(Some(SigInfo {
            signo: info.ssi_signo as i32,
            pid: info.ssi_pid as i32,
            code: info.ssi_code,
            status: info.ssi_status,
        }))
    }
}

/// How a waited-for child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    /// The raw wait status as LXC reports it (`exit code << 8` or the signal number).
    pub fn raw_status(self) -> i32 {
        match self {
            Exit::Code(c) => (c & 0xff) << 8,
            Exit::Signal(s) => s & 0x7f,
        }
    }
}

/// waitpid(pid, 0) or with WNOHANG; `Ok(None)` if nothing exited (WNOHANG) or ECHILD.
pub fn waitpid(pid: i32, nohang: bool) -> io::Result<Option<(i32, Exit)>> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, if nohang { libc::WNOHANG } else { 0 }) };
        if r == 0 {
            return Ok(None);
        }
        if r < 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECHILD) => return Ok(None),
                _ => return Err(e),
            }
        }
        let exit = if libc::WIFEXITED(status) {
            Exit::Code(libc::WEXITSTATUS(status))
        } else if libc::WIFSIGNALED(status) {
            Exit::Signal(libc::WTERMSIG(status))
        } else {
            continue;
        };
        return Ok(Some((r, exit)));
    }
}

/// execve(2) with explicit argv and envp; returns only on failure.
pub fn execve(path: &CStr, argv: &[CString], envp: &[CString]) -> io::Error {
    let mut a: Vec<*const libc::c_char> = argv.iter().map(|s| s.as_ptr()).collect();
    a.push(std::ptr::null());
    let mut e: Vec<*const libc::c_char> = envp.iter().map(|s| s.as_ptr()).collect();
    e.push(std::ptr::null());
    // SAFETY: all pointers are NUL-terminated strings that outlive the call; arrays end in NULL.
    unsafe {
        libc::execve(path.as_ptr(), a.as_ptr(), e.as_ptr());
    }
    io::Error::last_os_error()
}

/// Immediately exit without running destructors or atexit handlers (for forked children).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// dup2(2): make `newfd` a copy of `fd` (not CLOEXEC).
pub fn dup2(fd: RawFd, newfd: RawFd) -> io::Result<()> {
    // SAFETY: integer-only syscall; closes newfd if open, which is the intent.
    cvt(unsafe { libc::dup2(fd, newfd) }).map(drop)
}

/// Close every fd >= `from` except those in `keep`. Used after daemonizing and before exec.
pub fn close_fds_from(from: RawFd, keep: &[RawFd]) {
    let fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .map(|rd| rd.filter_map(|e| e.ok()).filter_map(|e| e.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default();
    for fd in fds {
        if fd >= from && !keep.contains(&fd) {
            // SAFETY: we close fds by number deliberately; the read_dir fd is already closed.
            unsafe {
                libc::close(fd);
            }
        }
    }
}

/// Clear FD_CLOEXEC on an fd so it survives exec (console/tty fds handed to init).
pub fn clear_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: integer-only fcntl.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFD) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) }).map(drop)
}

/// Make `fd` the controlling terminal of this (session-leader) process.
pub fn set_controlling_tty(fd: RawFd) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes an integer argument.
    cvt(unsafe { libc::ioctl(fd, libc::TIOCSCTTY as _, 0) }).map(drop)
}

/// Replace the process title shown by `ps` and in `/proc/PID/cmdline` by `title`, in place.
///
/// PR_SET_MM would need CAP_SYS_RESOURCE, so we overwrite the original argv area, extended into
/// the environment area that follows it. The environment is first copied to the heap (clearenv +
/// setenv) so nothing in the process still points into that memory. The kernel shows the whole
/// area up to the first NUL once the last byte of the argv area is not NUL (setproctitle rules).
pub fn set_process_title(title: &str) -> io::Result<()> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the ")" of comm; arg_start is field 48 (1-based) overall.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state), so field N is fields[N - 3].
    let get = |n: usize| -> io::Result<usize> {
        fields
            .get(n - 3)
            .and_then(|v| v.parse::<usize>().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "short /proc/self/stat"))
    };
    let (arg_start, arg_end, env_start, env_end) = (get(48)?, get(49)?, get(50)?, get(51)?);
    if arg_start == 0 || arg_end <= arg_start {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "no argv area"));
    }
    let mut end = arg_end;
    if env_start == arg_end && env_end > env_start {
        // Save the environment to the heap, then the env area is ours to overwrite.
        let vars: Vec<(std::ffi::OsString, std::ffi::OsString)> = std::env::vars_os().collect();
        // SAFETY: single-threaded; clearenv drops the environ array (not the strings), after
        // which setenv allocates fresh copies on the heap.
        unsafe {
            libc::clearenv();
        }
        for (k, v) in vars {
            let (Ok(k), Ok(v)) = (
                CString::new(std::os::unix::ffi::OsStrExt::as_bytes(k.as_os_str())),
                CString::new(std::os::unix::ffi::OsStrExt::as_bytes(v.as_os_str())),
            ) else {
                continue;
            };
            // SAFETY: valid C strings; setenv copies them.
            unsafe {
                libc::setenv(k.as_ptr(), v.as_ptr(), 1);
            }
        }
        end = env_end;
    }
    let len = end - arg_start;
    let bytes = title.as_bytes();
    let n = bytes.len().min(len - 1);
    // SAFETY: [arg_start, end) is this process's own argv (+ env) string area, mapped writable on
    // the stack; nothing references it any more (std::env::args was already collected by the
    // caller, and the environment was moved to the heap above). We write inside its bounds only.
    unsafe {
        let p = arg_start as *mut u8;
        std::ptr::write_bytes(p, 0, len);
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, n);
    }
    Ok(())
}

/// prlimit(2) on another process (`lxc.prlimit.*`, applied by the monitor to init).
pub fn prlimit(pid: i32, resource: u32, soft: u64, hard: u64) -> io::Result<()> {
    let new = libc::rlimit64 { rlim_cur: soft, rlim_max: hard };
    // SAFETY: `new` is a valid rlimit64; the old-limit pointer may be null.
    let r = unsafe { libc::prlimit64(pid, resource as _, &new, std::ptr::null_mut()) };
    cvt(r).map(drop)
}

/// Whether fd refers to a terminal.
pub fn isatty(fd: RawFd) -> bool {
    // SAFETY: integer-only call.
    unsafe { libc::isatty(fd) == 1 }
}
