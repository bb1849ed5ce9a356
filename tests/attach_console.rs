//! lxc-console on real busybox containers started by rlxc, driven through a real pty
//! (`script`): the console itself (`-t 0`) running a shell, a container tty (`-t 1`), the escape
//! sequence (default `Ctrl-a q`, `-e` to change it), refused ttys, the console ring buffer
//! read and cleared through CONSOLE_LOG, and a `-t 0` client that gets its own proxy pty so the
//! monitor keeps every byte of console output.

mod attach_common;

use attach_common::*;
use rlxc_suite::{tool, Lxcpath};

fn console_cmd(lp: &Lxcpath, name: &str, args: &str) -> String {
    format!("{} -P {} -n {name} {args}", tool("lxc-console").display(), lp.as_str())
}

#[test]
fn console_runs_a_shell_and_escape_quits() {
    let test = "console_runs_a_shell_and_escape_quits";
    if !ready(test) {
        return;
    }
    let lp = Lxcpath::new("cnsh");
    // Init keeps an interactive shell on tty1 (the rootfs has no getty).
    let c = Running::start(
        &lp,
        "cnsh",
        "lxc.autodev = 1\nlxc.pty.max = 10\nlxc.tty.max = 1",
        &["--", "/bin/sh", "-c", "while true; do /bin/sh -i </dev/tty1 >/dev/tty1 2>&1; done"],
    );
    let Some(o) = in_pty(test, &console_cmd(&lp, &c.name, "-t 1"), "\u{1e}echo hi-$((6*7))\n\u{1e}\u{1}q") else {
        return;
    };
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let text = out(&o) + &String::from_utf8_lossy(&o.stderr);
    assert!(text.contains("Connected to tty 1"), "{text}");
    assert!(text.contains("Type <Ctrl+a q> to exit the console"), "{text}");
    assert!(text.contains("hi-42"), "{text}");
    // Another escape letter: ^b q quits, ^a is passed on; the console (tty 0) works the same.
    let Some(o) = in_pty(test, &console_cmd(&lp, &c.name, "-t 0 -e b"), "\u{1e}\u{1}\u{1e}\u{2}q") else { return };
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let text = out(&o) + &String::from_utf8_lossy(&o.stderr);
    assert!(text.contains("Connected to tty 0") && text.contains("<Ctrl+b q>"), "{}", show(&o));
    // The shell still runs: the console session did not take it down.
    assert_eq!(c.sh(&[], "echo alive"), "alive\n");
}

