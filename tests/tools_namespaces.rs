//! lxc-unshare and lxc-usernsexec: namespaces by LXC's and the kernel's names, `-H`, `-M`
//! (fresh /proc that does not leak to the host), `-u`, `-i` (a veth end moved in), `-d`, the
//! command's exit status and the argument errors; usernsexec's maps written directly as root,
//! `-s`, and through newuidmap/newgidmap for an unprivileged user.

mod tools_common;

use std::process::{Command, Output, Stdio};

use rlxc_suite::{require_program, run, tool};
use tools_common::*;

/// The interfaces of the caller's network namespace (/sys shows the host's), one a line.
const LINKS: &str = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '";

/// Every mount point of this mount namespace.
fn mounts() -> std::collections::BTreeSet<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4).map(str::to_string))
        .collect()
}

fn unshare(args: &[&str]) -> Output {
    run(tool("lxc-unshare"), args)
}

fn usernsexec(args: &[&str]) -> Output {
    run(tool("lxc-usernsexec"), args)
}

fn ns_of(pid: &str, ns: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{ns}")).map(|p| p.display().to_string()).unwrap_or_default()
}

#[test]
fn unshare_namespaces_hostname_and_exit_status() {
    if !ready("unshare_namespaces_hostname_and_exit_status") {
        return;
    }
    let o = unshare(&["-s", "UTSNAME", "-H", "rlxc-uts-test", "--", "hostname"]);
    assert_eq!((o.status.code(), stdout(&o).trim()), (Some(0), "rlxc-uts-test"), "{}", show(&o));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    assert_ne!(host.trim(), "rlxc-uts-test");
    let o = unshare(&["-s", "UTSNAME", "--", "sh", "-c", "exit 3"]);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    // LXC's names, the kernel's names, any mix; options end at the command.
    let o = unshare(&["-s", "MOUNT|PID|UTSNAME|IPC|NETWORK", "sh", "-c", "echo $$; readlink /proc/self/ns/ipc"]);
    let out = stdout(&o);
    let mut l = out.lines();
    assert_eq!(l.next(), Some("1"), "{}", show(&o));
    assert_ne!(l.next().unwrap_or(""), ns_of("self", "ipc"));
    let o = unshare(&["--namespaces=net|cgroup", "--", "sh", "-c", "readlink /proc/self/ns/net /proc/self/ns/cgroup"]);
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 2, "{}", show(&o));
    assert!(!out.contains(&ns_of("self", "net")) && !out.contains(&ns_of("self", "cgroup")), "{}", show(&o));
    // Only lo in a new network namespace.
    let o = unshare(&["-s", "NETWORK", "--", "sh", "-c", LINKS]);
    assert_eq!(stdout(&o).trim(), "lo", "{}", show(&o));
}

