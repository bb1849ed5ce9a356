//! lxc-top on real busybox containers: batch mode's CSV (header, one line per running
//! container per refresh, numbers read from the host's v1 or cgroup2 files), `-s`/`-r` order,
//! the interactive table under a pseudo-terminal (quit with `q`), and refusing to draw the
//! table without a terminal.

mod tools_common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use rlxc_suite::{busybox_container, require_program, tool, HostState, Lxcpath};
use tools_common::*;

/// Kill `pid` (a process this test started) if `done` is not signalled within two minutes, so a
/// reader blocked on its output cannot hang the test.
fn watchdog(pid: u32) -> std::sync::mpsc::Sender<()> {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(Duration::from_secs(120)) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    });
    tx
}

/// Run `lxc-top ARGS` in batch mode and collect the header plus `want` data lines, then end
/// it (it refreshes forever) by its pid.
fn batch_lines(lp: &Lxcpath, args: &[&str], want: usize) -> Vec<String> {
    let mut child = Command::new(tool("lxc-top"))
        .arg("-P")
        .arg(lp.as_str())
        .args(["-b", "-d", "1"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn lxc-top");
    let done = watchdog(child.id());
    let out = child.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    for l in BufReader::new(out).lines() {
        let Ok(l) = l else { break };
        lines.push(l);
        if lines.len() > want {
            break;
        }
    }
    let _ = done.send(());
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn batch_mode_reports_running_containers() {
    if !ready("batch_mode_reports_running_containers") {
        return;
    }
    let lp = Lxcpath::new("ttop");
    let a = unique("topa");
    let b = unique("topb");
    let stopped = unique("topc");
    let before = HostState::capture(lp.as_str());
    busybox_container(&lp, &a, UNCONFINED);
    busybox_container(&lp, &b, UNCONFINED);
    busybox_container(&lp, &stopped, UNCONFINED);
    for n in [&a, &b] {
        let o = lp.lxc("start", &["-n", n]);
        assert!(o.status.success(), "start {n}: {}", show(&o));
    }
    // Two refreshes of two containers.
    let lines = batch_lines(&lp, &[], 4);
    assert_eq!(
        lines[0],
        "time_ms,container,cpu_nanos,cpu_sys_userhz,cpu_user_userhz,blkio_bytes,blkio_iops,mem_used_bytes,memsw_used_bytes,kernel_mem_used_bytes"
    );
    let rows: Vec<Vec<&str>> = lines[1..].iter().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4, "{lines:?}");
    for r in &rows {
        assert_eq!(r.len(), 10, "{r:?}");
        assert!(r.iter().enumerate().all(|(i, f)| i == 1 || f.parse::<u64>().is_ok()), "{r:?}");
        assert!(r[2].parse::<u64>().unwrap_or(0) > 0, "no CPU time for {r:?}");
        assert!(r[7].parse::<u64>().unwrap_or(0) > 0, "no memory use for {r:?}");
    }
    let names: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    // Sorted by name, the stopped container absent, one refresh after the other.
    assert_eq!(names, [a.as_str(), b.as_str(), a.as_str(), b.as_str()]);
    let lines = batch_lines(&lp, &["-s", "n", "-r"], 2);
    let names: Vec<&str> = lines[1..].iter().filter_map(|l| l.split(',').nth(1)).collect();
    assert_eq!(names, [b.as_str(), a.as_str()]);
    // Sorting by memory keeps both containers.
    let lines = batch_lines(&lp, &["--sort=m"], 2);
    let mut names: Vec<&str> = lines[1..].iter().filter_map(|l| l.split(',').nth(1)).collect();
    names.sort();
    assert_eq!(names, [a.as_str(), b.as_str()]);

    // Interactive mode needs a terminal.
    let o = lp.lxc("top", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("stdin is not a tty"), "{}", show(&o));

    if require_program("batch_mode_reports_running_containers", "script") {
        // The table under a pty; `q` ends it.
        let cmd = format!("{} -P {} -d 1", tool("lxc-top").display(), lp.as_str());
        let mut child = Command::new("script")
            .args(["-qfc", &cmd, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn script");
        let done = watchdog(child.id());
        let mut stdin = child.stdin.take().expect("stdin");
        let out = child.stdout.take().expect("stdout");
        let mut text = String::new();
        let mut reader = BufReader::new(out);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            text.push_str(&line);
            line.clear();
            if text.contains(&b) {
                let _ = stdin.write_all(b"q");
                let _ = stdin.flush();
                break;
            }
        }
        let _ = reader.read_to_string_lossy(&mut text);
        drop(stdin);
        let status = child.wait().expect("wait script");
        let _ = done.send(());
        assert!(status.success(), "lxc-top under a pty: {status}\n{text}");
        assert!(text.contains("Container") && text.contains("Total(Read/Write)"), "{text}");
        assert!(text.contains(&a) && text.contains("TOTAL 2 of 2"), "{text}");
    }

    for n in [&a, &b] {
        let o = lp.lxc("stop", &["-n", n, "-k"]);
        assert!(o.status.success(), "stop {n}: {}", show(&o));
    }
    let lines = batch_lines(&lp, &[], 0);
    assert_eq!(lines.len(), 1, "no container runs: only the header, {lines:?}");
    assert_clean(&before, &lp, &[&a, &b, &stopped]);
}

/// Read what is left, replacing invalid UTF-8 (the table has escape sequences only).
trait ReadLossy {
    fn read_to_string_lossy(&mut self, out: &mut String) -> std::io::Result<usize>;
}

impl<R: std::io::Read> ReadLossy for R {
    fn read_to_string_lossy(&mut self, out: &mut String) -> std::io::Result<usize> {
        let mut buf = Vec::new();
        let n = self.read_to_end(&mut buf)?;
        out.push_str(&String::from_utf8_lossy(&buf));
        Ok(n)
    }
}
