//! cgroup management with real processes on this host (any layout; the hybrid-specific parts
//! check `layout.kind`): monitor/payload siblings, suffixes, dir/pattern, limits the kernel
//! enforces, freezer (v1 and cgroup2), eBPF device programs, delegation, attach leaf, stats, and
//! that every cgroup made is removed.

use rlxc_cgroup::devices::rule::parse_rule;
use rlxc_cgroup::devices::BpfDevices;
use rlxc_cgroup::{CgroupSpec, Cgroups, Layout, LayoutKind, Role};
use rlxc_suite::*;

mod cgroup_common;
use cgroup_common::*;
use std::os::fd::AsFd;
use std::process::Command;

#[test]
fn layout_is_detected() {
    let l = Layout::detect().expect("detect");
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let has_v2 = mi.lines().any(|l| l.contains(" - cgroup2 "));
    let has_v1 = mi.lines().any(|l| l.contains(" - cgroup ") && !l.ends_with("name=systemd"));
    let want = match (has_v1, has_v2) {
        (true, true) => LayoutKind::Hybrid,
        (true, false) => LayoutKind::Legacy,
        _ => LayoutKind::Unified,
    };
    assert_eq!(l.kind, want, "{l:#?}");
    assert!(!l.hierarchies.is_empty());
}

#[test]
fn monitor_and_payload_are_siblings_and_removed() {
    if !require_root("monitor_and_payload_are_siblings_and_removed") {
        return;
    }
    let g = make(spec("sib"));
    let m = g.cg.created(Role::Monitor).unwrap();
    let p = g.cg.created(Role::Payload).unwrap();
    for (md, pd) in m.dirs.iter().zip(&p.dirs) {
        assert_eq!(md.path.parent(), pd.path.parent(), "siblings");
        assert!(md.path.ends_with(format!("lxc.monitor.{}", name("sib"))));
        assert!(pd.path.ends_with(format!("lxc.payload.{}", name("sib"))));
    }
    assert_eq!(g.cg.payload_cgpath(Some("memory")).is_some(), g.cg.layout.for_controller("memory").is_some());
}

#[test]
fn collision_gets_a_suffix() {
    if !require_root("collision_gets_a_suffix") {
        return;
    }
    let l = Layout::detect().unwrap();
    // Occupy the plain payload name in the last hierarchy only.
    let h = l.hierarchies.last().unwrap();
    let squat =
        h.dir_of(&format!("{}/lxc.payload.{}", rlxc_cgroup::layout::strip_init_scope(&h.init_cgroup), name("col")));
    std::fs::create_dir(&squat).unwrap();
    let g = make(spec("col"));
    let _ = std::fs::remove_dir(&squat);
    let p = g.cg.created(Role::Payload).unwrap();
    assert_eq!(p.rel, format!("lxc.payload.{}-1", name("col")));
    assert_eq!(g.cg.created(Role::Monitor).unwrap().rel, format!("lxc.monitor.{}", name("col")));
}

#[test]
fn cgroup_dir_and_parents_are_removed() {
    if !require_root("cgroup_dir_and_parents_are_removed") {
        return;
    }
    let mut s = spec("dir");
    s.dir = Some(format!("{}-d/sub", name("dir")));
    let g = make(s);
    let p = g.cg.created(Role::Payload).unwrap();
    assert_eq!(p.rel, format!("{}-d/sub/lxc.payload.{}", name("dir"), name("dir")));
    assert!(p.dirs[0].path.exists());
    // Guard checks that "<name>-d" is gone too.
}

#[test]
fn v1_pids_max_stops_a_fork_bomb() {
    if !require_root("v1_pids_max_stops_a_fork_bomb") {
        return;
    }
    let l = Layout::detect().unwrap();
    if l.v1_for("pids").is_none() {
        skip("v1_pids_max_stops_a_fork_bomb", "no v1 pids controller (see cgroup_v2 in the VM)");
        return;
    }
    let mut s = spec("pids");
    s.v1 = vec![("pids.max".into(), "5".into())];
    let g = make(s);
    g.cg.apply_limits().expect("limits");
    assert_eq!(g.cg.get("pids.max").unwrap().trim(), "5");
    let sh = Gated::new(
        "n=0; while [ $n -lt 20 ]; do sleep 30 >/dev/null 2>&1 & n=$((n+1)); done; echo spawned; kill $(jobs -p) 2>/dev/null; wait",
    );
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    let (_code, _out, err) = sh.run();
    assert!(err.contains("fork") || err.contains("Resource temporarily unavailable"), "stderr: {err}");
}