#[test]
fn unshare_remount_user_daemon_and_errors() {
    if !ready("unshare_remount_user_daemon_and_errors") {
        return;
    }
    let before = mounts();
    // -M: the new pid namespace's own /proc; the host's /proc is untouched.
    let o =
        unshare(&["-s", "MOUNT|PID", "-M", "--", "sh", "-c", "ls /proc | grep -c '^[0-9][0-9]*$'; cat /proc/1/comm"]);
    let out = stdout(&o);
    let mut l = out.lines();
    let count: u32 = l.next().and_then(|c| c.trim().parse().ok()).unwrap_or(0);
    assert!((1..=4).contains(&count), "pids seen in the fresh /proc: {}", show(&o));
    assert_eq!(l.next(), Some("sh"), "{}", show(&o));
    assert_eq!(mounts(), before, "mounts changed on the host");
    assert!(std::fs::read_dir("/proc").map(|d| d.count()).unwrap_or(0) > 20, "host /proc still shows the host");

    // -u in a new user namespace: the uid is mapped to ours.
    let o = unshare(&["-s", "USER", "-u", "nobody", "--", "sh", "-c", "id -u; cat /proc/self/uid_map"]);
    let out = stdout(&o);
    let mut l = out.lines();
    assert_eq!(l.next(), Some("65534"), "{}", show(&o));
    assert_eq!(l.next().map(|m| m.split_whitespace().collect::<Vec<_>>()), Some(vec!["65534", "0", "1"]));
    // Without a user namespace the mapping is refused and nothing is left waiting.
    let o = unshare(&["-s", "UTSNAME", "-u", "0", "--", "true"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Failed to map uid"), "{}", show(&o));

    // -d returns at once; the command (ours to end) keeps running.
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("pid");
    let script = format!("echo $$ > {}; exec sleep 600 </dev/null >/dev/null 2>&1", pidfile.display());
    let o = unshare(&["-d", "-s", "UTSNAME", "--", "sh", "-c", &script]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let mut pid = String::new();
    for _ in 0..100 {
        pid = std::fs::read_to_string(&pidfile).unwrap_or_default().trim().to_string();
        if !pid.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let p: i32 = pid.parse().expect("daemonized command wrote its pid");
    assert_ne!(ns_of(&pid, "uts"), ns_of("self", "uts"));
    let _ = Command::new("kill").arg(p.to_string()).status();

    for (args, msg) in [
        (&["-s", "PID"][..], "A command to execute in the new namespace is required"),
        (&["--", "true"][..], "A namespace to execute command is required"),
        (&["-s", "PID", "-H", "x", "--", "true"][..], "-H <hostname> needs -s UTSNAME option"),
        (&["-s", "PID", "-M", "--", "true"][..], "-M needs -s MOUNT option"),
        (&["-s", "PID", "-i", "lo", "--", "true"][..], "-i <interfacename> needs -s NETWORK option"),
        (&["-s", "BOGUS", "--", "true"][..], "Invalid namespace name \"BOGUS\""),
        (&["-s", "UTSNAME", "-u", "no-such-user-rlxc", "--", "true"][..], "Invalid username"),
    ] {
        let o = unshare(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", show(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains(msg), "{args:?}: {}", show(&o));
    }
}

#[test]
fn unshare_moves_an_interface_in() {
    if !ready("unshare_moves_an_interface_in") || !require_program("unshare_moves_an_interface_in", "ip") {
        return;
    }
    let a = format!("rlxu{}a", std::process::id() % 100_000);
    let b = format!("rlxu{}b", std::process::id() % 100_000);
    let o = run("ip", &["link", "add", &a, "type", "veth", "peer", "name", &b]);
    if !o.status.success() {
        rlxc_suite::skip("unshare_moves_an_interface_in", "cannot create a veth pair");
        return;
    }
    let o = unshare(&["-s", "NETWORK", "-i", &a, "--", "sh", "-c", LINKS]);
    let out = stdout(&o);
    // Whatever happened, the pair goes away with the namespace (or here, on failure).
    let _ = run("ip", &["link", "del", &b]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(out.lines().any(|l| l == a), "{a} not moved in: {}", show(&o));
    assert!(!std::path::Path::new("/sys/class/net").join(&a).exists());
    assert!(!std::path::Path::new("/sys/class/net").join(&b).exists(), "the veth pair outlived the namespace");
}

#[test]
fn usernsexec_maps_as_root_and_self() {
    if !ready("usernsexec_maps_as_root_and_self") {
        return;
    }
    let o = usernsexec(&[
        "-m",
        "b:0:100000:65536",
        "--",
        "sh",
        "-c",
        "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map",
    ]);
    let out = stdout(&o);
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        lines,
        vec![vec!["0"], vec!["0"], vec!["0", "100000", "65536"], vec!["0", "100000", "65536"]],
        "{}",
        show(&o)
    );
    // -s maps our own ids right after the ranges; u and g maps separately.
    let o = usernsexec(&[
        "-m",
        "u:0:100000:10",
        "-m",
        "g:0:200000:20",
        "-s",
        "--",
        "sh",
        "-c",
        "cat /proc/self/uid_map /proc/self/gid_map",
    ]);
    let got: Vec<Vec<String>> =
        stdout(&o).lines().map(|l| l.split_whitespace().map(str::to_string).collect()).collect();
    let want: Vec<Vec<String>> = [["0", "100000", "10"], ["10", "0", "1"], ["0", "200000", "20"], ["20", "0", "1"]]
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect();
    assert_eq!(got, want, "{}", show(&o));
    // The command's status; a private mount namespace; the default command is /bin/sh.
    let o = usernsexec(&["-m", "b:0:100000:65536", "--", "sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7), "{}", show(&o));
    let o = usernsexec(&["-m", "b:0:100000:65536", "--", "readlink", "/proc/self/ns/mnt"]);
    assert_ne!(stdout(&o).trim(), ns_of("self", "mnt"), "{}", show(&o));
    let mut child = Command::new(tool("lxc-usernsexec"))
        .args(["-m", "b:0:100000:65536"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        let _ = stdin.write_all(b"echo in-ns-$(id -u)\n");
    }
    let o = child.wait_with_output().expect("wait");
    assert_eq!(stdout(&o).trim(), "in-ns-0", "{}", show(&o));
    // Bad maps: usage, status 1.
    for bad in ["x:0:1:1", "u:0:1", "u:a:1:1"] {
        let o = usernsexec(&["-m", bad, "--", "true"]);
        assert_eq!(o.status.code(), Some(1), "{bad}: {}", show(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains("usage: lxc-usernsexec"), "{}", show(&o));
    }
    let o = usernsexec(&["-h"]);
    assert!(stdout(&o).contains("uid-maps: [u|g|b]:ns_id:host_id:range"), "{}", show(&o));
}

#[test]
fn usernsexec_unprivileged_through_newuidmap() {
    if !ready("usernsexec_unprivileged_through_newuidmap")
        || !require_program("usernsexec_unprivileged_through_newuidmap", "newuidmap")
        || !require_program("usernsexec_unprivileged_through_newuidmap", "setpriv")
    {
        return;
    }
    // An unprivileged account that exists in /etc/passwd (newuidmap looks the caller up).
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let Some((uid, gid)) = passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        let uid: u32 = f.get(2)?.parse().ok()?;
        let gid: u32 = f.get(3)?.parse().ok()?;
        (1000..60000).contains(&uid).then_some((uid, gid))
    }) else {
        rlxc_suite::skip("usernsexec_unprivileged_through_newuidmap", "no unprivileged account in /etc/passwd");
        return;
    };
    let map = format!("u:0:{uid}:1");
    let gmap = format!("g:0:{gid}:1");
    let o = run(
        "setpriv",
        &[
            &format!("--reuid={uid}"),
            &format!("--regid={gid}"),
            "--clear-groups",
            "--",
            tool("lxc-usernsexec").to_str().unwrap_or("lxc-usernsexec"),
            "-m",
            &map,
            "-m",
            &gmap,
            "--",
            "sh",
            "-c",
            "id -u; id -g; cat /proc/self/uid_map",
        ],
    );
    let out = stdout(&o);
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
    let uid_s = uid.to_string();
    assert_eq!(lines, vec![vec!["0"], vec!["0"], vec!["0", uid_s.as_str(), "1"]], "{}", show(&o));
    // A range the user was not granted is refused by newuidmap.
    let o = run(
        "setpriv",
        &[
            &format!("--reuid={uid}"),
            &format!("--regid={gid}"),
            "--clear-groups",
            "--",
            tool("lxc-usernsexec").to_str().unwrap_or("lxc-usernsexec"),
            "-m",
            "b:0:300000:10",
            "--",
            "true",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("newuidmap"), "{}", show(&o));
}
