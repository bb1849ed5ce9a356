//! Compiling a parsed LXC seccomp policy (`rlxc_config::seccomp`) into kernel filters with
//! libseccomp, per architecture, and loading it.
//!
//! Like LXC, one filter context is built for the native architecture and one for each compat
//! architecture the host can run (x86_64: i386 and x32; arm64: arm; s390x: s390; ppc64: ppc;
//! mips64: mips and n32), each with the rules of `[all]` and of its own section, and they are
//! merged into one filter. A syscall name an architecture lacks is skipped with a warning. Any
//! architecture family can be built (and exported as BPF) on any host, which is how s390x
//! filters are checked on x86_64.

use std::io::{Read, Seek};
use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::path::Path;

use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use rlxc_config::seccomp::{parse_policy, Action, ArchSection, CmpOp, SeccompPolicy, SyscallRef};
use tracing::{debug, info, warn};

use crate::error::{Result, SecurityError};

/// `MNT_FORCE`, the umount2 flag `reject_force_umount` refuses.
const MNT_FORCE: u64 = 1;

/// Read and parse a policy file; errors name the file and line.
pub fn read_policy(path: &Path) -> Result<SeccompPolicy> {
    let text = std::fs::read(path).map_err(|e| SecurityError::SeccompPolicy {
        path: path.to_path_buf(),
        line: 0,
        message: format!("cannot read: {e}"),
    })?;
    let text = String::from_utf8_lossy(&text);
    parse_policy(&text).map_err(|e| SecurityError::SeccompPolicy {
        path: path.to_path_buf(),
        line: e.line,
        message: e.message,
    })
}

/// The architectures a filter for a host of architecture `native` covers (native first).
pub fn arch_family(native: ScmpArch) -> Vec<ScmpArch> {
    match native {
        ScmpArch::X8664 => vec![ScmpArch::X8664, ScmpArch::X86, ScmpArch::X32],
        ScmpArch::Aarch64 => vec![ScmpArch::Aarch64, ScmpArch::Arm],
        ScmpArch::S390X => vec![ScmpArch::S390X, ScmpArch::S390],
        ScmpArch::Ppc64 => vec![ScmpArch::Ppc64, ScmpArch::Ppc],
        ScmpArch::Mips64 => vec![ScmpArch::Mips64, ScmpArch::Mips, ScmpArch::Mips64N32],
        ScmpArch::Mipsel64 => vec![ScmpArch::Mipsel64, ScmpArch::Mipsel, ScmpArch::Mipsel64N32],
        other => vec![other],
    }
}

/// Whether an architecture is big-endian (its filters are written in that byte order).
pub fn is_big_endian(arch: ScmpArch) -> bool {
    matches!(
        arch,
        ScmpArch::S390X
            | ScmpArch::S390
            | ScmpArch::Ppc64
            | ScmpArch::Ppc
            | ScmpArch::Mips
            | ScmpArch::Mips64
            | ScmpArch::Mips64N32
            | ScmpArch::Parisc
            | ScmpArch::Parisc64
            | ScmpArch::M68k
            | ScmpArch::Sheb
    )
}

/// The architecture a policy section selects (None for `[all]`).
pub fn section_arch(section: ArchSection) -> Option<ScmpArch> {
    Some(match section {
        ArchSection::All => return None,
        ArchSection::X86 => ScmpArch::X86,
        ArchSection::X32 => ScmpArch::X32,
        ArchSection::X86_64 => ScmpArch::X8664,
        ArchSection::Arm => ScmpArch::Arm,
        ArchSection::Arm64 => ScmpArch::Aarch64,
        ArchSection::Ppc => ScmpArch::Ppc,
        ArchSection::Ppc64 => ScmpArch::Ppc64,
        ArchSection::Ppc64le => ScmpArch::Ppc64Le,
        ArchSection::Mips => ScmpArch::Mips,
        ArchSection::Mips64 => ScmpArch::Mips64,
        ArchSection::Mips64n32 => ScmpArch::Mips64N32,
        ArchSection::Mipsel => ScmpArch::Mipsel,
        ArchSection::Mipsel64 => ScmpArch::Mipsel64,
        ArchSection::Mipsel64n32 => ScmpArch::Mipsel64N32,
        ArchSection::S390x => ScmpArch::S390X,
        ArchSection::S390 => ScmpArch::S390,
    })
}

