//! The client side of a terminal: copy bytes between our stdio and a pty master (an attached
//! process's pty, or a container tty handed out by the monitor), keep the window size in step,
//! honour an escape sequence (`Ctrl-a q` for lxc-console), log the output (`lxc-attach -L`),
//! and pass signals on. One poll loop, no threads.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd};

use rlxc_sys::forkexec::{self, ExitKind, SignalFd};
use rustix::event::{poll, PollFd, PollFlags};

/// How a proxy session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyEnd {
    /// The watched child exited (attach).
    ChildExited(ExitKind),
    /// The user typed the escape sequence (console).
    Escaped,
    /// The pty hung up (the container's tty went away).
    HungUp,
    /// A SIGTERM/SIGHUP asked us to detach (console).
    Detached,
}

/// One proxy session.
pub struct Proxy<'a> {
    /// The pty master, if there is a pty at all.
    pub master: Option<BorrowedFd<'a>>,
    /// Our input to copy into the pty (None: not attached to the pty).
    pub input: Option<BorrowedFd<'a>>,
    /// Where the pty's output goes.
    pub output: BorrowedFd<'a>,
    /// A terminal whose window size the pty follows.
    pub winsize_from: Option<BorrowedFd<'a>>,
    /// Copy of all pty output (`-L`).
    pub log: Option<File>,
    /// Escape character (1 = Ctrl-a); `None` for no escape handling.
    pub escape: Option<u8>,
    /// The signalfd carrying SIGCHLD, SIGWINCH and the signals to forward.
    pub signals: &'a SignalFd,
    /// The child to wait for and to forward signals to.
    pub child: Option<i32>,
    saw_escape: bool,
}

/// Signals lxc-attach passes on to the attached process when another process sent them.
pub const FORWARDED: &[i32] =
    &[libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT, libc::SIGUSR1, libc::SIGUSR2, libc::SIGCONT];

