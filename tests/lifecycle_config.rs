//! Config keys the start path honours: lxc.environment, lxc.init.cwd/uid/gid, lxc.rootfs.options,
//! lxc.tty.dir, lxc.namespace.share (--share-net), and lxc-start's -o/-l log in LXC's format.

mod lifecycle_common;

use lifecycle_common::*;
use rlxc_suite::{busybox_container, HostState, Lxcpath};

#[test]
fn environment_cwd_and_ids_reach_init() {
    if !ready("environment_cwd_and_ids_reach_init") {
        return;
    }
    let lp = Lxcpath::new("lkenv");
    let name = unique("lkenv");
    busybox_container(
        &lp,
        &name,
        "lxc.environment = FOO=bar baz\nlxc.init.cwd = /tmp\nlxc.init.uid = 65534\nlxc.init.gid = 65534",
    );
    let before = HostState::capture(lp.as_str());
    let o = lp.lxc(
        "start",
        &[
            "-n",
            &name,
            "-F",
            "--",
            "/bin/sh",
            "-c",
            "echo \"foo=$FOO container=$container cwd=$(pwd) id=$(id -u):$(id -g)\"",
        ],
    );
    assert!(o.status.success(), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("foo=bar baz container=lxc cwd=/tmp id=65534:65534"), "{}", show(&o));
    assert_clean(&before, &lp, &name);
}

#[test]
fn rootfs_options_ro_and_tty_dir() {
    if !ready("rootfs_options_ro_and_tty_dir") {
        return;
    }
    let lp = Lxcpath::new("lkro");
    let name = unique("lkro");
    busybox_container(&lp, &name, "lxc.rootfs.options = ro\nlxc.tty.dir = lxc\nlxc.tty.max = 1\nlxc.pty.max = 4");
    let before = HostState::capture(lp.as_str());
    let o = lp.lxc(
        "start",
        &[
            "-n",
            &name,
            "-F",
            "--",
            "/bin/sh",
            "-c",
            "touch /x 2>/dev/null || echo ro-ok; test \"$(readlink /dev/console)\" = lxc/console && echo dir-ok; test -c /dev/lxc/tty1 && echo tty-ok",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    for want in ["ro-ok", "dir-ok", "tty-ok"] {
        assert!(out.contains(want), "missing {want}: {}", show(&o));
    }
    assert_clean(&before, &lp, &name);
}

#[test]
fn share_net_joins_the_other_containers_network_namespace() {
    if !ready("share_net_joins_the_other_containers_network_namespace") {
        return;
    }
    let lp = Lxcpath::new("lkshare");
    let a = unique("lka");
    let b = unique("lkb");
    busybox_container(&lp, &a, "");
    busybox_container(&lp, &b, "");
    let before = HostState::capture(lp.as_str());
    assert!(lp.lxc("start", &["-n", &a]).status.success());
    let o = lp.lxc("start", &["-n", &b, "--share-net", &a]);
    assert!(o.status.success(), "{}", show(&o));
    let (pa, pb) = (init_pid(&lp, &a).expect("pid a"), init_pid(&lp, &b).expect("pid b"));
    let ns = |p: i32, n: &str| std::fs::read_link(format!("/proc/{p}/ns/{n}")).expect("ns link");
    assert_eq!(ns(pa, "net"), ns(pb, "net"));
    assert_ne!(ns(pa, "mnt"), ns(pb, "mnt"));
    assert!(lp.lxc("stop", &["-n", &b, "-k"]).status.success());
    assert!(lp.lxc("stop", &["-n", &a, "-k"]).status.success());
    assert_clean(&before, &lp, &a);
    assert_clean(&before, &lp, &b);
}

#[test]
fn log_file_uses_lxcs_format() {
    if !ready("log_file_uses_lxcs_format") {
        return;
    }
    let lp = Lxcpath::new("lklog");
    let name = unique("lklog");
    busybox_container(&lp, &name, "");
    let log = lp.path.join("start.log");
    let o = lp.lxc("start", &["-n", &name, "-o", log.to_str().unwrap_or(""), "-l", "DEBUG"]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(lp.lxc("stop", &["-n", &name, "-k"]).status.success());
    let text = std::fs::read_to_string(&log).expect("log");
    // `lxc-start NAME YYYYMMDDhhmmss.mmm LEVEL category - file:line - message`
    let re = regex_lite(&text, &name);
    assert!(re, "no LXC-format line in:\n{text}");
    assert!(text.contains("is RUNNING") && text.contains("is STOPPED"), "{text}");
}

fn regex_lite(text: &str, name: &str) -> bool {
    text.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 6
            && f[0] == "lxc-start"
            && f[1] == name
            && f[2].len() == 18
            && f[2].as_bytes()[14] == b'.'
            && ["TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR"].contains(&f[3])
            && f[5] == "-"
    })
}

#[test]
fn idmap_runs_init_as_the_mapped_root() {
    if !ready("idmap_runs_init_as_the_mapped_root") {
        return;
    }
    let lp = Lxcpath::new("lkidmap");
    let name = unique("lkidmap");
    let dir = busybox_container(
        &lp,
        &name,
        "lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\nlxc.mount.auto = proc:mixed sys:mixed",
    );
    let o = rlxc_suite::run("chown", &["-R", "100000:100000", dir.join("rootfs").to_str().unwrap_or("")]);
    assert!(o.status.success(), "{}", show(&o));
    let before = HostState::capture(lp.as_str());
    let o = lp.lxc("start", &["-n", &name]);
    assert!(o.status.success(), "start: {}", show(&o));
    let pid = init_pid(&lp, &name).expect("pid");
    let map = std::fs::read_to_string(format!("/proc/{pid}/uid_map")).expect("uid_map");
    assert_eq!(map.split_whitespace().collect::<Vec<_>>(), ["0", "100000", "65536"]);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    assert!(status.lines().any(|l| l.starts_with("Uid:") && l.contains("100000")), "{status}");
    let o = lp.lxc("stop", &["-n", &name]);
    assert!(o.status.success(), "stop: {}", show(&o));
    assert_clean(&before, &lp, &name);
}
