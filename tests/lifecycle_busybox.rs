//! The main job on real busybox containers: lxc-create (template, config only, -f, --dir,
//! failed template), lxc-start (-d handshake, -F with a command and its exit code, -p, -s, -L,
//! already running), lxc-stop (clean, -k, -r, exit code 2), lxc-destroy (-f), the monitor's
//! process title, and nothing left behind.

mod lifecycle_common;

use std::path::Path;

use lifecycle_common::*;
use rlxc_suite::{busybox_container, HostState, Lxcpath};

#[test]
fn busybox_template_create_start_stop_destroy() {
    if !ready("busybox_template_create_start_stop_destroy") {
        return;
    }
    let lp = Lxcpath::new("lcmain");
    let name = unique("bbmain");
    let before = HostState::capture(lp.as_str());
    let o = lp.lxc("create", &["-n", &name, "-t", "busybox"]);
    assert!(o.status.success(), "create: {}", show(&o));
    let cfg = std::fs::read_to_string(lp.path.join(&name).join("config")).expect("config");
    assert!(cfg.contains("# Template used to create this container:"), "{cfg}");
    assert!(cfg.contains("lxc.net.0.type = empty"), "{cfg}");
    assert!(cfg.contains("lxc.signal.halt = SIGUSR1"), "{cfg}");
    assert!(lp.path.join(&name).join("rootfs/bin/busybox").is_file());
    assert!(!lp.path.join(&name).join("partial").exists());

    let o = lp.lxc("start", &["-n", &name]);
    assert!(o.status.success(), "start: {}", show(&o));
    assert_eq!(state(&lp, &name), "RUNNING");
    // The monitor is titled like LXC's.
    let title = format!("[lxc monitor] {} {}", lp.as_str(), name);
    let now = HostState::capture(lp.as_str());
    assert!(now.monitors.iter().any(|m| m.contains(&title)), "no monitor titled {title:?}: {:?}", now.monitors);
    let pid = init_pid(&lp, &name).expect("init pid");
    let o = in_container(pid, "hostname; cat /proc/1/comm; test -c /dev/null && test -c /dev/console && echo devok");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&name) && out.contains("init") && out.contains("devok"), "{}", show(&o));

    let o = lp.lxc("stop", &["-n", &name]);
    assert!(o.status.success(), "stop: {}", show(&o));
    assert_eq!(state(&lp, &name), "STOPPED");
    let o = lp.lxc("destroy", &["-n", &name]);
    assert!(o.status.success(), "destroy: {}", show(&o));
    assert!(!lp.path.join(&name).exists());
    assert_clean(&before, &lp, &name);
}

#[test]
fn start_twice_says_already_running_and_stop_exit_codes() {
    if !ready("start_twice_says_already_running_and_stop_exit_codes") {
        return;
    }
    let lp = Lxcpath::new("lctwice");
    let name = unique("bbtwice");
    busybox_container(&lp, &name, "");
    let before = HostState::capture(lp.as_str());
    let o = lp.lxc("start", &["-n", &name]);
    assert!(o.status.success(), "start: {}", show(&o));
    let o = lp.lxc("start", &["-n", &name]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("already running"), "{}", show(&o));
    // -k: hard stop through the monitor.
    let o = lp.lxc("stop", &["-n", &name, "-k"]);
    assert!(o.status.success(), "stop -k: {}", show(&o));
    // Not running: exit code 2, as LXC's man page says.
    let o = lp.lxc("stop", &["-n", &name]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert_clean(&before, &lp, &name);
}

#[test]
fn foreground_runs_the_command_and_returns_its_exit_code() {
    if !ready("foreground_runs_the_command_and_returns_its_exit_code") {
        return;
    }
    let lp = Lxcpath::new("lcfg");
    let name = unique("bbfg");
    busybox_container(&lp, &name, "");
    let before = HostState::capture(lp.as_str());
    let o = lp.lxc("start", &["-n", &name, "-F", "--", "/bin/sh", "-c", "echo hello-from-$(hostname); exit 7"]);
    assert_eq!(o.status.code(), Some(7), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("hello-from-{name}")), "{}", show(&o));
    assert_clean(&before, &lp, &name);
}

