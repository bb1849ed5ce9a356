//! Interoperability with Debian's LXC: a busybox container created and started by Debian's
//! `lxc-create`/`lxc-start`, observed and controlled with rlxc's tools and client API, compared
//! byte for byte with Debian's tools. Skipped loudly when Debian's LXC, root or the installed
//! rlxc tools are missing. The container uses `lxc.net.0.type = empty` (the busybox template's
//! init runs a DHCP client otherwise).

use std::path::{Path, PathBuf};

use rlxc_core::commands::client;
use rlxc_core::state::State;
use rlxc_suite::{require_program, require_root, require_tools, run, skip, tool, HostState};

fn debian(t: &str) -> PathBuf {
    PathBuf::from("/usr/bin").join(t)
}

fn out(o: &std::process::Output) -> String {
    format!(
        "{}{}rc={}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        o.status.code().unwrap_or(-1)
    )
}

/// A Debian-made container; everything it made is removed on drop (also on failure),
/// including the `lxc.monitor.NAME` cgroups LXC 5.0.2 leaks on this host and the `lxc.pivot`
/// cgroups its monitor makes to leave its own.
struct DebianContainer {
    lxcpath: String,
    name: String,
    /// The `lxc.pivot` cgroups at the hierarchy roots before this container existed.
    pivots_before: Vec<PathBuf>,
}

/// `lxc.pivot` at every hierarchy root (v1 controllers, the unified mount, or a pure cgroup2 root).
fn pivot_cgroups() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
        for e in rd.filter_map(|e| e.ok()) {
            let p = e.path().join("lxc.pivot");
            if p.is_dir() {
                v.push(p);
            }
        }
    }
    let root = Path::new("/sys/fs/cgroup/lxc.pivot");
    if root.is_dir() {
        v.push(root.to_path_buf());
    }
    v
}

impl DebianContainer {
    fn create(lxcpath: &str, name: &str) -> Result<DebianContainer, String> {
        std::fs::create_dir_all(lxcpath).map_err(|e| e.to_string())?;
        let c = DebianContainer { lxcpath: lxcpath.into(), name: name.into(), pivots_before: pivot_cgroups() };
        let o = run(debian("lxc-create"), &["-P", lxcpath, "-n", name, "-t", "busybox"]);
        if !o.status.success() {
            return Err(format!("lxc-create: {}", out(&o)));
        }
        let cfg = Path::new(lxcpath).join(name).join("config");
        let text = std::fs::read_to_string(&cfg).map_err(|e| e.to_string())?;
        let mut new: String = text.lines().filter(|l| !l.starts_with("lxc.net.0.")).map(|l| format!("{l}\n")).collect();
        // No console pty: the tests run without a terminal.
        new.push_str("lxc.net.0.type = empty\nlxc.console.path = none\nlxc.group = g1\nlxc.group = interop\n");
        std::fs::write(&cfg, new).map_err(|e| e.to_string())?;
        Ok(c)
    }

    fn lxc(&self, t: &str, extra: &[&str]) -> std::process::Output {
        let mut a = vec!["-P", self.lxcpath.as_str(), "-n", self.name.as_str()];
        a.extend_from_slice(extra);
        run(debian(t), &a)
    }

    fn ours(&self, t: &str, extra: &[&str]) -> std::process::Output {
        let mut a = vec!["-P", self.lxcpath.as_str(), "-n", self.name.as_str()];
        a.extend_from_slice(extra);
        run(tool(t), &a)
    }
}

impl Drop for DebianContainer {
    fn drop(&mut self) {
        let _ = self.lxc("lxc-stop", &["-k"]);
        let _ = self.lxc("lxc-destroy", &["-f"]);
        let _ = std::fs::remove_dir_all(&self.lxcpath);
        remove_lock_dir(&self.lxcpath);
        for root in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
            if let Ok(rd) = std::fs::read_dir(root) {
                for e in rd.filter_map(|e| e.ok()) {
                    for d in [format!("lxc.monitor.{}", self.name), format!("lxc.payload.{}", self.name)] {
                        let p = e.path().join(&d);
                        if p.is_dir() {
                            let _ = std::fs::remove_dir(&p);
                        }
                    }
                }
                for d in [format!("lxc.monitor.{}", self.name), format!("lxc.payload.{}", self.name)] {
                    let _ = std::fs::remove_dir(Path::new(root).join(d));
                }
            }
        }
        // Only the ones LXC made meanwhile, and only while empty (rmdir refuses otherwise).
        for p in pivot_cgroups() {
            if !self.pivots_before.contains(&p) {
                let _ = std::fs::remove_dir(&p);
            }
        }
    }
}

