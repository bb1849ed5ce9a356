//! Interoperability the other way round: a busybox container started by rlxc's `lxc-start`
//! (so its monitor is rlxc's `CommandServer` + the monitor's `CommandHandler`) is driven with
//! Debian's LXC tools, and their output is compared byte for byte with rlxc's tools. Skipped
//! loudly when Debian's LXC, root or the installed rlxc tools are missing.

use std::path::PathBuf;
use std::process::Output;

use rlxc_suite::{busybox_container, require_program, require_root, require_tools, run, HostState, Lxcpath};

fn debian(t: &str) -> PathBuf {
    PathBuf::from("/usr/bin").join(t)
}

fn show(o: &Output) -> String {
    format!(
        "{}{}rc={}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        o.status.code().unwrap_or(-1)
    )
}

fn both(lp: &Lxcpath, t: &str, args: &[&str]) -> (Output, Output) {
    let mut a = vec!["-P", lp.as_str()];
    a.extend_from_slice(args);
    (run(debian(&format!("lxc-{t}")), &a), lp.lxc(t, args))
}

fn same(lp: &Lxcpath, t: &str, args: &[&str]) {
    let (d, r) = both(lp, t, args);
    assert_eq!(show(&d), show(&r), "lxc-{t} {args:?}: Debian (left) and rlxc (right) differ");
}

/// Start `name` with rlxc; false (after a loud skip) when rlxc cannot start containers yet.
fn start(lp: &Lxcpath, test: &str, name: &str) -> bool {
    busybox_container(
        lp,
        name,
        "lxc.group = web\nlxc.start.auto = 1\nlxc.mount.auto = proc:mixed sys:ro cgroup:mixed\nlxc.tty.max = 1\nlxc.autodev = 1\nlxc.pty.max = 16\n",
    );
    let o = lp.lxc("start", &["-n", name]);
    if !o.status.success() {
        panic!("{test}: rlxc lxc-start failed: {}", show(&o));
    }
    let o = lp.lxc("wait", &["-n", name, "-s", "RUNNING", "-t", "30"]);
    assert!(o.status.success(), "lxc-wait RUNNING: {}", show(&o));
    true
}

/// Removes `<rundir>/lxc/lock/<lxcpath>` (LXC's tools leave it) when the test ends; declare it
/// before the `Lxcpath` so it runs after the containers are gone.
struct LockDir(String);

impl Drop for LockDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(format!("{}/lxc/lock/{}", rlxc_core::lxcpath::rundir().display(), self.0));
    }
}

fn requirements(t: &str) -> bool {
    require_root(t) && require_tools(t) && require_program(t, "lxc-info")
}

#[test]
fn debian_tools_against_an_rlxc_started_container() {
    let t = "debian_tools_against_an_rlxc_started_container";
    if !requirements(t) {
        return;
    }
    let _locks = LockDir(format!("/tmp/rlxc-test-irs-{}", std::process::id()));
    let lp = Lxcpath::new("irs");
    let before = HostState::capture(lp.as_str());
    let name_owned = format!("irs{}", std::process::id());
    let name = name_owned.as_str();
    if !start(&lp, t, name) {
        return;
    }
    for args in [
        &["-n", name][..],
        &["-n", name, "-s"],
        &["-n", name, "-s", "-p"],
        &["-n", name, "-p", "-H"],
        &["-n", name, "-c", "lxc.uts.name", "-c", "lxc.group"],
    ] {
        // The default view includes usage counters that move between two runs: compare the
        // stable lines only there.
        if args.len() == 2 {
            let (d, r) = both(&lp, "info", args);
            let keep = |o: &Output| -> String {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter(|l| l.starts_with("Name:") || l.starts_with("State:") || l.starts_with("PID:"))
                    .map(|l| format!("{l}\n"))
                    .collect()
            };
            assert!(d.status.success(), "{}", show(&d));
            assert_eq!(keep(&d), keep(&r));
            assert!(String::from_utf8_lossy(&d.stdout).contains("Memory use:"), "Debian sees no stats: {}", show(&d));
            continue;
        }
        same(&lp, "info", args);
    }
    for args in [&[][..], &["-1"], &["-f"], &["--running"], &["--active", "-f"], &["-g", "web"]] {
        same(&lp, "ls", args);
    }

    // Debian freezes (SERVE_STATE_CLIENTS + GET_LIMIT_CGROUP on v1, FREEZE on cgroup2) ...
    let (d, _) = (run(debian("lxc-freeze"), &["-P", lp.as_str(), "-n", name]), ());
    assert!(d.status.success(), "Debian lxc-freeze: {}", show(&d));
    same(&lp, "info", &["-n", name, "-s"]);
    assert_eq!(String::from_utf8_lossy(&lp.lxc("info", &["-n", name, "-s"]).stdout), "State:          FROZEN\n");
    // ... rlxc thaws, Debian's lxc-wait sees RUNNING via its state client.
    let o = lp.lxc("unfreeze", &["-n", name]);
    assert!(o.status.success(), "{}", show(&o));
    let o = run(debian("lxc-wait"), &["-P", lp.as_str(), "-n", name, "-s", "RUNNING", "-t", "30"]);
    assert!(o.status.success(), "Debian lxc-wait: {}", show(&o));

    // Debian's lxc-stop -k: STOP, then the connection closes when our monitor exits.
    let o = run(debian("lxc-stop"), &["-P", lp.as_str(), "-n", name, "-k"]);
    assert!(o.status.success(), "Debian lxc-stop: {}", show(&o));
    same(&lp, "info", &["-n", name, "-s"]);
    let needle = lp.as_str().to_string();
    drop(lp);
    // Other tests may run containers at the same time: judge only what this one made.
    let now = HostState::capture(&needle);
    assert_eq!(before.sockets, now.sockets, "command sockets left");
    assert_eq!(before.monitors, now.monitors, "monitors left");
    assert_eq!(before.mounts, now.mounts, "mounts left");
    let leaked: Vec<&String> = now.cgroups.iter().filter(|c| c.ends_with(&format!(".{name}"))).collect();
    assert!(leaked.is_empty(), "cgroups left: {leaked:?}");
}