/// libseccomp action for a policy action (`kill` is SCMP_ACT_KILL = kill thread, as in LXC).
pub fn scmp_action(action: Action) -> ScmpAction {
    match action {
        Action::Kill => ScmpAction::KillThread,
        Action::Allow => ScmpAction::Allow,
        Action::Trap => ScmpAction::Trap,
        Action::Errno(n) => ScmpAction::Errno(i32::from(n)),
        Action::Log => ScmpAction::Log,
        Action::Notify => ScmpAction::Notify,
    }
}

fn scmp_cmp(index: u8, op: CmpOp, value: u64, mask: u64) -> ScmpArgCompare {
    let op = match op {
        CmpOp::Ne => ScmpCompareOp::NotEqual,
        CmpOp::Lt => ScmpCompareOp::Less,
        CmpOp::Le => ScmpCompareOp::LessOrEqual,
        CmpOp::Eq => ScmpCompareOp::Equal,
        CmpOp::Ge => ScmpCompareOp::GreaterEqual,
        CmpOp::Gt => ScmpCompareOp::Greater,
        CmpOp::MaskedEq => ScmpCompareOp::MaskedEqual(mask),
    };
    ScmpArgCompare::new(u32::from(index), op, value)
}

fn lib_err(what: impl Into<String>, e: libseccomp::error::SeccompError) -> SecurityError {
    SecurityError::Seccomp { what: what.into(), message: e.to_string() }
}

/// A filter built for one architecture family, ready to load or export.
pub struct CompiledFilter {
    ctx: ScmpFilterContext,
    /// Architectures covered (native first).
    pub arches: Vec<ScmpArch>,
    /// Rules skipped, one message each (unknown syscalls on an architecture, ...).
    pub warnings: Vec<String>,
    /// Whether some rule uses `notify` (the load returns a listener fd).
    pub uses_notify: bool,
    /// Number of rules added over all architectures.
    pub rules_added: usize,
}

impl std::fmt::Debug for CompiledFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledFilter")
            .field("arches", &self.arches)
            .field("warnings", &self.warnings)
            .field("uses_notify", &self.uses_notify)
            .field("rules_added", &self.rules_added)
            .finish()
    }
}

fn context_for(arch: ScmpArch, default: ScmpAction) -> Result<ScmpFilterContext> {
    let mut ctx = ScmpFilterContext::new(default).map_err(|e| lib_err("creating a filter context", e))?;
    // LXC sets no_new_privs itself when asked (lxc.no_new_privs); libseccomp must not force it.
    ctx.set_ctl_nnp(false).map_err(|e| lib_err("clearing SCMP_FLTATR_CTL_NNP", e))?;
    let native = ScmpArch::native();
    if arch != native {
        // Remove first: a filter's arches must share one endianness (s390x on x86_64).
        ctx.remove_arch(native).map_err(|e| lib_err(format!("removing native architecture {native:?}"), e))?;
        ctx.add_arch(arch).map_err(|e| lib_err(format!("adding architecture {arch:?}"), e))?;
    }
    Ok(ctx)
}

enum AddError {
    Unknown,
    Refused(libseccomp::error::SeccompError),
}

/// Syscalls that some architectures (i386, s390) reach only through socketcall(2)/ipc(2);
/// libseccomp resolves them to negative pseudo numbers there and filters the multiplexer.
const MULTIPLEXED: &[&str] = &[
    "socket",
    "bind",
    "connect",
    "listen",
    "accept",
    "getsockname",
    "getpeername",
    "socketpair",
    "send",
    "recv",
    "sendto",
    "recvfrom",
    "shutdown",
    "setsockopt",
    "getsockopt",
    "sendmsg",
    "recvmsg",
    "accept4",
    "recvmmsg",
    "sendmmsg",
    "semop",
    "semget",
    "semctl",
    "semtimedop",
    "msgsnd",
    "msgrcv",
    "msgget",
    "msgctl",
    "shmat",
    "shmdt",
    "shmget",
    "shmctl",
];

