//! A Debian container with systemd as init boots with rlxc's cgroup layout (`lxc.mount.auto =
//! cgroup:mixed`, cgroup namespace) and creates its own sub-cgroups inside the payload; a clean
//! shutdown (`lxc.signal.halt = SIGRTMIN+3`) leaves no cgroup behind. Not part of the VM run:
//! a systemd boot under the emulated VM takes longer than its whole budget.

use rlxc_cgroup::Layout;
use rlxc_suite::*;
use std::path::Path;

mod cgroup_common;
use cgroup_common::cgroups_named;

fn wait_for(path: &Path, needle: &str, tenths: u32) -> bool {
    for _ in 0..tenths {
        if std::fs::read_to_string(path).unwrap_or_default().contains(needle) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

#[test]
fn debian_systemd_boots_and_shuts_down_cleanly() {
    let t = "debian_systemd_boots_and_shuts_down_cleanly";
    if !require_root(t) || !require_tools(t) || !require_program(t, "debootstrap") {
        return;
    }
    let lp = Lxcpath::new("cgsd");
    let name = format!("sd-{}", std::process::id());
    let dir = lp.path.join(&name);
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(&dir).unwrap();
    let tool = repo_root().join("../shared/tools/rootfs");
    let out = run(&tool, &["debian", rootfs.to_str().unwrap()]);
    if !out.status.success() {
        skip(t, &format!("cannot build the Debian rootfs: {}", String::from_utf8_lossy(&out.stderr)));
        return;
    }
    let console = dir.join("console.log");
    std::fs::write(
        dir.join("config"),
        format!(
            "lxc.uts.name = {name}\nlxc.rootfs.path = dir:{}\nlxc.net.0.type = empty\n\
             lxc.mount.auto = cgroup:mixed proc:mixed sys:mixed\nlxc.tty.max = 1\nlxc.pty.max = 16\n\
             lxc.signal.halt = SIGRTMIN+3\nlxc.console.logfile = {}\nlxc.apparmor.profile = unconfined\n",
            rootfs.display(),
            console.display()
        ),
    )
    .unwrap();
    let before = HostState::capture(lp.as_str());
    lp.lxc_ok("start", &["-n", &name, "-l", "debug", "-o", &format!("{}/{name}.log", lp.as_str())]);
    let booted = wait_for(&console, "Reached target multi-user.target", 1200);
    let log = std::fs::read_to_string(&console).unwrap_or_default();
    assert!(booted, "systemd did not reach multi-user.target; console:\n{log}");
    assert!(!log.contains("Failed to mount"), "console:\n{log}");
    // systemd made its own cgroups inside the payload (init.scope, system.slice).
    let l = Layout::detect().unwrap();
    let h = l.v1_for("name=systemd").or_else(|| l.unified()).unwrap();
    let payload = h.dir_of(&format!("/lxc.payload.{name}"));
    assert!(payload.join("init.scope").is_dir(), "no init.scope in {}", payload.display());
    // Clean shutdown through lxc.signal.halt.
    lp.lxc_ok("stop", &["-n", &name, "-t", "60"]);
    assert!(cgroups_named(&format!(".{name}")).is_empty(), "{:?}", cgroups_named(&name));
    let now = HostState::capture(lp.as_str());
    let new: Vec<_> = now.mounts.difference(&before.mounts).collect();
    assert!(new.is_empty(), "mounts left: {new:?}");
}
