//! The container console on the host side: a pty pair allocated by the monitor, its output
//! copied into `lxc.console.logfile` (with `lxc.console.size` / `rotate`) and into the in-memory
//! ring buffer (`lxc.console.buffer.size`) served by the CONSOLE_LOG command, and proxied to a
//! peer (the caller's terminal with `lxc-start -F`, or `lxc.console.path`) or to the one
//! `lxc-console -t 0` client at a time (LXC's terminal proxy: the client gets a pty of its own).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rlxc_config::ConsoleConfig;
use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
use tracing::warn;

/// A console error naming the file involved.
#[derive(Debug, thiserror::Error)]
#[error("console: {what} \"{}\": {source}", path.display())]
pub struct ConsoleError {
    what: &'static str,
    path: PathBuf,
    #[source]
    source: io::Error,
}

/// A pty pair: the master stays in the monitor, the slave path is bound onto `/dev/console`.
pub struct Pty {
    /// Master side.
    pub master: OwnedFd,
    /// `/dev/pts/N` of the slave.
    pub slave_path: PathBuf,
}

/// Allocate a pty pair on the host's devpts (`/dev/ptmx`).
pub fn open_pty() -> io::Result<Pty> {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let name = ptsname(&master, Vec::new())?;
    let slave_path = PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name.as_bytes()));
    Ok(Pty { master, slave_path })
}

/// A power-of-two ring buffer keeping the last `size` bytes of console output.
pub struct Ring {
    buf: Vec<u8>,
    /// Total bytes ever written (the write position is `written % size`).
    written: u64,
}

impl Ring {
    /// A ring of `size` bytes (rounded up to a power of two by the config already).
    pub fn new(size: usize) -> Ring {
        Ring { buf: vec![0; size.max(1)], written: 0 }
    }

    /// Append bytes, overwriting the oldest.
    pub fn write(&mut self, data: &[u8]) {
        let n = self.buf.len();
        let data = if data.len() > n { &data[data.len() - n..] } else { data };
        for &b in data {
            let pos = (self.written % n as u64) as usize;
            self.buf[pos] = b;
            self.written += 1;
        }
    }

    /// The kept bytes, oldest first.
    pub fn contents(&self) -> Vec<u8> {
        let n = self.buf.len() as u64;
        if self.written <= n {
            return self.buf[..self.written as usize].to_vec();
        }
        let start = (self.written % n) as usize;
        let mut v = self.buf[start..].to_vec();
        v.extend_from_slice(&self.buf[..start]);
        v
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.written = 0;
    }
}

/// The console log file with LXC's size limit and rotation.
pub struct LogFile {
    path: PathBuf,
    file: File,
    size: u64,
    limit: u64,
    rotate: bool,
}

impl LogFile {
    /// Open (append, create 0600) `path`.
    pub fn open(path: &Path, limit: u64, rotate: bool) -> Result<LogFile, ConsoleError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(|source| ConsoleError { what: "open log file", path: path.to_path_buf(), source })?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(LogFile { path: path.to_path_buf(), file, size, limit, rotate })
    }

    /// Write console output; when the size limit is reached the file is rotated (old one gets
    /// `.1`) if `rotate`, else truncated, as LXC's console log does.
    pub fn write(&mut self, data: &[u8]) {
        if self.limit > 0 && self.size + data.len() as u64 > self.limit {
            if self.rotate {
                let mut old = self.path.clone().into_os_string();
                old.push(".1");
                let _ = std::fs::rename(&self.path, &old);
            } else {
                let _ = self.file.set_len(0);
            }
            if let Ok(f) =
                OpenOptions::new().create(true).append(true).mode(0o600).custom_flags(libc::O_CLOEXEC).open(&self.path)
            {
                self.file = f;
            }
            self.size = 0;
        }
        if self.file.write_all(data).is_ok() {
            self.size += data.len() as u64;
        }
    }

    /// Write the ring buffer's contents to the log (CONSOLE_LOG with `write_logfile`).
    pub fn write_all_now(&mut self, data: &[u8]) {
        self.write(data);
    }
}