/// Add one rule to a single-architecture context. libseccomp always takes syscall numbers in
/// the host's native numbering and translates them by name for each architecture of the
/// context (as LXC relies on), so `arch`'s own table is only used to see whether the syscall
/// exists there.
fn add_rule(
    ctx: &mut ScmpFilterContext,
    arch: ScmpArch,
    name: &str,
    action: ScmpAction,
    cmps: &[ScmpArgCompare],
) -> Result<(), AddError> {
    let on_arch = match ScmpSyscall::from_name_by_arch(name, arch) {
        Ok(s) if !s.is_error() => i32::from(s),
        _ => return Err(AddError::Unknown),
    };
    if on_arch < 0 && !MULTIPLEXED.contains(&name) {
        return Err(AddError::Unknown);
    }
    let native = match ScmpSyscall::from_name(name) {
        Ok(s) if !s.is_error() => s,
        _ => return Err(AddError::Unknown),
    };
    let r = if cmps.is_empty() { ctx.add_rule(action, native) } else { ctx.add_rule_conditional(action, native, cmps) };
    match r {
        Ok(_) => Ok(()),
        // Not in the host's own table: libseccomp can't translate it for other arches.
        Err(_) if i32::from(native) < 0 => Err(AddError::Unknown),
        Err(e) => Err(AddError::Refused(e)),
    }
}

/// Build the filter of `policy` for a host whose native architecture is `native`.
pub fn compile(policy: &SeccompPolicy, native: ScmpArch) -> Result<CompiledFilter> {
    let default = scmp_action(policy.default_action);
    let arches = arch_family(native);
    let mut warnings = Vec::new();
    let mut uses_notify = false;
    let mut rules_added = 0usize;
    let mut main: Option<ScmpFilterContext> = None;
    for (i, &arch) in arches.iter().enumerate() {
        let is_native = i == 0;
        let mut ctx = context_for(arch, default)?;
        if policy.reject_force_umount {
            let cmp = [scmp_cmp(1, CmpOp::MaskedEq, MNT_FORCE, MNT_FORCE)];
            match add_rule(&mut ctx, arch, "umount2", ScmpAction::Errno(libc::EACCES), &cmp) {
                Ok(()) => rules_added += 1,
                Err(AddError::Unknown) => {
                    warnings.push(format!("reject_force_umount: umount2 does not exist on {arch:?}, skipped"))
                }
                Err(AddError::Refused(e)) => return Err(lib_err(format!("reject_force_umount on {arch:?}"), e)),
            }
        }
        for rule in &policy.rules {
            if let Some(only) = section_arch(rule.arch) {
                if only != arch {
                    continue;
                }
            }
            if rule.action == policy.default_action {
                debug!("line {}: {} has the default action, nothing to add", rule.line, rule.syscall);
                continue;
            }
            let cmps: Vec<ScmpArgCompare> =
                rule.args.iter().map(|a| scmp_cmp(a.index, a.op, a.value, a.mask)).collect();
            let action = scmp_action(rule.action);
            let added = match &rule.syscall {
                SyscallRef::Name(name) => add_rule(&mut ctx, arch, name, action, &cmps),
                SyscallRef::Number(nr) => {
                    // Version 1 numbers are the native architecture's.
                    if !is_native {
                        continue;
                    }
                    match i32::try_from(*nr) {
                        Ok(n) => ctx.add_rule(action, ScmpSyscall::from(n)).map(|_| ()).map_err(AddError::Refused),
                        Err(_) => Err(AddError::Unknown),
                    }
                }
            };
            match added {
                Ok(()) => {
                    rules_added += 1;
                    if rule.action == Action::Notify {
                        uses_notify = true;
                    }
                }
                Err(AddError::Unknown) => warnings.push(format!(
                    "line {}: syscall \"{}\" does not exist on {arch:?}, rule skipped",
                    rule.line, rule.syscall
                )),
                // Compat arches multiplex some syscalls (socketcall, ipc) where argument filters
                // can't be expressed: skip there, fail for the native arch.
                Err(AddError::Refused(e)) if !is_native => warnings.push(format!(
                    "line {}: rule for {} cannot be expressed on {arch:?} ({e}), skipped",
                    rule.line, rule.syscall
                )),
                Err(AddError::Refused(e)) => {
                    return Err(lib_err(format!("line {}: adding rule for {} on {arch:?}", rule.line, rule.syscall), e))
                }
            }
        }
        match main.as_mut() {
            None => main = Some(ctx),
            Some(m) => {
                m.merge(ctx).map_err(|e| lib_err(format!("merging the {arch:?} filter"), e))?;
            }
        }
    }
    let ctx =
        main.ok_or_else(|| SecurityError::Seccomp { what: "compile".into(), message: "no architecture".into() })?;
    Ok(CompiledFilter { ctx, arches, warnings, uses_notify, rules_added })
}

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockFilter {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Constant.
    pub k: u32,
}