#[test]
fn reboot_restarts_init_under_the_same_monitor() {
    if !ready("reboot_restarts_init_under_the_same_monitor") {
        return;
    }
    let lp = Lxcpath::new("lcreboot");
    let name = unique("bbreboot");
    busybox_container(&lp, &name, "");
    let before = HostState::capture(lp.as_str());
    let o = lp.lxc("start", &["-n", &name]);
    assert!(o.status.success(), "start: {}", show(&o));
    let pid1 = init_pid(&lp, &name).expect("pid");
    let o = lp.lxc("stop", &["-n", &name, "-r", "-t", "60"]);
    assert!(o.status.success(), "stop -r: {}", show(&o));
    let pid2 = init_pid(&lp, &name).expect("pid after reboot");
    assert_ne!(pid1, pid2);
    assert_eq!(state(&lp, &name), "RUNNING");
    let o = lp.lxc("stop", &["-n", &name, "-t", "30"]);
    assert!(o.status.success(), "stop: {}", show(&o));
    assert_clean(&before, &lp, &name);
}

#[test]
fn destroy_refuses_a_running_container_without_force() {
    if !ready("destroy_refuses_a_running_container_without_force") {
        return;
    }
    let lp = Lxcpath::new("lcdestroy");
    let name = unique("bbdestroy");
    busybox_container(&lp, &name, "");
    let before = HostState::capture(lp.as_str());
    assert!(lp.lxc("start", &["-n", &name]).status.success());
    let o = lp.lxc("destroy", &["-n", &name]);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(lp.path.join(&name).join("config").exists());
    let o = lp.lxc("destroy", &["-n", &name, "-f"]);
    assert!(o.status.success(), "destroy -f: {}", show(&o));
    assert!(!lp.path.join(&name).exists());
    assert_clean(&before, &lp, &name);
}

