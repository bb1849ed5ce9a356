//! The console client (`lxc-console`, `console()`): get a tty of the running container from
//! its monitor (CONSOLE command 0, the pty master comes with SCM_RIGHTS and the slot stays ours
//! while the connection is open), put our terminal in raw mode and relay until the user types
//! the escape sequence (`Ctrl-a q` by default) or the tty goes away.

use std::io::Write;
use std::os::fd::AsFd;

use rlxc_sys::forkexec::{self, SigSet, SignalFd};

use super::AttachError;
use crate::commands::{client, CmdError};
use crate::terminal::{Proxy, ProxyEnd};

/// Parse lxc-console's `-e` value: a letter (`a`) or `^a`, giving the control code (1 for a).
pub fn parse_escape(s: &str) -> Option<u8> {
    let s = s.strip_prefix('^').unwrap_or(s);
    let mut ch = s.chars();
    let c = ch.next()?;
    if ch.next().is_some() || !c.is_ascii_alphabetic() {
        return None;
    }
    Some(c.to_ascii_lowercase() as u8 - b'a' + 1)
}

/// How a console session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleEnd {
    /// The escape sequence was typed.
    Escaped,
    /// The container's tty went away (container stopped).
    HungUp,
    /// We were told to detach (SIGTERM/SIGHUP).
    Detached,
}

/// Attach our stdin/stdout to tty `ttynum` (-1: any free tty, 0: the console) of container
/// `name`. `escape` is the control code that, followed by `q`, ends the session.
pub fn console(name: &str, lxcpath: &str, ttynum: i32, escape: u8) -> Result<ConsoleEnd, AttachError> {
    super::check_attachable(name, lxcpath).or_else(|e| match e {
        // A frozen container's console still shows what it printed; let the user look.
        AttachError::Frozen { .. } => Ok(()),
        e => Err(e),
    })?;
    let slot = client::console(name, lxcpath, ttynum)
        .map_err(|e| match e {
            CmdError::NotRunning { .. } => AttachError::NotRunning { name: name.into() },
            e => AttachError::Monitor { name: name.into(), source: e },
        })?
        .ok_or_else(|| AttachError::Failed {
            name: name.into(),
            what: if ttynum < 0 {
                "no free tty available (lxc.tty.max)".to_string()
            } else {
                format!("tty {ttynum} is not available (busy or beyond lxc.tty.max)")
            },
        })?;

    let letter = (b'a' + escape.saturating_sub(1)) as char;
    let stdin = forkexec::stdio_fd(0);
    let stdout = forkexec::stdio_fd(1);
    let stdin_tty = rlxc_sys::pty::is_terminal(stdin);
    {
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\nConnected to tty {}\nType <Ctrl+{letter} q> to exit the console, <Ctrl+{letter} Ctrl+{letter}> to enter Ctrl+{letter} itself\n",
            slot.ttynum
        );
        if stdin_tty {
            let _ = write!(err, "\r");
        }
    }

    let sigs = SigSet::of(&[libc::SIGWINCH, libc::SIGTERM, libc::SIGHUP]);
    let old =
        forkexec::block_signals(&sigs).map_err(|e| AttachError::Io { what: "blocking signals".into(), source: e })?;
    let result = (|| {
        let sfd =
            SignalFd::new(&sigs).map_err(|e| AttachError::Io { what: "creating a signalfd".into(), source: e })?;
        let _raw = if stdin_tty { rlxc_sys::pty::RawMode::enter(stdin).ok() } else { None };
        let mut proxy = Proxy::new(&sfd, stdout);
        proxy.master = Some(slot.master.as_fd());
        proxy.input = Some(stdin);
        proxy.escape = Some(escape);
        proxy.winsize_from = if stdin_tty { Some(stdin) } else { None };
        let end = proxy.run().map_err(|e| AttachError::Io { what: "relaying the console".into(), source: e })?;
        Ok(match end {
            ProxyEnd::Escaped => ConsoleEnd::Escaped,
            ProxyEnd::HungUp => ConsoleEnd::HungUp,
            _ => ConsoleEnd::Detached,
        })
    })();
    let _ = forkexec::set_sigmask(&old);
    // Keep the slot until here: closing the connection frees the tty in the monitor.
    drop(slot);
    result
}

/// Read (and optionally clear) the console ring buffer (`lxc.console.buffer.size`) through the
/// monitor's CONSOLE_LOG command; `Ok(empty)` when the buffer is empty.
pub fn console_log(name: &str, lxcpath: &str, read: bool, clear: bool) -> Result<Vec<u8>, AttachError> {
    let req = crate::commands::wire::ConsoleLogRequest { clear, read, read_max: 0, write_logfile: false };
    match client::console_log(name, lxcpath, &req) {
        Ok(b) => Ok(b),
        Err(CmdError::Remote { errno, .. }) if errno == libc::ENODATA => Ok(Vec::new()),
        Err(CmdError::Remote { errno, .. }) if errno == libc::EFAULT => Err(AttachError::Failed {
            name: name.into(),
            what: "the container has no console ring buffer (set lxc.console.buffer.size)".into(),
        }),
        Err(CmdError::NotRunning { .. }) => Err(AttachError::NotRunning { name: name.into() }),
        Err(e) => Err(AttachError::Monitor { name: name.into(), source: e }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_letters() {
        assert_eq!(parse_escape("a"), Some(1));
        assert_eq!(parse_escape("^b"), Some(2));
        assert_eq!(parse_escape("Z"), Some(26));
        assert_eq!(parse_escape("ab"), None);
        assert_eq!(parse_escape("1"), None);
        assert_eq!(parse_escape(""), None);
    }
}