#[test]
fn container_ttys_and_refusals() {
    let test = "container_ttys_and_refusals";
    if !ready(test) {
        return;
    }
    let lp = Lxcpath::new("cntty");
    let c = Running::start(&lp, "cntty", "lxc.autodev = 1\nlxc.pty.max = 10\nlxc.tty.max = 2", &[]);
    let Some(o) = in_pty(test, &console_cmd(&lp, &c.name, "-t 2"), "\u{1e}\u{1}q") else { return };
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!((out(&o) + &String::from_utf8_lossy(&o.stderr)).contains("Connected to tty 2"), "{}", show(&o));
    // Beyond lxc.tty.max: a clear error, no hang.
    let o = lp.lxc("console", &["-n", &c.name, "-t", "7"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("tty 7"), "{}", show(&o));
    let o = lp.lxc("console", &["-n", &c.name, "-e", "12"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let o = lp.lxc("console", &["-n", "not-there-at-all"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not running"), "{}", show(&o));
}

#[test]
fn console_ring_buffer_read_and_clear() {
    let test = "console_ring_buffer_read_and_clear";
    if !ready(test) {
        return;
    }
    let lp = Lxcpath::new("cnlog");
    let c = Running::start(
        &lp,
        "cnlog",
        "lxc.console.buffer.size = 4096",
        &["--", "/bin/sh", "-c", "echo boot-marker-$((6*7)); exec sleep 1000"],
    );
    // The marker reaches the ring buffer once init printed it; ask until it is there.
    let mut text = String::new();
    for _ in 0..50 {
        let o = lp.lxc("console", &["-n", &c.name, "-L"]);
        assert!(o.status.success(), "{}", show(&o));
        text = out(&o);
        if text.contains("boot-marker-42") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(text.contains("boot-marker-42"), "ring buffer: {text:?}");
    let o = lp.lxc("console", &["-n", &c.name, "--clear"]);
    assert!(o.status.success(), "{}", show(&o));
    let o = lp.lxc("console", &["-n", &c.name, "-L"]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(!out(&o).contains("boot-marker"), "cleared: {}", show(&o));
}

/// `lxc-console -t 0` gets a proxy pty of its own (LXC's terminal proxy): the client sees the
/// console's output and types into it, while the monitor still reads every byte into the ring
/// buffer (a shared console master would split the output between the two readers, leaving
/// gaps); the proxy is freed when the client leaves, so the next client connects.
#[test]
fn console_client_gets_a_proxy_and_the_ring_buffer_misses_nothing() {
    let test = "console_client_gets_a_proxy_and_the_ring_buffer_misses_nothing";
    if !ready(test) {
        return;
    }
    let lp = Lxcpath::new("cnproxy");
    let c = Running::start(
        &lp,
        "cnproxy",
        "lxc.console.buffer.size = 65536",
        &["--", "/bin/sh", "-c", "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.05; done & exec cat"],
    );
    let Some(o) = in_pty(test, &console_cmd(&lp, &c.name, "-t 0"), "\u{1e}\u{1e}hello-proxy\n\u{1e}\u{1e}\u{1}q")
    else {
        return;
    };
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let seen = out(&o);
    assert!(seen.contains("tick-"), "the client sees console output: {}", show(&o));
    assert!(seen.contains("hello-proxy"), "the client's input reached the console (echoed): {}", show(&o));
    let o = lp.lxc("console", &["-n", &c.name, "-L"]);
    assert!(o.status.success(), "{}", show(&o));
    let ring = out(&o);
    assert!(ring.contains("hello-proxy"), "typed input reached the console: {ring}");
    let ticks: Vec<u64> = ring
        .split(|ch: char| !ch.is_ascii_alphanumeric() && ch != '-')
        .filter_map(|w| w.strip_prefix("tick-")?.parse().ok())
        .collect();
    assert!(ticks.len() > 20, "ring buffer: {ring}");
    let gaps: Vec<(u64, u64)> = ticks.windows(2).filter(|w| w[1] != w[0] + 1).map(|w| (w[0], w[1])).collect();
    assert!(gaps.is_empty(), "the monitor lost console output while the client was connected: gaps {gaps:?} in {ring}");
    // The proxy was released with the client: the next one connects.
    let Some(o) = in_pty(test, &console_cmd(&lp, &c.name, "-t 0"), "\u{1e}\u{1}q") else { return };
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!((out(&o) + &String::from_utf8_lossy(&o.stderr)).contains("Connected to tty 0"), "{}", show(&o));
}

/// A foreground start without a terminal (how Debian's `lxc@.service` runs `lxc-start -F`)
/// copies the console to its stdout and still lets `lxc-console -t 0` in (LXC has no terminal
/// peer then either): the client sees output and types; the foreground stdout got output too.
#[test]
fn console_client_of_a_foreground_start_without_a_terminal() {
    let test = "console_client_of_a_foreground_start_without_a_terminal";
    if !ready(test) {
        return;
    }
    let lp = Lxcpath::new("cnfg");
    let name = unique("cnfg");
    let before = rlxc_suite::HostState::capture(lp.as_str());
    let dir = rlxc_suite::busybox_container(&lp, &name, "lxc.mount.auto = proc:mixed sys:ro\n");
    let out_path = dir.join("foreground.out");
    let stdout = std::fs::File::create(&out_path).expect("create the foreground output file");
    // Stops and destroys the container, and checks nothing is left, also when an assert fails.
    let guard = Running { lp: &lp, name: name.clone(), dir, before };
    let mut fg = std::process::Command::new(tool("lxc-start"))
        .args(["-P", lp.as_str(), "-n", &name, "-F", "--", "/bin/sh", "-c"])
        .arg("i=0; while true; do i=$((i+1)); echo fg-tick-$i; sleep 0.1; done & exec cat")
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn lxc-start -F");
    lp.lxc_ok("wait", &["-n", &name, "-s", "RUNNING", "-t", "30"]);
    let o = in_pty(test, &console_cmd(&lp, &name, "-t 0"), "\u{1e}\u{1e}typed-in-fg\n\u{1e}\u{1e}\u{1}q");
    let stop = lp.lxc("stop", &["-n", &name, "-k"]);
    let _ = fg.wait();
    let Some(o) = o else { return };
    assert!(stop.status.success(), "{}", show(&stop));
    let text = out(&o) + &String::from_utf8_lossy(&o.stderr);
    assert!(text.contains("Connected to tty 0"), "{}", show(&o));
    assert!(text.contains("fg-tick-") && text.contains("typed-in-fg"), "{}", show(&o));
    let fg_out = std::fs::read_to_string(&out_path).unwrap_or_default();
    assert!(fg_out.contains("fg-tick-") && fg_out.contains("typed-in-fg"), "foreground stdout: {fg_out}");
    drop(guard);
}