#[test]
fn debian_attach_lands_in_the_container_cgroups() {
    let t = "debian_attach_lands_in_the_container_cgroups";
    if !requirements(t) || !require_program(t, "lxc-attach") {
        return;
    }
    let _locks = LockDir(format!("/tmp/rlxc-test-ira-{}", std::process::id()));
    let lp = Lxcpath::new("ira");
    let name_owned = format!("ira{}", std::process::id());
    let name = name_owned.as_str();
    if !start(&lp, t, name) {
        return;
    }
    // LXC 5.0's lxc-attach asks GET_CGROUP_CTX (23) for the payload cgroup fds; inside the
    // container's cgroup namespace the attached process must sit at the root (v1) or in the
    // `.lxc` leaf (cgroup2), never above it ("/..").
    let o = run(debian("lxc-attach"), &["-P", lp.as_str(), "-n", name, "--", "/bin/cat", "/proc/self/cgroup"]);
    assert!(o.status.success(), "Debian lxc-attach: {}", show(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    for line in text.lines() {
        let path = line.splitn(3, ':').nth(2).unwrap_or("");
        assert!(!path.starts_with("/.."), "attached process outside the container's cgroup: {line}\n{text}");
    }
    let o = lp.lxc("stop", &["-n", name, "-k"]);
    assert!(o.status.success(), "{}", show(&o));
}

#[test]
fn debian_console_gets_a_tty_from_our_monitor() {
    let t = "debian_console_gets_a_tty_from_our_monitor";
    if !requirements(t) || !require_program(t, "lxc-console") || !require_program(t, "script") {
        return;
    }
    let _locks = LockDir(format!("/tmp/rlxc-test-irc-{}", std::process::id()));
    let lp = Lxcpath::new("irc");
    let name_owned = format!("irc{}", std::process::id());
    let name = name_owned.as_str();
    if !start(&lp, t, name) {
        return;
    }
    // CONSOLE (0): the pty master comes back over SCM_RIGHTS and the slot is held while the
    // connection stays open; Ctrl-a q ends the session. `script` provides the terminal.
    let cmd =
        format!("sleep 1; printf '\\001q' | script -qc 'lxc-console -P {} -n {name} -t 1' /dev/null", lp.as_str());
    let o = run("timeout", &["30", "sh", "-c", &cmd]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("Connected to tty 1"), "{}", show(&o));
    // The slot was released when the client went away: it can be taken again.
    let slot = rlxc_core::commands::client::console(name, lp.as_str(), 1).expect("CONSOLE").expect("tty 1 free again");
    assert_eq!(slot.ttynum, 1);
    drop(slot);
    // The console itself (tty 0): Debian's client gets its own proxy pty; one client at a time,
    // and the console is free again once it left.
    let cmd =
        format!("sleep 1; printf '\\001q' | script -qc 'lxc-console -P {} -n {name} -t 0' /dev/null", lp.as_str());
    let o = run("timeout", &["30", "sh", "-c", &cmd]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("Connected to tty 0"), "{}", show(&o));
    let held =
        rlxc_core::commands::client::console(name, lp.as_str(), 0).expect("CONSOLE").expect("console free again");
    assert_eq!(held.ttynum, 0);
    let second = rlxc_core::commands::client::console(name, lp.as_str(), 0).expect("CONSOLE");
    assert!(second.is_none(), "a second console client is refused while one is connected");
    drop(held);
    let o = lp.lxc("stop", &["-n", name, "-k"]);
    assert!(o.status.success(), "{}", show(&o));
}
