//! Hostile and careless command lines against the tools: names that are paths, output piped into
//! a reader that goes away. Each must end with a clear message and a non-zero status, never a
//! panic, and never reach another container's directory or socket.

use std::io::Read;
use std::process::{Command, Output, Stdio};

use rlxc_suite::{busybox_container, require_root, require_tools, tool, HostState, Lxcpath};

fn show(o: &Output) -> String {
    format!(
        "rc={:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn no_panic(o: &Output) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "the tool panicked: {}", show(o));
}

/// Names that are paths (`../x`, `x/`, `a/b`, `.`, `..`) are refused by every tool that takes
/// `-n NAME` in the commands/net/config areas, naming the bad name, without looking at a socket.
#[test]
fn path_names_are_refused() {
    let test = "path_names_are_refused";
    if !require_tools(test) {
        return;
    }
    let lp = Lxcpath::new("rbname");
    // A real container next door: `../<lxcpath>/c1` must not reach it.
    std::fs::create_dir_all(lp.path.join("c1")).expect("mkdir");
    std::fs::write(lp.path.join("c1/config"), "lxc.uts.name = c1\n").expect("config");
    let base = lp.path.file_name().and_then(|f| f.to_str()).unwrap_or("x").to_string();
    let sneaky = format!("../{base}/c1");
    for name in [sneaky.as_str(), "c1/", "a/b", ".", ".."] {
        for (t, extra) in [
            ("info", vec![]),
            ("wait", vec!["-s", "RUNNING", "-t", "0"]),
            ("freeze", vec![]),
            ("unfreeze", vec![]),
            ("device", vec!["add", "lo"]),
        ] {
            let mut args = vec!["-n", name];
            args.extend(extra);
            let o = lp.lxc(t, &args);
            no_panic(&o);
            assert!(!o.status.success(), "lxc-{t} -n {name:?} should fail: {}", show(&o));
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                err.contains(&format!("invalid container name \"{name}\"")),
                "lxc-{t} -n {name:?}: expected the bad name in the error: {}",
                show(&o)
            );
            assert!(o.stdout.is_empty(), "lxc-{t} -n {name:?} printed a state: {}", show(&o));
        }
        let o = Command::new(tool("rlxc"))
            .args(["config", "check", "-n", name, "-P", lp.as_str()])
            .stdin(Stdio::null())
            .output()
            .expect("run rlxc config");
        no_panic(&o);
        assert!(!o.status.success(), "rlxc config -n {name:?} should fail: {}", show(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains("invalid container name"), "{}", show(&o));
    }
}

/// Run `program args` with stdout on a pipe whose reader closes after the first byte.
fn closed_reader(program: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout pipe");
    let mut one = [0u8; 1];
    let _ = out.read(&mut one);
    drop(out);
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait().expect("wait");
    (status.code(), err)
}

/// `lxc-info | head -1` and `lxc-ls -f | head -1` end quietly like LXC's C tools (which die of
/// SIGPIPE), not with a Rust panic and backtrace on stderr.
#[test]
fn piped_output_to_a_closed_reader_does_not_panic() {
    let test = "piped_output_to_a_closed_reader_does_not_panic";
    if !require_root(test) || !require_tools(test) {
        return;
    }
    let lp = Lxcpath::new("rbpipe");
    let before = HostState::capture(lp.as_str());
    // Many containers so lxc-ls writes more than one pipe buffer's worth would not be needed:
    // the first write after the reader is gone is enough to hit EPIPE, and lxc-info writes a
    // line per field.
    let p0 = format!("rbp{}-0", std::process::id());
    for i in 0..3 {
        busybox_container(&lp, &format!("rbp{}-{i}", std::process::id()), "");
    }
    let o = lp.lxc("start", &["-n", &p0]);
    assert!(o.status.success(), "start: {}", show(&o));
    for _ in 0..5 {
        let (code, err) = closed_reader(&tool("lxc-info"), &["-P", lp.as_str(), "-n", &p0]);
        assert!(!err.contains("panicked"), "lxc-info panicked (rc {code:?}): {err}");
        let (code, err) = closed_reader(&tool("lxc-ls"), &["-P", lp.as_str(), "-f"]);
        assert!(!err.contains("panicked"), "lxc-ls panicked (rc {code:?}): {err}");
    }
    let o = lp.lxc("stop", &["-n", &p0, "-k"]);
    assert!(o.status.success(), "stop: {}", show(&o));
    let needle = lp.as_str().to_string();
    drop(lp);
    assert_nothing_left_of(&before, &needle, &p0);
}

/// [`HostState::assert_nothing_left`] limited to cgroups of container `name` (other engineers'
/// containers come and go in the same host cgroup tree while this runs).
pub fn assert_nothing_left_of(before: &HostState, needle: &str, name: &str) {
    let mut now = HostState::capture(needle);
    let ours = |c: &String| c.ends_with(&format!(".{name}")) || c.contains(&format!(".{name}-"));
    now.cgroups.retain(|c| ours(c) || before.cgroups.contains(c));
    let mut leaks: Vec<String> = now.cgroups.difference(&before.cgroups).map(|c| format!("cgroup: {c}")).collect();
    for (what, b, a) in [
        ("mount", &before.mounts, &now.mounts),
        ("socket", &before.sockets, &now.sockets),
        ("monitor", &before.monitors, &now.monitors),
    ] {
        leaks.extend(a.difference(b).map(|x| format!("{what}: {x}")));
    }
    assert!(leaks.is_empty(), "left behind:\n  {}", leaks.join("\n  "));
}

/// Run a tool, killing it if it has not finished after a minute (a hang detector, not a timing
/// assertion: the tools answer in well under a second).
fn run_or_hang(program: &std::path::Path, args: &[&str]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!("{} {args:?} hung: {}", program.display(), show(&o));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A container whose config includes `/dev/zero`, or includes that fan out without a cycle,
/// must not hang the listing tools (they fall back to a raw reader for configs rlxc rejects).
#[test]
fn hostile_includes_do_not_hang_listing_tools() {
    let test = "hostile_includes_do_not_hang_listing_tools";
    if !require_tools(test) {
        return;
    }
    let lp = Lxcpath::new("rbincl");
    let zero = lp.path.join("zero");
    std::fs::create_dir_all(&zero).expect("mkdir");
    std::fs::write(zero.join("config"), "lxc.uts.name = zero\nlxc.include = /dev/zero\n").expect("config");
    let fan = lp.path.join("fan");
    std::fs::create_dir_all(&fan).expect("mkdir");
    for level in 0..12 {
        let next = fan.join(format!("f{}.inc", level + 1));
        std::fs::write(fan.join(format!("f{level}.inc")), format!("lxc.include = {}\n", next.display()).repeat(8))
            .expect("write");
    }
    std::fs::write(fan.join("f12.inc"), "lxc.arch = x86_64\n").expect("write");
    std::fs::write(fan.join("config"), format!("lxc.uts.name = fan\nlxc.include = {}\n", fan.join("f0.inc").display()))
        .expect("config");
    let p = lp.as_str();
    for args in [vec!["-P", p, "-f"], vec!["-P", p, "--fancy", "-F", "NAME,STATE,AUTOSTART,GROUPS"]] {
        let o = run_or_hang(&tool("lxc-ls"), &args);
        no_panic(&o);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("zero") && out.contains("fan"), "lxc-ls {args:?}: {}", show(&o));
    }
    for name in ["zero", "fan"] {
        let o = run_or_hang(&tool("lxc-info"), &["-P", p, "-n", name]);
        no_panic(&o);
        assert!(String::from_utf8_lossy(&o.stdout).contains("STOPPED"), "lxc-info {name}: {}", show(&o));
        let o = run_or_hang(&tool("lxc-info"), &["-P", p, "-n", name, "-c", "lxc.uts.name"]);
        no_panic(&o);
        // A config rlxc rejects is refused by start with file:line.
        let o = run_or_hang(&tool("lxc-start"), &["-P", p, "-n", name]);
        no_panic(&o);
        assert!(!o.status.success(), "start of {name} should fail: {}", show(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("config:2") || err.contains(".inc:"), "no file:line for {name}: {}", show(&o));
    }
}

/// `lxc-start -p FILE` / `-c FILE` that cannot be created are refused before anything starts
/// (LXC: "Failed to ensure pidfile", status 1), and nothing is left (R12, R13).
#[test]
fn unusable_pidfile_or_console_refuse_the_start() {
    let test = "unusable_pidfile_or_console_refuse_the_start";
    if !require_root(test) || !require_tools(test) {
        return;
    }
    let lp = Lxcpath::new("rbpaths");
    let before = HostState::capture(lp.as_str());
    let name = format!("up{}", std::process::id());
    busybox_container(&lp, &name, "lxc.apparmor.profile = unconfined\n");
    for (flag, what) in [("-p", "pid file"), ("-c", "console")] {
        let o = lp.lxc("start", &["-n", &name, flag, "/nonexistent-dir/x/file"]);
        no_panic(&o);
        assert_eq!(o.status.code(), Some(1), "lxc-start {flag} should fail: {}", show(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(what) && err.contains("/nonexistent-dir/x/file"), "{}", show(&o));
        let state = lp.lxc("info", &["-n", &name, "-s"]);
        assert!(String::from_utf8_lossy(&state.stdout).contains("STOPPED"), "{}", show(&state));
    }
    assert_nothing_left_of(&before, lp.as_str(), &name);
}

/// `lxc-start -n NAME -f FILE` for a NAME with no config of its own starts from FILE (as
/// LXC), and lxc-attach / lxc-stop work on it (R9).
#[test]
fn start_with_rcfile_needs_no_defined_container() {
    let test = "start_with_rcfile_needs_no_defined_container";
    if !require_root(test) || !require_tools(test) {
        return;
    }
    let lp = Lxcpath::new("rbrcfile");
    let before = HostState::capture(lp.as_str());
    let dir = busybox_container(&lp, "c1", "lxc.apparmor.profile = unconfined\n");
    let rcfile = dir.join("config");
    let rc = rcfile.to_str().unwrap_or("/nonexistent");
    let name = format!("rf{}", std::process::id());
    let o = lp.lxc("start", &["-n", &name, "-f", rc]);
    assert!(o.status.success(), "lxc-start -f: {}", show(&o));
    assert!(!lp.path.join(&name).exists(), "lxc-start -f made a container directory");
    let o = lp.lxc("attach", &["-n", &name, "--", "/bin/true"]);
    assert!(o.status.success(), "lxc-attach: {}", show(&o));
    let o = lp.lxc("stop", &["-n", &name, "-k"]);
    assert!(o.status.success(), "lxc-stop: {}", show(&o));
    assert_nothing_left_of(&before, lp.as_str(), &name);
}