/// LXC leaves `<rundir>/lxc/lock/<lxcpath>` behind; the tests remove theirs.
fn remove_lock_dir(lxcpath: &str) {
    let _ = std::fs::remove_dir_all(format!("{}/lxc/lock/{lxcpath}", rlxc_core::lxcpath::rundir().display()));
}

fn same(label: &str, a: &std::process::Output, b: &std::process::Output) {
    assert_eq!(out(a), out(b), "{label}: Debian (left) and rlxc (right) differ");
}

#[test]
fn rlxc_tools_against_a_debian_started_container() {
    let t = "rlxc_tools_against_a_debian_started_container";
    if !require_root(t) || !require_program(t, "lxc-start") || !require_tools(t) {
        return;
    }
    if !Path::new("/usr/share/lxc/templates/lxc-busybox").exists() || !Path::new("/bin/busybox").exists() {
        skip(t, "Debian's busybox template or a static busybox is missing");
        return;
    }
    let pid = std::process::id();
    let lxcpath = format!("/tmp/rlxc-test-interop-{pid}");
    let name = format!("ri{pid}");
    let before = HostState::capture(&lxcpath);
    {
        let c = match DebianContainer::create(&lxcpath, &name) {
            Ok(c) => c,
            Err(e) => {
                skip(t, &format!("cannot create a busybox container with Debian's LXC: {e}"));
                let _ = std::fs::remove_dir_all(&lxcpath);
                return;
            }
        };
        // Stopped: identical views.
        same("info stopped", &c.lxc("lxc-info", &[]), &c.ours("lxc-info", &[]));
        let o = c.lxc("lxc-start", &["-d"]);
        assert!(o.status.success(), "Debian lxc-start: {}", out(&o));
        let o = c.ours("lxc-wait", &["-s", "RUNNING", "-t", "30"]);
        assert!(o.status.success(), "rlxc lxc-wait RUNNING: {}", out(&o));

        for args in [
            &["-s"][..],
            &["-s", "-p"],
            &["-p", "-H"],
            &["-c", "lxc.uts.name", "-c", "lxc.group", "-c", "lxc.tty.max"],
            &["-c", "lxc.net.0.type", "-H"],
        ] {
            same(&format!("lxc-info {args:?}"), &c.lxc("lxc-info", args), &c.ours("lxc-info", args));
        }
        let lp = lxcpath.as_str();
        for args in [
            &["-P", lp][..],
            &["-P", lp, "-1"],
            &["-P", lp, "-f"],
            &["-P", lp, "-f", "-F", "NAME,STATE,PID,AUTOSTART,GROUPS,INTERFACE,IPV4,IPV6,UNPRIVILEGED"],
            &["-P", lp, "--running"],
            &["-P", lp, "--stopped"],
            &["-P", lp, "-g", "interop"],
            &["-P", lp, "--active", "-f"],
        ] {
            same(&format!("lxc-ls {args:?}"), &run(debian("lxc-ls"), args), &run(tool("lxc-ls"), args));
        }

        // Our client API against LXC's monitor.
        assert_eq!(client::get_state(&name, &lxcpath).expect("GET_STATE"), State::Running);
        let ipid = client::get_init_pid(&name, &lxcpath).expect("GET_INIT_PID");
        assert!(Path::new(&format!("/proc/{ipid}")).exists());
        assert_eq!(client::get_name(&name, &lxcpath).expect("GET_NAME"), name);
        assert_eq!(client::get_lxcpath(&name, &lxcpath).expect("GET_LXCPATH"), lxcpath);
        assert_eq!(
            client::get_config_item(&name, &lxcpath, "lxc.net.0.type").expect("GET_CONFIG_ITEM").as_deref(),
            Some("empty")
        );
        assert!(client::get_cgroup(&name, &lxcpath, Some("memory")).expect("GET_CGROUP").contains(&name));
        let _pidfd = client::get_init_pidfd(&name, &lxcpath).expect("GET_INIT_PIDFD");
        assert_eq!(client::active_containers(&lxcpath), vec![name.clone()]);

        // Freeze with ours, observe with theirs, thaw with theirs, wait with ours.
        let o = c.ours("lxc-freeze", &[]);
        assert!(o.status.success(), "rlxc lxc-freeze: {}", out(&o));
        assert_eq!(String::from_utf8_lossy(&c.lxc("lxc-info", &["-s"]).stdout), "State:          FROZEN\n");
        same("info frozen", &c.lxc("lxc-info", &["-s"]), &c.ours("lxc-info", &["-s"]));
        same(
            "ls frozen",
            &run(debian("lxc-ls"), &["-P", lp, "--frozen"]),
            &run(tool("lxc-ls"), &["-P", lp, "--frozen"]),
        );
        let o = c.lxc("lxc-unfreeze", &[]);
        assert!(o.status.success(), "Debian lxc-unfreeze: {}", out(&o));
        let o = c.ours("lxc-wait", &["-s", "RUNNING", "-t", "30"]);
        assert!(o.status.success(), "{}", out(&o));
        let o = c.lxc("lxc-freeze", &[]);
        assert!(o.status.success(), "{}", out(&o));
        same("info frozen by debian", &c.lxc("lxc-info", &["-s"]), &c.ours("lxc-info", &["-s"]));
        let o = c.ours("lxc-unfreeze", &[]);
        assert!(o.status.success(), "rlxc lxc-unfreeze: {}", out(&o));
        assert_eq!(String::from_utf8_lossy(&c.lxc("lxc-info", &["-s"]).stdout), "State:          RUNNING\n");

        // STOP through our client: returns once LXC's monitor is gone.
        client::stop(&name, &lxcpath).expect("STOP");
        assert_eq!(client::get_state(&name, &lxcpath).expect("state"), State::Stopped);
        let o = c.ours("lxc-wait", &["-s", "STOPPED", "-t", "30"]);
        assert!(o.status.success(), "{}", out(&o));
        same("info after stop", &c.lxc("lxc-info", &["-s"]), &c.ours("lxc-info", &["-s"]));
    }
    let now = HostState::capture(&lxcpath);
    assert_eq!(before.sockets, now.sockets, "command sockets left");
    assert_eq!(before.monitors, now.monitors, "monitors left");
    assert_eq!(before.mounts, now.mounts, "mounts left");
    let leaked: Vec<&String> = now.cgroups.iter().filter(|c| c.contains(&name)).collect();
    assert!(leaked.is_empty(), "cgroups left: {leaked:?}");
}

