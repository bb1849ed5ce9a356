//! SCM_RIGHTS / SCM_CREDENTIALS messages on unix sockets (owned by the command-protocol work).
//!
//! LXC's command protocol sends each request header with the caller's credentials attached
//! (`SCM_CREDENTIALS`) and returns file descriptors (`SCM_RIGHTS`) on the response header. These
//! helpers wrap `rustix`'s safe `sendmsg`/`recvmsg`, so no `unsafe` is needed here; they exist so
//! that every caller uses the same buffer sizes, flags (`MSG_NOSIGNAL`, `MSG_CMSG_CLOEXEC`) and
//! EINTR handling.

use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::net::{
    self, AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketAddrUnix, SocketFlags, SocketType, UCred,
};

/// Most descriptors one message may carry (LXC's `KERNEL_SCM_MAX_FD` is 253; we never need more
/// than the cgroup context's 20).
pub const MAX_FDS: usize = 32;

/// Credentials of a peer as the kernel reported them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

impl From<UCred> for Credentials {
    fn from(c: UCred) -> Self {
        Credentials { pid: c.pid.as_raw_nonzero().get(), uid: c.uid.as_raw(), gid: c.gid.as_raw() }
    }
}

fn retry<T>(mut f: impl FnMut() -> rustix::io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(rustix::io::Errno::INTR) => continue,
            r => return r.map_err(io::Error::from),
        }
    }
}

/// The abstract address `@name` (leading NUL implied; `name` excludes it). The address length is
/// `offsetof(sun_path) + 1 + name.len()`, exactly as LXC computes it.
pub fn abstract_addr(name: &[u8]) -> io::Result<SocketAddrUnix> {
    SocketAddrUnix::new_abstract_name(name).map_err(io::Error::from)
}

/// A new close-on-exec `AF_UNIX` stream socket.
pub fn unix_stream_socket() -> io::Result<OwnedFd> {
    net::socket_with(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::CLOEXEC, None).map_err(io::Error::from)
}

/// Connect a new stream socket to the abstract address `@name`.
pub fn connect_abstract(name: &[u8]) -> io::Result<OwnedFd> {
    let addr = abstract_addr(name)?;
    let fd = unix_stream_socket()?;
    retry(|| net::connect(&fd, &addr))?;
    Ok(fd)
}

/// Bind and listen on the abstract address `@name` (non-blocking, close-on-exec listener).
/// EADDRINUSE means another process already serves this name.
pub fn listen_abstract(name: &[u8], backlog: i32) -> io::Result<OwnedFd> {
    let addr = abstract_addr(name)?;
    let fd =
        net::socket_with(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::CLOEXEC | SocketFlags::NONBLOCK, None)?;
    net::bind(&fd, &addr)?;
    net::listen(&fd, backlog)?;
    Ok(fd)
}

/// Accept one connection (close-on-exec, blocking). `Ok(None)` when none is pending.
pub fn accept(listener: BorrowedFd<'_>) -> io::Result<Option<OwnedFd>> {
    match retry(|| net::accept_with(listener, SocketFlags::CLOEXEC)) {
        Ok(fd) => Ok(Some(fd)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

/// Ask the kernel to attach the sender's credentials to every message we receive on `fd`.
pub fn set_passcred(fd: BorrowedFd<'_>) -> io::Result<()> {
    net::sockopt::set_socket_passcred(fd, true).map_err(io::Error::from)
}

/// Our own credentials, as `SCM_CREDENTIALS` must carry them.
pub fn own_credentials() -> Credentials {
    Credentials {
        pid: rustix::process::getpid().as_raw_nonzero().get(),
        uid: rustix::process::geteuid().as_raw(),
        gid: rustix::process::getegid().as_raw(),
    }
}

fn to_ucred(c: Credentials) -> io::Result<UCred> {
    let pid = rustix::process::Pid::from_raw(c.pid).ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok(UCred { pid, uid: rustix::process::Uid::from_raw(c.uid), gid: rustix::process::Gid::from_raw(c.gid) })
}

/// Send all of `buf` (one `sendmsg`) with our credentials attached. Returns bytes sent.
pub fn send_with_credentials(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    send_with_given_credentials(fd, buf, own_credentials())
}

/// Send `buf` with explicit credentials (the kernel only accepts our own unless privileged).
pub fn send_with_given_credentials(fd: BorrowedFd<'_>, buf: &[u8], creds: Credentials) -> io::Result<usize> {
    let ucred = to_ucred(creds)?;
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmCredentials(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmCredentials(ucred)) {
        return Err(io::Error::from_raw_os_error(libc::ENOBUFS));
    }
    let iov = [IoSlice::new(buf)];
    retry(|| net::sendmsg(fd, &iov, &mut control, SendFlags::NOSIGNAL))
}

/// Send `buf` with `fds` attached as `SCM_RIGHTS` (none: a plain send). Returns bytes sent.
pub fn send_with_fds(fd: BorrowedFd<'_>, buf: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<usize> {
    if fds.is_empty() {
        return send_all(fd, buf).map(|_| buf.len());
    }
    if fds.len() > MAX_FDS {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(fds.len()))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmRights(fds)) {
        return Err(io::Error::from_raw_os_error(libc::ENOBUFS));
    }
    let iov = [IoSlice::new(buf)];
    retry(|| net::sendmsg(fd, &iov, &mut control, SendFlags::NOSIGNAL))
}

/// Send every byte of `buf` (loops over short writes; no SIGPIPE).
pub fn send_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = retry(|| net::send(fd, buf, SendFlags::NOSIGNAL))?;
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::WriteZero));
        }
        buf = &buf[n..];
    }
    Ok(())
}

