//! Compile [`DeviceRules`] into a `BPF_PROG_TYPE_CGROUP_DEVICE` program (pure; no syscalls).
//!
//! Layout (spec §6.3): a prologue loads the device type into r2, the requested access into r3,
//! major into r4 and minor into r5 from `struct bpf_cgroup_dev_ctx { u32 access_type; u32
//! major; u32 minor; }`; one block per rule falls through to the next rule on mismatch or sets
//! r0 to the rule's verdict and exits; the epilogue returns the list's default.

use super::rule::{DevType, DeviceRule, DeviceRules, ACC_ALL, DEV_BLOCK, DEV_CHAR};
use rlxc_sys::bpf::BpfInsn;

/// Opcode pieces (from linux/bpf_common.h and linux/bpf.h).
pub mod op {
    /// class LDX
    pub const LDX: u8 = 0x01;
    /// class JMP
    pub const JMP: u8 = 0x05;
    /// class ALU (32-bit)
    pub const ALU: u8 = 0x04;
    /// class ALU64
    pub const ALU64: u8 = 0x07;
    /// mode MEM
    pub const MEM: u8 = 0x60;
    /// size W (32-bit)
    pub const W: u8 = 0x00;
    /// source: immediate
    pub const K: u8 = 0x00;
    /// source: register
    pub const X: u8 = 0x08;
    /// ALU AND
    pub const AND: u8 = 0x50;
    /// ALU RSH
    pub const RSH: u8 = 0x70;
    /// ALU MOV
    pub const MOV: u8 = 0xb0;
    /// JMP JA
    pub const JA: u8 = 0x00;
    /// JMP JEQ
    pub const JEQ: u8 = 0x10;
    /// JMP JNE
    pub const JNE: u8 = 0x50;
    /// JMP EXIT
    pub const EXIT: u8 = 0x90;
}

fn ldx_w(dst: u8, src: u8, off: i16) -> BpfInsn {
    BpfInsn::new(op::LDX | op::MEM | op::W, dst, src, off, 0)
}
fn alu32_imm(o: u8, dst: u8, imm: i32) -> BpfInsn {
    BpfInsn::new(op::ALU | o | op::K, dst, 0, 0, imm)
}
fn mov32_reg(dst: u8, src: u8) -> BpfInsn {
    BpfInsn::new(op::ALU | op::MOV | op::X, dst, src, 0, 0)
}
fn mov64_imm(dst: u8, imm: i32) -> BpfInsn {
    BpfInsn::new(op::ALU64 | op::MOV | op::K, dst, 0, 0, imm)
}
fn jmp_imm(o: u8, dst: u8, imm: i32, off: i16) -> BpfInsn {
    BpfInsn::new(op::JMP | o | op::K, dst, 0, off, imm)
}
fn jmp_reg(o: u8, dst: u8, src: u8, off: i16) -> BpfInsn {
    BpfInsn::new(op::JMP | o | op::X, dst, src, off, 0)
}
fn exit() -> BpfInsn {
    BpfInsn::new(op::JMP | op::EXIT, 0, 0, 0, 0)
}

/// The instructions of one rule: conditional jumps carry offset 0 here and are patched to
/// "skip the rest of this block" once the block length is known.
fn rule_block(r: &DeviceRule) -> Vec<BpfInsn> {
    // (instruction, is a jump to the next rule)
    let mut b: Vec<(BpfInsn, bool)> = Vec::new();
    match r.dtype {
        DevType::Block => b.push((jmp_imm(op::JNE, 2, DEV_BLOCK as i32, 0), true)),
        DevType::Char => b.push((jmp_imm(op::JNE, 2, DEV_CHAR as i32, 0), true)),
        DevType::All => {}
    }
    if r.access & ACC_ALL != ACC_ALL {
        b.push((mov32_reg(1, 3), false));
        b.push((alu32_imm(op::AND, 1, r.access as i32), false));
        if r.allow {
            // requested ⊆ rule access: (req & mask) == req
            b.push((jmp_reg(op::JNE, 1, 3, 0), true));
        } else {
            // requested ∩ rule access ≠ ∅
            b.push((jmp_imm(op::JEQ, 1, 0, 0), true));
        }
    }
    if let Some(m) = r.major {
        b.push((jmp_imm(op::JNE, 4, m as i32, 0), true));
    }
    if let Some(m) = r.minor {
        b.push((jmp_imm(op::JNE, 5, m as i32, 0), true));
    }
    b.push((mov64_imm(0, r.allow as i32), false));
    b.push((exit(), false));
    let len = b.len();
    b.into_iter()
        .enumerate()
        .map(|(i, (mut insn, j))| {
            if j {
                insn.off = (len - i - 1) as i16;
            }
            insn
        })
        .collect()
}