/// Listing defined (stopped) containers, including nested ones inside a rootfs and filters,
/// prints the same bytes as Debian's `lxc-ls`. No container runs.
#[test]
fn ls_of_defined_and_nested_containers_matches_debian() {
    let t = "ls_of_defined_and_nested_containers_matches_debian";
    if !require_program(t, "lxc-ls") || !require_tools(t) {
        return;
    }
    let lxcpath = format!("/tmp/rlxc-test-lsnest-{}", std::process::id());
    let _ = std::fs::remove_dir_all(&lxcpath);
    let write = |dir: &str, text: &str| {
        std::fs::create_dir_all(dir).expect("mkdir");
        std::fs::write(format!("{dir}/config"), text).expect("config");
    };
    write(
        &format!("{lxcpath}/alpha"),
        "lxc.uts.name = alpha\nlxc.group = web\nlxc.group = onboot\nlxc.start.auto = 1\n",
    );
    write(
        &format!("{lxcpath}/beta-long-name"),
        &format!("lxc.uts.name = beta\nlxc.rootfs.path = dir:{lxcpath}/beta-long-name/rootfs\nlxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n"),
    );
    let nested = format!("{lxcpath}/beta-long-name/rootfs/{}", lxcpath.trim_start_matches('/'));
    write(&format!("{nested}/inner1"), "lxc.uts.name = inner1\nlxc.group = web\n");
    write(&format!("{nested}/inner2"), "lxc.uts.name = inner2\n");
    let lp = lxcpath.as_str();
    for args in [
        &["-P", lp][..],
        &["-P", lp, "-1"],
        &["-P", lp, "-f"],
        &["-P", lp, "-f", "-F", "NAME,STATE,PID,RAM,SWAP,AUTOSTART,GROUPS,INTERFACE,IPV4,IPV6,UNPRIVILEGED"],
        &["-P", lp, "--nesting"],
        &["-P", lp, "--nesting", "-1"],
        &["-P", lp, "--nesting", "-f"],
        &["-P", lp, "--nesting=0", "-f"],
        &["-P", lp, "--nesting", "-g", "web", "-1"],
        &["-P", lp, "--stopped"],
        &["-P", lp, "--running"],
        &["-P", lp, "--defined", "-f"],
        &["-P", lp, "b.*"],
        &["-P", lp, "--filter", "^a"],
        &["-P", lp, "-g", "web,onboot", "-f"],
        &["-P", lp, "-f", "-F", "name,nope"],
    ] {
        let d = run(debian("lxc-ls"), args);
        let r = run(tool("lxc-ls"), args);
        same(&format!("lxc-ls {args:?}"), &d, &r);
    }
    let j = run(tool("lxc-ls"), &["-P", lp, "--json"]);
    let text = String::from_utf8_lossy(&j.stdout);
    assert!(
        text.starts_with('[') && text.contains("\"name\":\"alpha\"") && text.contains("\"unprivileged\":true"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&lxcpath);
    remove_lock_dir(&lxcpath);
}
