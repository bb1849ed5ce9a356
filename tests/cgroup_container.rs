//! cgroups of real busybox containers started with rlxc's tools: limits the kernel enforces
//! (pids.max stops a fork bomb, a memory limit OOM-kills a hog), eBPF device rules inside the
//! container, freeze/unfreeze, `lxc-cgroup`, and no cgroup left after 100 start/stop cycles.
//! Works on hybrid/legacy hosts (v1 keys) and pure cgroup2 (v2 keys, in the VM).

use rlxc_cgroup::{Layout, LayoutKind};
use rlxc_suite::*;
use std::path::{Path, PathBuf};

mod cgroup_common;
use cgroup_common::cgroups_named;

/// The tests compare host-wide cgroup snapshots, so they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn ready(test: &str) -> bool {
    require_root(test) && require_tools(test)
}

/// Nothing of this test's containers is left: no cgroup named after them, no new `lxc.pivot`,
/// and no mount, socket or monitor process under the lxcpath. (HostState's cgroup set is
/// host-wide, so other engineers' containers starting meanwhile would count; we check ours.)
fn assert_clean(before: &HostState, lp: &Lxcpath, names: &[&str]) {
    for n in names {
        // Container names are unique per test run through the lxcpath's pid suffix.
        let left = cgroups_named(&format!(".{n}"));
        assert!(left.is_empty(), "cgroups left behind: {left:?}");
    }
    let now = HostState::capture(lp.as_str());
    let pivots: Vec<_> = now
        .cgroups
        .difference(&before.cgroups)
        .filter(|c| {
            // Only at our base (init's cgroup): nested ones belong to other tools' cgroup dirs.
            c.ends_with("lxc.pivot") && c.matches('/').count() <= 5
        })
        .collect();
    assert!(pivots.is_empty(), "new lxc.pivot cgroups: {pivots:?}");
    for (what, b, a) in [
        ("mount", &before.mounts, &now.mounts),
        ("socket", &before.sockets, &now.sockets),
        ("monitor", &before.monitors, &now.monitors),
    ] {
        let new: Vec<_> = a.difference(b).collect();
        assert!(new.is_empty(), "{what} left behind: {new:?}");
    }
}

fn uniq(n: &str) -> String {
    format!("{n}-{}", std::process::id())
}

fn unified() -> bool {
    Layout::detect().map(|l| l.kind == LayoutKind::Unified).unwrap_or(false)
}

/// `lxc.cgroup.X` on v1 hosts, `lxc.cgroup2.Y` on cgroup2.
fn limit(v1: &str, v2: &str, value: &str) -> String {
    if unified() {
        format!("lxc.cgroup2.{v2} = {value}\n")
    } else {
        format!("lxc.cgroup.{v1} = {value}\n")
    }
}

/// A container whose init runs `script` (busybox sh) and then sleeps; results go to
/// `<rootfs>/result`.
fn script_container(lp: &Lxcpath, name: &str, script: &str, extra: &str) -> PathBuf {
    // AppArmor confinement is the security suite's subject; here it would only add a dependency
    // on the profiles being loaded (the VM enforces AppArmor).
    let dir = busybox_container(
        lp,
        name,
        &format!("lxc.init.cmd = /bin/sh /test.sh\nlxc.apparmor.profile = unconfined\n{extra}"),
    );
    let rootfs = dir.join("rootfs");
    std::fs::write(rootfs.join("test.sh"), format!("{script}\nexec sleep 1000\n")).unwrap();
    rootfs
}

fn start(lp: &Lxcpath, name: &str) {
    let out = lp.lxc("start", &["-n", name, "-l", "debug", "-o", &format!("{}/{name}.log", lp.as_str())]);
    if !out.status.success() {
        let log = std::fs::read_to_string(format!("{}/{name}.log", lp.as_str())).unwrap_or_default();
        panic!("lxc-start {name} failed: {}\nlog:\n{log}", String::from_utf8_lossy(&out.stderr));
    }
    lp.lxc_ok("wait", &["-n", name, "-s", "RUNNING", "-t", "30"]);
}

