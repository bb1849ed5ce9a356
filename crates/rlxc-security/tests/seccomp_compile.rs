//! Policies compiled per architecture family and checked by running the exported BPF program
//! in our interpreter: x86_64 (with i386 and x32 compat), s390x (with s390) and arm64 (with arm),
//! none of which needs loading the filter.

use libseccomp::{ScmpArch, ScmpSyscall};
use rlxc_config::seccomp::parse_policy;
use rlxc_security::bpf_check::*;
use rlxc_security::seccomp::{compile, SockFilter};

const COMMON: &str = "2\ndenylist\nreject_force_umount  # comment this to allow umount -f;  not recommended\n[all]\nkexec_load errno 1\nopen_by_handle_at errno 1\ninit_module errno 1\nfinit_module errno 1\ndelete_module errno 1\n";

fn nr(name: &str, arch: ScmpArch) -> i32 {
    let s = ScmpSyscall::from_name_by_arch(name, arch).unwrap();
    i32::from(s)
}

fn eval(prog: &[SockFilter], arch: u32, nr: i32, args: [u64; 6]) -> u32 {
    // The s390 family is big-endian: its seccomp_data words are laid out that way.
    let big = arch == AUDIT_ARCH_S390X || arch == AUDIT_ARCH_S390;
    run(prog, &SeccompData { nr, arch, instruction_pointer: 0, args }, big).unwrap()
}

#[test]
fn debian_common_seccomp_x86_64_family() {
    let f = compile(&parse_policy(COMMON).unwrap(), ScmpArch::X8664).unwrap();
    assert_eq!(f.arches, vec![ScmpArch::X8664, ScmpArch::X86, ScmpArch::X32]);
    let p = f.bpf().unwrap();
    for sys in ["kexec_load", "open_by_handle_at", "init_module", "finit_module", "delete_module"] {
        assert_eq!(eval(&p, AUDIT_ARCH_X86_64, nr(sys, ScmpArch::X8664), [0; 6]), RET_ERRNO | 1, "{sys} x86_64");
        assert_eq!(eval(&p, AUDIT_ARCH_I386, nr(sys, ScmpArch::X86), [0; 6]), RET_ERRNO | 1, "{sys} i386");
        // x32 numbers carry __X32_SYSCALL_BIT in libseccomp's resolution already.
        assert_eq!(eval(&p, AUDIT_ARCH_X86_64, nr(sys, ScmpArch::X32), [0; 6]), RET_ERRNO | 1, "{sys} x32");
    }
    assert_eq!(eval(&p, AUDIT_ARCH_X86_64, nr("getpid", ScmpArch::X8664), [0; 6]), RET_ALLOW);
    assert_eq!(eval(&p, AUDIT_ARCH_I386, nr("getpid", ScmpArch::X86), [0; 6]), RET_ALLOW);
    // reject_force_umount: umount2(path, MNT_FORCE) → EACCES, without MNT_FORCE allowed.
    let umount2 = nr("umount2", ScmpArch::X8664);
    assert_eq!(eval(&p, AUDIT_ARCH_X86_64, umount2, [0, 1, 0, 0, 0, 0]), RET_ERRNO | libc::EACCES as u32);
    assert_eq!(eval(&p, AUDIT_ARCH_X86_64, umount2, [0, 2, 0, 0, 0, 0]), RET_ALLOW);
    // A foreign architecture is killed (libseccomp's bad-arch action).
    let foreign = eval(&p, AUDIT_ARCH_S390X, 1, [0; 6]);
    assert!(foreign == RET_KILL_THREAD || foreign == RET_KILL_PROCESS, "{foreign:#x}");
}