/// What one `recvmsg` returned: bytes read, credentials (if the peer's were attached), fds.
#[derive(Debug, Default)]
pub struct Received {
    pub bytes: usize,
    pub credentials: Option<Credentials>,
    pub fds: Vec<OwnedFd>,
    /// The kernel had to drop control data (more fds than we had room for).
    pub control_truncated: bool,
}

/// One `recvmsg` into `buf`, collecting credentials and up to `max_fds` descriptors
/// (close-on-exec). A return of 0 bytes means the peer closed the connection.
pub fn recv_message(fd: BorrowedFd<'_>, buf: &mut [u8], max_fds: usize) -> io::Result<Received> {
    let max_fds = max_fds.min(MAX_FDS);
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(max_fds.max(1)), ScmCredentials(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = retry(|| net::recvmsg(fd, &mut iov, &mut control, RecvFlags::CMSG_CLOEXEC))?;
    let mut out = Received {
        bytes: msg.bytes,
        control_truncated: msg.flags.contains(net::ReturnFlags::CTRUNC),
        ..Received::default()
    };
    for m in control.drain() {
        match m {
            RecvAncillaryMessage::ScmRights(fds) => out.fds.extend(fds),
            RecvAncillaryMessage::ScmCredentials(c) => out.credentials = Some(c.into()),
            _ => {}
        }
    }
    Ok(out)
}

/// Read exactly `buf.len()` bytes; `Ok(false)` if the peer closed before the first byte,
/// an `UnexpectedEof` error if it closed midway.
pub fn recv_exact(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<bool> {
    let mut off = 0;
    while off < buf.len() {
        let n = retry(|| net::recv(fd, &mut buf[off..], RecvFlags::empty()).map(|(n, _)| n))?;
        if n == 0 {
            if off == 0 {
                return Ok(false);
            }
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        off += n;
    }
    Ok(true)
}

/// Set `SO_RCVTIMEO` on `fd` (None: block forever).
pub fn set_recv_timeout(fd: BorrowedFd<'_>, timeout: Option<std::time::Duration>) -> io::Result<()> {
    net::sockopt::set_socket_timeout(fd, net::sockopt::Timeout::Recv, timeout).map_err(io::Error::from)
}

/// A connected pair of `AF_UNIX` stream sockets (close-on-exec).
pub fn stream_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    net::socketpair(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::CLOEXEC, None).map_err(io::Error::from)
}

/// Take ownership of a descriptor inherited by number (e.g. `lxc-monitord LXCPATH SYNC_FD`).
/// Fails with EBADF unless `raw` is open; the caller must not use `raw` otherwise afterwards.
pub fn adopt_inherited_fd(raw: std::os::fd::RawFd) -> io::Result<OwnedFd> {
    use std::os::fd::FromRawFd;
    if raw < 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: F_GETFD only inspects the descriptor table entry.
    if unsafe { libc::fcntl(raw, libc::F_GETFD) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is open (checked above) and, by the inheritance contract, owned by nobody
    // else in this process; from here on only the returned OwnedFd closes it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Borrow helper so callers can pass `&OwnedFd` where a `BorrowedFd` is wanted.
pub fn borrow<F: AsFd>(f: &F) -> BorrowedFd<'_> {
    f.as_fd()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn credentials_and_fds_round_trip() {
        let (a, b) = stream_pair().expect("socketpair");
        set_passcred(b.as_fd()).expect("passcred");
        assert_eq!(send_with_credentials(a.as_fd(), b"hello").expect("send"), 5);
        let mut buf = [0u8; 16];
        let r = recv_message(b.as_fd(), &mut buf, 0).expect("recv");
        assert_eq!(&buf[..r.bytes], b"hello");
        let c = r.credentials.expect("creds");
        assert_eq!(c, own_credentials());

        let (x, _y) = stream_pair().expect("socketpair");
        send_with_fds(a.as_fd(), b"fd", &[x.as_fd()]).expect("send fd");
        let r = recv_message(b.as_fd(), &mut buf, 1).expect("recv fd");
        assert_eq!(r.bytes, 2);
        assert_eq!(r.fds.len(), 1);
    }
}
