//! `lxc-monitord LXCPATH SYNC_FD`: the relay behind `lxc-monitor` (LXC's `cmd/lxc_monitord.c`).
//!
//! Owns the FIFO `<rundir>/lxc/<lxcpath>/monitor-fifo` (created 0600, opened read-write, locked
//! with a POSIX write lock so only one relay runs per lxcpath), listens on the abstract socket
//! `@lxc/<fnv64>/<lxcpath>`, and copies every 264-byte `lxc_msg` that monitors write into the
//! FIFO to all connected clients. Writes `S` to SYNC_FD once ready. A client may send `quit`.
//! Exits when a 30-second idle period ends with no client left. One poll loop, no threads.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};

use rlxc_core::commands::monitor_fifo;
use rlxc_core::commands::wire::LXC_MSG_LEN;
use rlxc_sys::socket;

const IDLE: Duration = Duration::from_secs(30);

struct Relay {
    fifo_path: std::path::PathBuf,
    fifo: std::fs::File,
    listener: OwnedFd,
    clients: Vec<OwnedFd>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.fifo_path);
    }
}

fn create(lxcpath: &str) -> Result<Relay, String> {
    let fifo_path = monitor_fifo::fifo_path(lxcpath);
    if let Some(dir) = fifo_path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    match rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo_path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        0,
    ) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(format!("cannot create monitor fifo {}: {e}", fifo_path.display())),
    }
    let fifo = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(&fifo_path)
        .map_err(|e| format!("cannot open monitor fifo {}: {e}", fifo_path.display()))?;
    // A POSIX (process) write lock, as LXC's lxc-monitord takes: one relay per lxcpath.
    if rustix::fs::fcntl_lock(&fifo, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
        return Err(format!("lxc-monitord already running on lxcpath {lxcpath}"));
    }
    let name = monitor_fifo::monitord_socket_name(lxcpath).map_err(|e| format!("monitor socket name: {e}"))?;
    let listener = socket::listen_abstract(&name, 128).map_err(|e| {
        let _ = std::fs::remove_file(&fifo_path);
        format!("cannot listen on @{}: {e}", String::from_utf8_lossy(&name))
    })?;
    Ok(Relay { fifo_path, fifo, listener, clients: Vec::new() })
}

fn accept(relay: &mut Relay) {
    while let Ok(Some(c)) = socket::accept(relay.listener.as_fd()) {
        let euid = rustix::process::geteuid().as_raw();
        match rustix::net::sockopt::socket_peercred(&c) {
            Ok(cred) if cred.uid.as_raw() == 0 || cred.uid.as_raw() == euid => relay.clients.push(c),
            _ => {} // refused: dropped (closed)
        }
    }
}

/// Run the relay; returns the exit code.
fn run(lxcpath: &str, sync_fd: Option<OwnedFd>) -> i32 {
    let mut relay = match create(lxcpath) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lxc-monitord: {e}");
            return 1;
        }
    };
    if let Some(fd) = sync_fd {
        let _ = rustix::io::write(&fd, b"S");
    }
    let mut quit = false;
    loop {
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(2 + relay.clients.len());
        fds.push(PollFd::new(&relay.fifo, PollFlags::IN));
        fds.push(PollFd::new(&relay.listener, PollFlags::IN));
        for c in &relay.clients {
            fds.push(PollFd::new(c, PollFlags::IN));
        }
        let ts = Timespec { tv_sec: IDLE.as_secs() as i64, tv_nsec: 0 };
        let n = match poll(&mut fds, Some(&ts)) {
            Ok(n) => n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => {
                eprintln!("lxc-monitord: poll: {e}");
                return 1;
            }
        };
        let revents: Vec<PollFlags> = fds.iter().map(|f| f.revents()).collect();
        drop(fds);
        if n == 0 {
            // An idle period ended: leave when nobody listens any more.
            if relay.clients.is_empty() {
                return 0;
            }
            continue;
        }
        if revents[0].contains(PollFlags::IN) {
            let mut msg = [0u8; LXC_MSG_LEN];
            match relay.fifo.read(&mut msg) {
                Ok(LXC_MSG_LEN) => {
                    for c in &relay.clients {
                        let _ = socket::send_all(c.as_fd(), &msg);
                    }
                }
                _ => {
                    if relay.clients.is_empty() {
                        return 0;
                    }
                }
            }
        }
        if revents[1].contains(PollFlags::IN) {
            accept(&mut relay);
        }
        // Walk clients backwards so removals keep indices valid.
        let nclients = revents.len() - 2;
        for i in (0..nclients).rev() {
            let ev = revents[2 + i];
            if ev.contains(PollFlags::IN) {
                let mut buf = [0u8; 4];
                match rustix::io::read(&relay.clients[i], &mut buf) {
                    Ok(4) if &buf == b"quit" => quit = true,
                    Ok(0) | Err(_) => {
                        relay.clients.remove(i);
                        continue;
                    }
                    _ => {}
                }
            }
            if ev.intersects(PollFlags::HUP | PollFlags::ERR) {
                relay.clients.remove(i);
            }
        }
        if quit {
            return 0;
        }
    }
}

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    if args.len() != 2 {
        eprint!(
            "Usage: lxc-monitord lxcpath sync-pipe-fd\n\nNOTE: lxc-monitord is intended for use by lxc internally\n      and does not need to be run by hand\n\n"
        );
        return 1;
    }
    let lxcpath = &args[0];
    let Ok(raw) = args[1].parse::<i32>() else { return 1 };
    // The fd number is our argument contract with lxc-monitor.
    let sync_fd = socket::adopt_inherited_fd(raw).ok();
    // Its own session: a Ctrl-C aimed at the lxc-monitor that spawned us must not stop the relay.
    let _ = rustix::process::setsid();
    rlxc_core::log::init("lxc-monitord", true);
    run(lxcpath, sync_fd)
}