#[test]
fn v1_memory_limit_oom_kills_a_hog() {
    if !require_root("v1_memory_limit_oom_kills_a_hog") {
        return;
    }
    let l = Layout::detect().unwrap();
    if l.v1_for("memory").is_none() {
        skip("v1_memory_limit_oom_kills_a_hog", "no v1 memory controller");
        return;
    }
    let mut s = spec("mem");
    s.v1 = vec![("memory.limit_in_bytes".into(), "33554432".into())];
    let g = make(s);
    g.cg.apply_limits().expect("limits");
    let sh = Gated::new("exec tail /dev/zero");
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    let (code, _, _) = sh.run();
    assert_eq!(code, -9, "the hog must die of SIGKILL (OOM)");
    let failcnt: u64 = g.cg.get("memory.failcnt").unwrap().trim().parse().unwrap();
    assert!(failcnt > 0);
}

#[test]
fn v2_key_without_controller_fails_clearly() {
    if !require_root("v2_key_without_controller_fails_clearly") {
        return;
    }
    let l = Layout::detect().unwrap();
    if l.kind != LayoutKind::Hybrid || l.unified().map(|u| u.controllers.contains(&"memory".into())).unwrap_or(true) {
        skip("v2_key_without_controller_fails_clearly", "needs a cgroup2 tree without the memory controller");
        return;
    }
    let mut s = spec("v2miss");
    s.v2 = vec![("memory.max".into(), "1G".into())];
    let g = make(s);
    let e = g.cg.apply_limits().unwrap_err().to_string();
    assert!(e.contains("lxc.cgroup2.memory.max") && e.contains("\"memory\"") && e.contains("subtree_control"), "{e}");
}

#[test]
fn freezer_freezes_and_thaws() {
    if !require_root("freezer_freezes_and_thaws") {
        return;
    }
    let g = make(spec("frz"));
    let mut sh = Gated::new("while :; do :; done");
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    sh.release();
    g.cg.freeze(10_000).expect("freeze");
    match g.cg.freezer_kind().unwrap() {
        rlxc_cgroup::freezer::FreezerKind::V1 => {
            assert_eq!(g.cg.get("freezer.state").unwrap().trim(), "FROZEN");
            assert_eq!(proc_state(sh.pid()), 'D', "a v1-frozen task sleeps in the freezer");
        }
        rlxc_cgroup::freezer::FreezerKind::V2 => {
            assert!(g.cg.get("cgroup.events").unwrap().contains("frozen 1"));
            let st = std::fs::read_to_string(format!("/proc/{}/status", sh.pid())).unwrap_or_default();
            assert!(!st.contains("State:\tR"), "a frozen task does not run: {st}");
        }
    }
    g.cg.unfreeze(10_000).expect("thaw");
    // THAWED is reported before the scheduler has run the task again: give it a moment.
    let thawed = (0..500).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        proc_state(sh.pid()) != 'D'
    });
    assert!(thawed, "the thawed task still sleeps in the freezer");
}

#[test]
fn cgroup2_freeze_works_on_the_unified_tree() {
    if !require_root("cgroup2_freeze_works_on_the_unified_tree") {
        return;
    }
    let l = Layout::detect().unwrap();
    if l.unified().is_none() {
        skip("cgroup2_freeze_works_on_the_unified_tree", "no cgroup2 mount");
        return;
    }
    let g = make(spec("frz2"));
    let mut sh = Gated::new("while :; do :; done");
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    sh.release();
    let d = g.cg.payload_dir(None).unwrap();
    rlxc_cgroup::freezer::set_v2(d, true, 10_000).expect("cgroup2 freeze");
    assert!(d.read("cgroup.events").unwrap().contains("frozen 1"));
    rlxc_cgroup::freezer::set_v2(d, false, 10_000).expect("cgroup2 thaw");
    assert!(d.read("cgroup.events").unwrap().contains("frozen 0"));
}

