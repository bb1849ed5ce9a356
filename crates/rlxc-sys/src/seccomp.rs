//! seccomp(2) calls that libseccomp does not wrap the way we need: the notification buffer sizes
//! (sent to a notify proxy as part of LXC's message) and the current seccomp mode.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

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
    let r = unsafe {
        libc::syscall(libc::SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0 as libc::c_long, &mut sizes as *mut NotifSizes)
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(sizes)
    }
}

/// Seccomp mode of the calling thread: 0 none, 1 strict, 2 filter (`PR_GET_SECCOMP`).
pub fn seccomp_mode() -> io::Result<u32> {
    // SAFETY: PR_GET_SECCOMP takes no pointer arguments.
    let r = unsafe {
        libc::prctl(
            libc::PR_GET_SECCOMP,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
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

/// `SECCOMP_IOCTL_NOTIF_RECV` = `_IOWR('!', 0, struct seccomp_notif)`.
const SECCOMP_IOCTL_NOTIF_RECV: libc::c_ulong = 0xc050_2100;
/// `SECCOMP_IOCTL_NOTIF_SEND` = `_IOWR('!', 1, struct seccomp_notif_resp)`.
const SECCOMP_IOCTL_NOTIF_SEND: libc::c_ulong = 0xc018_2101;
/// `SECCOMP_IOCTL_NOTIF_ID_VALID` = `_IOW('!', 2, __u64)` (kernels before 5.17 also accept the
/// older `_IOR` number, tried second).
const SECCOMP_IOCTL_NOTIF_ID_VALID: libc::c_ulong = 0x4008_2102;
const SECCOMP_IOCTL_NOTIF_ID_VALID_OLD: libc::c_ulong = 0x8008_2102;

fn ioctl_buf(fd: BorrowedFd<'_>, request: libc::c_ulong, buf: *mut libc::c_void) -> io::Result<()> {
    // SAFETY: callers pass a buffer at least as large as the structure `request` encodes (checked
    // against the kernel's notification sizes), valid for the duration of the call.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), request as _, buf) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Receive one notification into `buf` (raw `struct seccomp_notif`, zeroed here first as the
/// kernel requires). `buf` must be at least `NotifSizes::seccomp_notif` bytes and 80 or more.
pub fn notif_recv(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<()> {
    if buf.len() < 80 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "seccomp_notif buffer too small"));
    }
    buf.fill(0);
    ioctl_buf(fd, SECCOMP_IOCTL_NOTIF_RECV, buf.as_mut_ptr().cast())
}

/// Send a response (raw `struct seccomp_notif_resp`, at least 24 bytes).
pub fn notif_send(fd: BorrowedFd<'_>, resp: &mut [u8]) -> io::Result<()> {
    if resp.len() < 24 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "seccomp_notif_resp buffer too small"));
    }
    ioctl_buf(fd, SECCOMP_IOCTL_NOTIF_SEND, resp.as_mut_ptr().cast())
}

/// Whether notification `id` is still pending (the task has not died or been interrupted).
pub fn notif_id_valid(fd: BorrowedFd<'_>, id: u64) -> io::Result<()> {
    let mut id = id;
    match ioctl_buf(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, (&mut id as *mut u64).cast()) {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) || e.raw_os_error() == Some(libc::ENOTTY) => {
            ioctl_buf(fd, SECCOMP_IOCTL_NOTIF_ID_VALID_OLD, (&mut id as *mut u64).cast())
        }
        other => other,
    }
}

/// Syscalls a container must not be able to make, for checking a loaded filter: each is called
/// with null pointers / invalid fds only, so whatever the kernel does it can't touch memory or
/// change the system (it fails with EFAULT/EBADF/ENOENT when not filtered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// `kexec_load(0, 0, NULL, 0)`.
    KexecLoad,
    /// `open_by_handle_at(-1, NULL, 0)`.
    OpenByHandleAt,
    /// `init_module(NULL, 0, NULL)`.
    InitModule,
    /// `finit_module(-1, NULL, 0)`.
    FinitModule,
    /// `delete_module(NULL, 0)`.
    DeleteModule,
    /// `umount2("/nonexistent-rlxc-probe", MNT_FORCE)`.
    Umount2Force,
}

/// Make a [`Probe`] syscall and return the errno it failed with (0 if it succeeded).
pub fn probe(p: Probe) -> i32 {
    let path = b"/nonexistent-rlxc-probe\0";
    let null = std::ptr::null::<libc::c_void>();
    // SAFETY: every call passes only null pointers, invalid fds, zero lengths or a pointer to a
    // static NUL-terminated string; none of them can write to our memory.
    let r = unsafe {
        match p {
            Probe::KexecLoad => {
                libc::syscall(libc::SYS_kexec_load, 0 as libc::c_long, 0 as libc::c_long, null, 0 as libc::c_long)
            }
            Probe::OpenByHandleAt => {
                libc::syscall(libc::SYS_open_by_handle_at, -1 as libc::c_long, null, 0 as libc::c_long)
            }
            Probe::InitModule => libc::syscall(libc::SYS_init_module, null, 0 as libc::c_long, null),
            Probe::FinitModule => libc::syscall(libc::SYS_finit_module, -1 as libc::c_long, null, 0 as libc::c_long),
            Probe::DeleteModule => libc::syscall(libc::SYS_delete_module, null, 0 as libc::c_long),
            Probe::Umount2Force => libc::syscall(libc::SYS_umount2, path.as_ptr(), libc::MNT_FORCE as libc::c_long),
        }
    };
    if r < 0 {
        io::Error::last_os_error().raw_os_error().unwrap_or(-1)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn notif_sizes_are_plausible() {
        let s = super::notif_sizes().unwrap();
        assert!(s.seccomp_data >= 64 && s.seccomp_notif >= 80 && s.seccomp_notif_resp >= 24, "{s:?}");
    }
}
