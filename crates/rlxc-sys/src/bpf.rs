//! bpf(2): load and attach `BPF_PROG_TYPE_CGROUP_DEVICE` programs (owned by the cgroup work).
//!
//! Only the three commands the eBPF device controller needs: `BPF_PROG_LOAD` (with an optional
//! verifier log), `BPF_PROG_ATTACH` (with `BPF_F_ALLOW_MULTI` / `BPF_F_REPLACE`) and
//! `BPF_PROG_DETACH`. The instruction encoding is `struct bpf_insn` (8 bytes).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `BPF_PROG_LOAD`.
pub const BPF_PROG_LOAD: u32 = 5;
/// `BPF_PROG_ATTACH`.
pub const BPF_PROG_ATTACH: u32 = 8;
/// `BPF_PROG_DETACH`.
pub const BPF_PROG_DETACH: u32 = 9;
/// `BPF_PROG_TYPE_CGROUP_DEVICE`.
pub const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
/// Attach type `BPF_CGROUP_DEVICE`.
pub const BPF_CGROUP_DEVICE: u32 = 6;
/// Attach flag: several programs may be attached to one cgroup (all must allow).
pub const BPF_F_ALLOW_MULTI: u32 = 1 << 1;
/// Attach flag: atomically replace the program given in `replace_bpf_fd` (kernel 5.6+).
pub const BPF_F_REPLACE: u32 = 1 << 2;

/// One eBPF instruction, laid out exactly as the kernel's `struct bpf_insn`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInsn {
    /// opcode
    pub code: u8,
    /// dst register in the low nibble, src register in the high nibble
    pub regs: u8,
    /// signed offset (jumps, memory)
    pub off: i16,
    /// signed immediate
    pub imm: i32,
}

impl BpfInsn {
    /// Build an instruction from its fields.
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> BpfInsn {
        BpfInsn { code, regs: (dst & 0x0f) | ((src & 0x0f) << 4), off, imm }
    }
    /// Destination register.
    pub const fn dst(&self) -> u8 {
        self.regs & 0x0f
    }
    /// Source register.
    pub const fn src(&self) -> u8 {
        self.regs >> 4
    }
}

/// The part of `union bpf_attr` used by `BPF_PROG_LOAD` (prefix of the kernel layout).
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    // Padding up to a size every kernel since 4.15 accepts (trailing bytes must be zero).
    _pad: [u64; 8],
}

/// The part of `union bpf_attr` used by `BPF_PROG_ATTACH` / `BPF_PROG_DETACH`.
#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
    _pad: [u32; 3],
}

fn sys_bpf<T>(cmd: u32, attr: &mut T) -> io::Result<i64> {
    // SAFETY: `attr` is a live, fully initialised `#[repr(C)]` struct whose layout is a prefix of
    // `union bpf_attr` for `cmd`, and we pass its exact size; pointers inside it (instructions,
    // license, log buffer) are owned by the caller and outlive the call.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd as libc::c_long, attr as *mut T, std::mem::size_of::<T>()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as i64)
}

/// Why a program load failed: the errno and, when the verifier said something, its log.
#[derive(Debug)]
pub struct LoadError {
    /// The errno of the failed load.
    pub error: io::Error,
    /// The verifier log (empty when the kernel wrote none).
    pub log: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.log.trim().is_empty() {
            write!(f, "{}", self.error)
        } else {
            write!(f, "{}; verifier log:\n{}", self.error, self.log.trim_end())
        }
    }
}

impl std::error::Error for LoadError {}

/// Load a `BPF_PROG_TYPE_CGROUP_DEVICE` program (license "GPL"). On refusal the load is retried
/// with a verifier log so the error explains itself.
pub fn prog_load_cgroup_device(insns: &[BpfInsn]) -> Result<OwnedFd, LoadError> {
    let license = c"GPL";
    let mut name = [0u8; 16];
    for (d, s) in name.iter_mut().zip(b"rlxc_devices".iter()) {
        *d = *s;
    }
    let mk = |log: &mut Vec<u8>, level: u32| ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: level,
        log_size: if level > 0 { log.len() as u32 } else { 0 },
        log_buf: if level > 0 { log.as_mut_ptr() as u64 } else { 0 },
        prog_name: name,
        ..Default::default()
    };
    let mut nolog = Vec::new();
    let mut attr = mk(&mut nolog, 0);
    match sys_bpf(BPF_PROG_LOAD, &mut attr) {
        Ok(fd) => {
            // SAFETY: on success BPF_PROG_LOAD returns a new file descriptor that we now own.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) });
        }
        Err(e) if e.raw_os_error() == Some(libc::EPERM) || e.raw_os_error() == Some(libc::ENOSYS) => {
            return Err(LoadError { error: e, log: String::new() });
        }
        Err(_) => {}
    }
    let mut log = vec![0u8; 1 << 16];
    let mut attr = mk(&mut log, 1);
    match sys_bpf(BPF_PROG_LOAD, &mut attr) {
        // SAFETY: as above, a fresh fd we own.
        Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) }),
        Err(error) => {
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            Err(LoadError { error, log: String::from_utf8_lossy(&log[..end]).into_owned() })
        }
    }
}

/// Attach `prog` to the cgroup directory `cgroup` as a device program. With `replace`, the
/// attachment of that program is swapped atomically (`BPF_F_REPLACE`).
pub fn prog_attach_cgroup_device(
    cgroup: BorrowedFd<'_>,
    prog: BorrowedFd<'_>,
    flags: u32,
    replace: Option<BorrowedFd<'_>>,
) -> io::Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: flags | if replace.is_some() { BPF_F_REPLACE } else { 0 },
        replace_bpf_fd: replace.map(|r| r.as_raw_fd() as u32).unwrap_or(0),
        ..Default::default()
    };
    sys_bpf(BPF_PROG_ATTACH, &mut attr).map(|_| ())
}

/// Detach the device program `prog` from the cgroup directory `cgroup`.
pub fn prog_detach_cgroup_device(cgroup: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> io::Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        ..Default::default()
    };
    sys_bpf(BPF_PROG_DETACH, &mut attr).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insn_layout_matches_kernel() {
        assert_eq!(std::mem::size_of::<BpfInsn>(), 8);
        let i = BpfInsn::new(0x61, 2, 1, 0, 0);
        assert_eq!(i.dst(), 2);
        assert_eq!(i.src(), 1);
        assert_eq!(std::mem::size_of::<ProgAttachAttr>(), 32);
    }

    #[test]
    fn refused_program_carries_the_verifier_log() {
        if !rustix::process::geteuid().is_root() {
            return;
        }
        // r0 = 1 with no exit: the verifier refuses it and says why.
        let bad = [BpfInsn::new(0xb7, 0, 0, 0, 1)];
        let e = prog_load_cgroup_device(&bad).unwrap_err();
        assert!(!e.log.is_empty(), "{e}");
        assert!(e.to_string().contains("verifier log"), "{e}");
        let good = [BpfInsn::new(0xb7, 0, 0, 0, 1), BpfInsn::new(0x95, 0, 0, 0, 0)];
        assert!(prog_load_cgroup_device(&good).is_ok());
    }
}
