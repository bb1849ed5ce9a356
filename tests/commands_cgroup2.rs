//! The pure-cgroup2 side of the command protocol: `lxc-freeze`/`lxc-unfreeze` go through the
//! monitor (FREEZE/UNFREEZE, 15/16) which writes `cgroup.freeze` and waits on `cgroup.events`;
//! `lxc-info -S` and `lxc-ls -f` read cgroup2 files. Runs where the host is pure cgroup2 (the
//! VM: `../shared/tools/vm-run -- cargo test --test commands_cgroup2`); skipped loudly elsewhere.

use rlxc_suite::{require_root, require_tools, HostState, Lxcpath};

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
        rlxc_suite::runs_elsewhere(t, "host is not pure cgroup2");
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

/// A monitor that does not implement FREEZE (ENOSYS) still gets frozen: lxc-freeze falls back to
/// GET_LIMIT_CGROUP2_FD and writes `cgroup.freeze` itself, as LXC 5.0's client does.
#[test]
fn cgroup2_freeze_falls_back_to_the_cgroup_fd() {
    use rlxc_core::commands::server::{CommandHandler, CommandServer, Errno};
    use rlxc_core::state::State;
    use std::os::fd::OwnedFd;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let t = "cgroup2_freeze_falls_back_to_the_cgroup_fd";
    if !require_root(t) || !require_tools(t) {
        return;
    }
    if !pure_cgroup2() {
        rlxc_suite::runs_elsewhere(t, "host is not pure cgroup2");
        return;
    }
    struct NoFreeze {
        cg: std::path::PathBuf,
        state: State,
    }
    impl CommandHandler for NoFreeze {
        fn name(&self) -> &str {
            "nf"
        }
        fn lxcpath(&self) -> &str {
            "/tmp/rlxc-test-c2nf"
        }
        fn state(&self) -> State {
            self.state
        }
        fn set_state(&mut self, s: State) {
            self.state = s;
        }
        fn init_pid(&self) -> Option<i32> {
            Some(std::process::id() as i32)
        }
        fn get_config_item(&self, _key: &str) -> Option<String> {
            None
        }
        fn stop(&mut self) -> Result<(), Errno> {
            Err(libc::EPERM)
        }
        fn freeze(&mut self, _timeout: i32) -> Result<(), Errno> {
            Err(libc::ENOSYS)
        }
        fn unfreeze(&mut self, _timeout: i32) -> Result<(), Errno> {
            Err(libc::ENOSYS)
        }
        fn cgroup2_fd(&self, _limit: bool) -> Result<OwnedFd, Errno> {
            std::fs::File::open(&self.cg).map(OwnedFd::from).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
        }
    }
    let cg = std::path::PathBuf::from(format!("/sys/fs/cgroup/rlxc-test-c2nf-{}", std::process::id()));
    std::fs::create_dir(&cg).expect("mkdir test cgroup");
    let lxcpath = "/tmp/rlxc-test-c2nf";
    let mut server = CommandServer::bind(lxcpath, "nf").expect("bind");
    let done = Arc::new(AtomicBool::new(false));
    let d2 = done.clone();
    let cg2 = cg.clone();
    let th = std::thread::spawn(move || {
        let mut h = NoFreeze { cg: cg2, state: State::Running };
        while !d2.load(Ordering::SeqCst) {
            server.serve_once(&mut h, Some(std::time::Duration::from_millis(20))).expect("serve");
        }
    });
    let o = rlxc_suite::run(rlxc_suite::tool("lxc-freeze"), &["-P", lxcpath, "-n", "nf"]);
    let frozen = std::fs::read_to_string(cg.join("cgroup.freeze")).unwrap_or_default();
    let o2 = rlxc_suite::run(rlxc_suite::tool("lxc-unfreeze"), &["-P", lxcpath, "-n", "nf"]);
    let thawed = std::fs::read_to_string(cg.join("cgroup.freeze")).unwrap_or_default();
    done.store(true, Ordering::SeqCst);
    th.join().expect("server thread");
    let _ = std::fs::remove_dir(&cg);
    assert!(o.status.success(), "lxc-freeze: {o:?}");
    assert_eq!(frozen.trim(), "1");
    assert!(o2.status.success(), "lxc-unfreeze: {o2:?}");
    assert_eq!(thawed.trim(), "0");
}
