//! Raw netlink sockets (rtnetlink and generic netlink) and namespace-scoped socket opening.
//!
//! Everything here goes through `rustix`, which wraps the syscalls safely, so this module needs
//! no `unsafe`. Messages are built and parsed by `rlxc-net`; this module only moves bytes.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::net::{netlink, AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};
use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};

/// Which netlink family a socket speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetlinkProtocol {
    /// `NETLINK_ROUTE`: links, addresses, routes, neighbours.
    Route,
    /// `NETLINK_GENERIC`: used for nl80211 (wireless phy moves).
    Generic,
}

/// A bound, close-on-exec netlink socket. Requests are sent whole; replies are read datagram by
/// datagram into a caller buffer.
#[derive(Debug)]
pub struct NetlinkSocket {
    fd: OwnedFd,
}

impl NetlinkSocket {
    /// Open and bind a netlink socket in the calling thread's current network namespace.
    pub fn open(proto: NetlinkProtocol) -> io::Result<NetlinkSocket> {
        let protocol = match proto {
            // NETLINK_ROUTE is protocol number 0.
            NetlinkProtocol::Route => None,
            NetlinkProtocol::Generic => Some(netlink::GENERIC),
        };
        let fd = rustix::net::socket_with(AddressFamily::NETLINK, SocketType::RAW, SocketFlags::CLOEXEC, protocol)?;
        // Let the kernel pick our port id (pid 0).
        rustix::net::bind(&fd, &netlink::SocketAddrNetlink::new(0, 0))?;
        // Large dumps (many links with stats) need a bigger receive buffer than the default.
        let _ = rustix::net::sockopt::set_socket_recv_buffer_size(&fd, 1 << 20);
        Ok(NetlinkSocket { fd })
    }

    /// Open a netlink socket that lives in the network namespace `netns` (an fd of
    /// `/proc/PID/ns/net`). The socket stays bound to that namespace after we switch back, so
    /// every request on it acts there. The caller's namespace is restored before returning,
    /// also on error; if restoring fails that error is returned (the process is then in the
    /// wrong namespace and must not go on).
    pub fn open_in_netns(proto: NetlinkProtocol, netns: BorrowedFd<'_>) -> io::Result<NetlinkSocket> {
        let own = rustix::fs::open(
            "/proc/thread-self/ns/net",
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )?;
        move_into_link_name_space(netns, Some(LinkNameSpaceType::Network))?;
        let sock = NetlinkSocket::open(proto);
        move_into_link_name_space(own.as_fd(), Some(LinkNameSpaceType::Network))?;
        sock
    }

    /// Send one complete request (one or more netlink messages).
    pub fn send(&self, msg: &[u8]) -> io::Result<()> {
        let n = rustix::net::send(&self.fd, msg, SendFlags::empty())?;
        if n != msg.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short netlink send"));
        }
        Ok(())
    }

    /// Receive one datagram into `buf`, returning its length. A datagram larger than `buf` is
    /// reported as an error rather than silently truncated.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let (n, full) = rustix::net::recv(&self.fd, &mut *buf, RecvFlags::empty())?;
        if full > n {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "netlink datagram truncated"));
        }
        Ok(n)
    }
}

impl AsFd for NetlinkSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Open a namespace file (`/proc/PID/ns/net`, `/proc/self/ns/net`, `/run/netns/NAME`)
/// close-on-exec, to pass to netlink (`IFLA_NET_NS_FD`) or to [`NetlinkSocket::open_in_netns`].
pub fn open_netns(path: &str) -> io::Result<OwnedFd> {
    Ok(rustix::fs::open(path, rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC, rustix::fs::Mode::empty())?)
}

/// Run `f` with the calling thread switched into network namespace `netns` (for work that must
/// happen there and is not netlink: `/proc/sys/net` writes, `getifaddrs`). The original
/// namespace is restored afterwards; a failure to restore is returned as the error.
pub fn with_netns<T>(netns: BorrowedFd<'_>, f: impl FnOnce() -> T) -> io::Result<T> {
    let own = open_netns("/proc/thread-self/ns/net")?;
    move_into_link_name_space(netns, Some(LinkNameSpaceType::Network))?;
    let out = f();
    move_into_link_name_space(own.as_fd(), Some(LinkNameSpaceType::Network))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_route_socket() {
        // Opening an rtnetlink socket needs no privilege.
        let s = NetlinkSocket::open(NetlinkProtocol::Route);
        assert!(s.is_ok(), "{s:?}");
    }
}
