//! Real processes: a child (this test binary re-executed with one test selected) applies the
//! confinement the start path applies — bounding-set drop, no_new_privs, Debian's
//! common.seccomp, a fresh session keyring — and reports what /proc and the kernel say.
//! Needs root (CAP_SETPCAP, CAP_SYS_ADMIN) like a container start.

use std::process::Command;

use rlxc_security::caps::{self, CapPlan};
use rlxc_sys::seccomp::{probe, Probe};

const CHILD_ENV: &str = "RLXC_SECURITY_CHILD";

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Run test `name` of this binary in a fresh process with `mode` in the environment.
fn run_child(name: &str, mode: &str) -> (bool, String) {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, mode)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn status_line(field: &str) -> String {
    let s = std::fs::read_to_string("/proc/thread-self/status").unwrap();
    s.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).unwrap_or("").trim().to_string()
}

/// The child side: confine in LXC's order, then check.
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var(CHILD_ENV) else { return };
    let last = rlxc_sys::caps::cap_last_cap().unwrap();
    let before_keyring = rlxc_security::keyring::current_session_keyring();
    match mode.as_str() {
        "common" => {
            // keyring (lxc_setup step 3)
            let joined = rlxc_security::keyring::join_new_session_keyring(None).unwrap();
            println!("KEYRING before={before_keyring:?} after={joined:?}");
            // caps (end of lxc_setup)
            let plan = caps::plan(&["sys_module mac_admin mac_override sys_time".into()], &[], last).unwrap();
            caps::apply_plan(&plan).unwrap();
            // no_new_privs, then seccomp
            rlxc_sys::caps::set_no_new_privs().unwrap();
            let policy =
                rlxc_security::seccomp::read_policy(std::path::Path::new("/usr/share/lxc/config/common.seccomp"))
                    .unwrap();
            let fd = rlxc_security::seccomp::load_policy(&policy, false).unwrap();
            assert!(fd.is_none());
            println!("CapBnd={}", status_line("CapBnd"));
            println!("NoNewPrivs={}", status_line("NoNewPrivs"));
            println!("Seccomp={}", status_line("Seccomp"));
            for p in
                [Probe::KexecLoad, Probe::OpenByHandleAt, Probe::InitModule, Probe::FinitModule, Probe::DeleteModule]
            {
                println!("PROBE {p:?}={}", probe(p));
            }
            println!("PROBE Umount2Force={}", probe(Probe::Umount2Force));
            // A second policy is not stacked without allow_nesting, and is with it.
            assert!(rlxc_security::seccomp::load_policy(&policy, false).unwrap().is_none());
            println!("FiltersBefore={}", status_line("Seccomp_filters"));
            rlxc_security::seccomp::load_policy(&policy, true).unwrap();
            println!("FiltersAfter={}", status_line("Seccomp_filters"));
        }
        "keep-none" => {
            caps::apply_plan(&CapPlan::Keep(vec![])).unwrap();
            println!("CapBnd={}", status_line("CapBnd"));
            println!("CapInh={}", status_line("CapInh"));
        }
        "keep-some" => {
            let plan = caps::plan(&[], &["chown net_bind_service".into()], last).unwrap();
            caps::apply_plan(&plan).unwrap();
            println!("CapBnd={}", status_line("CapBnd"));
        }
        "ambient" => {
            caps::raise_ambient().unwrap();
            println!("RAISED CapAmb={}", status_line("CapAmb"));
            caps::clear_ambient().unwrap();
            println!("CapInh={}", status_line("CapInh"));
            println!("CapAmb={}", status_line("CapAmb"));
        }
        "notify" => {
            let policy = rlxc_config::seccomp::parse_policy("2\ndenylist\ngetppid notify\n").unwrap();
            rlxc_sys::caps::set_no_new_privs().unwrap();
            let fd = rlxc_security::seccomp::load_policy(&policy, false).unwrap();
            println!("NOTIFY_FD={}", fd.is_some());
        }
        other => panic!("unknown child mode {other}"),
    }
}

#[test]
fn common_seccomp_caps_nnp_and_keyring_in_a_real_process() {
    if !is_root() || !std::path::Path::new("/usr/share/lxc/config/common.seccomp").exists() {
        eprintln!("SKIP: needs root and /usr/share/lxc/config/common.seccomp");
        return;
    }
    let (ok, out) = run_child("child_entry", "common");
    assert!(ok, "{out}");
    let bnd = out.lines().find_map(|l| l.strip_prefix("CapBnd=")).unwrap();
    let bnd = u64::from_str_radix(bnd, 16).unwrap();
    for cap in [16u32, 25, 32, 33] {
        assert_eq!(bnd & (1 << cap), 0, "cap {cap} still in CapBnd {bnd:#x}\n{out}");
    }
    assert_ne!(bnd & (1 << 21), 0, "sys_admin must stay");
    assert!(out.contains("NoNewPrivs=1"), "{out}");
    assert!(out.contains("Seccomp=2"), "{out}");
    assert!(
        out.contains("FiltersBefore=1") && out.contains("FiltersAfter=2"),
        "allow_nesting stacks a second filter:\n{out}"
    );
    for p in ["KexecLoad", "OpenByHandleAt", "InitModule", "FinitModule", "DeleteModule"] {
        assert!(out.contains(&format!("PROBE {p}=1\n")), "{p} not EPERM:\n{out}");
    }
    assert!(out.contains("PROBE Umount2Force=13\n"), "umount2(MNT_FORCE) not EACCES:\n{out}");
    let k = out.lines().find(|l| l.contains("KEYRING")).unwrap_or("");
    let after = k.split("after=").nth(1).unwrap_or("");
    let before = k.split("before=").nth(1).and_then(|r| r.split(' ').next()).unwrap_or("");
    assert!(after.starts_with("Some("), "no new session keyring: {k}");
    assert_ne!(before, after, "the session keyring did not change: {k}");
}

#[test]
fn keep_none_empties_the_bounding_and_inheritable_sets() {
    if !is_root() {
        eprintln!("SKIP: needs root");
        return;
    }
    let (ok, out) = run_child("child_entry", "keep-none");
    assert!(ok, "{out}");
    assert!(out.contains("CapBnd=0000000000000000"), "{out}");
    assert!(out.contains("CapInh=0000000000000000"), "{out}");
}

#[test]
fn keep_list_keeps_only_those() {
    if !is_root() {
        eprintln!("SKIP: needs root");
        return;
    }
    let (ok, out) = run_child("child_entry", "keep-some");
    assert!(ok, "{out}");
    assert!(out.contains("CapBnd=0000000000000401"), "{out}");
}

#[test]
fn notify_policy_returns_a_listener() {
    if !is_root() {
        eprintln!("SKIP: needs root");
        return;
    }
    let (ok, out) = run_child("child_entry", "notify");
    assert!(ok, "{out}");
    assert!(out.contains("NOTIFY_FD=true"), "{out}");
}

#[test]
fn ambient_caps_are_raised_then_fully_cleared() {
    if !is_root() {
        eprintln!("SKIP: needs root");
        return;
    }
    let (ok, out) = run_child("child_entry", "ambient");
    assert!(ok, "{out}");
    assert!(!out.contains("RAISED CapAmb=0000000000000000"), "raise must fill the ambient set:\n{out}");
    assert!(out.contains("\nCapInh=0000000000000000"), "{out}");
    assert!(out.contains("\nCapAmb=0000000000000000"), "{out}");
}
