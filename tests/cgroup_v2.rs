//! The pure-cgroup2 part of the cgroup suite. Runs where the host is unified (every
//! controller on one tree): `make vm-check` runs it inside `../shared/tools/vm-run`. On a
//! hybrid or legacy host each test says so and returns (the hybrid host runs `cgroup_host`).

use rlxc_cgroup::devices::rule::parse_rule;
use rlxc_cgroup::{CgroupSpec, Cgroups, Layout, LayoutKind, Role};
use rlxc_suite::*;
use std::process::Command;

mod cgroup_common;
use cgroup_common::*;

fn unified(test: &str) -> bool {
    if !require_root(test) {
        return false;
    }
    match Layout::detect() {
        Ok(l) if l.kind == LayoutKind::Unified => true,
        _ => {
            rlxc_suite::runs_elsewhere(test, "not a pure cgroup2 host");
            false
        }
    }
}

#[test]
fn controllers_are_delegated_down_to_the_payload() {
    if !unified("controllers_are_delegated_down_to_the_payload") {
        return;
    }
    let mut s = spec("deleg2");
    s.dir = Some(format!("{}-d", name("deleg2")));
    let g = make(s);
    let p = g.cg.payload_dir(None).unwrap();
    let ctrls = p.read("cgroup.controllers").unwrap();
    for c in ["memory", "pids", "cpu"] {
        assert!(ctrls.split_whitespace().any(|x| x == c), "payload lacks {c}: {ctrls}");
    }
    // The intermediate lxc.cgroup.dir directory delegates too.
    let parent = p.path.parent().unwrap();
    let sc = std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap();
    assert!(sc.contains("memory") && sc.contains("pids"), "{sc}");
    // The payload itself stays a leaf: nothing enabled below it.
    assert_eq!(p.read("cgroup.subtree_control").unwrap().trim(), "");
}

#[test]
fn pids_max_stops_a_fork_bomb() {
    if !unified("pids_max_stops_a_fork_bomb") {
        return;
    }
    let mut s = spec("pids2");
    s.v2 = vec![("pids.max".into(), "5".into())];
    let g = make(s);
    g.cg.apply_limits().expect("limits");
    assert_eq!(g.cg.get("pids.max").unwrap().trim(), "5");
    let sh = Gated::new(
        "n=0; while [ $n -lt 20 ]; do sleep 30 >/dev/null 2>&1 & n=$((n+1)); done; echo spawned; kill $(jobs -p) 2>/dev/null; wait",
    );
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    let (_code, _out, err) = sh.run();
    assert!(err.contains("fork") || err.contains("Resource temporarily unavailable"), "stderr: {err}");
    let ev = g.cg.get("pids.events").unwrap();
    assert!(!ev.contains("max 0"), "{ev}");
}

#[test]
fn memory_max_oom_kills_a_hog() {
    if !unified("memory_max_oom_kills_a_hog") {
        return;
    }
    let mut s = spec("mem2");
    s.v2 = vec![("memory.max".into(), "33554432".into()), ("memory.swap.max".into(), "0".into())];
    let g = make(s);
    g.cg.apply_limits().expect("limits");
    let sh = Gated::new("exec tail /dev/zero");
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    let (code, _, _) = sh.run();
    assert_eq!(code, -9, "the hog must die of SIGKILL (OOM)");
    let ev = g.cg.get("memory.events").unwrap();
    assert!(ev.lines().any(|l| l.starts_with("oom_kill ") && l != "oom_kill 0"), "{ev}");
}

#[test]
fn v1_keys_are_skipped_with_a_warning() {
    if !unified("v1_keys_are_skipped_with_a_warning") {
        return;
    }
    let mut s = spec("v1skip");
    s.v1 = vec![
        ("memory.limit_in_bytes".into(), "1".into()),
        ("devices.deny".into(), "a".into()),
        ("devices.allow".into(), "c 1:3 rwm".into()),
    ];
    let g = make(s);
    g.cg.apply_limits().expect("v1 keys must not fail on cgroup2");
    assert!(g.cg.apply_devices().expect("v1 device keys must not fail").is_none());
    assert_eq!(g.cg.get("memory.max").unwrap().trim(), "max");
}