/// Wait until `<rootfs>/result` has a line starting with `done` (the script's last word).
fn result(rootfs: &Path) -> String {
    for _ in 0..600 {
        let r = std::fs::read_to_string(rootfs.join("result")).unwrap_or_default();
        if r.lines().any(|l| l.starts_with("done")) {
            return r;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the container's script did not finish: {:?}", std::fs::read_to_string(rootfs.join("result")));
}

#[test]
fn pids_max_stops_a_fork_bomb() {
    if !ready("pids_max_stops_a_fork_bomb") {
        return;
    }
    let _serial = serial();
    let lp = Lxcpath::new("cgpid");
    let before = HostState::capture(lp.as_str());
    let cn = uniq("fb");
    let cn = cn.as_str();
    let rootfs = script_container(
        &lp,
        cn,
        "(i=0; while [ $i -lt 40 ]; do sleep 1000 & i=$((i+1)); done) 2>/err; echo done >/result",
        &limit("pids.max", "pids.max", "10"),
    );
    start(&lp, cn);
    result(&rootfs);
    let err = std::fs::read_to_string(rootfs.join("err")).unwrap_or_default();
    assert!(err.contains("fork"), "the shell must fail to fork: {err:?}");
    let current = lp.lxc_ok("cgroup", &["-n", cn, "pids.current"]);
    assert!(current.trim().parse::<u32>().unwrap() <= 10, "pids.current {current}");
    let events = lp.lxc_ok("cgroup", &["-n", cn, "pids.events"]);
    assert!(!events.contains("max 0"), "{events}");
    lp.lxc_ok("stop", &["-n", cn, "-k"]);
    assert_clean(&before, &lp, &[cn]);
}

#[test]
fn memory_limit_oom_kills_a_hog() {
    if !ready("memory_limit_oom_kills_a_hog") {
        return;
    }
    let _serial = serial();
    let lp = Lxcpath::new("cgmem");
    let before = HostState::capture(lp.as_str());
    let cn = uniq("hog");
    let cn = cn.as_str();
    let rootfs = script_container(
        &lp,
        cn,
        "tail /dev/zero; echo \"rc=$?\" >/result; echo done >>/result",
        &limit("memory.limit_in_bytes", "memory.max", "67108864"),
    );
    start(&lp, cn);
    let r = result(&rootfs);
    assert!(r.contains("rc=137"), "the hog must be SIGKILLed by the OOM killer: {r}");
    lp.lxc_ok("stop", &["-n", cn, "-k"]);
    assert_clean(&before, &lp, &[cn]);
}

/// A CPU quota of 10 ms per 100 ms period is enforced: a busy loop in the container gets
/// throttled (the kernel's `nr_throttled` counter in `cpu.stat`, read through `lxc-cgroup`).
#[test]
fn cpu_quota_throttles_a_busy_loop() {
    if !ready("cpu_quota_throttles_a_busy_loop") {
        return;
    }
    let _serial = serial();
    let lp = Lxcpath::new("cgcpu");
    let before = HostState::capture(lp.as_str());
    let cn = uniq("spin");
    let cn = cn.as_str();
    let quota = if unified() {
        "lxc.cgroup2.cpu.max = 10000 100000\n".to_string()
    } else {
        "lxc.cgroup.cpu.cfs_period_us = 100000\nlxc.cgroup.cpu.cfs_quota_us = 10000\n".to_string()
    };
    let rootfs = script_container(
        &lp,
        cn,
        "end=$(( $(date +%s) + 3 )); while [ $(date +%s) -lt $end ]; do :; done; echo done >/result",
        &quota,
    );
    start(&lp, cn);
    result(&rootfs);
    let stat = lp.lxc_ok("cgroup", &["-n", cn, "cpu.stat"]);
    let throttled = stat
        .lines()
        .find_map(|l| l.strip_prefix("nr_throttled "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no nr_throttled in cpu.stat: {stat}"));
    assert!(throttled > 0, "the busy loop must have been throttled by the quota: {stat}");
    lp.lxc_ok("stop", &["-n", cn, "-k"]);
    assert_clean(&before, &lp, &[cn]);
}

const DEVS: &str = "if head -c1 /dev/null; then echo null-ok; else echo null-denied; fi >/result; \
    if head -c1 /dev/zero >/dev/null; then echo zero-ok; else echo zero-denied; fi >>/result; \
    if echo x >/dev/full; then echo full-w-ok; else echo full-w-denied; fi >>/result 2>/dev/null; echo done >>/result";

#[test]
fn ebpf_device_rules_apply_inside_the_container() {
    if !ready("ebpf_device_rules_apply_inside_the_container") {
        return;
    }
    let _serial = serial();
    let l = Layout::detect().unwrap();
    if l.unified().is_none() || !rlxc_cgroup::devices::bpf_supported() {
        skip("ebpf_device_rules_apply_inside_the_container", "no cgroup2 or no eBPF device programs");
        return;
    }
    let lp = Lxcpath::new("cgdev");
    let before = HostState::capture(lp.as_str());
    let cn = uniq("dev");
    let cn = cn.as_str();
    let rules =
        "lxc.cgroup2.devices.deny = a\nlxc.cgroup2.devices.allow = c 1:3 rwm\nlxc.cgroup2.devices.allow = c 1:7 r\n\
                 lxc.cgroup2.devices.allow = c 136:* rwm\nlxc.cgroup2.devices.allow = c 5:* rwm\n";
    let rootfs = script_container(&lp, cn, DEVS, rules);
    start(&lp, cn);
    let r = result(&rootfs);
    assert!(r.contains("null-ok"), "{r}");
    assert!(r.contains("zero-denied"), "{r}");
    assert!(r.contains("full-w-denied"), "partial access mask: r only: {r}");
    lp.lxc_ok("stop", &["-n", cn, "-k"]);
    assert_clean(&before, &lp, &[cn]);
}

#[test]
fn freeze_and_unfreeze() {
    if !ready("freeze_and_unfreeze") {
        return;
    }
    let _serial = serial();
    let lp = Lxcpath::new("cgfrz");
    let before = HostState::capture(lp.as_str());
    let cn = uniq("frz");
    let cn = cn.as_str();
    script_container(&lp, cn, "echo done >/result", "");
    start(&lp, cn);
    lp.lxc_ok("freeze", &["-n", cn]);
    assert_eq!(lp.lxc_ok("info", &["-n", cn, "-s"]).split_whitespace().last(), Some("FROZEN"));
    let key = if unified() { "cgroup.events" } else { "freezer.state" };
    let v = lp.lxc_ok("cgroup", &["-n", cn, key]);
    assert!(v.contains("frozen 1") || v.trim() == "FROZEN", "{v}");
    lp.lxc_ok("unfreeze", &["-n", cn]);
    assert_eq!(lp.lxc_ok("info", &["-n", cn, "-s"]).split_whitespace().last(), Some("RUNNING"));
    // A frozen container can still be stopped.
    lp.lxc_ok("freeze", &["-n", cn]);
    lp.lxc_ok("stop", &["-n", cn, "-k"]);
    assert_clean(&before, &lp, &[cn]);
}

#[test]
fn lxc_cgroup_gets_and_sets() {
    if !ready("lxc_cgroup_gets_and_sets") {
        return;
    }
    let _serial = serial();
    let lp = Lxcpath::new("cgtool");
    let before = HostState::capture(lp.as_str());
    let cn = uniq("t");
    let cn = cn.as_str();
    script_container(&lp, cn, "echo done >/result", &limit("pids.max", "pids.max", "50"));
    // Not running yet: a clear error.
    let out = lp.lxc("cgroup", &["-n", cn, "pids.max"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not running"));
    start(&lp, cn);
    assert_eq!(lp.lxc_ok("cgroup", &["-n", cn, "pids.max"]).trim(), "50");
    lp.lxc_ok("cgroup", &["-n", cn, "pids.max", "60"]);
    assert_eq!(lp.lxc_ok("cgroup", &[cn, "pids.max"]).trim(), "60");
    let pid = lp.lxc_ok("info", &["-n", cn, "-p"]);
    let pid = pid.split_whitespace().last().unwrap_or("").to_string();
    assert!(lp.lxc_ok("cgroup", &["-n", cn, "cgroup.procs"]).lines().any(|l| l == pid));
    let bad = lp.lxc("cgroup", &["-n", cn, "nosuch.file"]);
    assert!(!bad.status.success());
    lp.lxc_ok("stop", &["-n", cn, "-k"]);
    assert_clean(&before, &lp, &[cn]);
}

#[test]
fn no_cgroup_left_after_100_start_stop_cycles() {
    if !ready("no_cgroup_left_after_100_start_stop_cycles") {
        return;
    }
    let _serial = serial();
    let cycles: usize = std::env::var("RLXC_CG_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let lp = Lxcpath::new("cgcyc");
    let before = HostState::capture(lp.as_str());
    let cn = uniq("cyc");
    let cn = cn.as_str();
    script_container(&lp, cn, "echo done >/result", &limit("pids.max", "pids.max", "100"));
    for i in 0..cycles {
        let out = lp.lxc("start", &["-n", cn]);
        assert!(out.status.success(), "cycle {i}: {}", String::from_utf8_lossy(&out.stderr));
        lp.lxc_ok("stop", &["-n", cn, "-k"]);
    }
    assert_clean(&before, &lp, &[cn]);
}

#[test]
fn lxc_cgroup_devices_allow_updates_the_live_ebpf_program() {
    if !ready("lxc_cgroup_devices_allow_updates_the_live_ebpf_program") {
        return;
    }
    let l = Layout::detect().unwrap();
    if l.v1_for("devices").is_some() || !rlxc_cgroup::devices::bpf_supported() {
        // With a v1 devices controller, lxc-cgroup writes v1 devices.allow (as LXC does); the
        // live eBPF update (ADD_BPF_DEVICE_CGROUP) is the cgroup2 path, tested in the VM.
        eprintln!("not a cgroup2-devices host: this test runs in `make vm-check`");
        return;
    }
    let _serial = serial();
    let lp = Lxcpath::new("cglive");
    let before = HostState::capture(lp.as_str());
    let cn = uniq("live");
    let cn = cn.as_str();
    let rules = "lxc.cgroup2.devices.deny = a\nlxc.cgroup2.devices.allow = c 1:3 rwm\n\
                 lxc.cgroup2.devices.allow = c 136:* rwm\nlxc.cgroup2.devices.allow = c 5:* rwm\n";
    let script =
        format!("{DEVS}\nwhile ! head -c1 /dev/zero >/dev/null 2>&1; do sleep 0.2; done; echo live-ok >/result2");
    let rootfs = script_container(&lp, cn, &script, rules);
    start(&lp, cn);
    let r = result(&rootfs);
    assert!(r.contains("zero-denied"), "{r}");
    let out = lp.lxc("cgroup", &["-n", cn, "devices.allow", "c 1:5 r"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("not implemented"),
        "the monitor does not handle ADD_BPF_DEVICE_CGROUP (14): its CommandHandler::add_bpf_device must call \
         ContainerCgroups::add_device_item: {err}"
    );
    assert!(out.status.success(), "lxc-cgroup devices.allow: {err}");
    let mut ok = false;
    for _ in 0..600 {
        if std::fs::read_to_string(rootfs.join("result2")).unwrap_or_default().contains("live-ok") {
            ok = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(ok, "the container never saw /dev/zero allowed after lxc-cgroup devices.allow");
    lp.lxc_ok("stop", &["-n", cn, "-k"]);
    assert_clean(&before, &lp, &[cn]);
}

/// (mount point, fstype, read-only) of every cgroup-related mount a process sees.
fn cgroup_mounts(pid: &str) -> Vec<(String, String, bool)> {
    std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let pf: Vec<&str> = pre.split_whitespace().collect();
            let fstype = post.split_whitespace().next()?.to_string();
            let mp = pf.get(4)?.to_string();
            let ro = pf.get(5)?.split(',').any(|o| o == "ro");
            mp.starts_with("/sys/fs/cgroup").then_some((mp, fstype, ro))
        })
        .collect()
}

#[test]
fn mount_auto_cgroup_variants() {
    if !ready("mount_auto_cgroup_variants") {
        return;
    }
    let _serial = serial();
    let l = Layout::detect().unwrap();
    let uni = l.kind == LayoutKind::Unified;
    let lp = Lxcpath::new("cgauto");
    let before = HostState::capture(lp.as_str());
    let cn = uniq("am");
    let cn = cn.as_str();
    let no_cgns = "lxc.namespace.clone = mnt pid uts ipc net\n";
    // A v1 controller to look at on legacy/hybrid hosts.
    let ctrl = l.v1_for("memory").map(|h| h.mountpoint.file_name().unwrap().to_string_lossy().into_owned());
    let cases: Vec<(&str, &str)> = vec![
        ("cgroup:mixed", no_cgns),
        ("cgroup:ro", no_cgns),
        ("cgroup-full:mixed", no_cgns),
        ("cgroup:mixed:force", ""),
        ("cgroup:ro:force", ""),
        ("cgroup:mixed", ""),
    ];
    let dir = script_container(&lp, cn, "echo done >/result", "");
    let config = std::fs::read_to_string(dir.parent().unwrap().join("config")).unwrap();
    for (mode, extra) in cases {
        std::fs::write(
            dir.parent().unwrap().join("config"),
            format!("{config}lxc.mount.auto = proc:mixed sys:mixed {mode}\n{extra}"),
        )
        .unwrap();
        start(&lp, cn);
        let pid = lp.lxc_ok("info", &["-n", cn, "-p"]).split_whitespace().last().unwrap_or("").to_string();
        let m = cgroup_mounts(&pid);
        let payload = format!("lxc.payload.{cn}");
        let find = |mp: &str| m.iter().find(|(p, _, _)| p == mp).cloned();
        let what = format!("{mode} {extra}: {m:?}");
        let cgns = extra.is_empty();
        match (uni, mode) {
            // cgroup namespace, no force: the container's init mounts its own on v1/hybrid; on
            // pure cgroup2 cgroup2 is pre-mounted anyway (LXC does, for inits that don't).
            (false, "cgroup:mixed") if cgns => assert!(m.is_empty(), "{what}"),
            (true, "cgroup:mixed") if cgns => {
                assert_eq!(find("/sys/fs/cgroup").map(|x| (x.1, x.2)), Some(("cgroup2".into(), false)), "{what}")
            }
            (true, "cgroup:mixed") | (true, "cgroup:ro") => assert!(m.is_empty(), "{what}"),
            (true, "cgroup-full:mixed") | (true, "cgroup:mixed:force") => {
                assert_eq!(find("/sys/fs/cgroup").map(|x| (x.1, x.2)), Some(("cgroup2".into(), false)), "{what}")
            }
            (true, "cgroup:ro:force") => {
                assert_eq!(find("/sys/fs/cgroup").map(|x| (x.1, x.2)), Some(("cgroup2".into(), true)), "{what}")
            }
            (false, _) => {
                let c = ctrl.clone().expect("a v1 memory hierarchy");
                let top = format!("/sys/fs/cgroup/{c}");
                assert_eq!(find("/sys/fs/cgroup").map(|x| x.1), Some("tmpfs".into()), "{what}");
                match mode {
                    "cgroup:mixed" | "cgroup-full:mixed" => {
                        let own = find(&format!("{top}/{payload}")).expect(&what);
                        assert!(!own.2, "own cgroup writable: {what}");
                        assert!(find(&top).map(|x| x.2).unwrap_or(true), "hierarchy read-only: {what}");
                    }
                    "cgroup:ro" => assert!(find(&format!("{top}/{payload}")).expect(&what).2, "{what}"),
                    "cgroup:mixed:force" => assert_eq!(find(&top).map(|x| (x.1, x.2)), Some(("cgroup".into(), false))),
                    "cgroup:ro:force" => assert_eq!(find(&top).map(|x| (x.1, x.2)), Some(("cgroup".into(), true))),
                    _ => unreachable!(),
                }
            }
            _ => unreachable!("{what}"),
        }
        lp.lxc_ok("stop", &["-n", cn, "-k"]);
    }
    assert_clean(&before, &lp, &[cn]);
}

/// A monitor killed with SIGKILL cannot remove its cgroups; the next start of the same container
/// removes the empty pair and takes the plain names again instead of `-1` (R3).
#[test]
fn stale_cgroups_of_a_killed_monitor_are_reclaimed() {
    if !ready("stale_cgroups_of_a_killed_monitor_are_reclaimed") {
        return;
    }
    let _serial = serial();
    let lp = Lxcpath::new("cgstale");
    let before = HostState::capture(lp.as_str());
    let cn = uniq("sk");
    let cn = cn.as_str();
    script_container(&lp, cn, "echo done >/result", "");
    start(&lp, cn);
    let init = lp.lxc_ok("info", &["-n", cn, "-p", "-H"]).trim().to_string();
    let monitor = HostState::capture(lp.as_str())
        .monitors
        .iter()
        .find(|m| m.ends_with(&format!(" {cn}")))
        .and_then(|m| m.split_whitespace().next().map(str::to_string))
        .expect("the container's monitor process");
    run_ok("kill", &["-9", &monitor]);
    // init dies with its monitor (parent-death signal); wait for it, bounded.
    let gone = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
            .unwrap_or(true)
    };
    for _ in 0..200 {
        if gone(&init) && gone(&monitor) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(gone(&init), "init {init} outlived its killed monitor");
    let stale = cgroups_named(&format!("lxc.monitor.{cn}"));
    assert!(!stale.is_empty(), "expected the killed monitor's cgroup to be left (nobody to remove it)");
    // Older than the reclaim age, so it cannot be a concurrent start's fresh cgroup.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    start(&lp, cn);
    let suffixed = cgroups_named(&format!(".{cn}-1"));
    assert!(suffixed.is_empty(), "the stale cgroups were not reused: {suffixed:?}");
    assert!(!cgroups_named(&format!("lxc.payload.{cn}")).is_empty(), "the restarted container has no payload cgroup");
    lp.lxc_ok("stop", &["-n", cn, "-k"]);
    assert_clean(&before, &lp, &[cn]);
}

/// With an idmap, the payload cgroup is delegated to the container's root (the files of
/// `/sys/kernel/cgroup/delegate` chowned): inside, root makes a child cgroup and moves itself
/// there, as systemd does; stop removes the nested cgroup too. Pure cgroup2 (the VM leg).
#[test]
fn delegated_payload_lets_the_container_root_make_cgroups() {
    let test = "delegated_payload_lets_the_container_root_make_cgroups";
    if !ready(test) {
        return;
    }
    if !unified() {
        runs_elsewhere(test, "pure cgroup2 delegation: runs in the VM leg (tests/vm/run.sh)");
        return;
    }
    let _serial = serial();
    let lp = Lxcpath::new("cgdeleg");
    let before = HostState::capture(lp.as_str());
    let cn = uniq("dg");
    let cn = cn.as_str();
    let rootfs = script_container(
        &lp,
        cn,
        "mkdir /sys/fs/cgroup/sub && echo $$ > /sys/fs/cgroup/sub/cgroup.procs; cat /proc/self/cgroup >> /result; \
         echo done >> /result",
        "lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\nlxc.mount.auto = proc:mixed sys:mixed cgroup:mixed\n",
    );
    let out = run("chown", &["-R", "100000:100000", rootfs.to_str().unwrap_or("/nonexistent")]);
    assert!(out.status.success(), "chown the rootfs: {out:?}");
    start(&lp, cn);
    let r = result(&rootfs);
    assert!(r.lines().any(|l| l == "0::/sub"), "the container's root could not make and enter a cgroup:\n{r}");
    lp.lxc_ok("stop", &["-n", cn, "-k"]);
    assert_clean(&before, &lp, &[cn]);
}
