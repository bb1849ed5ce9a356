//! `lxc-monitor`: print state changes (and exit codes) of the containers whose names match
//! `-n REGEX` (anchored, default `.*`) in every `-P` lxcpath, through `lxc-monitord` (spawned
//! on demand, as LXC does). `-Q` asks the lxc-monitord of each lxcpath to quit.

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use regex::Regex;
use rustix::event::{poll, PollFd, PollFlags};

use rlxc_core::commands::monitor_fifo::monitord_socket_name;
use rlxc_core::commands::wire::{LxcMsg, MsgType, LXC_MSG_LEN};
use rlxc_core::state::State;
use rlxc_sys::socket;

use super::cmd_common;
use crate::args::Opt;

const OPTS: &[Opt] = &[Opt::flag('Q', "quit")];

const HELP: &str = "[--name=NAME]

lxc-monitor monitors the state of the NAME container

Options :
  -n, --name=NAME   NAME of the container
                    NAME may be a regular expression
  -Q, --quit        tell lxc-monitord to quit
";

/// Connect to the lxc-monitord of `lxcpath`, retrying after 10, 50 and 100 ms while refused.
fn monitor_open(lxcpath: &str) -> std::io::Result<OwnedFd> {
    let name = monitord_socket_name(lxcpath)?;
    let mut last = None;
    for backoff in [10u64, 50, 100] {
        match socket::connect_abstract(&name) {
            Ok(fd) => return Ok(fd),
            Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
                last = Some(e);
                std::thread::sleep(Duration::from_millis(backoff));
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::from_raw_os_error(libc::ECONNREFUSED)))
}

/// Start `lxc-monitord LXCPATH FD` (our own binary under that name) in its own session and
/// wait until it says it is ready (or exits: an already running relay is fine).
fn spawn_monitord(lxcpath: &str) {
    let Ok(exe) = std::env::current_exe() else { return };
    let Ok((rd, wr)) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC) else { return };
    // Only the write end is inherited by the relay.
    if rustix::io::fcntl_setfd(&wr, rustix::io::FdFlags::empty()).is_err() {
        return;
    }
    let wr_num = std::os::fd::AsRawFd::as_raw_fd(&wr).to_string();
    let child = Command::new(exe)
        .arg0("lxc-monitord")
        .args([lxcpath, &wr_num])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    drop(wr);
    if child.is_err() {
        return;
    }
    let mut c = [0u8; 1];
    let _ = rustix::io::read(&rd, &mut c);
}

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let c = match cmd_common::parse("lxc-monitor", args, OPTS, HELP, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut paths: Vec<String> = c.parsed.values("lxcpath").iter().map(|s| s.to_string()).collect();
    if paths.is_empty() {
        paths.push(c.lxcpath.clone());
    }
    if c.parsed.has("quit") {
        let mut rc = 0;
        for p in &paths {
            match monitor_open(p) {
                Ok(fd) => {
                    if socket::send_all(fd.as_fd(), b"quit").is_err() {
                        eprintln!("lxc-monitor: Unable to close monitor on path: {p}");
                        rc = 1;
                    }
                }
                Err(_) => {
                    eprintln!("lxc-monitor: Unable to open monitor on path: {p}");
                    rc = 1;
                }
            }
        }
        return rc;
    }
    let pattern = c.name.clone().unwrap_or_else(|| ".*".to_string());
    let re = match Regex::new(&format!("^(?:{pattern})$")) {
        Ok(r) => r,
        Err(_) => {
            eprintln!("lxc-monitor: Failed to compile the regex '{pattern}'");
            return 1;
        }
    };
    let mut fds = Vec::new();
    for p in &paths {
        spawn_monitord(p);
        match monitor_open(p) {
            Ok(fd) => fds.push(fd),
            Err(e) => {
                eprintln!("lxc-monitor: Failed to connect to monitor socket of {p}: {e}");
                return 1;
            }
        }
    }
    let stdout = std::io::stdout();
    loop {
        let mut pfds: Vec<PollFd<'_>> = fds.iter().map(|f| PollFd::new(f, PollFlags::IN)).collect();
        match poll(&mut pfds, None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return 1,
        }
        let ready: Vec<bool> = pfds.iter().map(|p| !p.revents().is_empty()).collect();
        drop(pfds);
        for (i, r) in ready.iter().enumerate() {
            if !r {
                continue;
            }
            let mut b = [0u8; LXC_MSG_LEN];
            match socket::recv_exact(fds[i].as_fd(), &mut b) {
                Ok(true) => {}
                _ => return 1,
            }
            let m = LxcMsg::decode(&b);
            if !re.is_match(&m.name) {
                continue;
            }
            let line = if m.kind == MsgType::State as i32 {
                let st = State::from_i32(m.value).map(|s| s.as_str()).unwrap_or("(null)");
                format!("'{}' changed state to [{}]\n", m.name, st)
            } else if m.kind == MsgType::ExitCode as i32 {
                // WEXITSTATUS of the raw wait status.
                format!("'{}' exited with status [{}]\n", m.name, (m.value >> 8) & 0xff)
            } else {
                continue;
            };
            let mut out = stdout.lock();
            if out.write_all(line.as_bytes()).and_then(|_| out.flush()).is_err() {
                return 1;
            }
        }
    }
}