#[test]
fn s390x_filters_are_built_and_checked() {
    let policy = parse_policy(
        "2\ndenylist\nreject_force_umount\n[all]\nkexec_load errno 1\n[s390x]\nbpf errno 97\n[s390]\nmknod errno 22\n[x86_64]\nmount errno 5\n",
    )
    .unwrap();
    let f = compile(&policy, ScmpArch::S390X).unwrap();
    assert_eq!(f.arches, vec![ScmpArch::S390X, ScmpArch::S390]);
    let p = f.bpf().unwrap();
    assert!(!p.is_empty() && p.len() <= 4096);
    assert_eq!(eval(&p, AUDIT_ARCH_S390X, nr("kexec_load", ScmpArch::S390X), [0; 6]), RET_ERRNO | 1);
    assert_eq!(eval(&p, AUDIT_ARCH_S390, nr("kexec_load", ScmpArch::S390), [0; 6]), RET_ERRNO | 1);
    assert_eq!(eval(&p, AUDIT_ARCH_S390X, nr("bpf", ScmpArch::S390X), [0; 6]), RET_ERRNO | 97);
    assert_eq!(eval(&p, AUDIT_ARCH_S390, nr("mknod", ScmpArch::S390), [0; 6]), RET_ERRNO | 22);
    // [s390] rules don't leak into s390x and [x86_64] rules are not compiled at all.
    assert_eq!(eval(&p, AUDIT_ARCH_S390X, nr("mknod", ScmpArch::S390X), [0; 6]), RET_ALLOW);
    assert_eq!(eval(&p, AUDIT_ARCH_S390X, nr("mount", ScmpArch::S390X), [0; 6]), RET_ALLOW);
    let umount2 = nr("umount2", ScmpArch::S390X);
    assert_eq!(eval(&p, AUDIT_ARCH_S390X, umount2, [0, 1, 0, 0, 0, 0]), RET_ERRNO | libc::EACCES as u32);
    let x86 = eval(&p, AUDIT_ARCH_X86_64, 0, [0; 6]);
    assert!(x86 == RET_KILL_THREAD || x86 == RET_KILL_PROCESS);
}

#[test]
fn arm64_with_arm_compat() {
    let f = compile(&parse_policy("2\ndenylist\n[arm]\nkexec_load errno 1\n").unwrap(), ScmpArch::Aarch64).unwrap();
    let p = f.bpf().unwrap();
    assert_eq!(eval(&p, AUDIT_ARCH_ARM, nr("kexec_load", ScmpArch::Arm), [0; 6]), RET_ERRNO | 1);
    assert_eq!(eval(&p, AUDIT_ARCH_AARCH64, nr("kexec_load", ScmpArch::Aarch64), [0; 6]), RET_ALLOW);
}

#[test]
fn unknown_syscall_on_an_arch_is_a_warning_not_an_error() {
    // `open` does not exist on arm64/s390x? It exists on s390x; pick names absent on x86_64.
    let f = compile(
        &parse_policy("2\ndenylist\nnot_a_syscall errno 1\narm_fadvise64_64 errno 1\nkexec_load errno 1\n").unwrap(),
        ScmpArch::X8664,
    )
    .unwrap();
    assert!(f.warnings.iter().any(|w| w.contains("not_a_syscall")), "{:?}", f.warnings);
    assert!(f.warnings.iter().any(|w| w.contains("arm_fadvise64_64")), "{:?}", f.warnings);
    let p = f.bpf().unwrap();
    assert_eq!(eval(&p, AUDIT_ARCH_X86_64, nr("kexec_load", ScmpArch::X8664), [0; 6]), RET_ERRNO | 1);
}

#[test]
fn allowlist_kills_unlisted_and_honours_actions() {
    let f = compile(
        &parse_policy("2\nallowlist\nread\nwrite\nexit_group\ngetpid trap\ngetppid log\n").unwrap(),
        ScmpArch::X8664,
    )
    .unwrap();
    let p = f.bpf().unwrap();
    let a = AUDIT_ARCH_X86_64;
    assert_eq!(eval(&p, a, nr("read", ScmpArch::X8664), [0; 6]), RET_ALLOW);
    assert_eq!(eval(&p, a, nr("getpid", ScmpArch::X8664), [0; 6]), RET_TRAP);
    assert_eq!(eval(&p, a, nr("getppid", ScmpArch::X8664), [0; 6]), RET_LOG);
    assert_eq!(eval(&p, a, nr("mount", ScmpArch::X8664), [0; 6]), RET_KILL_THREAD);
    let f = compile(&parse_policy("2\nallowlist errno 38\nread\n").unwrap(), ScmpArch::X8664).unwrap();
    assert_eq!(eval(&f.bpf().unwrap(), a, nr("mount", ScmpArch::X8664), [0; 6]), RET_ERRNO | 38);
}