fn write_all_fd(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match rustix::io::write(fd, buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::AGAIN) => {
                let mut p = [PollFd::new(&fd, PollFlags::OUT)];
                let _ = poll(&mut p, None);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

impl<'a> Proxy<'a> {
    /// A session with nothing but a signalfd; fill in the rest with the fields.
    pub fn new(signals: &'a SignalFd, output: BorrowedFd<'a>) -> Proxy<'a> {
        Proxy {
            master: None,
            input: None,
            output,
            winsize_from: None,
            log: None,
            escape: None,
            signals,
            child: None,
            saw_escape: false,
        }
    }

    /// Give the pty our window size (now and on every SIGWINCH).
    pub fn sync_window_size(&self) {
        if let (Some(from), Some(m)) = (self.winsize_from, self.master) {
            let _ = rlxc_sys::pty::copy_window_size(from, m);
        }
    }

    /// Copy what the pty has to say to our output; false when the pty hung up.
    fn pump_master(&mut self) -> bool {
        let Some(m) = self.master else { return false };
        let mut buf = [0u8; 4096];
        match rustix::io::read(m, &mut buf) {
            Ok(0) => false,
            Ok(n) => {
                let _ = write_all_fd(self.output, &buf[..n]);
                if let Some(l) = &mut self.log {
                    let _ = l.write_all(&buf[..n]);
                }
                true
            }
            Err(rustix::io::Errno::INTR) | Err(rustix::io::Errno::AGAIN) => true,
            // EIO: every slave fd is closed.
            Err(_) => false,
        }
    }

    /// Copy our input into the pty, minding the escape sequence. `Ok(false)` on escape.
    fn pump_input(&mut self) -> io::Result<bool> {
        let (Some(inp), Some(m)) = (self.input, self.master) else { return Ok(true) };
        let mut buf = [0u8; 1024];
        let n = match rustix::io::read(inp, &mut buf) {
            Ok(0) => {
                // Our input is gone: stop reading it, keep relaying output.
                self.input = None;
                return Ok(true);
            }
            Ok(n) => n,
            Err(rustix::io::Errno::INTR) | Err(rustix::io::Errno::AGAIN) => return Ok(true),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::with_capacity(n);
        for &c in &buf[..n] {
            if let Some(esc) = self.escape {
                if c == esc && !self.saw_escape {
                    self.saw_escape = true;
                    continue;
                }
                if c == b'q' && self.saw_escape {
                    let _ = write_all_fd(m, &out);
                    return Ok(false);
                }
                self.saw_escape = false;
            }
            out.push(c);
        }
        let _ = write_all_fd(m, &out);
        Ok(true)
    }

    /// Empty what is left in the pty after the child exited (non-blocking).
    fn drain(&mut self) {
        let Some(m) = self.master else { return };
        loop {
            let mut p = [PollFd::new(&m, PollFlags::IN)];
            match poll(&mut p, Some(&rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 })) {
                Ok(n) if n > 0 && p[0].revents().contains(PollFlags::IN) => {
                    if !self.pump_master() {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    fn reap_child(&self) -> Option<ExitKind> {
        let pid = self.child?;
        match forkexec::waitpid(pid, true) {
            Ok(Some((_, st))) => ExitKind::from_raw(st),
            // Someone else reaped it (cannot happen for our own child); treat as gone.
            Err(_) => Some(ExitKind::Exited(1)),
            Ok(None) => None,
        }
    }

    /// Run until the child exits, the escape is typed, or the pty hangs up.
    pub fn run(&mut self) -> io::Result<ProxyEnd> {
        self.sync_window_size();
        // The child may have exited before we got here.
        if let Some(k) = self.reap_child() {
            self.drain();
            return Ok(ProxyEnd::ChildExited(k));
        }
        let mut master_open = self.master.is_some();
        loop {
            let sig_fd = self.signals.as_fd();
            let mut fds = vec![PollFd::new(&sig_fd, PollFlags::IN)];
            let master_fd = if master_open { self.master } else { None };
            let input_fd = if master_open { self.input } else { None };
            let mut master_idx = None;
            if let Some(m) = master_fd.as_ref() {
                fds.push(PollFd::new(m, PollFlags::IN));
                master_idx = Some(fds.len() - 1);
            }
            let mut input_idx = None;
            if let Some(i) = input_fd.as_ref() {
                fds.push(PollFd::new(i, PollFlags::IN));
                input_idx = Some(fds.len() - 1);
            }
            match poll(&mut fds, None) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
            let ready = |i: Option<usize>, fds: &[PollFd<'_>]| i.map(|i| !fds[i].revents().is_empty()).unwrap_or(false);
            let sig_ready = !fds[0].revents().is_empty();
            let master_ready = ready(master_idx, &fds);
            let input_ready = ready(input_idx, &fds);
            drop(fds);

            if master_ready && !self.pump_master() {
                master_open = false;
                if self.child.is_none() {
                    return Ok(ProxyEnd::HungUp);
                }
            }
            if input_ready && !self.pump_input()? {
                return Ok(ProxyEnd::Escaped);
            }
            if sig_ready {
                while let Some(si) = self.signals.read()? {
                    match si.signo {
                        libc::SIGCHLD => {}
                        libc::SIGWINCH => self.sync_window_size(),
                        sig if self.child.is_none() && (sig == libc::SIGTERM || sig == libc::SIGHUP) => {
                            return Ok(ProxyEnd::Detached);
                        }
                        sig => {
                            if let Some(pid) = self.child {
                                // A terminal's ^C already reached the whole foreground group;
                                // only pass on what another process sent us.
                                if si.sent_by_process() {
                                    let _ = forkexec::kill(pid, sig);
                                }
                            }
                        }
                    }
                }
                if let Some(k) = self.reap_child() {
                    self.drain();
                    return Ok(ProxyEnd::ChildExited(k));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rlxc_sys::forkexec::SigSet;

    #[test]
    fn escape_sequence_ends_and_passes_other_bytes() {
        let Ok(pair) = rlxc_sys::pty::open_pty() else { return };
        let _raw = rlxc_sys::pty::RawMode::enter(pair.slave.as_fd()).expect("raw");
        let (r, w) = rustix::pipe::pipe().expect("pipe");
        let sigs = SignalFd::new(&SigSet::of(&[libc::SIGWINCH])).expect("signalfd");
        let (_out_r, out_w) = rustix::pipe::pipe().expect("pipe");
        let mut p = Proxy::new(&sigs, out_w.as_fd());
        p.master = Some(pair.master.as_fd());
        p.input = Some(r.as_fd());
        p.escape = Some(1);
        rustix::io::write(&w, b"ab\x01\x01c\x01xd\x01q").expect("write");
        assert_eq!(p.run().expect("run"), ProxyEnd::Escaped);
        let mut buf = [0u8; 64];
        let n = rustix::io::read(&pair.slave, &mut buf).expect("read");
        // ^A^A sends one ^A; ^A x sends x; ^A q ends.
        assert_eq!(&buf[..n], b"ab\x01cxd");
    }
}
