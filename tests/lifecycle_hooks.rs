//! Hooks run where and when LXC runs them, with LXC's environment: version 1 (variables) and
//! version 0 (positional arguments), pre-start / start-host / stop / post-stop in the monitor,
//! mount / start in the container.

mod lifecycle_common;

use lifecycle_common::*;
use rlxc_suite::{busybox_container, HostState, Lxcpath};

fn read(p: &std::path::Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

#[test]
fn version_1_hooks_get_lxcs_environment() {
    if !ready("version_1_hooks_get_lxcs_environment") {
        return;
    }
    let lp = Lxcpath::new("lhv1");
    let name = unique("lhv1");
    let out = lp.path.join("hooks.out");
    let o = out.display();
    let hook = lp.path.join("hook.sh");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\necho \"$LXC_HOOK_TYPE section=$LXC_HOOK_SECTION name=$LXC_NAME cfg=$LXC_CONFIG_FILE rootfs=$LXC_ROOTFS_PATH mount=$LXC_ROOTFS_MOUNT pid=$LXC_PID target=$LXC_TARGET netns=$LXC_NET_NS ver=$LXC_HOOK_VERSION\" >> {o}\n\
             [ -n \"$LXC_NET_NS\" ] && [ -e \"$LXC_NET_NS\" ] && echo \"$LXC_HOOK_TYPE netns-exists\" >> {o}\nexit 0\n"
        ),
    )
    .expect("hook");
    std::os::unix::fs::PermissionsExt::set_mode(&mut std::fs::metadata(&hook).expect("md").permissions(), 0o755);
    std::process::Command::new("chmod").args(["755", hook.to_str().unwrap_or("")]).status().expect("chmod");
    let h = hook.display();
    let dir = busybox_container(
        &lp,
        &name,
        &format!(
            "lxc.hook.version = 1\nlxc.hook.pre-start = {h}\nlxc.hook.start-host = {h}\nlxc.hook.mount = {h}\n\
             lxc.hook.stop = {h}\nlxc.hook.post-stop = {h}\nlxc.hook.start = /bin/sh -c 'echo inside-$LXC_HOOK_TYPE > /started'"
        ),
    );
    let before = HostState::capture(lp.as_str());
    let o = lp.lxc("start", &["-n", &name]);
    assert!(o.status.success(), "start: {}", show(&o));
    assert!(lp.lxc("stop", &["-n", &name, "-k"]).status.success());
    let text = read(&out);
    for kind in ["pre-start", "start-host", "mount", "stop", "post-stop"] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{kind} section=lxc name={name} "))),
            "no {kind} line:\n{text}"
        );
    }
    let cfg = dir.join("config");
    assert!(text.contains(&format!("cfg={}", cfg.display())), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("start-host") && !l.contains("pid= ")),
        "start-host lacks LXC_PID:\n{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("stop") && l.contains("target=stop")), "{text}");
    assert!(text.contains("stop netns-exists"), "stop hook lacks a usable LXC_NET_NS:\n{text}");
    assert_eq!(read(&dir.join("rootfs/started")).trim(), "inside-start");
    assert_clean(&before, &lp, &name);
}

#[test]
fn version_0_hooks_get_positional_arguments() {
    if !ready("version_0_hooks_get_positional_arguments") {
        return;
    }
    let lp = Lxcpath::new("lhv0");
    let name = unique("lhv0");
    let out = lp.path.join("hooks.out");
    let hook = lp.path.join("hook0.sh");
    std::fs::write(&hook, format!("#!/bin/sh\necho \"$@\" >> {}\n", out.display())).expect("hook");
    std::process::Command::new("chmod").args(["755", hook.to_str().unwrap_or("")]).status().expect("chmod");
    busybox_container(&lp, &name, &format!("lxc.hook.pre-start = {0}\nlxc.hook.stop = {0}", hook.display()));
    let o = lp.lxc("start", &["-n", &name]);
    assert!(o.status.success(), "start: {}", show(&o));
    assert!(lp.lxc("stop", &["-n", &name, "-k"]).status.success());
    let text = read(&out);
    assert!(text.lines().any(|l| l == format!("{name} lxc pre-start")), "{text}");
    assert!(text.lines().any(|l| l.starts_with(&format!("{name} lxc stop ")) && l.contains("net:/proc/")), "{text}");
}

/// A hook still running when its lxc-start is SIGKILLed dies with it instead of running on,
/// reparented to init (R5).
#[test]
fn a_running_hook_dies_with_a_killed_lxc_start() {
    if !ready("a_running_hook_dies_with_a_killed_lxc_start") {
        return;
    }
    let lp = Lxcpath::new("lhkill");
    let name = unique("lhkill");
    let pidfile = lp.path.join("hook.pid");
    let hook = lp.path.join("slowhook.sh");
    std::fs::write(&hook, format!("#!/bin/sh\necho $$ > {}\nexec sleep 60\n", pidfile.display())).expect("hook");
    std::process::Command::new("chmod").args(["755", hook.to_str().unwrap_or("")]).status().expect("chmod");
    busybox_container(&lp, &name, &format!("lxc.hook.pre-start = {}\n", hook.display()));
    let before = HostState::capture(lp.as_str());
    let mut start = std::process::Command::new(rlxc_suite::tool("lxc-start"))
        .args(["-P", lp.as_str(), "-n", &name, "-F"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn lxc-start");
    let mut hook_pid = String::new();
    for _ in 0..200 {
        hook_pid = read(&pidfile).trim().to_string();
        if !hook_pid.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!hook_pid.is_empty(), "the pre-start hook never ran");
    let _ = start.kill();
    let _ = start.wait();
    let alive = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
            .unwrap_or(false)
    };
    for _ in 0..100 {
        if !alive(&hook_pid) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let still = alive(&hook_pid);
    if still {
        let _ = std::process::Command::new("kill").args(["-9", &hook_pid]).status();
    }
    assert!(!still, "the hook {hook_pid} outlived its killed lxc-start");
    assert_clean(&before, &lp, &name);
}
