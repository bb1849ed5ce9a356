//! lxc-execute and init.lxc on real busybox containers: the command's exit status (codes,
//! signals, cannot exec), init.lxc as PID 1 injected from the host, `lxc.execute.cmd`, a
//! container without a rootfs, `-d` with lxc-attach and lxc-stop, `-u`/`-g`, `-s`, and init.lxc
//! itself (reaping orphans, SIGTERM shutdown, flags).

mod attach_common;

use std::process::{Command, Stdio};

use attach_common::*;
use rlxc_suite::{busybox_container, tool, HostState, Lxcpath};

/// lxc-execute in `lp` with a static init.lxc.
fn execute(lp: &Lxcpath, init: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut full = vec!["-P", lp.as_str()];
    full.extend_from_slice(args);
    run_env("lxc-execute", &full, &[("RLXC_INIT_LXC", init.to_str().unwrap_or(""))])
}

#[test]
fn exit_status_of_the_command_is_propagated() {
    let test = "exit_status_of_the_command_is_propagated";
    if !ready(test) {
        return;
    }
    let Some(init) = static_init_lxc(test) else { return };
    let lp = Lxcpath::new("exrc");
    let name = unique("exrc");
    let before = HostState::capture(lp.as_str());
    busybox_container(&lp, &name, "lxc.mount.auto = proc:mixed");
    for (script, code) in [("exit 0", 0), ("exit 1", 1), ("exit 42", 42), ("kill -9 $$", 137)] {
        let o = execute(&lp, &init, &["-n", &name, "--", "/bin/sh", "-c", script]);
        assert_eq!(o.status.code(), Some(code), "{script}: {}", show(&o));
    }
    let o = execute(&lp, &init, &["-n", &name, "--", "/does/not/exist"]);
    assert_eq!(o.status.code(), Some(127), "{}", show(&o));
    // Output goes to our stdout; init.lxc is PID 1 and came from the host (not in the rootfs).
    let o = execute(
        &lp,
        &init,
        &["-n", &name, "--", "/bin/sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname"],
    );
    assert!(o.status.success(), "{}", show(&o));
    let text = out(&o);
    assert!(text.starts_with("/.lxc-init -n "), "{text}");
    assert!(text.contains(&name), "{text}");
    assert!(!lp.path.join(&name).join("rootfs/.lxc-init").exists(), "placeholder removed");
    assert_clean(&before, &lp, &name);
}

#[test]
fn execute_cmd_defines_ids_and_no_rootfs() {
    let test = "execute_cmd_defines_ids_and_no_rootfs";
    if !ready(test) {
        return;
    }
    let Some(init) = static_init_lxc(test) else { return };
    let lp = Lxcpath::new("excmd");
    let name = unique("excmd");
    let before = HostState::capture(lp.as_str());
    let dir = busybox_container(&lp, &name, "lxc.execute.cmd = /bin/sh -c 'exit 7'");
    let o = execute(&lp, &init, &["-n", &name]);
    assert_eq!(o.status.code(), Some(7), "lxc.execute.cmd: {}", show(&o));
    let o = execute(&lp, &init, &["-n", &name, "-s", "lxc.uts.name=defined", "--", "hostname"]);
    assert_eq!(out(&o), "defined\n", "{}", show(&o));
    let o = execute(&lp, &init, &["-n", &name, "-u", "1000", "-g", "1001", "--", "/bin/sh", "-c", "id -u; id -g"]);
    assert_eq!(out(&o), "1000\n1001\n", "{}", show(&o));
    let o = execute(&lp, &init, &["-n", &name, "-u", "nobody", "--", "true"]);
    assert!(!o.status.success());
    // -f: a config file outside the lxcpath.
    let rc = lp.path.join("other.conf");
    std::fs::write(&rc, std::fs::read_to_string(dir.join("config")).expect("config") + "lxc.uts.name = fromrc\n")
        .expect("write rcfile");
    let o = execute(&lp, &init, &["-n", &name, "-f", rc.to_str().unwrap_or(""), "--", "hostname"]);
    assert_eq!(out(&o), "fromrc\n", "{}", show(&o));

    // Without a rootfs the host's filesystem is used (and the host's init.lxc path directly).
    let bare = unique("exbare");
    std::fs::create_dir_all(lp.path.join(&bare)).expect("mkdir");
    std::fs::write(lp.path.join(&bare).join("config"), format!("lxc.uts.name = {bare}\nlxc.net.0.type = empty\n"))
        .expect("config");
    let marker = lp.path.join("host-marker");
    std::fs::write(&marker, "x").expect("marker");
    let o = execute(
        &lp,
        &init,
        &["-n", &bare, "--", "/bin/sh", "-c", &format!("hostname; test -e {} && exit 9", marker.display())],
    );
    assert_eq!(o.status.code(), Some(9), "{}", show(&o));
    assert_eq!(out(&o), format!("{bare}\n"));
    assert_clean(&before, &lp, &name);
}

