//! lxc-autostart: the selection rules (`lxc.start.auto`, `lxc.group`, the NULL group default,
//! `-a`, `-A`, `-g` lists with LXC's prefix quirks, `lxc.start.order`) and `-L` output compared
//! with Debian's LXC when installed; then the actions on real busybox containers, after LXC's
//! own `lxc-test-autostart`: start by group, `-r`, `-s -t`, `-k`, and the exit code of a
//! partial failure.

mod tools_common;

use std::path::Path;
use std::time::{Duration, Instant};

use rlxc_suite::{busybox_container, run, tool, HostState, Lxcpath};
use tools_common::*;

/// A config-only container (no rootfs: enough for `-L`).
fn define(lp: &Lxcpath, name: &str, extra: &str) {
    let dir = lp.path.join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let conf = format!("lxc.rootfs.path = dir:{}/rootfs\nlxc.net.0.type = empty\n{extra}", dir.display());
    std::fs::write(dir.join("config"), conf).expect("write config");
}

fn autostart(lp: &Lxcpath, args: &[&str]) -> (i32, String) {
    let o = lp.lxc("autostart", args);
    (o.status.code().unwrap_or(-1), stdout(&o))
}

#[test]
fn list_follows_lxc_selection_rules() {
    if !ready("list_follows_lxc_selection_rules") {
        return;
    }
    let lp = Lxcpath::new("tauL");
    define(&lp, "a", "lxc.start.auto = 1\nlxc.start.order = 5\nlxc.start.delay = 2\n");
    define(&lp, "b", "lxc.start.auto = 1\nlxc.start.order = 1\n");
    define(&lp, "c", "lxc.start.auto = 1\nlxc.group = web\n");
    define(&lp, "d", "lxc.start.auto = 1\nlxc.group = onboot\nlxc.group = web\nlxc.start.order = -3\n");
    define(&lp, "e", "lxc.group = web\n");
    define(&lp, "f", "lxc.start.auto = 0\n");
    define(&lp, "g", "lxc.start.auto = 1\nlxc.group = webserver\n");
    let cases: &[(&[&str], &str)] = &[
        (&["-L"], "b 0\na 2\n"),
        (&["-L", "-a"], "d 0\nc 0\ng 0\nb 0\na 2\n"),
        (&["-L", "-A"], "f 0\nb 0\na 2\n"),
        (&["-L", "-a", "-A"], "d 0\nc 0\ne 0\nf 0\ng 0\nb 0\na 2\n"),
        (&["-L", "-g", "web"], "d 0\nc 0\n"),
        // LXC matches a container group that is a prefix of the requested one.
        (&["-L", "-g", "webserver"], "d 0\nc 0\ng 0\n"),
        (&["-L", "-g", "onboot,"], "d 0\nb 0\na 2\n"),
        // Once the NULL group is in the list, later groups are dropped as duplicates.
        (&["-L", "-g", ",onboot"], "b 0\na 2\n"),
        (&["-L", "--groups=web", "-g", "onboot"], "d 0\nc 0\n"),
        (&["-L", "-g", "web,,web"], "d 0\nc 0\nb 0\na 2\n"),
        (&["-L", "-a", "-g", "web"], "d 0\nc 0\ng 0\nb 0\na 2\n"),
        (&["-L", "-g", "we"], ""),
        (&["-L", "-g", "nosuch"], ""),
        // Nothing runs: shutdown, kill and reboot have nothing to list.
        (&["-L", "-s"], ""),
        (&["-L", "-k", "-a"], ""),
        (&["-L", "-r", "-A"], ""),
    ];
    let debian = Path::new("/usr/bin/lxc-autostart");
    for (args, want) in cases {
        let (rc, out) = autostart(&lp, args);
        assert_eq!((rc, out.as_str()), (0, *want), "lxc-autostart {args:?}");
        if debian.exists() {
            let mut full = vec!["-P", lp.as_str()];
            full.extend_from_slice(args);
            let o = run(debian, &full);
            assert_eq!(stdout(&o), out, "Debian's lxc-autostart {args:?} differs");
        }
    }
    let o = lp.lxc("autostart", &["-L", "-t", "abc"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let o = run(tool("lxc-autostart"), &["-P", "/nonexistent/rlxc-lxcpath", "-L"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let o = lp.lxc("autostart", &["--help"]);
    assert!(show(&o).contains("-A, --ignore-auto"), "{}", show(&o));
}

/// Wait (bounded) until `cond` holds; false when it never did.
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[test]
fn start_reboot_shutdown_kill_by_group() {
    if !ready("start_reboot_shutdown_kill_by_group") {
        return;
    }
    let lp = Lxcpath::new("taub");
    let a = unique("aua");
    let b = unique("aub");
    let before = HostState::capture(lp.as_str());
    busybox_container(&lp, &a, "lxc.start.auto = 1\nlxc.group = grp\nlxc.start.delay = 1\n");
    busybox_container(&lp, &b, "lxc.start.auto = 1\nlxc.group = grp\nlxc.start.order = -1\n");
    // Not in the NULL group: the default selection leaves them alone.
    assert_eq!(autostart(&lp, &["-L"]), (0, String::new()));
    assert_eq!(autostart(&lp, &["-L", "-g", "grp"]), (0, format!("{b} 0\n{a} 1\n")));

    let (rc, out) = autostart(&lp, &["-g", "grp"]);
    assert_eq!((rc, out.as_str()), (0, ""));
    assert_eq!(state(&lp, &a), "RUNNING");
    assert_eq!(state(&lp, &b), "RUNNING");
    // Running containers: nothing to start, both to stop or reboot.
    assert_eq!(autostart(&lp, &["-L", "-g", "grp"]), (0, String::new()));
    assert_eq!(autostart(&lp, &["-L", "-g", "grp", "-s"]), (0, format!("{b}\n{a}\n")));
    assert_eq!(autostart(&lp, &["-L", "-g", "grp", "-k"]), (0, format!("{b}\n{a}\n")));
    assert_eq!(autostart(&lp, &["-L", "-g", "grp", "-r"]), (0, format!("{b} 0\n{a} 1\n")));

    let pids = (init_pid(&lp, &a), init_pid(&lp, &b));
    assert!(pids.0.is_some() && pids.1.is_some(), "init pids {pids:?}");
    let (rc, _) = autostart(&lp, &["-g", "grp", "-r"]);
    assert_eq!(rc, 0);
    for (name, old) in [(&a, pids.0), (&b, pids.1)] {
        assert!(
            eventually(|| state(&lp, name) == "RUNNING" && init_pid(&lp, name).is_some_and(|p| Some(p) != old)),
            "{name} did not come back with a new init after -r"
        );
    }

    let (rc, _) = autostart(&lp, &["-g", "grp", "-s", "-t", "30"]);
    assert_eq!(rc, 0);
    assert_eq!(state(&lp, &a), "STOPPED");
    assert_eq!(state(&lp, &b), "STOPPED");

    assert_eq!(autostart(&lp, &["-g", "grp"]).0, 0);
    assert_eq!(state(&lp, &a), "RUNNING");
    let (rc, _) = autostart(&lp, &["-g", "grp", "-k"]);
    assert_eq!(rc, 0);
    assert_eq!(state(&lp, &a), "STOPPED");
    assert_eq!(state(&lp, &b), "STOPPED");
    assert_clean(&before, &lp, &[&a, &b]);
}

#[test]
fn partial_failure_exits_2_and_ignore_auto() {
    if !ready("partial_failure_exits_2_and_ignore_auto") {
        return;
    }
    let lp = Lxcpath::new("taup");
    let good = unique("augood");
    let manual = unique("auman");
    let broken = unique("aubad");
    let before = HostState::capture(lp.as_str());
    busybox_container(&lp, &good, "lxc.start.auto = 1\n");
    busybox_container(&lp, &manual, "");
    define(&lp, &broken, "lxc.start.auto = 1\n");
    let o = lp.lxc("autostart", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains(&broken), "{}", show(&o));
    assert_eq!(state(&lp, &good), "RUNNING");
    assert_eq!(state(&lp, &manual), "STOPPED");
    // -A takes the container without lxc.start.auto too (the broken one fails again).
    let o = lp.lxc("autostart", &["-A"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert_eq!(state(&lp, &manual), "RUNNING");
    let (rc, out) = autostart(&lp, &["-k", "-A", "-L"]);
    assert_eq!(rc, 0);
    let mut listed: Vec<&str> = out.lines().collect();
    listed.sort();
    let mut want = vec![good.as_str(), manual.as_str()];
    want.sort();
    assert_eq!(listed, want);
    // -s -t 0 asks for the shutdown and does not wait (nor kill).
    assert_eq!(autostart(&lp, &["-s", "-t", "0", "-A"]).0, 0);
    assert!(
        eventually(|| state(&lp, &good) == "STOPPED" && state(&lp, &manual) == "STOPPED"),
        "the containers did not halt after -s -t 0"
    );
    assert_eq!(autostart(&lp, &["-k", "-A"]).0, 0);
    assert_clean(&before, &lp, &[&good, &manual, &broken]);
}