#[test]
fn create_without_template_merges_the_config_file_and_honours_dir() {
    if !ready("create_without_template_merges_the_config_file_and_honours_dir") {
        return;
    }
    let lp = Lxcpath::new("lccreate");
    let name = unique("cfgonly");
    let extra = lp.path.join("extra.conf");
    std::fs::write(&extra, "lxc.uts.name = merged\nlxc.net.0.type = empty\n").expect("write");
    let rootdir = lp.path.join("elsewhere");
    // Without -t LXC refuses; `-t none` creates a container without a template.
    let o = lp.lxc("create", &["-n", &name]);
    assert!(
        !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("A template must be specified"),
        "{}",
        show(&o)
    );
    let o = lp.lxc(
        "create",
        &["-n", &name, "-t", "none", "-f", extra.to_str().unwrap_or(""), "--dir", rootdir.to_str().unwrap_or("")],
    );
    assert!(o.status.success(), "create: {}", show(&o));
    let cfg = std::fs::read_to_string(lp.path.join(&name).join("config")).expect("config");
    assert!(cfg.contains("lxc.uts.name = merged"), "{cfg}");
    assert!(cfg.contains(&format!("lxc.rootfs.path = dir:{}", rootdir.display())), "{cfg}");
    assert!(rootdir.is_dir());
    // A second create of the same name fails and keeps the first.
    let o = lp.lxc("create", &["-n", &name, "-t", "none"]);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(lp.path.join(&name).join("config").exists());
    let o = lp.lxc("destroy", &["-n", &name]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(!rootdir.exists() && !lp.path.join(&name).exists());
}

#[test]
fn failed_template_leaves_no_half_container() {
    if !ready("failed_template_leaves_no_half_container") {
        return;
    }
    let lp = Lxcpath::new("lcpartial");
    let name = unique("partial");
    let o = lp.lxc("create", &["-n", &name, "-t", "/bin/false"]);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(!lp.path.join(&name).exists(), "half-created container left: {}", show(&o));
}

#[test]
fn pidfile_define_and_console_log() {
    if !ready("pidfile_define_and_console_log") {
        return;
    }
    let lp = Lxcpath::new("lcopts");
    let name = unique("bbopts");
    busybox_container(&lp, &name, "");
    let before = HostState::capture(lp.as_str());
    let pidfile = lp.path.join("monitor.pid");
    let conlog = lp.path.join("console.log");
    let o = lp.lxc(
        "start",
        &[
            "-n",
            &name,
            "-p",
            pidfile.to_str().unwrap_or(""),
            "-L",
            conlog.to_str().unwrap_or(""),
            "-s",
            "lxc.uts.name=defined-name",
        ],
    );
    assert!(o.status.success(), "start: {}", show(&o));
    let mpid: i32 = std::fs::read_to_string(&pidfile).expect("pidfile").trim().parse().expect("pid");
    let cmdline = std::fs::read(format!("/proc/{mpid}/cmdline")).expect("monitor alive");
    assert!(String::from_utf8_lossy(&cmdline).contains("[lxc monitor]"));
    let pid = init_pid(&lp, &name).expect("pid");
    let o = in_container(pid, "hostname; echo to-the-console > /dev/console");
    assert!(String::from_utf8_lossy(&o.stdout).contains("defined-name"), "{}", show(&o));
    // The monitor copies console output into the log (poll: it is written asynchronously).
    let mut seen = false;
    for _ in 0..100 {
        if std::fs::read_to_string(&conlog).map(|s| s.contains("to-the-console")).unwrap_or(false) {
            seen = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(seen, "console log {} lacks the output", conlog.display());
    assert!(lp.lxc("stop", &["-n", &name, "-k"]).status.success());
    assert!(!Path::new(&pidfile).exists(), "pid file not removed");
    assert_clean(&before, &lp, &name);
}

#[test]
fn ephemeral_container_is_destroyed_when_it_stops() {
    if !ready("ephemeral_container_is_destroyed_when_it_stops") {
        return;
    }
    let lp = Lxcpath::new("lceph");
    let name = unique("bbeph");
    busybox_container(&lp, &name, "lxc.ephemeral = 1\nlxc.monitor.unshare = 1");
    let before = HostState::capture(lp.as_str());
    let o = lp.lxc("start", &["-n", &name]);
    assert!(o.status.success(), "start: {}", show(&o));
    assert_eq!(state(&lp, &name), "RUNNING");
    let o = lp.lxc("stop", &["-n", &name]);
    assert!(o.status.success(), "stop: {}", show(&o));
    assert!(!lp.path.join(&name).exists(), "ephemeral container still on disk");
    assert_clean(&before, &lp, &name);
}

#[test]
fn console_ring_buffer_and_ttys_are_served_by_the_monitor() {
    if !ready("console_ring_buffer_and_ttys_are_served_by_the_monitor") {
        return;
    }
    let lp = Lxcpath::new("lcring");
    let name = unique("bbring");
    busybox_container(&lp, &name, "lxc.console.buffer.size = 8192\nlxc.tty.max = 2\nlxc.pty.max = 8");
    let before = HostState::capture(lp.as_str());
    let o = lp.lxc("start", &["-n", &name]);
    assert!(o.status.success(), "start: {}", show(&o));
    let pid = init_pid(&lp, &name).expect("pid");
    let o = in_container(
        pid,
        "echo ring-buffer-line > /dev/console; test -c /dev/tty1 && test -c /dev/tty2 && echo ttys-ok",
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("ttys-ok"), "{}", show(&o));
    let req =
        rlxc_core::commands::wire::ConsoleLogRequest { clear: false, read: true, read_max: 0, write_logfile: false };
    let mut got = String::new();
    for _ in 0..100 {
        if let Ok(b) = rlxc_core::commands::client::console_log(&name, lp.as_str(), &req) {
            got = String::from_utf8_lossy(&b).into_owned();
            if got.contains("ring-buffer-line") {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(got.contains("ring-buffer-line"), "ring buffer: {got:?}");
    // A tty slot from the monitor (what lxc-console uses).
    let slot = rlxc_core::commands::client::console(&name, lp.as_str(), -1).expect("console command");
    assert!(slot.is_some(), "no free tty");
    drop(slot);
    assert!(lp.lxc("stop", &["-n", &name, "-k"]).status.success());
    assert_clean(&before, &lp, &name);
}

#[test]
fn create_writes_random_hex_for_the_x_of_a_config_file_hwaddr() {
    if !ready("create_writes_random_hex_for_the_x_of_a_config_file_hwaddr") {
        return;
    }
    // LXC's lxc-test-createconfig.
    let lp = Lxcpath::new("lchw");
    let name = unique("bbhw");
    let extra = lp.path.join("in.conf");
    std::fs::write(&extra, "lxc.net.0.type = empty\nlxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n").expect("write");
    let o = lp.lxc("create", &["-n", &name, "-t", "none", "-f", extra.to_str().unwrap_or("")]);
    assert!(o.status.success(), "create: {}", show(&o));
    let cfg = std::fs::read_to_string(lp.path.join(&name).join("config")).expect("config");
    let line = cfg.lines().find(|l| l.starts_with("lxc.net.0.hwaddr")).unwrap_or("");
    let mac = line.split('=').nth(1).unwrap_or("").trim();
    assert!(mac.starts_with("00:16:3e:") && mac.len() == 17, "{cfg}");
    assert!(mac.chars().all(|c| c.is_ascii_hexdigit() || c == ':'), "{cfg}");
    let o = lp.lxc("destroy", &["-n", &name]);
    assert!(o.status.success(), "{}", show(&o));
}

#[test]
fn busybox_template_makes_busybox_setuid_as_lxc() {
    if !ready("busybox_template_makes_busybox_setuid_as_lxc") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let lp = Lxcpath::new("lcsuid");
    let name = unique("bbsuid");
    let o = lp.lxc("create", &["-n", &name, "-t", "busybox"]);
    assert!(o.status.success(), "create: {}", show(&o));
    let md = std::fs::metadata(lp.path.join(&name).join("rootfs/bin/busybox")).expect("busybox");
    assert_eq!(md.permissions().mode() & 0o7777, 0o6755);
    let o = lp.lxc("destroy", &["-n", &name]);
    assert!(o.status.success(), "{}", show(&o));
}

#[test]
fn ttys_without_pty_max_come_from_the_host_devpts() {
    if !ready("ttys_without_pty_max_come_from_the_host_devpts") {
        return;
    }
    let lp = Lxcpath::new("lctty");
    let name = unique("bbtty");
    busybox_container(&lp, &name, "lxc.autodev = 1\nlxc.tty.max = 2");
    let before = HostState::capture(lp.as_str());
    let o = lp.lxc("start", &["-n", &name]);
    assert!(o.status.success(), "start: {}", show(&o));
    let pid = init_pid(&lp, &name).expect("pid");
    let o = in_container(pid, "test -c /dev/tty1 && test -c /dev/tty2 && echo ttys-ok");
    assert!(String::from_utf8_lossy(&o.stdout).contains("ttys-ok"), "{}", show(&o));
    let slot = rlxc_core::commands::client::console(&name, lp.as_str(), 1).expect("console command");
    assert!(slot.is_some(), "tty1 not served");
    drop(slot);
    assert!(lp.lxc("stop", &["-n", &name, "-k"]).status.success());
    assert_clean(&before, &lp, &name);
}
