//! The typed parent (monitor) <-> child (container init before exec) protocol: one [`Msg`] per
//! SOCK_SEQPACKET datagram, fds by SCM_RIGHTS, and `expect_*` helpers whose error says
//! "expected X, got Y" — instead of LXC's numbered sync barriers.
//!
//! The socket is close-on-exec: when the child exec's init, the parent's receive sees EOF, which
//! is how it learns the exec succeeded.

use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::net::{
    recvmsg, sendmsg, socketpair, AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags,
    SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};

/// One protocol message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// P→C: the host side is ready (ids mapped, cgroup entered, NICs moved in); NIC names inside.
    Configure {
        /// Names of the NICs moved into the container (as they appear there before renaming).
        nics: Vec<String>,
    },
    /// C→P: setup inside is done; tty master fds ride along (one per `lxc.tty.max`), then the
    /// seccomp notify listener when `notify` is set.
    SetupDone {
        /// A seccomp notify fd follows the tty fds.
        notify: bool,
    },
    /// P→C: start-host hooks ran, devices are set: exec init now.
    Start,
    /// C→P: setup failed; the reason, ready to show to the user.
    Error(String),
}

impl Msg {
    fn tag(&self) -> u8 {
        match self {
            Msg::Configure { .. } => 1,
            Msg::SetupDone { .. } => 2,
            Msg::Start => 3,
            Msg::Error(_) => 4,
        }
    }

    /// Name for error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Msg::Configure { .. } => "Configure",
            Msg::SetupDone { .. } => "SetupDone",
            Msg::Start => "Start",
            Msg::Error(_) => "Error",
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut v = vec![self.tag()];
        match self {
            Msg::Configure { nics } => v.extend_from_slice(nics.join("\0").as_bytes()),
            Msg::Error(s) => v.extend_from_slice(s.as_bytes()),
            Msg::SetupDone { notify } => v.push(u8::from(*notify)),
            Msg::Start => {}
        }
        v
    }

    fn decode(b: &[u8]) -> Result<Msg, ChannelError> {
        let (&tag, rest) = b.split_first().ok_or(ChannelError::Malformed("empty message".into()))?;
        let text = String::from_utf8_lossy(rest).into_owned();
        Ok(match tag {
            1 => Msg::Configure {
                nics: if text.is_empty() { Vec::new() } else { text.split('\0').map(str::to_string).collect() },
            },
            2 => Msg::SetupDone { notify: rest.first() == Some(&1) },
            3 => Msg::Start,
            4 => Msg::Error(text),
            t => return Err(ChannelError::Malformed(format!("unknown message tag {t}"))),
        })
    }
}

/// A protocol failure.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// Socket error.
    #[error("setup channel: {0}")]
    Io(#[from] std::io::Error),
    /// The other side closed the channel (for the parent waiting on exec: success).
    #[error("setup channel closed by the other side")]
    Closed,
    /// Wrong message.
    #[error("setup protocol: expected {expected}, got {got}")]
    Unexpected {
        /// What we waited for.
        expected: &'static str,
        /// What came.
        got: &'static str,
    },
    /// The child reported a failure.
    #[error("{0}")]
    Child(String),
    /// Undecodable bytes.
    #[error("setup protocol: {0}")]
    Malformed(String),
}

/// Most fds one message carries.
const MAX_FDS: usize = 64;

/// One end of the channel.
pub struct Channel {
    fd: OwnedFd,
}