impl CompiledFilter {
    /// The filter in libseccomp's human-readable pseudo filter code (for debugging).
    pub fn pfc(&self) -> Result<String> {
        let fd = rustix::fs::memfd_create("rlxc-seccomp-pfc", rustix::fs::MemfdFlags::CLOEXEC)
            .map_err(|e| SecurityError::io("memfd_create for the PFC export", e.into()))?;
        self.ctx.export_pfc(fd.as_fd()).map_err(|e| lib_err("exporting PFC", e))?;
        let mut file = std::fs::File::from(fd);
        file.rewind().map_err(|e| SecurityError::io("rewinding the PFC export", e))?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(|e| SecurityError::io("reading the PFC export", e))?;
        Ok(text)
    }

    /// The filter as the BPF program the kernel would get.
    pub fn bpf(&self) -> Result<Vec<SockFilter>> {
        let fd = rustix::fs::memfd_create("rlxc-seccomp-bpf", rustix::fs::MemfdFlags::CLOEXEC)
            .map_err(|e| SecurityError::io("memfd_create for the BPF export", e.into()))?;
        self.ctx.export_bpf(fd.as_fd()).map_err(|e| lib_err("exporting BPF", e))?;
        let mut file = std::fs::File::from(fd);
        file.rewind().map_err(|e| SecurityError::io("rewinding the BPF export", e))?;
        let mut raw = Vec::new();
        file.read_to_end(&mut raw).map_err(|e| SecurityError::io("reading the BPF export", e))?;
        // libseccomp writes the program in the target's byte order.
        let big = self.arches.first().is_some_and(|a| is_big_endian(*a));
        let u16_of = |b: [u8; 2]| if big { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) };
        let u32_of = |b: [u8; 4]| if big { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) };
        Ok(raw
            .chunks_exact(8)
            .map(|c| SockFilter { code: u16_of([c[0], c[1]]), jt: c[2], jf: c[3], k: u32_of([c[4], c[5], c[6], c[7]]) })
            .collect())
    }

    /// Load the filter into the calling thread. Returns the notify listener fd when a rule uses
    /// `notify`.
    pub fn load(&self) -> Result<Option<OwnedFd>> {
        self.ctx.load().map_err(|e| lib_err("loading the filter", e))?;
        if !self.uses_notify {
            return Ok(None);
        }
        let fd: RawFd = self.ctx.get_notify_fd().map_err(|e| lib_err("getting the notify fd", e))?;
        // libseccomp keeps the number in its global state (the fd itself is O_CLOEXEC, so it
        // never reaches the container's init); the caller gets its own duplicate to own.
        let dup = rlxc_sys::seccomp::dup_cloexec(fd)
            .map_err(|e| SecurityError::io("duplicating the seccomp notify fd", e))?;
        Ok(Some(dup))
    }
}

/// The architecture of this host, for [`compile`].
pub fn native_arch() -> ScmpArch {
    ScmpArch::native()
}

/// Whether the calling thread already runs under a seccomp filter.
pub fn already_filtered() -> bool {
    rlxc_sys::seccomp::seccomp_mode().map(|m| m != 0).unwrap_or(false)
}

/// Parse, build and load the policy in `path` for this host (LXC's `lxc_seccomp_load`). Skipped
/// (Ok(None)) when the caller is already filtered and `allow_nesting` is off.
pub fn load_policy(policy: &SeccompPolicy, allow_nesting: bool) -> Result<Option<OwnedFd>> {
    if already_filtered() && !allow_nesting {
        info!("already seccomp-confined, not loading a new policy (set lxc.seccomp.allow_nesting = 1 to stack)");
        return Ok(None);
    }
    let filter = compile(policy, ScmpArch::native())?;
    for w in &filter.warnings {
        warn!("seccomp: {w}");
    }
    let fd = filter.load()?;
    info!("seccomp policy loaded ({} rules on {:?})", filter.rules_added, filter.arches);
    Ok(fd)
}