/// Compile the rule list into a program.
pub fn compile(rules: &DeviceRules) -> Vec<BpfInsn> {
    let mut p = vec![
        ldx_w(2, 1, 0),
        alu32_imm(op::AND, 2, 0xFFFF),
        ldx_w(3, 1, 0),
        alu32_imm(op::RSH, 3, 16),
        ldx_w(4, 1, 4),
        ldx_w(5, 1, 8),
    ];
    for r in &rules.rules {
        p.extend(rule_block(r));
    }
    p.push(mov64_imm(0, rules.default_allow as i32));
    p.push(exit());
    p
}

/// A trivial program (allow everything) used to probe whether the kernel accepts device
/// programs at all.
pub fn probe_program() -> Vec<BpfInsn> {
    vec![mov64_imm(0, 1), exit()]
}

/// A tiny interpreter for exactly the opcodes [`compile`] emits, so tests can run programs
/// against rule tables without a kernel. Returns r0, or an error for anything unexpected.
pub fn interpret(prog: &[BpfInsn], access_type: u32, major: u32, minor: u32) -> Result<u64, String> {
    let ctx = [access_type, major, minor];
    let mut r = [0u64; 11];
    let mut pc: usize = 0;
    let mut steps = 0;
    // r1 = ctx pointer: we model it as the value 0 and check loads against it.
    loop {
        steps += 1;
        if steps > 100_000 {
            return Err("too many steps".into());
        }
        let i = prog.get(pc).ok_or_else(|| format!("pc {pc} out of range"))?;
        let (d, s) = (i.dst() as usize, i.src() as usize);
        if d > 10 || s > 10 {
            return Err(format!("bad register at {pc}"));
        }
        let mut next = pc + 1;
        match i.code {
            c if c == op::LDX | op::MEM | op::W => {
                if s != 1 || i.off < 0 || i.off % 4 != 0 || i.off > 8 {
                    return Err(format!("bad load at {pc}"));
                }
                r[d] = ctx[(i.off / 4) as usize] as u64;
            }
            c if c == op::ALU | op::AND | op::K => r[d] = ((r[d] as u32) & (i.imm as u32)) as u64,
            c if c == op::ALU | op::RSH | op::K => r[d] = ((r[d] as u32) >> (i.imm as u32 & 31)) as u64,
            c if c == op::ALU | op::MOV | op::X => r[d] = r[s] as u32 as u64,
            c if c == op::ALU64 | op::MOV | op::K => r[d] = i.imm as i64 as u64,
            c if c & 0x07 == op::JMP && c & 0xf0 != op::EXIT => {
                let rhs = if c & op::X != 0 { r[s] } else { i.imm as i64 as u64 };
                let take = match c & 0xf0 {
                    op::JA => true,
                    op::JEQ => r[d] == rhs,
                    op::JNE => r[d] != rhs,
                    _ => return Err(format!("unsupported jump {c:#x} at {pc}")),
                };
                if take {
                    let t = pc as i64 + 1 + i.off as i64;
                    if t <= pc as i64 || t as usize >= prog.len() {
                        return Err(format!("bad jump target {t} at {pc}"));
                    }
                    next = t as usize;
                }
            }
            c if c == op::JMP | op::EXIT => return Ok(r[0]),
            c => return Err(format!("unsupported opcode {c:#x} at {pc}")),
        }
        pc = next;
    }
}

#[cfg(test)]
mod tests {
    use super::super::rule::{parse_rule, ACC_MKNOD, ACC_READ, ACC_WRITE};
    use super::*;

    fn rules(lines: &[(&str, bool)]) -> DeviceRules {
        let mut l = DeviceRules::new();
        for (v, allow) in lines {
            l.add(parse_rule(v, *allow).unwrap());
        }
        l
    }

    fn run(p: &[BpfInsn], t: u32, ma: u32, mi: u32, acc: u8) -> bool {
        interpret(p, t | ((acc as u32) << 16), ma, mi).unwrap() == 1
    }

