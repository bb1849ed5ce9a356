//! The pure-cgroup2 side of the command protocol: `lxc-freeze`/`lxc-unfreeze` go through the
//! monitor (FREEZE/UNFREEZE, 15/16) which writes `cgroup.freeze` and waits on `cgroup.events`;
//! `lxc-info -S` and `lxc-ls -f` read cgroup2 files. Runs where the host is pure cgroup2 (the
//! VM: `../shared/tools/vm-run -- cargo test --test commands_cgroup2`); skipped loudly elsewhere.

use rlxc_suite::{require_root, require_tools, skip, HostState, Lxcpath};

fn pure_cgroup2() -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|mi| {
            let v1 = mi.lines().any(|l| l.contains(" - cgroup "));
            let v2_root =
                mi.lines().any(|l| l.split_whitespace().nth(4) == Some("/sys/fs/cgroup") && l.contains(" - cgroup2 "));
            v2_root && !v1
        })
        .unwrap_or(false)
}

#[test]
fn cgroup2_freeze_goes_through_the_monitor() {
    let t = "cgroup2_freeze_goes_through_the_monitor";
    if !require_root(t) || !require_tools(t) {
        return;
    }
    if !pure_cgroup2() {
        skip(t, "host is not pure cgroup2 (run it with ../shared/tools/vm-run)");
        return;
    }
    let lp = Lxcpath::new("c2f");
    let before = HostState::capture(lp.as_str());
    let name = format!("c2f{}", std::process::id());
    let o = lp.lxc("create", &["-n", &name, "-t", "busybox"]);
    assert!(o.status.success(), "lxc-create: {o:?}");
    let cfg = lp.path.join(&name).join("config");
    let mut text = std::fs::read_to_string(&cfg).expect("config");
    // The VM's AppArmor has no lxc profiles loaded.
    text.push_str("lxc.apparmor.profile = unconfined\n");
    std::fs::write(&cfg, text).expect("write config");
    let o = lp.lxc("start", &["-n", &name]);
    assert!(o.status.success(), "lxc-start: {o:?}");

    let o = lp.lxc("freeze", &["-n", &name]);
    assert!(o.status.success(), "lxc-freeze: {o:?}");
    assert_eq!(lp.lxc_ok("info", &["-n", &name, "-s"]), "State:          FROZEN\n");
    let events = std::fs::read_to_string(format!("/sys/fs/cgroup/lxc.payload.{name}/cgroup.events")).expect("events");
    assert!(events.lines().any(|l| l == "frozen 1"), "{events}");
    let o = lp.lxc("unfreeze", &["-n", &name]);
    assert!(o.status.success(), "lxc-unfreeze: {o:?}");
    assert_eq!(lp.lxc_ok("info", &["-n", &name, "-s"]), "State:          RUNNING\n");

    // Stats from cgroup2 files.
    let info = lp.lxc_ok("info", &["-n", &name, "-S"]);
    assert!(info.contains("CPU use:") && info.contains("Memory use:"), "{info}");
    let ls = lp.lxc_ok("ls", &["-f", "-F", "NAME,STATE,RAM"]);
    assert!(ls.contains("RUNNING") && ls.contains("MB"), "{ls}");

    let o = lp.lxc("stop", &["-n", &name, "-k"]);
    assert!(o.status.success(), "lxc-stop: {o:?}");
    assert_eq!(lp.lxc_ok("info", &["-n", &name, "-s"]), "State:          STOPPED\n");
    drop(lp);
    let now = HostState::capture("/tmp/rlxc-test-c2f-");
    assert_eq!(before.sockets, now.sockets);
    assert!(now.cgroups.iter().all(|c| !c.contains(&name)), "{:?}", now.cgroups);
}