#[test]
fn ebpf_device_program_denies_and_allows() {
    if !require_root("ebpf_device_program_denies_and_allows") {
        return;
    }
    let l = Layout::detect().unwrap();
    if l.unified().is_none() || !rlxc_cgroup::devices::bpf_supported() {
        skip("ebpf_device_program_denies_and_allows", "no cgroup2 mount or no BPF_PROG_TYPE_CGROUP_DEVICE");
        return;
    }
    let g = make(spec("bpf"));
    let d = g.cg.payload_dir(None).unwrap();
    // allow-list: only /dev/null (c 1:3)
    let mut progs =
        BpfDevices::attach(&d.path, d.fd.as_fd(), rules(&[("a", false), ("c 1:3 rwm", true)])).expect("attach");
    let sh = Gated::new(DEV_SCRIPT);
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    let (_, out, err) = sh.run();
    assert!(out.contains("null-ok") && out.contains("zero-denied"), "out {out} err {err}");
    assert!(err.contains("Operation not permitted"), "{err}");
    // live update: allow /dev/zero for reading only (BPF_F_REPLACE)
    progs.update(parse_rule("c 1:5 r", true).unwrap()).expect("replace");
    let sh = Gated::new(DEV_SCRIPT);
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    let (_, out, _) = sh.run();
    assert!(out.contains("null-ok") && out.contains("zero-ok"), "{out}");
    // write access to /dev/zero is still refused (partial mask)
    let sh = Gated::new("if echo x > /dev/zero; then echo w-ok; else echo w-denied; fi");
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    let (_, out, _) = sh.run();
    assert!(out.contains("w-denied"), "{out}");
    // deny-list with one denied device
    drop(progs);
    let _p2 = BpfDevices::attach(&d.path, d.fd.as_fd(), rules(&[("a", true), ("c 1:5 rwm", false)])).expect("attach");
    let sh = Gated::new(DEV_SCRIPT);
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    let (_, out, _) = sh.run();
    assert!(out.contains("null-ok") && out.contains("zero-denied"), "{out}");
}

#[test]
fn delegation_chowns_payload_to_container_root() {
    if !require_root("delegation_chowns_payload_to_container_root") {
        return;
    }
    let mut s = spec("deleg");
    s.root_ids = Some((100000, 100000));
    let g = make(s);
    g.cg.delegate_payload().expect("delegate");
    use std::os::unix::fs::MetadataExt;
    for (i, d) in g.cg.created(Role::Payload).unwrap().dirs.iter().enumerate() {
        let md = std::fs::metadata(&d.path).unwrap();
        assert_eq!((md.uid(), md.gid()), (100000, 100000), "{}", d.path.display());
        let procs = std::fs::metadata(d.path.join("cgroup.procs")).unwrap();
        assert_eq!(procs.uid(), 100000);
        if g.cg.layout.hierarchies[i].v2 && d.path.join("cgroup.subtree_control").exists() {
            assert_eq!(std::fs::metadata(d.path.join("cgroup.subtree_control")).unwrap().uid(), 100000);
        }
    }
    // The monitor is not delegated.
    let m = &g.cg.created(Role::Monitor).unwrap().dirs[0];
    assert_eq!(std::fs::metadata(&m.path).unwrap().uid(), 0);
}

#[test]
fn attach_goes_into_the_lxc_leaf_and_is_removed() {
    if !require_root("attach_goes_into_the_lxc_leaf_and_is_removed") {
        return;
    }
    let l = Layout::detect().unwrap();
    let g = make(spec("att"));
    let sh = Gated::new("true");
    let paths: Vec<(Option<String>, Option<String>)> = l
        .hierarchies
        .iter()
        .map(|h| {
            let c = if h.v2 { None } else { h.controllers.first().cloned() };
            (c.clone(), g.cg.payload_cgpath(c.as_deref()))
        })
        .collect();
    rlxc_cgroup::attach::attach_pid(&l, sh.pid(), |c| {
        paths.iter().find(|(pc, _)| pc.as_deref() == c).and_then(|(_, p)| p.clone())
    })
    .expect("attach");
    let own = std::fs::read_to_string(format!("/proc/{}/cgroup", sh.pid())).unwrap();
    if l.unified().is_some() {
        let line = own.lines().find(|x| x.starts_with("0::")).unwrap();
        assert!(line.ends_with(&format!("lxc.payload.{}/.lxc", name("att"))), "{own}");
    }
    if let Some(h) = l.v1_for("memory") {
        let _ = h;
        assert!(own.contains(&format!("memory:/lxc.payload.{}", name("att"))), "{own}");
    }
    let _ = sh.run();
}

