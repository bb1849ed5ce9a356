//! Loop devices (the `loop` storage backend): a free device from `/dev/loop-control`, attached
//! to an image file with autoclear, so the device detaches itself when its last user (the
//! rootfs mount) goes away, as LXC's `lxc_prepare_loop_dev` does.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

const LOOP_SET_FD: libc::c_ulong = 0x4C00;
const LOOP_CLR_FD: libc::c_ulong = 0x4C01;
const LOOP_SET_STATUS64: libc::c_ulong = 0x4C04;
const LOOP_CONFIGURE: libc::c_ulong = 0x4C0A;
const LOOP_CTL_GET_FREE: libc::c_ulong = 0x4C82;
const LO_FLAGS_AUTOCLEAR: u32 = 4;

/// The kernel's `struct loop_info64` (linux/loop.h).
#[repr(C)]
#[derive(Clone, Copy)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

/// The kernel's `struct loop_config` (LOOP_CONFIGURE, Linux 5.8).
#[repr(C)]
struct LoopConfig {
    fd: u32,
    block_size: u32,
    info: LoopInfo64,
    reserved: [u64; 8],
}

fn info(autoclear: bool, name: &[u8]) -> LoopInfo64 {
    let mut i = LoopInfo64 {
        lo_device: 0,
        lo_inode: 0,
        lo_rdevice: 0,
        lo_offset: 0,
        lo_sizelimit: 0,
        lo_number: 0,
        lo_encrypt_type: 0,
        lo_encrypt_key_size: 0,
        lo_flags: if autoclear { LO_FLAGS_AUTOCLEAR } else { 0 },
        lo_file_name: [0; 64],
        lo_crypt_name: [0; 64],
        lo_encrypt_key: [0; 32],
        lo_init: [0; 2],
    };
    let n = name.len().min(63);
    i.lo_file_name[..n].copy_from_slice(&name[..n]);
    i
}

/// An attached loop device: its path and an open fd (the fd keeps the device busy; with
/// autoclear the device detaches once this fd and every mount of it are gone).
pub struct LoopDevice {
    /// `/dev/loopN`.
    pub path: PathBuf,
    /// The open device.
    pub fd: OwnedFd,
}

fn get_free() -> io::Result<u32> {
    let ctl = OpenOptions::new().read(true).write(true).open("/dev/loop-control")?;
    // SAFETY: LOOP_CTL_GET_FREE takes no argument and returns the device number.
    let n = unsafe { libc::ioctl(ctl.as_raw_fd(), LOOP_CTL_GET_FREE as _) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as u32)
}

/// Attach `image` to a free loop device (LOOP_CTL_GET_FREE through `/dev/loop-control`, then
/// LOOP_CONFIGURE, or LOOP_SET_FD + LOOP_SET_STATUS64 on older kernels). Retries when another
/// process takes the same free device first.
pub fn attach(image: &File, image_name: &str, autoclear: bool) -> io::Result<LoopDevice> {
    let mut last = io::Error::from_raw_os_error(libc::EBUSY);
    for _ in 0..32 {
        let n = get_free()?;
        let path = PathBuf::from(format!("/dev/loop{n}"));
        let dev = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                last = e;
                continue;
            }
            Err(e) => return Err(e),
        };
        let cfg = LoopConfig {
            fd: image.as_raw_fd() as u32,
            block_size: 0,
            info: info(autoclear, image_name.as_bytes()),
            reserved: [0; 8],
        };
        // SAFETY: `cfg` is a valid `struct loop_config` that outlives the call; the kernel only
        // reads it.
        let r = unsafe { libc::ioctl(dev.as_raw_fd(), LOOP_CONFIGURE as _, &cfg as *const LoopConfig) };
        if r == 0 {
            return Ok(LoopDevice { path, fd: dev.into() });
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EBUSY) => {
                last = e;
                continue;
            }
            Some(libc::EINVAL) | Some(libc::ENOTTY) => {}
            _ => return Err(e),
        }
        // SAFETY: LOOP_SET_FD takes the image fd as an integer argument.
        if unsafe { libc::ioctl(dev.as_raw_fd(), LOOP_SET_FD as _, image.as_raw_fd() as libc::c_ulong) } < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EBUSY) {
                last = e;
                continue;
            }
            return Err(e);
        }
        let i = info(autoclear, image_name.as_bytes());
        // SAFETY: `i` is a valid `struct loop_info64` that outlives the call; read-only for the kernel.
        if unsafe { libc::ioctl(dev.as_raw_fd(), LOOP_SET_STATUS64 as _, &i as *const LoopInfo64) } < 0 {
            let e = io::Error::last_os_error();
            // SAFETY: LOOP_CLR_FD takes no argument; undoes our LOOP_SET_FD.
            unsafe { libc::ioctl(dev.as_raw_fd(), LOOP_CLR_FD as _, 0) };
            return Err(e);
        }
        return Ok(LoopDevice { path, fd: dev.into() });
    }
    Err(last)
}

/// Detach a loop device (LOOP_CLR_FD); with autoclear set, the kernel detaches it lazily once
/// it is no longer open or mounted.
pub fn detach(dev: &LoopDevice) -> io::Result<()> {
    // SAFETY: LOOP_CLR_FD takes no argument.
    if unsafe { libc::ioctl(dev.fd.as_raw_fd(), LOOP_CLR_FD as _, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
