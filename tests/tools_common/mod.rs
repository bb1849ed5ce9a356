//! Helpers shared by the tools tests (`tests/tools_*.rs`).
#![allow(dead_code)]

use std::process::Output;

use rlxc_suite::{require_root, require_tools, HostState, Lxcpath};

/// Extra config for busybox containers: no AppArmor profile (the pure-cgroup2 VM has AppArmor
/// enabled without LXC's profiles loaded).
pub const UNCONFINED: &str = "lxc.apparmor.profile = unconfined\n";

/// stdout + stderr + exit code, for assertion messages.
pub fn show(o: &Output) -> String {
    format!(
        "rc={:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Root and installed tools, else a loud skip.
pub fn ready(test: &str) -> bool {
    require_root(test) && require_tools(test)
}

/// A container name unique on this host (cgroup names are global).
pub fn unique(tag: &str) -> String {
    format!("{tag}{}", std::process::id())
}

/// The state word of `lxc-info -s`.
pub fn state(lp: &Lxcpath, name: &str) -> String {
    let o = lp.lxc("info", &["-n", name, "-s"]);
    String::from_utf8_lossy(&o.stdout).split_whitespace().last().unwrap_or("").to_string()
}

/// The init pid of a running container (`lxc-info -p -H`).
pub fn init_pid(lp: &Lxcpath, name: &str) -> Option<i32> {
    let o = lp.lxc("info", &["-n", name, "-p", "-H"]);
    String::from_utf8_lossy(&o.stdout).trim().parse().ok()
}

/// Assert that nothing of the containers `names` in `lp` is left: no cgroup named after them,
/// no mount under the lxcpath, no command socket, no monitor. Other tests' containers on the
/// host are ignored.
pub fn assert_clean(before: &HostState, lp: &Lxcpath, names: &[&str]) {
    let now = HostState::capture(lp.as_str());
    let mut leaks = Vec::new();
    for c in now.cgroups.difference(&before.cgroups) {
        if names.iter().any(|n| c.ends_with(&format!(".{n}")) || c.contains(&format!(".{n}/"))) {
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
    assert!(leaks.is_empty(), "left behind:\n  {}", leaks.join("\n  "));
}
