//! A classic-BPF interpreter for seccomp programs, used to check filters we build for
//! architectures this host can't run (s390x on x86_64) and to test policies without loading
//! them. It evaluates a program on a `struct seccomp_data` and returns the action word.

use crate::seccomp::SockFilter;

/// `struct seccomp_data` as the filter sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeccompData {
    /// Syscall number.
    pub nr: i32,
    /// `AUDIT_ARCH_*` of the calling convention.
    pub arch: u32,
    /// Instruction pointer.
    pub instruction_pointer: u64,
    /// Syscall arguments.
    pub args: [u64; 6],
}

/// `AUDIT_ARCH_X86_64`.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `AUDIT_ARCH_I386`.
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// `AUDIT_ARCH_S390X`.
pub const AUDIT_ARCH_S390X: u32 = 0x8000_0016;
/// `AUDIT_ARCH_S390`.
pub const AUDIT_ARCH_S390: u32 = 0x0000_0016;
/// `AUDIT_ARCH_AARCH64`.
pub const AUDIT_ARCH_AARCH64: u32 = 0xc000_00b7;
/// `AUDIT_ARCH_ARM`.
pub const AUDIT_ARCH_ARM: u32 = 0x4000_0028;
/// x32 syscalls run with the x86_64 audit arch and this bit set in the number.
pub const X32_SYSCALL_BIT: i32 = 0x4000_0000;

/// `SECCOMP_RET_ALLOW`.
pub const RET_ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_ERRNO` (low 16 bits: errno).
pub const RET_ERRNO: u32 = 0x0005_0000;
/// `SECCOMP_RET_KILL_THREAD`.
pub const RET_KILL_THREAD: u32 = 0;
/// `SECCOMP_RET_KILL_PROCESS`.
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
/// `SECCOMP_RET_TRAP`.
pub const RET_TRAP: u32 = 0x0003_0000;
/// `SECCOMP_RET_USER_NOTIF`.
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;
/// `SECCOMP_RET_LOG`.
pub const RET_LOG: u32 = 0x7ffc_0000;

/// Why a program could not be evaluated.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BpfError {
    /// An opcode we (and the seccomp verifier) don't accept.
    #[error("instruction {0}: unsupported opcode {1:#x}")]
    BadOpcode(usize, u16),
    /// A load outside `struct seccomp_data` or unaligned.
    #[error("instruction {0}: load at offset {1} outside seccomp_data")]
    BadLoad(usize, u32),
    /// A jump past the end or a fall-through off the end.
    #[error("instruction {0}: control flow leaves the program")]
    OutOfBounds(usize),
    /// Longer than the kernel's BPF_MAXINSNS (4096).
    #[error("program has {0} instructions, more than 4096")]
    TooLong(usize),
}

fn load_word(data: &SeccompData, off: u32, big_endian: bool) -> Option<u32> {
    // A 64-bit field's low word comes first in memory on little-endian machines only.
    let lo = |v: u64| if big_endian { (v >> 32) as u32 } else { v as u32 };
    let hi = |v: u64| if big_endian { v as u32 } else { (v >> 32) as u32 };
    let ip = data.instruction_pointer;
    Some(match off {
        0 => data.nr as u32,
        4 => data.arch,
        8 => lo(ip),
        12 => hi(ip),
        o if (16..64).contains(&o) && o % 4 == 0 => {
            let a = data.args[((o - 16) / 8) as usize];
            if (o - 16) % 8 == 0 {
                lo(a)
            } else {
                hi(a)
            }
        }
        _ => return None,
    })
}

/// Run `prog` on `data` as laid out by a machine of the given endianness and return the
/// `SECCOMP_RET_*` word.
pub fn run(prog: &[SockFilter], data: &SeccompData, big_endian: bool) -> Result<u32, BpfError> {
    if prog.len() > 4096 {
        return Err(BpfError::TooLong(prog.len()));
    }
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    loop {
        let Some(ins) = prog.get(pc) else { return Err(BpfError::OutOfBounds(pc)) };
        let class = ins.code & 0x07;
        match class {
            0x00 | 0x01 => {
                // LD / LDX
                let mode = ins.code & 0xe0;
                let v = match mode {
                    0x20 => load_word(data, ins.k, big_endian).ok_or(BpfError::BadLoad(pc, ins.k))?, // ABS
                    0x00 => ins.k,                                                                   // IMM
                    0x60 => *mem.get(ins.k as usize).ok_or(BpfError::BadOpcode(pc, ins.code))?,      // MEM
                    0x80 => 64,                                                                      // LEN
                    _ => return Err(BpfError::BadOpcode(pc, ins.code)),
                };
                if class == 0x00 {
                    a = v;
                } else {
                    x = v;
                }
            }
            0x02 | 0x03 => {
                // ST / STX
                let slot = mem.get_mut(ins.k as usize).ok_or(BpfError::BadOpcode(pc, ins.code))?;
                *slot = if class == 0x02 { a } else { x };
            }
            0x04 => {
                // ALU
                let src = if ins.code & 0x08 != 0 { x } else { ins.k };
                a = match ins.code & 0xf0 {
                    0x00 => a.wrapping_add(src),
                    0x10 => a.wrapping_sub(src),
                    0x20 => a.wrapping_mul(src),
                    0x30 => a.checked_div(src).unwrap_or(0),
                    0x40 => a | src,
                    0x50 => a & src,
                    0x60 => a.wrapping_shl(src),
                    0x70 => a.wrapping_shr(src),
                    0x80 => a.wrapping_neg(),
                    0x90 => a.checked_rem(src).unwrap_or(0),
                    0xa0 => a ^ src,
                    _ => return Err(BpfError::BadOpcode(pc, ins.code)),
                };
            }
            0x05 => {
                // JMP
                let src = if ins.code & 0x08 != 0 { x } else { ins.k };
                let op = ins.code & 0xf0;
                if op == 0x00 {
                    pc = pc + 1 + ins.k as usize;
                    continue;
                }
                let cond = match op {
                    0x10 => a == src,
                    0x20 => a > src,
                    0x30 => a >= src,
                    0x40 => a & src != 0,
                    _ => return Err(BpfError::BadOpcode(pc, ins.code)),
                };
                pc = pc + 1 + if cond { ins.jt as usize } else { ins.jf as usize };
                continue;
            }
            0x06 => {
                // RET
                return Ok(match ins.code & 0x18 {
                    0x00 => ins.k,
                    0x10 => a,
                    _ => return Err(BpfError::BadOpcode(pc, ins.code)),
                });
            }
            0x07 => {
                // MISC: TAX / TXA
                if ins.code & 0xf8 == 0x00 {
                    x = a;
                } else {
                    a = x;
                }
            }
            _ => return Err(BpfError::BadOpcode(pc, ins.code)),
        }
        pc += 1;
    }
}
