//! lxc-checkconfig: the report from a given kernel config (plain and gzip), line for line
//! the same as Debian's LXC script where both have the line, this host's cgroup mount points,
//! and probing the running kernel when no config can be found.

mod tools_common;

use std::process::{Command, Output};

use rlxc_suite::{require_tools, tool};
use tools_common::*;

const CONFIG: &str = "#\n# Linux/x86 6.1.0 Kernel Configuration\n#\nCONFIG_NAMESPACES=y\nCONFIG_UTS_NS=y\n\
CONFIG_IPC_NS=y\n# CONFIG_PID_NS is not set\nCONFIG_USER_NS=y\nCONFIG_NET_NS=y\nCONFIG_CGROUPS=y\n\
CONFIG_CGROUP_DEVICE=y\nCONFIG_CGROUP_SCHED=y\nCONFIG_MEMCG=y\nCONFIG_SMP=y\nCONFIG_CPUSETS=y\nCONFIG_VETH=m\n\
CONFIG_MACVLAN=m\nCONFIG_BRIDGE=y\nCONFIG_FUSE_FS=m\nCONFIG_EPOLL=y\nCONFIG_SECCOMP=y\nCONFIG_SECCOMP_FILTER=y\n";

fn checkconfig(program: &std::path::Path, config: &std::path::Path) -> Output {
    Command::new(program).env("CONFIG", config).output().expect("run lxc-checkconfig")
}

#[test]
fn report_from_a_config_file_like_lxc() {
    if !require_tools("report_from_a_config_file_like_lxc") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("config");
    std::fs::write(&plain, CONFIG).expect("write config");
    let o = checkconfig(&tool("lxc-checkconfig"), &plain);
    assert!(o.status.success(), "{}", show(&o));
    let out = stdout(&o);
    for want in [
        "\n--- Namespaces ---\nNamespaces: enabled\nUtsname namespace: enabled\nIpc namespace: enabled\nPid namespace: required\n",
        "Network namespace: enabled\n",
        "\n--- Control groups ---\nCgroups: enabled\n",
        "Cgroup cpu account: missing\nCgroup memory controller: enabled\nCgroup cpuset: enabled\n",
        "Veth pair device: enabled",
        "Vlan: missing\n",
        "Seccomp: enabled\nSeccomp filter: enabled\n",
        "File capabilities: enabled\n",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // The host's cgroup mounts are listed.
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    for m in mounts.lines().filter(|l| l.split_whitespace().nth(2) == Some("cgroup2")) {
        let mp = m.split_whitespace().nth(1).unwrap_or("");
        assert!(out.contains("Cgroup v2 mount points: \n") && out.contains(&format!(" - {mp}\n")), "{out}");
    }
    // gzip-compressed, as /proc/config.gz is: the same report.
    if Command::new("gzip").arg("-k").arg(&plain).status().map(|s| s.success()).unwrap_or(false) {
        let o = checkconfig(&tool("lxc-checkconfig"), &dir.path().join("config.gz"));
        assert_eq!(stdout(&o), out, "{}", show(&o));
    }
    // Line for line what LXC's script says, for every line it has (rlxc adds a security
    // section and names itself differently).
    let debian = std::path::Path::new("/usr/bin/lxc-checkconfig");
    if debian.exists() {
        let o = checkconfig(debian, &plain);
        let theirs = stdout(&o);
        let skip = |l: &&str| l.starts_with("LXC version") || l.starts_with("usage :");
        let ours: Vec<&str> = out.lines().filter(|l| !skip(l)).collect();
        for l in theirs.lines().filter(|l| !skip(l)) {
            assert!(ours.contains(&l), "Debian's line {l:?} is not in ours:\n{out}");
        }
    }
}

#[test]
fn probes_the_kernel_without_a_config() {
    if !require_tools("probes_the_kernel_without_a_config") {
        return;
    }
    let o = checkconfig(&tool("lxc-checkconfig"), std::path::Path::new("/nonexistent/rlxc-config"));
    assert!(o.status.success(), "{}", show(&o));
    let out = stdout(&o);
    assert!(out.contains("Kernel configuration not found at /nonexistent/rlxc-config; searching...\n"), "{out}");
    // (A host with /boot/config-$(uname -r) or kernel headers is read instead of probed.)
    if !out.contains("Kernel configuration found at") {
        assert!(String::from_utf8_lossy(&o.stderr).contains("probing the running kernel"), "{}", show(&o));
    }
    // This process has namespaces, so probing finds them.
    assert!(out.contains("Namespaces: enabled\n") && out.contains("Network namespace: enabled\n"), "{out}");
    assert!(out.contains("--- Misc ---") && out.contains("--- Checkpoint/Restore ---"), "{out}");
}
