//! lxc-console on real busybox containers started by rlxc, driven through a real pty
//! (`script`): the console itself (`-t 0`) running a shell, a container tty (`-t 1`), the escape
//! sequence (default `Ctrl-a q`, `-e` to change it), refused ttys, and the console ring buffer
//! read and cleared through CONSOLE_LOG.

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