    /// Every (type, major, minor, access) in a grid around the numbers the rules mention.
    fn check_equivalent(l: &DeviceRules) {
        let p = compile(l);
        let mut majors = vec![0u32, 1, 5, 7, 136, 4095];
        let mut minors = vec![0u32, 1, 3, 5, 9, 255];
        for r in &l.rules {
            majors.extend(r.major);
            minors.extend(r.minor);
        }
        for t in [DEV_BLOCK, DEV_CHAR] {
            for &ma in &majors {
                for &mi in &minors {
                    for acc in 1..=ACC_ALL {
                        assert_eq!(
                            run(&p, t, ma, mi, acc),
                            l.allows(t, ma, mi, acc),
                            "type {t} {ma}:{mi} access {acc} rules {:?}",
                            l.describe()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn empty_allowlist_denies_everything() {
        let l = DeviceRules::new();
        let p = compile(&l);
        assert!(!run(&p, DEV_CHAR, 1, 3, ACC_READ));
        check_equivalent(&l);
    }

    #[test]
    fn denylist_allows_by_default() {
        let l = rules(&[("a", true)]);
        assert!(run(&compile(&l), DEV_BLOCK, 8, 0, ACC_ALL));
        check_equivalent(&l);
    }

    #[test]
    fn lxc_common_allowlist() {
        let l = rules(&[
            ("a", false),
            ("b *:* m", true),
            ("c *:* m", true),
            ("c 1:3 rwm", true),
            ("c 1:5 rwm", true),
            ("c 1:7 rwm", true),
            ("c 1:8 rwm", true),
            ("c 1:9 rwm", true),
            ("c 5:0 rwm", true),
            ("c 5:2 rwm", true),
            ("c 136:* rwm", true),
            ("c 10:229 rwm", true),
        ]);
        let p = compile(&l);
        assert!(run(&p, DEV_CHAR, 1, 3, ACC_READ | ACC_WRITE));
        assert!(run(&p, DEV_CHAR, 136, 42, ACC_READ));
        assert!(run(&p, DEV_BLOCK, 8, 0, ACC_MKNOD));
        assert!(!run(&p, DEV_BLOCK, 8, 0, ACC_READ));
        assert!(!run(&p, DEV_CHAR, 1, 1, ACC_READ));
        check_equivalent(&l);
    }

    #[test]
    fn partial_masks_and_wildcards() {
        for set in [
            vec![("c 1:3 r", true)],
            vec![("a", true), ("c 1:3 w", false)],
            vec![("a", true), ("b *:* rw", false), ("c 1:* m", false)],
            vec![("a *:* r", true)],
            vec![("a 1:3 rw", true), ("c *:5 w", true)],
            vec![("a", true), ("a 1:* wm", false), ("c 1:3 rwm", true)],
            vec![("c 1:3 rwm", true), ("c 1:3 rwm", false), ("c 1:* r", true)],
        ] {
            check_equivalent(&rules(&set));
        }
    }

    #[test]
    fn jumps_stay_inside_the_program() {
        let l = rules(&[("c 1:3 r", true), ("b 8:* w", false)]);
        let p = compile(&l);
        for (i, insn) in p.iter().enumerate() {
            if insn.code & 0x07 == op::JMP && insn.code & 0xf0 != op::EXIT {
                let t = i as i64 + 1 + insn.off as i64;
                assert!(t > i as i64 && (t as usize) < p.len());
            }
        }
        assert_eq!(p.last().unwrap().code, op::JMP | op::EXIT);
    }

    #[test]
    fn probe_allows() {
        assert_eq!(interpret(&probe_program(), 0, 0, 0).unwrap(), 1);
    }

    #[test]
    fn every_small_rule_combination_matches_its_meaning() {
        // Exhaustive over a small rule alphabet: 2-rule lists in both modes.
        let alphabet = ["c 1:3 r", "c 1:3 rw", "c 1:* w", "b *:* m", "a 1:3 rwm", "c *:5 rm"];
        for mode in [None, Some(true), Some(false)] {
            for a in alphabet {
                for b in alphabet {
                    for (aa, ba) in [(true, true), (true, false), (false, true), (false, false)] {
                        let mut l = DeviceRules::new();
                        if let Some(m) = mode {
                            l.add(parse_rule("a", m).unwrap());
                        }
                        l.add(parse_rule(a, aa).unwrap());
                        l.add(parse_rule(b, ba).unwrap());
                        check_equivalent(&l);
                    }
                }
            }
        }
    }
}
