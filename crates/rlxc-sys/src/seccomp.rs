//! seccomp(2) calls that libseccomp does not wrap the way we need: the notification buffer sizes
//! (sent to a notify proxy as part of LXC's message) and the current seccomp mode.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// `SECCOMP_GET_NOTIF_SIZES`.
const SECCOMP_GET_NOTIF_SIZES: libc::c_long = 3;

/// The kernel's `struct seccomp_notif_sizes`: sizes of the notification structures it uses.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotifSizes {
    /// `sizeof(struct seccomp_notif)`.
    pub seccomp_notif: u16,
    /// `sizeof(struct seccomp_notif_resp)`.
    pub seccomp_notif_resp: u16,
    /// `sizeof(struct seccomp_data)`.
    pub seccomp_data: u16,
}

/// Ask the kernel for the sizes of its notification structures.
pub fn notif_sizes() -> io::Result<NotifSizes> {
    let mut sizes = NotifSizes::default();
    // SAFETY: SECCOMP_GET_NOTIF_SIZES writes one `struct seccomp_notif_sizes` (three u16,
    // layout matched by our repr(C) struct) to the pointer, which is valid for the call.
    let r = unsafe { libc::syscall(libc::SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0 as libc::c_long, &mut sizes as *mut NotifSizes) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(sizes)
    }
}

/// Seccomp mode of the calling thread: 0 none, 1 strict, 2 filter (`PR_GET_SECCOMP`).
pub fn seccomp_mode() -> io::Result<u32> {
    // SAFETY: PR_GET_SECCOMP takes no pointer arguments.
    let r = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as u32)
    }
}

/// Duplicate a raw fd number we don't own (e.g. the seccomp listener libseccomp keeps) into an
/// fd we own, close-on-exec.
pub fn dup_cloexec(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC only reads the fd number; an invalid number yields EBADF.
    let r = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `r` is a fresh descriptor the kernel just created for us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

#[cfg(test)]
mod tests {
    #[test]
    fn notif_sizes_are_plausible() {
        let s = super::notif_sizes().unwrap();
        assert!(s.seccomp_data >= 64 && s.seccomp_notif >= 80 && s.seccomp_notif_resp >= 24, "{s:?}");
    }
}
