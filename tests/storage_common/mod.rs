//! Helpers shared by the storage tests (`tests/storage_*.rs`).
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

use rlxc_suite::{require_root, require_tools, HostState, Lxcpath};

/// stdout + stderr + exit code, for assertion messages.
pub fn show(o: &Output) -> String {
    format!(
        "rc={:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Root and installed tools, else a loud skip.
pub fn ready(test: &str) -> bool {
    require_root(test) && require_tools(test)
}

/// A container name unique on this host (cgroup names are global).
pub fn unique(tag: &str) -> String {
    format!("{tag}{}", std::process::id())
}

/// `lxc.net.0.type = empty` only: the busybox template's default network would run a DHCP
/// client in the host netns.
pub fn net_conf(lp: &Lxcpath) -> String {
    let p = lp.path.join("net.conf");
    std::fs::write(&p, "lxc.net.0.type = empty\n").unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    p.to_string_lossy().into_owned()
}

/// `lxc-create -t busybox -f net.conf` plus extra args (`-B loop` ...); asserts success.
pub fn create(lp: &Lxcpath, name: &str, extra: &[&str]) {
    let net = net_conf(lp);
    let mut args = vec!["-n", name, "-t", "busybox", "-f", net.as_str()];
    args.extend_from_slice(extra);
    let o = lp.lxc("create", &args);
    assert!(o.status.success(), "lxc-create {args:?}: {}", show(&o));
}

/// Run `sh -c CMD` in a running container through lxc-attach; returns stdout (asserts success).
pub fn attach(lp: &Lxcpath, name: &str, cmd: &str) -> String {
    let o = lp.lxc("attach", &["-n", name, "--", "/bin/sh", "-c", cmd]);
    assert!(o.status.success(), "attach {name} {cmd}: {}", show(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Start (daemonized), assert success.
pub fn start(lp: &Lxcpath, name: &str) {
    let o = lp.lxc("start", &["-n", name]);
    assert!(o.status.success(), "start {name}: {}", show(&o));
}

/// Hard stop, assert success.
pub fn stop(lp: &Lxcpath, name: &str) {
    let o = lp.lxc("stop", &["-n", name, "-k"]);
    assert!(o.status.success(), "stop {name}: {}", show(&o));
}

/// Loop devices attached to files under `needle` (`losetup -a`).
pub fn loops_under(needle: &str) -> Vec<String> {
    let o = rlxc_suite::run("losetup", &["-a"]);
    String::from_utf8_lossy(&o.stdout).lines().filter(|l| l.contains(needle)).map(str::to_string).collect()
}

/// Nothing of the test left: no mounts under the lxcpath, no sockets/monitors/cgroups of it,
/// no loop device on one of its files.
pub fn assert_clean(before: &HostState, lp: &Lxcpath) {
    let now = HostState::capture(lp.as_str());
    let mut leaks = Vec::new();
    for m in now.mounts.difference(&before.mounts) {
        leaks.push(format!("mount {m}"));
    }
    for s in now.sockets.difference(&before.sockets) {
        leaks.push(format!("socket {s}"));
    }
    for m in now.monitors.difference(&before.monitors) {
        leaks.push(format!("monitor {m}"));
    }
    for l in loops_under(lp.as_str()) {
        leaks.push(format!("loop {l}"));
    }
    assert!(leaks.is_empty(), "left behind:\n  {}", leaks.join("\n  "));
}

/// The value of `key` in a config file (last occurrence).
pub fn config_value(path: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .rev()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_string())
}
