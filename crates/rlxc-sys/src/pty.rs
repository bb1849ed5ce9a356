//! pty allocation and terminal ioctls (owned by the attach/console work).
//!
//! Everything here goes through `rustix`, so there is no `unsafe`; the module exists so the
//! rest of rlxc has one small, typed place for "make a pty pair", "put this terminal in raw mode
//! and put it back", and "copy the window size".

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use rustix::fs::{Mode, OFlags};
use rustix::pty::OpenptFlags;
use rustix::termios::{self, OptionalActions, Termios, Winsize};

/// A freshly allocated pseudo terminal: the master side and the opened slave side.
#[derive(Debug)]
pub struct PtyPair {
    /// The controlling (multiplexer) side, kept by the proxy.
    pub master: OwnedFd,
    /// The terminal the attached process gets as its stdio.
    pub slave: OwnedFd,
    /// The slave's device path (e.g. `/dev/pts/7`), for logs.
    pub slave_path: PathBuf,
}

/// Open a new pty pair on the devpts instance behind `/dev/ptmx`. Both fds are close-on-exec;
/// the caller dup2()s the slave onto stdio in the child (dup2 clears close-on-exec).
pub fn open_pty() -> io::Result<PtyPair> {
    let master = rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    rustix::pty::grantpt(&master)?;
    rustix::pty::unlockpt(&master)?;
    let name = rustix::pty::ptsname(&master, Vec::new())?;
    let slave_path = PathBuf::from(name.to_string_lossy().into_owned());
    // TIOCGPTPEER opens the peer without a path lookup (no races with a changed /dev/pts);
    // fall back to opening the path on old kernels.
    let slave =
        match rustix::pty::ioctl_tiocgptpeer(&master, OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC) {
            Ok(fd) => fd,
            Err(_) => rustix::fs::open(&slave_path, OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC, Mode::empty())?,
        };
    Ok(PtyPair { master, slave, slave_path })
}

/// Open a new pty pair on the devpts instance a container sees: `<root>/dev/ptmx` resolved
/// inside `root` (e.g. `/proc/<init>/root`, so symlinks such as `ptmx -> pts/ptmx` cannot lead
/// out of the container). The slave then has a name that exists inside the container
/// (`tty` works there). Refuses anything that is not the ptmx device (char 5:2).
pub fn open_pty_in(root: &std::path::Path) -> io::Result<PtyPair> {
    use rustix::fs::ResolveFlags;
    let dir = rustix::fs::open(root, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    let master = rustix::fs::openat2(
        &dir,
        "dev/ptmx",
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )?;
    let st = rustix::fs::fstat(&master)?;
    let rdev = st.st_rdev;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::CharacterDevice
        || rustix::fs::major(rdev) != 5
        || rustix::fs::minor(rdev) != 2
    {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "dev/ptmx of the container is not the ptmx device"));
    }
    rustix::pty::grantpt(&master)?;
    rustix::pty::unlockpt(&master)?;
    let name = rustix::pty::ptsname(&master, Vec::new())?;
    let slave_path = PathBuf::from(name.to_string_lossy().into_owned());
    // No path lookup for the slave: the name is only valid inside the container.
    let slave =
        rustix::pty::ioctl_tiocgptpeer(&master, OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    Ok(PtyPair { master, slave, slave_path })
}

/// Whether `fd` refers to a terminal.
pub fn is_terminal<Fd: AsFd>(fd: Fd) -> bool {
    termios::isatty(fd)
}

/// Window size of a terminal.
pub fn window_size<Fd: AsFd>(fd: Fd) -> io::Result<Winsize> {
    Ok(termios::tcgetwinsize(fd)?)
}

/// Set the window size of a terminal (the master side of a pty resizes the slave and sends the
/// slave's foreground process group SIGWINCH).
pub fn set_window_size<Fd: AsFd>(fd: Fd, ws: Winsize) -> io::Result<()> {
    Ok(termios::tcsetwinsize(fd, ws)?)
}

/// Copy the window size of `from` onto `to`; used at start and on every SIGWINCH.
pub fn copy_window_size<A: AsFd, B: AsFd>(from: A, to: B) -> io::Result<()> {
    let ws = window_size(from)?;
    set_window_size(to, ws)
}

/// Make `fd` the controlling terminal of the calling process (which must be a session leader).
pub fn set_controlling_terminal<Fd: AsFd>(fd: Fd) -> io::Result<()> {
    Ok(rustix::process::ioctl_tiocsctty(fd)?)
}

/// Put the terminal behind `fd` in raw mode for good (a pty end only rlxc uses, e.g. the
/// console proxy's slave, so there is nothing to restore).
pub fn set_raw<Fd: AsFd>(fd: Fd) -> io::Result<()> {
    let mut raw = termios::tcgetattr(&fd)?;
    raw.make_raw();
    Ok(termios::tcsetattr(&fd, OptionalActions::Now, &raw)?)
}

/// A terminal switched to raw mode; the previous settings come back on drop.
pub struct RawMode<Fd: AsFd> {
    fd: Fd,
    saved: Termios,
}

impl<Fd: AsFd> RawMode<Fd> {
    /// Put the terminal behind `fd` in raw mode (cfmakeraw plus ISIG off), remembering the old
    /// settings. Like LXC's `lxc_setup_tios`, output post-processing stays as cfmakeraw sets it.
    pub fn enter(fd: Fd) -> io::Result<RawMode<Fd>> {
        let saved = termios::tcgetattr(&fd)?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(&fd, OptionalActions::Now, &raw)?;
        Ok(RawMode { fd, saved })
    }
}

impl<Fd: AsFd> Drop for RawMode<Fd> {
    fn drop(&mut self) {
        // Nothing sensible to do when restoring fails (the terminal may be gone).
        let _ = termios::tcsetattr(&self.fd, OptionalActions::Now, &self.saved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pty_pair_is_a_terminal_and_carries_window_size() {
        let Ok(p) = open_pty() else {
            eprintln!("no /dev/ptmx here; skipping");
            return;
        };
        assert!(is_terminal(&p.slave));
        let ws = Winsize { ws_row: 33, ws_col: 101, ws_xpixel: 0, ws_ypixel: 0 };
        set_window_size(&p.master, ws).expect("set winsize");
        let got = window_size(&p.slave).expect("get winsize");
        assert_eq!((got.ws_row, got.ws_col), (33, 101));
        assert!(p.slave_path.starts_with("/dev/pts") || p.slave_path.to_string_lossy().contains("pts"));
    }

    #[test]
    fn raw_mode_restores_settings() {
        let Ok(p) = open_pty() else { return };
        let before = termios::tcgetattr(&p.slave).expect("tcgetattr");
        {
            let _raw = RawMode::enter(&p.slave).expect("raw");
            let now = termios::tcgetattr(&p.slave).expect("tcgetattr");
            assert!(!now.local_modes.contains(termios::LocalModes::ICANON));
        }
        let after = termios::tcgetattr(&p.slave).expect("tcgetattr");
        assert_eq!(before.local_modes, after.local_modes);
    }
}
