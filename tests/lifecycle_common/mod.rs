//! Helpers shared by the lifecycle tests (`tests/lifecycle_*.rs`).
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
    format!("{tag}-{}", std::process::id())
}

/// Assert that nothing of container `name` in `lp` is left: no cgroup named after it, no mount
/// under the lxcpath, no command socket, no monitor process. Other containers on the host (other
/// tests) are ignored.
pub fn assert_clean(before: &HostState, lp: &Lxcpath, name: &str) {
    let now = HostState::capture(lp.as_str());
    let mut leaks = Vec::new();
    for c in now.cgroups.difference(&before.cgroups) {
        if c.ends_with(&format!(".{name}")) || c.contains(&format!(".{name}/")) {
            leaks.push(format!("cgroup {c}"));
        }
    }
    for m in now.mounts.difference(&before.mounts) {
        leaks.push(format!("mount {m}"));
    }
    for s in now.sockets.difference(&before.sockets) {
        leaks.push(format!("socket {s}"));
    }
    for m in now.monitors.difference(&before.monitors) {
        leaks.push(format!("monitor {m}"));
    }
    for l in now.links.difference(&before.links) {
        leaks.push(format!("link {l}"));
    }
    assert!(leaks.is_empty(), "left behind by {name}:\n  {}", leaks.join("\n  "));
}

/// lxc-info -s output's state word.
pub fn state(lp: &Lxcpath, name: &str) -> String {
    let o = lp.lxc("info", &["-n", name, "-s"]);
    match String::from_utf8_lossy(&o.stdout).split_whitespace().last() {
        Some(s) => s.to_string(),
        None => format!("(lxc-info failed: {})", show(&o)),
    }
}

/// lxc-info -p -H: init's pid.
pub fn init_pid(lp: &Lxcpath, name: &str) -> Option<i32> {
    let o = lp.lxc("info", &["-n", name, "-p", "-H"]);
    String::from_utf8_lossy(&o.stdout).trim().parse().ok()
}

/// Run a command inside the running container through nsenter (independent of lxc-attach).
pub fn in_container(pid: i32, cmd: &str) -> Output {
    rlxc_suite::run(
        "nsenter",
        &["-t", &pid.to_string(), "-m", "-u", "-i", "-n", "-p", "-r", "-w", "/bin/sh", "-c", cmd],
    )
}

/// Append lines to a container's config.
pub fn add_config(dir: &Path, lines: &str) {
    let cfg = dir.join("config");
    let mut text = std::fs::read_to_string(&cfg).unwrap_or_default();
    text.push_str(lines);
    text.push('\n');
    std::fs::write(&cfg, text).unwrap_or_else(|e| panic!("write {}: {e}", cfg.display()));
}