#[test]
fn unknown_controller_fails_clearly() {
    if !unified("unknown_controller_fails_clearly") {
        return;
    }
    let mut s = spec("nocon");
    s.v2 = vec![("bogus.max".into(), "1".into())];
    let g = make(s);
    let e = g.cg.apply_limits().unwrap_err().to_string();
    assert!(e.contains("lxc.cgroup2.bogus.max") && e.contains("\"bogus\""), "{e}");
}

#[test]
fn freeze_waits_for_cgroup_events() {
    if !unified("freeze_waits_for_cgroup_events") {
        return;
    }
    let g = make(spec("frz2"));
    let mut sh = Gated::new("while :; do :; done");
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    sh.release();
    assert_eq!(g.cg.freezer_kind(), Some(rlxc_cgroup::freezer::FreezerKind::V2));
    g.cg.freeze(30_000).expect("freeze");
    assert!(g.cg.get("cgroup.events").unwrap().contains("frozen 1"));
    g.cg.unfreeze(30_000).expect("thaw");
    assert!(g.cg.get("cgroup.events").unwrap().contains("frozen 0"));
}

#[test]
fn devices_from_config_are_enforced_by_ebpf() {
    if !unified("devices_from_config_are_enforced_by_ebpf") {
        return;
    }
    let mut s = spec("bpf2");
    s.v2 = vec![("devices.deny".into(), "a".into()), ("devices.allow".into(), "c 1:3 rwm".into())];
    let g = make(s);
    let mut progs = g.cg.apply_devices().expect("apply devices").expect("a program is attached");
    let sh = Gated::new(DEV_SCRIPT);
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    let (_, out, _) = sh.run();
    assert!(out.contains("null-ok") && out.contains("zero-denied"), "{out}");
    progs.update(parse_rule("c 1:5 rwm", true).unwrap()).expect("live update");
    let sh = Gated::new(DEV_SCRIPT);
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    let (_, out, _) = sh.run();
    assert!(out.contains("null-ok") && out.contains("zero-ok"), "{out}");
}

#[test]
fn attach_uses_the_lxc_leaf() {
    if !unified("attach_uses_the_lxc_leaf") {
        return;
    }
    let l = Layout::detect().unwrap();
    let g = make(spec("att2"));
    let init = Gated::new("sleep 30");
    g.cg.enter(Role::Payload, init.pid()).unwrap();
    let sh = Gated::new("true");
    rlxc_cgroup::attach::attach_pid(&l, sh.pid(), |c| g.cg.payload_cgpath(c)).expect("attach");
    let own = std::fs::read_to_string(format!("/proc/{}/cgroup", sh.pid())).unwrap();
    assert!(own.trim_end().ends_with(&format!("lxc.payload.{}/.lxc", name("att2"))), "{own}");
    drop(sh);
    drop(init);
}

/// Helper run as a child process (see `monitor_leaves_and_removes_its_own_cgroup`).
#[test]
fn monitor_helper_process_v2() {
    let Ok(n) = std::env::var("RLXC_CG_MONITOR_HELPER") else { return };
    let mut cg = Cgroups::new(CgroupSpec { name: n, ..Default::default() }).unwrap();
    cg.create_and_enter_monitor(0).unwrap();
    cg.create(Role::Payload).unwrap();
    cg.destroy().unwrap();
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    assert!(!own.contains("lxc.monitor.") && !own.contains("lxc.pivot"), "{own}");
}

#[test]
fn monitor_leaves_and_removes_its_own_cgroup() {
    if !unified("monitor_leaves_and_removes_its_own_cgroup") {
        return;
    }
    let n = name("mon2");
    for _ in 0..10 {
        let st = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "monitor_helper_process_v2", "--test-threads=1"])
            .env("RLXC_CG_MONITOR_HELPER", &n)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
    }
    assert!(cgroups_named(&n).is_empty(), "{:?}", cgroups_named(&n));
    assert!(cgroups_named("lxc.pivot").is_empty());
}