/// The monitor's side of the console: master fd, log, ring buffer, optional peer.
pub struct Console {
    /// The pty.
    pub pty: Pty,
    /// `lxc.console.logfile`.
    pub log: Option<LogFile>,
    /// `lxc.console.buffer.size`.
    pub ring: Option<Ring>,
    /// Where output is copied (foreground terminal or `lxc.console.path`), and input read from.
    pub peer_out: Option<OwnedFd>,
    /// Input source (the caller's stdin in the foreground).
    pub peer_in: Option<OwnedFd>,
    /// The monitor keeps the slave open too, so the master never sees a hang-up while init
    /// reopens its console (LXC keeps `terminal->pty` for the same reason).
    pub slave_keep: Option<File>,
    /// The `lxc-console -t 0` client's proxy pty (its slave end; the client holds the master).
    pub proxy: Option<OwnedFd>,
    /// Counts the proxies opened, so the monitor's loop tells a new one from the last.
    pub proxy_serial: u64,
}

impl Console {
    /// Allocate the console pty and open its log per `lxc.console.*`. None when
    /// `lxc.console.path = none`.
    pub fn setup(conf: &ConsoleConfig) -> Result<Option<Console>, ConsoleError> {
        if conf.disabled() {
            return Ok(None);
        }
        let pty =
            open_pty().map_err(|source| ConsoleError { what: "allocate pty", path: "/dev/ptmx".into(), source })?;
        // Never block the monitor's loop on the console (a spurious wake-up, a reader racing
        // us in a foreground start): it also serves every command, stop included.
        let nonblock = rustix::fs::fcntl_getfl(&pty.master)
            .and_then(|fl| rustix::fs::fcntl_setfl(&pty.master, fl | rustix::fs::OFlags::NONBLOCK));
        if let Err(e) = nonblock {
            return Err(ConsoleError { what: "set O_NONBLOCK on", path: "/dev/ptmx".into(), source: e.into() });
        }
        let log = match conf.logfile.as_deref() {
            Some(p) if !p.is_empty() => Some(LogFile::open(Path::new(p), conf.log_size, conf.rotate)?),
            _ => None,
        };
        let ring = (conf.buffer_size > 0).then(|| Ring::new(conf.buffer_size as usize));
        let mut peer_out = None;
        if let Some(p) = conf.path.as_deref().filter(|p| !p.is_empty()) {
            match OpenOptions::new().read(true).write(true).custom_flags(libc::O_CLOEXEC | libc::O_NOCTTY).open(p) {
                Ok(f) => peer_out = Some(OwnedFd::from(f)),
                Err(e) => warn!("lxc.console.path \"{p}\": {e}; console output goes only to the log"),
            }
        }
        let slave_keep = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOCTTY)
            .open(&pty.slave_path)
            .ok();
        Ok(Some(Console { pty, log, ring, peer_out, peer_in: None, slave_keep, proxy: None, proxy_serial: 0 }))
    }

    /// Read what is available on the master and distribute it. Returns false on EOF/EIO (the
    /// slave side is closed by everyone; the console stays allocated).
    pub fn pump_master(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        let mut f = File::from(match self.pty.master.try_clone() {
            Ok(fd) => fd,
            Err(_) => return false,
        });
        match f.read(&mut buf) {
            Ok(0) => false,
            Ok(n) => {
                let data = &buf[..n];
                if let Some(l) = self.log.as_mut() {
                    l.write(data);
                }
                if let Some(r) = self.ring.as_mut() {
                    r.write(data);
                }
                if let Some(p) = self.peer_out.as_ref() {
                    let _ = rustix::io::write(p, data);
                }
                // Non-blocking: a console client that stops reading loses output, it never
                // stalls the monitor (the log and the ring buffer still get everything).
                if let Some(p) = self.proxy.as_ref() {
                    let _ = rustix::io::write(p, data);
                }
                true
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted => true,
            Err(_) => false,
        }
    }

    /// Copy input from the peer to the master. Returns false on EOF of the peer.
    pub fn pump_peer(&mut self) -> bool {
        let Some(p) = self.peer_in.as_ref() else { return false };
        self.forward_input(p.as_fd())
    }

    /// Copy what `from` has to the console's master. Returns false once `from` is closed (EOF,
    /// or EIO from a pty whose other end is gone).
    fn forward_input(&self, from: BorrowedFd<'_>) -> bool {
        let mut buf = [0u8; 1024];
        match rustix::io::read(from, &mut buf) {
            Ok(0) => false,
            Ok(n) => {
                let _ = rustix::io::write(&self.pty.master, &buf[..n]);
                true
            }
            Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::INTR => true,
            Err(_) => false,
        }
    }

    /// CONSOLE for tty 0 (`lxc-console -t 0`): a new pty for the client, whose master it gets,
    /// while the monitor keeps reading the console and copies its output to the proxy's slave
    /// as well as to the log and the ring buffer, and the proxy's input to the console. Handing
    /// out the console's own master would split the output between the monitor and the client
    /// (each read takes the bytes it gets). None while a terminal types into the console (an
    /// interactive `lxc-start -F`) or another client is connected (LXC: "Terminal already in
    /// use"). A foreground start without a terminal (e.g. `lxc@.service` runs `lxc-start -F`)
    /// only copies output to its stdout, so clients are welcome then, as with LXC, which has no
    /// peer in that case. The caller adds [`Console::proxy`] to its poll set.
    pub fn open_proxy(&mut self) -> io::Result<Option<OwnedFd>> {
        if self.proxy.is_some() || self.peer_in.is_some() {
            return Ok(None);
        }
        let pair = rlxc_sys::pty::open_pty()?;
        rlxc_sys::pty::set_raw(&pair.slave)?;
        let fl = rustix::fs::fcntl_getfl(&pair.slave)?;
        rustix::fs::fcntl_setfl(&pair.slave, fl | rustix::fs::OFlags::NONBLOCK)?;
        if let Ok(ws) = rlxc_sys::pty::window_size(&self.pty.master) {
            let _ = rlxc_sys::pty::set_window_size(&pair.master, ws);
        }
        self.proxy = Some(pair.slave);
        self.proxy_serial += 1;
        Ok(Some(pair.master))
    }

    /// The console client closed its pty (or the monitor could not poll it): drop the proxy
    /// (closing it also takes it out of any epoll set, the monitor holds no other copy).
    pub fn close_proxy(&mut self) {
        self.proxy = None;
    }

    /// Copy the console client's input to the console, and its window size when it changed.
    /// Returns false once the client closed its end (read gives EIO): drop the proxy then.
    pub fn pump_proxy(&mut self) -> bool {
        let Some(p) = self.proxy.as_ref() else { return false };
        if let (Ok(theirs), Ok(ours)) = (rlxc_sys::pty::window_size(p), rlxc_sys::pty::window_size(&self.pty.master)) {
            if (theirs.ws_row, theirs.ws_col) != (ours.ws_row, ours.ws_col) {
                let _ = rlxc_sys::pty::set_window_size(&self.pty.master, theirs);
            }
        }
        self.forward_input(p.as_fd())
    }

    /// Raw fd of the master (for the poll set).
    pub fn master_fd(&self) -> i32 {
        self.pty.master.as_fd().as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_console_client_at_a_time_through_its_own_pty() {
        if !Path::new("/dev/ptmx").exists() {
            eprintln!("SKIPPED: no /dev/ptmx");
            return;
        }
        let conf = ConsoleConfig::default();
        let mut c = Console::setup(&conf).expect("console").expect("not disabled");
        let first = c.open_proxy().expect("proxy").expect("free");
        assert_eq!(c.proxy_serial, 1);
        assert!(c.open_proxy().expect("proxy").is_none(), "a second client is refused while one is connected");
        // Output goes to the client's pty as well as the ring; the client's input to the console.
        let slave = OpenOptions::new().read(true).write(true).open(&c.pty.slave_path).expect("console slave");
        (&slave).write_all(b"out\n").expect("write");
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(c.pump_master());
        let mut buf = [0u8; 64];
        let n = rustix::io::read(&first, &mut buf).expect("client reads");
        assert!(String::from_utf8_lossy(&buf[..n]).contains("out"));
        rustix::io::write(&first, b"in").expect("client writes");
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(c.pump_proxy());
        // The client leaves: its proxy reads EIO, a new client gets a new one.
        drop(first);
        assert!(!c.pump_proxy());
        c.close_proxy();
        assert!(c.open_proxy().expect("proxy").is_some());
        assert_eq!(c.proxy_serial, 2);
    }

    #[test]
    fn ring_keeps_the_last_bytes_in_order() {
        let mut r = Ring::new(8);
        r.write(b"abc");
        assert_eq!(r.contents(), b"abc");
        r.write(b"defghij");
        assert_eq!(r.contents(), b"cdefghij");
        r.write(b"0123456789ABC");
        assert_eq!(r.contents(), b"56789ABC");
        r.clear();
        assert!(r.contents().is_empty());
    }

    #[test]
    fn log_rotates_at_limit() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("c.log");
        let mut l = LogFile::open(&p, 8, true).expect("open");
        l.write(b"12345");
        l.write(b"6789");
        assert_eq!(std::fs::read(&p).expect("read"), b"6789");
        assert_eq!(std::fs::read(d.path().join("c.log.1")).expect("read"), b"12345");
    }
}
