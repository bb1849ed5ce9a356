//! lxc-attach on real busybox containers started by rlxc: every option, exit codes as a shell
//! reports them, namespaces, cgroup placement, confinement, environment, ids, personality,
//! /proc remount, the default shell, pty allocation and signal forwarding, and the clear errors
//! for stopped and frozen containers.

mod attach_common;

use std::process::{Command, Stdio};

use attach_common::*;
use rlxc_suite::{tool, Lxcpath};

#[test]
fn exit_codes_are_a_shells() {
    if !ready("exit_codes_are_a_shells") {
        return;
    }
    let lp = Lxcpath::new("atexit");
    let c = Running::start(&lp, "atexit", "", &[]);
    for (script, code) in [("exit 0", 0), ("exit 1", 1), ("exit 42", 42), ("kill -9 $$", 137), ("kill -TERM $$", 143)] {
        let o = c.attach(&["--", "/bin/sh", "-c", script]);
        assert_eq!(o.status.code(), Some(code), "{script}: {}", show(&o));
    }
    // Cannot exec: 127 when missing, 126 when not executable, with a message.
    let o = c.attach(&["--", "/does/not/exist"]);
    assert_eq!(o.status.code(), Some(127), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/does/not/exist"), "{}", show(&o));
    let o = c.attach(&["--", "/etc/passwd"]);
    assert_eq!(o.status.code(), Some(126), "{}", show(&o));
    // Command without `--`.
    let o = c.attach(&["hostname"]);
    assert_eq!(out(&o).trim(), c.name, "{}", show(&o));
}

#[test]
fn joins_every_namespace_and_the_lxc_leaf_cgroup() {
    if !ready("joins_every_namespace_and_the_lxc_leaf_cgroup") {
        return;
    }
    let lp = Lxcpath::new("atns");
    // With AppArmor (the VM), init runs under the profile rlxc generates (see Running::start),
    // which the attached process must get too.
    let c = Running::start(&lp, "atns", "", &[]);
    let o = c.sh(
        &[],
        "hostname; for n in pid mnt uts ipc net; do readlink /proc/self/ns/$n 2>&1; done; \
         cat /proc/self/cgroup; echo $container",
    );
    let lines: Vec<&str> = o.lines().collect();
    assert_eq!(lines[0], c.name);
    for (i, ns) in ["pid", "mnt", "uts", "ipc", "net"].iter().enumerate() {
        let ours = std::fs::read_link(format!("/proc/self/ns/{ns}")).expect("ns link");
        let theirs = lines.get(1 + i).copied().unwrap_or("");
        assert!(theirs.starts_with(&format!("{ns}:[")), "cannot read the {ns} namespace link: {o}");
        assert_ne!(theirs, ours.to_string_lossy(), "{ns} namespace not joined: {o}");
    }
    // cgroup2: the .lxc leaf under the payload (seen from the container's cgroup namespace).
    assert!(o.lines().any(|l| l == "0::/.lxc"), "{o}");
    // v1 hierarchies: the payload itself (the namespace root).
    if std::path::Path::new("/sys/fs/cgroup/memory").is_dir() {
        assert!(o.lines().any(|l| l.ends_with(":memory:/")), "{o}");
    }
    assert_eq!(lines.last().copied(), Some("lxc"));
    // The LSM label of init (AppArmor in the VM, possibly a stacked label in an AppArmor
    // namespace, shown relative to the viewer) is the attached process's too: compare the two
    // from the same place, inside the container.
    let pid = out(&lp.lxc("info", &["-n", &c.name, "-p", "-H"])).trim().to_string();
    let init_label = std::fs::read_to_string(format!("/proc/{pid}/attr/current")).unwrap_or_default();
    if !init_label.is_empty() && !init_label.starts_with("unconfined") {
        let o = c.sh(&[], "cat /proc/1/attr/current; echo; cat /proc/self/attr/current");
        let l: Vec<&str> = o.lines().map(|x| x.trim_end_matches('\0')).filter(|x| !x.is_empty()).collect();
        assert!(l.len() == 2 && l[0] == l[1], "LSM label of the attached process differs from init's: {o:?}");
        let o = c.sh(&["-e=LSM"], "cat /proc/1/attr/current; echo; cat /proc/self/attr/current");
        let l: Vec<&str> = o.lines().map(|x| x.trim_end_matches('\0')).filter(|x| !x.is_empty()).collect();
        assert!(l.len() == 2 && l[0] != l[1], "-e=LSM should keep our own label: {o:?}");
    }
}

#[test]
fn namespaces_option_joins_only_those_and_implies_elevated() {
    if !ready("namespaces_option_joins_only_those_and_implies_elevated") {
        return;
    }
    let lp = Lxcpath::new("ats");
    let c = Running::start(&lp, "ats", "", &[]);
    let marker = lp.path.join("host-only-file");
    std::fs::write(&marker, "x").expect("marker");
    // UTS only: the container's hostname, the host's filesystem.
    let o = c.sh(&["-s", "UTSNAME"], &format!("hostname; test -e {} && echo HOSTFS", marker.display()));
    assert_eq!(o, format!("{}\nHOSTFS\n", c.name));
    // -s implies -e: no cgroup move.
    let o = c.sh(&["-s", "UTSNAME|IPC"], "cat /proc/self/cgroup");
    assert!(!o.lines().any(|l| l.ends_with("/.lxc")), "{o}");
    // Bad names are refused.
    let o = c.attach(&["-s", "BOGUS", "--", "true"]);
    assert!(!o.status.success(), "{}", show(&o));
}

#[test]
fn remount_sys_proc_shows_the_joined_pid_namespace() {
    if !ready("remount_sys_proc_shows_the_joined_pid_namespace") {
        return;
    }
    let lp = Lxcpath::new("atR");
    let c = Running::start(&lp, "atR", "", &[]);
    // PID namespace without the mount namespace: /proc is the host's unless -R.
    let without = c.sh(&["-s", "PID"], "cat /proc/1/comm");
    let with = c.sh(&["-s", "PID", "-R"], "cat /proc/1/comm; ls /proc | grep -c '^[0-9]'");
    let host_init = std::fs::read_to_string("/proc/1/comm").expect("host comm");
    assert_eq!(without, host_init);
    let mut w = with.lines();
    assert_eq!(w.next(), Some("init"), "{with}");
    let count: usize = w.next().and_then(|n| n.parse().ok()).unwrap_or(999);
    assert!(count < 20, "the remounted /proc should show only the container's processes: {with}");
    // The host's /proc is untouched.
    assert_eq!(std::fs::read_to_string("/proc/1/comm").expect("comm"), host_init);
}

#[test]
fn capabilities_follow_init_unless_elevated() {
    if !ready("capabilities_follow_init_unless_elevated") {
        return;
    }
    let lp = Lxcpath::new("atcap");
    let c = Running::start(&lp, "atcap", "lxc.cap.drop = sys_time sys_module", &[]);
    let bnd = |o: &str| {
        o.lines()
            .find_map(|l| l.strip_prefix("CapBnd:"))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(0)
    };
    let sys_time = 1u64 << 25;
    let sys_module = 1u64 << 16;
    let o = c.sh(&[], "grep CapBnd /proc/self/status");
    assert_eq!(bnd(&o) & (sys_time | sys_module), 0, "{o}");
    let o = c.sh(&["-e=CAP"], "grep CapBnd /proc/self/status; cat /proc/self/cgroup");
    assert_ne!(bnd(&o) & sys_time, 0, "-e=CAP keeps the capability: {o}");
    assert!(o.lines().any(|l| l == "0::/.lxc"), "-e=CAP still moves into the cgroup: {o}");
    let o = c.sh(&["-e=CGROUP"], "grep CapBnd /proc/self/status; cat /proc/self/cgroup");
    assert_eq!(bnd(&o) & sys_time, 0, "{o}");
    assert!(!o.lines().any(|l| l == "0::/.lxc"), "-e=CGROUP stays out of the container cgroup: {o}");
    let o = c.sh(&["-e"], "grep CapBnd /proc/self/status");
    assert_ne!(bnd(&o) & sys_time, 0, "{o}");
    let o = c.attach(&["-e=NET", "--", "true"]);
    assert!(!o.status.success(), "{}", show(&o));
}

#[test]
fn environment_policies() {
    if !ready("environment_policies") {
        return;
    }
    let lp = Lxcpath::new("atenv");
    let c = Running::start(&lp, "atenv", "lxc.environment = FROM_CONFIG=yes", &[]);
    let run = |args: &[&str]| {
        let mut a = vec!["-P", lp.as_str(), "-n", c.name.as_str()];
        a.extend_from_slice(args);
        a.extend_from_slice(&["--", "/bin/sh", "-c", "env | sort"]);
        let o = Command::new(tool("lxc-attach"))
            .args(&a)
            .env("RLXC_TEST_KEEP", "kept")
            .env("RLXC_TEST_OTHER", "other")
            .stdin(Stdio::null())
            .output()
            .expect("run lxc-attach");
        assert!(o.status.success(), "{}", show(&o));
        out(&o)
    };
    let keep = run(&[]);
    assert!(keep.contains("RLXC_TEST_KEEP=kept\n") && keep.contains("container=lxc\n"), "{keep}");
    assert!(keep.contains("FROM_CONFIG=yes\n"), "lxc.environment: {keep}");
    let keep2 = run(&["--keep-env"]);
    assert!(keep2.contains("RLXC_TEST_OTHER=other\n"), "{keep2}");
    let clear = run(&["--clear-env", "--keep-var", "RLXC_TEST_KEEP", "-v", "SET_BY_V=1", "--set-var", "TWO=2"]);
    assert!(clear.contains("RLXC_TEST_KEEP=kept\n"), "{clear}");
    assert!(!clear.contains("RLXC_TEST_OTHER"), "{clear}");
    assert!(clear.contains("SET_BY_V=1\n") && clear.contains("TWO=2\n"), "{clear}");
    assert!(clear.contains("container=lxc\n"), "{clear}");
    assert!(clear.contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"), "{clear}");
}

#[test]
fn uid_gid_arch_and_default_shell() {
    if !ready("uid_gid_arch_and_default_shell") {
        return;
    }
    let lp = Lxcpath::new("atids");
    let c = Running::start(&lp, "atids", "", &[]);
    assert_eq!(c.sh(&["-u", "1000", "-g", "1001"], "id -u; id -g"), "1000\n1001\n");
    assert_eq!(c.sh(&["--uid=65534"], "id -u"), "65534\n");
    if std::env::consts::ARCH == "x86_64" {
        assert_eq!(c.sh(&["-a", "i686"], "uname -m"), "i686\n");
        assert_eq!(c.sh(&["--arch=x86_64"], "uname -m"), "x86_64\n");
    }
    let o = c.attach(&["-a", "vax", "--", "true"]);
    assert!(!o.status.success());
    // No command: root's shell from the container's /etc/passwd, reading our stdin.
    let mut child = Command::new(tool("lxc-attach"))
        .args(["-P", lp.as_str(), "-n", &c.name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut i = child.stdin.take().expect("stdin");
        let _ = i.write_all(b"echo shell=$0; hostname; exit 7\n");
    }
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(7), "{}", show(&o));
    assert_eq!(out(&o), format!("shell=/bin/sh\n{}\n", c.name));
}

#[test]
fn not_running_and_frozen_are_clear_errors() {
    if !ready("not_running_and_frozen_are_clear_errors") {
        return;
    }
    let lp = Lxcpath::new("atfrz");
    let o = lp.lxc("attach", &["-n", "never-started", "--", "true"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not running"), "{}", show(&o));
    let c = Running::start(&lp, "atfrz", "", &[]);
    let f = lp.lxc("freeze", &["-n", &c.name]);
    if !f.status.success() {
        rlxc_suite::skip("not_running_and_frozen_are_clear_errors", &format!("lxc-freeze failed: {}", show(&f)));
        return;
    }
    // Under `timeout` so a regression hangs no test run.
    let o = Command::new("timeout")
        .args(["60", tool("lxc-attach").to_str().unwrap_or(""), "-P", lp.as_str(), "-n", &c.name, "--", "true"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("frozen"), "{}", show(&o));
    let u = lp.lxc("unfreeze", &["-n", &c.name]);
    assert!(u.status.success(), "{}", show(&u));
    assert_eq!(c.sh(&[], "echo thawed"), "thawed\n");
}

#[test]
fn signals_sent_to_lxc_attach_reach_the_command() {
    if !ready("signals_sent_to_lxc_attach_reach_the_command") {
        return;
    }
    let lp = Lxcpath::new("atsig");
    let c = Running::start(&lp, "atsig", "", &[]);
    let mut child = Command::new(tool("lxc-attach"))
        .args(["-P", lp.as_str(), "-n", &c.name, "--", "/bin/sh", "-c", "echo ready; exec sleep 1000"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until the command runs (it says so), then signal lxc-attach itself.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut buf = [0u8; 6];
    use std::io::Read;
    stdout.read_exact(&mut buf).expect("ready line");
    assert_eq!(&buf, b"ready\n");
    // lxc-attach runs from a sealed image of itself (CVE-2019-5736 class): its binary opened
    // through a private read-only overlay, or a sealed memfd copy.
    let exe_path = format!("/proc/{}/exe", child.id());
    let exe = std::fs::read_link(&exe_path).expect("exe link");
    let fs = Command::new("stat").args(["-L", "-f", "-c", "%t", &exe_path]).output().expect("stat -f");
    let fs = String::from_utf8_lossy(&fs.stdout).trim().to_string();
    assert!(
        exe.to_string_lossy().starts_with("/memfd:") || fs == "794c7630",
        "not re-executed from a sealed image: {} on fs {fs}",
        exe.display()
    );
    let _ = Command::new("kill").args(["-USR1", &child.id().to_string()]).status();
    let st = child.wait().expect("wait");
    assert_eq!(st.code(), Some(128 + 10), "SIGUSR1 forwarded, status 138");
}

#[test]
fn pty_for_terminal_fds_with_log_and_window_size() {
    if !ready("pty_for_terminal_fds_with_log_and_window_size") {
        return;
    }
    let lp = Lxcpath::new("atpty");
    let c = Running::start(&lp, "atpty", "", &[]);
    let log = lp.path.join("pty.log");
    let cmd = c.attach_cmdline(&format!(
        "-L {} -- /bin/sh -c 'test -t 0 && test -t 1 && echo ALL-TTY; stty size; exit 5'",
        log.display()
    ));
    let Some(o) = in_pty("pty_for_terminal_fds_with_log_and_window_size", &format!("stty rows 33 cols 101; {cmd}"), "")
    else {
        return;
    };
    assert_eq!(o.status.code(), Some(5), "{}", show(&o));
    let text = out(&o);
    assert!(text.contains("ALL-TTY"), "{text}");
    assert!(text.contains("33 101"), "window size copied: {text}");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(logged.contains("ALL-TTY"), "pty log: {logged:?}");
    // stdout redirected: only stdin/stderr get the pty, stdout stays the file.
    let file = lp.path.join("out.txt");
    let cmd = c.attach_cmdline(&format!("-- /bin/sh -c 'test -t 1 || echo NOT-TTY' > {}", file.display()));
    let o = in_pty("pty_for_terminal_fds_with_log_and_window_size", &cmd, "").expect("script");
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(std::fs::read_to_string(&file).unwrap_or_default(), "NOT-TTY\n");
}

#[test]
fn interactive_shell_over_a_pty() {
    if !ready("interactive_shell_over_a_pty") {
        return;
    }
    let lp = Lxcpath::new("atint");
    let c = Running::start(&lp, "atint", "", &[]);
    let Some(o) = in_pty("interactive_shell_over_a_pty", &c.attach_cmdline(""), "echo answer-$((6*7))\n\u{1e}exit 3\n")
    else {
        return;
    };
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(out(&o).contains("answer-42"), "{}", show(&o));
}

#[test]
fn lxcs_own_attach_redirection_test_passes() {
    let test = "lxcs_own_attach_redirection_test_passes";
    if !ready(test) {
        return;
    }
    let script = std::path::Path::new("/usr/bin/lxc-test-lxc-attach");
    if !script.is_file() {
        rlxc_suite::skip(test, "lxc-tests (lxc-test-lxc-attach) is not installed");
        return;
    }
    // LXC's script with a private lxcpath and our container instead of `busy` in /var/lib/lxc.
    let lp = Lxcpath::new("atlxc");
    let c = Running::start(&lp, "atlxc", "", &[]);
    let text = std::fs::read_to_string(script).expect("read script");
    let mut patched = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("lxc-create")
            || t.starts_with("lxc-start")
            || t.starts_with("lxc-wait")
            || t.starts_with("lxc-destroy")
        {
            continue;
        }
        patched.push_str(
            &line
                .replace("lxc-attach -n busy", &format!("lxc-attach -P {} -n {}", lp.as_str(), c.name))
                .replace("\"busy\"", &format!("\"{}\"", c.name)),
        );
        patched.push('\n');
    }
    let path = lp.path.join("lxc-test-lxc-attach.sh");
    std::fs::write(&path, patched).expect("write script");
    let bin = tool("lxc-attach");
    let dir = bin.parent().expect("bin dir");
    let env_path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default());
    let o = Command::new("sh").arg(&path).env("PATH", &env_path).stdin(Stdio::null()).output().expect("run");
    assert!(o.status.success(), "lxc-test-lxc-attach (no tty): {}", show(&o));
    // And with every standard fd a terminal (the pty branch of the script).
    if let Some(o) = in_pty(test, &format!("PATH={env_path} sh {}", path.display()), "") {
        assert!(o.status.success(), "lxc-test-lxc-attach (pty): {}", show(&o));
        assert!(out(&o).contains("All standard file descriptors refer to a pty"), "{}", show(&o));
    }
}

#[test]
fn user_namespace_is_joined_first() {
    let test = "user_namespace_is_joined_first";
    if !ready(test) {
        return;
    }
    let lp = Lxcpath::new("atuser");
    let name = unique("atuser");
    let before = rlxc_suite::HostState::capture(lp.as_str());
    let dir = rlxc_suite::busybox_container(
        &lp,
        &name,
        "lxc.mount.auto = proc:mixed sys:ro cgroup:mixed\nlxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536",
    );
    let st = Command::new("chown").args(["-R", "100000:100000"]).arg(dir.join("rootfs")).status().expect("chown");
    assert!(st.success());
    let o = lp.lxc("start", &["-n", &name]);
    if !o.status.success() {
        rlxc_suite::skip(test, &format!("cannot start a container with an idmap here: {}", show(&o)));
        return;
    }
    let a = lp.lxc("attach", &["-n", &name, "--", "/bin/sh", "-c", "id -u; cat /proc/self/uid_map; hostname"]);
    let b = lp.lxc("attach", &["-n", &name, "-u", "1000", "--", "/bin/sh", "-c", "id -u"]);
    let pid = lp.lxc("info", &["-n", &name, "-p", "-H"]);
    let _ = lp.lxc("stop", &["-n", &name, "-k"]);
    let _ = lp.lxc("destroy", &["-n", &name, "-f"]);
    assert!(a.status.success(), "{}", show(&a));
    let text = out(&a);
    let mut l = text.lines();
    assert_eq!(l.next(), Some("0"), "{text}");
    assert_eq!(
        l.next().map(|m| m.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["0", "100000", "65536"]),
        "{text}"
    );
    assert_eq!(l.next(), Some(name.as_str()));
    assert_eq!(out(&b), "1000\n", "{}", show(&b));
    assert!(pid.status.success());
    assert_clean(&before, &lp, &name);
}

#[test]
fn setuid_programs_work_for_users_unless_no_new_privs() {
    if !ready("setuid_programs_work_for_users_unless_no_new_privs") {
        return;
    }
    // LXC's lxc-test-no-new-privs: busybox setuid root (as the busybox template makes it), ping
    // as uid 1000 works with lxc.no_new_privs = 0 and fails with 1.
    let lp = Lxcpath::new("atnnp");
    for (nnp, works) in [("0", true), ("1", false)] {
        let c = Running::start(&lp, "atnnp", &format!("lxc.no_new_privs = {nnp}"), &[]);
        let bb = c.dir.join("rootfs/bin/busybox");
        let o = Command::new("chmod").arg("6755").arg(&bb).output().expect("chmod");
        assert!(o.status.success(), "{}", show(&o));
        let o = c.attach(&["--clear-env", "--uid", "1000", "--gid", "1000", "--", "ping", "-c", "1", "127.0.0.1"]);
        assert_eq!(o.status.success(), works, "lxc.no_new_privs = {nnp}: {}", show(&o));
    }
}
