//! Open-file-description record locks (`F_OFD_SETLK[W]`), as LXC's container lock uses them.
//!
//! `rustix::fs::fcntl_lock` takes classic process-associated POSIX locks, which never conflict
//! inside one process; LXC's `lxclock()` takes OFD locks so that two handles in one process
//! exclude each other too. Both kinds conflict across processes, so an rlxc tool and an LXC tool
//! exclude each other on the same lock file. (Owned by the command-protocol work.)

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// What to do with the whole-file lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfdLock {
    /// Exclusive (write) lock.
    Exclusive,
    /// Shared (read) lock.
    Shared,
    /// Release.
    Unlock,
}

/// Apply a whole-file OFD lock. `wait`: block until granted (EINTR is retried); otherwise fail
/// with `EAGAIN`/`EACCES` when another holder conflicts.
pub fn ofd_lock(fd: BorrowedFd<'_>, op: OfdLock, wait: bool) -> io::Result<()> {
    let l_type = match op {
        OfdLock::Exclusive => libc::F_WRLCK,
        OfdLock::Shared => libc::F_RDLCK,
        OfdLock::Unlock => libc::F_UNLCK,
    };
    // SAFETY: `flock` is a plain C struct; all-zero is a valid value (l_pid must be 0 for OFD).
    let mut lk: libc::flock = unsafe { std::mem::zeroed() };
    lk.l_type = l_type as libc::c_short;
    lk.l_whence = libc::SEEK_SET as libc::c_short;
    lk.l_start = 0;
    lk.l_len = 0;
    let cmd = if wait { libc::F_OFD_SETLKW } else { libc::F_OFD_SETLK };
    loop {
        // SAFETY: fd is a valid borrowed descriptor and `lk` lives across the call; fcntl with
        // F_OFD_SETLK[W] only reads the struct.
        let r = unsafe { libc::fcntl(fd.as_raw_fd(), cmd, &lk as *const libc::flock) };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return Err(e);
    }
}