/// Make a connected pair (parent end, child end), both close-on-exec.
pub fn pair() -> std::io::Result<(Channel, Channel)> {
    let (a, b) = socketpair(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    /// Send a message with fds.
    pub fn send(&self, msg: &Msg, fds: &[BorrowedFd<'_>]) -> Result<(), ChannelError> {
        let bytes = msg.encode();
        let iov = [IoSlice::new(&bytes)];
        let mut space = vec![MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
        let mut anc = SendAncillaryBuffer::new(&mut space);
        if !fds.is_empty() && (fds.len() > MAX_FDS || !anc.push(SendAncillaryMessage::ScmRights(fds))) {
            return Err(ChannelError::Malformed(format!("too many fds ({})", fds.len())));
        }
        loop {
            match sendmsg(&self.fd, &iov, &mut anc, SendFlags::NOSIGNAL) {
                Ok(_) => return Ok(()),
                Err(e) if e == rustix::io::Errno::INTR => continue,
                Err(e) if e == rustix::io::Errno::PIPE || e == rustix::io::Errno::CONNRESET => {
                    return Err(ChannelError::Closed)
                }
                Err(e) => return Err(ChannelError::Io(e.into())),
            }
        }
    }

    /// Receive the next message and its fds; `Closed` on EOF.
    pub fn recv(&self) -> Result<(Msg, Vec<OwnedFd>), ChannelError> {
        let mut buf = vec![0u8; 65536];
        let mut space = vec![MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
        let mut anc = RecvAncillaryBuffer::new(&mut space);
        let n = loop {
            let mut iov = [IoSliceMut::new(&mut buf)];
            match recvmsg(&self.fd, &mut iov, &mut anc, RecvFlags::CMSG_CLOEXEC) {
                Ok(r) => break r.bytes,
                Err(e) if e == rustix::io::Errno::INTR => continue,
                Err(e) if e == rustix::io::Errno::CONNRESET => return Err(ChannelError::Closed),
                Err(e) => return Err(ChannelError::Io(e.into())),
            }
        };
        let mut fds = Vec::new();
        for m in anc.drain() {
            if let RecvAncillaryMessage::ScmRights(r) = m {
                fds.extend(r);
            }
        }
        if n == 0 {
            return Err(ChannelError::Closed);
        }
        Ok((Msg::decode(&buf[..n])?, fds))
    }

    /// Receive and check the message kind; a child `Error` becomes [`ChannelError::Child`].
    pub fn expect(&self, expected: &'static str) -> Result<(Msg, Vec<OwnedFd>), ChannelError> {
        let (m, fds) = self.recv()?;
        match m {
            Msg::Error(s) => Err(ChannelError::Child(s)),
            m if m.name() == expected => Ok((m, fds)),
            m => Err(ChannelError::Unexpected { expected, got: m.name() }),
        }
    }

    /// Wait until the other side closes the channel (the child exec'ed) or reports an error.
    pub fn expect_closed(&self) -> Result<(), ChannelError> {
        match self.recv() {
            Err(ChannelError::Closed) => Ok(()),
            Ok((Msg::Error(s), _)) => Err(ChannelError::Child(s)),
            Ok((m, _)) => Err(ChannelError::Unexpected { expected: "exec of init (channel closed)", got: m.name() }),
            Err(e) => Err(e),
        }
    }

    /// An error the other side already sent, without waiting (None when there is none).
    pub fn pending_error(&self) -> Option<String> {
        let mut buf = vec![0u8; 65536];
        let mut space = vec![MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
        let mut anc = RecvAncillaryBuffer::new(&mut space);
        let mut iov = [IoSliceMut::new(&mut buf)];
        let n = recvmsg(&self.fd, &mut iov, &mut anc, RecvFlags::CMSG_CLOEXEC | RecvFlags::DONTWAIT).ok()?.bytes;
        match Msg::decode(&buf[..n]) {
            Ok(Msg::Error(s)) => Some(s),
            _ => None,
        }
    }

    /// The socket (for polling).
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_with_fds() {
        let (a, b) = pair().expect("pair");
        let f = std::fs::File::open("/dev/null").expect("null");
        a.send(&Msg::Configure { nics: vec!["eth0".into(), "eth1".into()] }, &[]).expect("send");
        let (m, _) = b.expect("Configure").expect("recv");
        assert_eq!(m, Msg::Configure { nics: vec!["eth0".into(), "eth1".into()] });
        b.send(&Msg::SetupDone { notify: true }, &[f.as_fd(), f.as_fd()]).expect("send");
        let (m, fds) = a.expect("SetupDone").expect("recv");
        assert_eq!(m, Msg::SetupDone { notify: true });
        assert_eq!(fds.len(), 2);
    }

    #[test]
    fn wrong_message_names_both() {
        let (a, b) = pair().expect("pair");
        a.send(&Msg::Start, &[]).expect("send");
        let e = b.expect("SetupDone").err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(e, "setup protocol: expected SetupDone, got Start");
        a.send(&Msg::Error("lxc.init.cmd \"/sbin/nope\" not found in rootfs".into()), &[]).expect("send");
        let e = b.expect("SetupDone").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("/sbin/nope"));
        drop(a);
        assert!(b.expect_closed().is_ok());
    }

    #[test]
    fn pending_error_does_not_wait() {
        let (a, b) = pair().expect("pair");
        assert_eq!(b.pending_error(), None);
        a.send(&Msg::Error("open console /dev/pts/3: Permission denied".into()), &[]).expect("send");
        drop(a);
        assert_eq!(b.pending_error().as_deref(), Some("open console /dev/pts/3: Permission denied"));
        assert_eq!(b.pending_error(), None);
    }
}
