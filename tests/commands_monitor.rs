//! `lxc-monitor` and `lxc-monitord`: state messages written into the legacy monitor FIFO (as
//! every monitor does on each transition) reach `lxc-monitor`, filtered by the anchored `-n`
//! regex; `-Q` makes the relay quit and remove its FIFO. Debian's `lxc-monitor` reads from our
//! relay too when installed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rlxc_core::commands::monitor_fifo;
use rlxc_core::state::State;
use rlxc_suite::{require_root, require_tools, run, tool};

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn first_line(child: &mut Child, lxcpath: &str, name: &str, state: State) -> String {
    let stdout = child.stdout.take().expect("stdout");
    let mut r = BufReader::new(stdout);
    // The relay may still be starting: keep sending until a line arrives.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut l = String::new();
        let _ = r.read_line(&mut l);
        let _ = tx.send(l);
    });
    for _ in 0..200 {
        monitor_fifo::send_state(lxcpath, "other", State::Running);
        monitor_fifo::send_state(lxcpath, name, state);
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(50)) {
            return l;
        }
    }
    panic!("lxc-monitor printed nothing");
}

#[test]
fn monitor_relays_fifo_messages() {
    let t = "monitor_relays_fifo_messages";
    if !require_root(t) || !require_tools(t) {
        return;
    }
    let lxcpath = format!("/tmp/rlxc-test-cmdmon-{}", std::process::id());
    std::fs::create_dir_all(&lxcpath).expect("mkdir");
    {
        let child = Command::new(tool("lxc-monitor"))
            .args(["-P", &lxcpath, "-n", "c[0-9]"])
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn lxc-monitor");
        let mut child = Kill(child);
        let line = first_line(&mut child.0, &lxcpath, "c7", State::Frozen);
        assert_eq!(line, "'c7' changed state to [FROZEN]\n");
    }
    if std::path::Path::new("/usr/bin/lxc-monitor").exists() {
        let child = Command::new("/usr/bin/lxc-monitor")
            .args(["-P", &lxcpath, "-n", "c7"])
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn Debian lxc-monitor");
        let mut child = Kill(child);
        let line = first_line(&mut child.0, &lxcpath, "c7", State::Stopping);
        assert_eq!(line, "'c7' changed state to [STOPPING]\n");
    }
    let o = run(tool("lxc-monitor"), &["-P", &lxcpath, "-Q"]);
    assert!(o.status.success(), "{o:?}");
    let fifo = monitor_fifo::fifo_path(&lxcpath);
    for _ in 0..100 {
        if !fifo.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!fifo.exists(), "the relay left {}", fifo.display());
    let _ = std::fs::remove_dir(fifo.parent().expect("dir"));
    let _ = std::fs::remove_dir_all(&lxcpath);
}