#[test]
fn version_1_numbers() {
    let f = compile(&parse_policy("1\nwhitelist\n0\n1\n60\n231\n").unwrap(), ScmpArch::X8664).unwrap();
    let p = f.bpf().unwrap();
    assert_eq!(eval(&p, AUDIT_ARCH_X86_64, 0, [0; 6]), RET_ALLOW);
    assert_eq!(eval(&p, AUDIT_ARCH_X86_64, 165, [0; 6]), RET_KILL_THREAD);
}

#[test]
fn argument_comparisons() {
    let pol = "2\ndenylist\npersonality errno 1 [0,8,SCMP_CMP_EQ]\nclone errno 2 [0,0x10000000,SCMP_CMP_MASKED_EQ,0x10000000]\nsetns errno 3 [1,5,>] [0,9,<=]\n";
    let f = compile(&parse_policy(pol).unwrap(), ScmpArch::X8664).unwrap();
    let p = f.bpf().unwrap();
    let a = AUDIT_ARCH_X86_64;
    let pers = nr("personality", ScmpArch::X8664);
    assert_eq!(eval(&p, a, pers, [8, 0, 0, 0, 0, 0]), RET_ERRNO | 1);
    assert_eq!(eval(&p, a, pers, [0, 0, 0, 0, 0, 0]), RET_ALLOW);
    let clone = nr("clone", ScmpArch::X8664);
    assert_eq!(eval(&p, a, clone, [0x1000_0011, 0, 0, 0, 0, 0]), RET_ERRNO | 2);
    assert_eq!(eval(&p, a, clone, [0x11, 0, 0, 0, 0, 0]), RET_ALLOW);
    let setns = nr("setns", ScmpArch::X8664);
    assert_eq!(eval(&p, a, setns, [0, 7, 0, 0, 0, 0]), RET_ERRNO | 3);
    assert_eq!(eval(&p, a, setns, [10, 7, 0, 0, 0, 0]), RET_ALLOW);
    assert_eq!(eval(&p, a, setns, [0, 10, 0, 0, 0, 0]), RET_ERRNO | 3);
    assert_eq!(eval(&p, a, setns, [0, 5, 0, 0, 0, 0]), RET_ALLOW);
}

#[test]
fn notify_rules_are_flagged() {
    let f = compile(&parse_policy("2\ndenylist\nmknod notify\n").unwrap(), ScmpArch::X8664).unwrap();
    assert!(f.uses_notify);
    let p = f.bpf().unwrap();
    assert_eq!(eval(&p, AUDIT_ARCH_X86_64, nr("mknod", ScmpArch::X8664), [0; 6]), RET_USER_NOTIF);
}

#[test]
fn installed_common_seccomp_loads() {
    let path = std::path::Path::new("/usr/share/lxc/config/common.seccomp");
    if !path.exists() {
        eprintln!("SKIP: {} not installed", path.display());
        return;
    }
    let policy = rlxc_security::seccomp::read_policy(path).unwrap();
    let f = compile(&policy, ScmpArch::native()).unwrap();
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
}

#[test]
fn every_arch_family_builds() {
    let policy = parse_policy(COMMON).unwrap();
    for arch in [
        ScmpArch::X8664,
        ScmpArch::Aarch64,
        ScmpArch::S390X,
        ScmpArch::Ppc64Le,
        ScmpArch::Ppc64,
        ScmpArch::Mips64,
        ScmpArch::Mipsel64,
        ScmpArch::Riscv64,
    ] {
        let f = compile(&policy, arch).unwrap_or_else(|e| panic!("{arch:?}: {e}"));
        let p = f.bpf().unwrap();
        assert!(!p.is_empty() && p.len() <= 4096, "{arch:?}");
    }
}