#[test]
fn daemonized_execute_can_be_attached_and_stopped() {
    let test = "daemonized_execute_can_be_attached_and_stopped";
    if !ready(test) {
        return;
    }
    let Some(init) = static_init_lxc(test) else { return };
    let lp = Lxcpath::new("exd");
    let name = unique("exd");
    let before = HostState::capture(lp.as_str());
    busybox_container(&lp, &name, "lxc.mount.auto = proc:mixed\nlxc.signal.halt = SIGTERM");
    let o = execute(&lp, &init, &["-n", &name, "-d", "--", "sleep", "1000"]);
    assert!(o.status.success(), "{}", show(&o));
    let a = lp.lxc("attach", &["-n", &name, "--", "/bin/sh", "-c", "cat /proc/1/comm; cat /proc/2/comm"]);
    let text = out(&a);
    assert!(text.starts_with(".lxc-init\nsleep\n") || text.starts_with("init.lxc\nsleep\n"), "{}", show(&a));
    // An orphan in the container is reaped by init.lxc, and SIGTERM (lxc-stop) ends everything.
    let a = lp.lxc("attach", &["-n", &name, "--", "/bin/sh", "-c", "(sleep 1000 >/dev/null 2>&1 &) ; true"]);
    assert!(a.status.success(), "{}", show(&a));
    let s = lp.lxc("stop", &["-n", &name, "-t", "30"]);
    assert!(s.status.success(), "{}", show(&s));
    let _ = lp.lxc("destroy", &["-n", &name, "-f"]);
    assert_clean(&before, &lp, &name);
}

#[test]
fn init_lxc_flags_status_and_shutdown() {
    let test = "init_lxc_flags_status_and_shutdown";
    if !ready(test) {
        return;
    }
    let Some(init) = static_init_lxc(test) else { return };
    let o = Command::new(&init).arg("--version").output().expect("run");
    assert!(o.status.success() && out(&o).contains("init.lxc"), "{}", show(&o));
    let o = Command::new(&init).arg("--usage").output().expect("run");
    assert!(o.status.success(), "{}", show(&o));
    let o = Command::new(&init).args(["-n", "x"]).output().expect("run");
    assert_eq!(o.status.code(), Some(1), "no command: {}", show(&o));
    let o = Command::new(&init)
        .args(["-q", "-n", "x", "-P", "/tmp", "--", "/bin/sh", "-c", "exit 3"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(3));
    let o = Command::new(&init).args(["--", "/bin/sh", "-c", "kill -TERM $$"]).output().expect("run");
    assert_eq!(o.status.code(), Some(143));
    // Not PID 1 here: SIGTERM goes to the command only; it ends and init exits with its status.
    let mut child = Command::new(&init)
        .args(["--", "/bin/sh", "-c", "echo up; exec sleep 1000"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut buf = [0u8; 3];
    use std::io::Read;
    child.stdout.take().expect("stdout").read_exact(&mut buf).expect("up");
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert_eq!(child.wait().expect("wait").code(), Some(143));
    // SIGHUP is ignored (not forwarded): SIGUSR1 afterwards is what ends the command.
    let mut child = Command::new(&init)
        .args(["--", "/bin/sh", "-c", "echo up; exec sleep 1000"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdout.take().expect("stdout").read_exact(&mut buf).expect("up");
    let _ = Command::new("kill").args(["-HUP", &child.id().to_string()]).status();
    let _ = Command::new("kill").args(["-USR1", &child.id().to_string()]).status();
    assert_eq!(child.wait().expect("wait").code(), Some(138));
    let _ = tool("init.lxc");
}

#[test]
fn lxcs_own_exit_code_test_passes() {
    let test = "lxcs_own_exit_code_test_passes";
    if !ready(test) {
        return;
    }
    let Some(init) = static_init_lxc(test) else { return };
    let script = std::path::Path::new("/usr/bin/lxc-test-exit-code");
    if !script.is_file() {
        rlxc_suite::skip(test, "lxc-tests (lxc-test-exit-code) is not installed");
        return;
    }
    // LXC's script, with our tools, a private lxcpath and a unique name.
    let lp = Lxcpath::new("exlxc");
    let name = unique("exlxc");
    let before = HostState::capture(lp.as_str());
    let text = std::fs::read_to_string(script).expect("read");
    let patched = text.replace(" -n busy", &format!(" -P {} -n {name}", lp.as_str()));
    let path = lp.path.join("lxc-test-exit-code.sh");
    std::fs::write(&path, patched).expect("write");
    let bin = tool("lxc-execute");
    let dir = bin.parent().expect("bin dir");
    let o = Command::new("sh")
        .arg(&path)
        .env("PATH", format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default()))
        .env("RLXC_INIT_LXC", &init)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(o.status.success(), "lxc-test-exit-code: {}", show(&o));
    assert_clean(&before, &lp, &name);
}