#[test]
fn stats_are_read_from_the_payload() {
    if !require_root("stats_are_read_from_the_payload") {
        return;
    }
    let l = Layout::detect().unwrap();
    let g = make(spec("stat"));
    let mut sh = Gated::new("i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 30");
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    sh.release();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let st = rlxc_cgroup::stats::read_stats(&l, |c| g.cg.payload_cgpath(c));
    assert!(st.memory_bytes.unwrap_or(0) > 0 || l.v1_for("memory").is_none(), "{st:?}");
    assert!(st.cpu_ns.is_some(), "{st:?}");
}

/// Helper run as a child process: acts as a monitor (enters its own monitor cgroup, makes the
/// payload, then destroys everything), like the real monitor does.
#[test]
fn monitor_helper_process() {
    let Ok(n) = std::env::var("RLXC_CG_MONITOR_HELPER") else { return };
    let mut cg = Cgroups::new(CgroupSpec { name: n, ..Default::default() }).unwrap();
    cg.create_and_enter_monitor(0).unwrap();
    cg.create(Role::Payload).unwrap();
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    assert!(own.contains("lxc.monitor."), "{own}");
    cg.destroy().unwrap();
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    assert!(!own.contains("lxc.monitor.") && !own.contains("lxc.pivot"), "{own}");
}

#[test]
fn monitor_leaves_and_removes_its_own_cgroup() {
    if !require_root("monitor_leaves_and_removes_its_own_cgroup") {
        return;
    }
    let n = name("mon");
    let before = HostState::capture("nothing-matches-this");
    let st = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "monitor_helper_process", "--nocapture", "--test-threads=1"])
        .env("RLXC_CG_MONITOR_HELPER", &n)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    assert!(cgroups_named(&n).is_empty(), "{:?}", cgroups_named(&n));
    let now = HostState::capture("nothing-matches-this");
    let new: Vec<_> =
        now.cgroups.difference(&before.cgroups).filter(|c| c.contains(&n) || c.ends_with("lxc.pivot")).collect();
    assert!(new.is_empty(), "left: {new:?}");
}

#[test]
fn relative_stays_below_the_callers_cgroup() {
    if !require_root("relative_stays_below_the_callers_cgroup") {
        return;
    }
    let l = Layout::detect().unwrap();
    let mut s = spec("rel");
    s.relative = true;
    let g = make(s);
    for (i, h) in l.hierarchies.iter().enumerate() {
        let own = rlxc_cgroup::layout::strip_init_scope(&h.self_cgroup);
        let p = &g.cg.created(Role::Payload).unwrap().cgpaths[i];
        let want = format!("{}/lxc.payload.{}", own.trim_end_matches('/'), name("rel"));
        assert_eq!(p, &want, "hierarchy {}", h.label());
    }
}

#[test]
fn system_pattern_names_monitor_and_payload() {
    if !require_root("system_pattern_names_monitor_and_payload") {
        return;
    }
    let mut s = spec("pat");
    s.pattern = Some(format!("{}-p/%n", name("pat")));
    let g = make(s);
    assert_eq!(g.cg.created(Role::Payload).unwrap().rel, format!("{}-p/{}/payload", name("pat"), name("pat")));
    assert_eq!(g.cg.created(Role::Monitor).unwrap().rel, format!("{}-p/{}/monitor", name("pat"), name("pat")));
}

#[test]
fn v1_device_rules_are_written_in_a_second_pass() {
    if !require_root("v1_device_rules_are_written_in_a_second_pass") {
        return;
    }
    let l = Layout::detect().unwrap();
    if l.v1_for("devices").is_none() {
        eprintln!("no v1 devices controller here: cgroup2 device rules are tested by cgroup_v2");
        return;
    }
    let mut s = spec("dev1");
    s.v1 = vec![
        ("devices.deny".into(), "a".into()),
        ("devices.allow".into(), "c 1:3 rwm".into()),
        ("pids.max".into(), "100".into()),
    ];
    let g = make(s);
    g.cg.apply_limits().expect("limits (devices skipped)");
    assert!(g.cg.get("devices.list").unwrap().contains("a *:* rwm"), "first pass must not touch devices");
    assert!(g.cg.apply_devices().expect("devices").is_none());
    assert_eq!(g.cg.get("devices.list").unwrap().trim(), "c 1:3 rwm");
    let sh = Gated::new(DEV_SCRIPT);
    g.cg.enter(Role::Payload, sh.pid()).unwrap();
    let (_, out, _) = sh.run();
    assert!(out.contains("null-ok") && out.contains("zero-denied"), "{out}");
}
