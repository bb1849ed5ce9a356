//! Seccomp user notification on the monitor side: the listener fd the child got from loading a
//! policy with `notify` rules is polled by the monitor; each notification is either forwarded to
//! the proxy named by `lxc.seccomp.notify.proxy` (LXC's wire format below) or, without a proxy,
//! answered with ENOSYS so the container's task doesn't hang.
//!
//! Proxy message (LXC 4.0 `struct seccomp_notify_proxy_msg`, native endianness, 32 bytes):
//! `u64 __reserved; i32 monitor_pid; i32 init_pid; u16 sizes.seccomp_notif;
//! u16 sizes.seccomp_notif_resp; u16 sizes.seccomp_data; 2 bytes padding; u64 cookie_len;`
//! then the kernel's `struct seccomp_notif`, a `struct seccomp_notif_resp` for the answer and the
//! cookie, sent as one SOCK_SEQPACKET message with an fd of `/proc/<pid>/mem` of the task. The
//! proxy replies with the header, the request and its filled-in response.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rlxc_sys::seccomp::{notif_id_valid, notif_recv, notif_send, notif_sizes, NotifSizes};
use rustix::net::{
    connect, recvmsg, sendmsg, socket_with, AddressFamily, RecvAncillaryBuffer, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketAddrUnix, SocketFlags, SocketType,
};
use tracing::{debug, warn};

use crate::error::{Result, SecurityError};

/// Size of the proxy message header.
pub const PROXY_MSG_LEN: usize = 32;

/// Where `lxc.seccomp.notify.proxy` points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyAddr {
    /// `unix:/path`.
    Path(String),
    /// `unix:@name` (abstract socket).
    Abstract(String),
}

/// Parse `unix:/path` or `unix:@name`.
pub fn parse_proxy_addr(value: &str) -> Result<ProxyAddr> {
    let bad = || {
        SecurityError::config(
            "lxc.seccomp.notify.proxy",
            format!("\"{value}\" is not unix:/path or unix:@abstract-name"),
        )
    };
    let rest = value.strip_prefix("unix:").ok_or_else(bad)?;
    if let Some(name) = rest.strip_prefix('@') {
        if name.is_empty() {
            return Err(bad());
        }
        Ok(ProxyAddr::Abstract(name.to_string()))
    } else if rest.starts_with('/') && rest.len() < 108 {
        Ok(ProxyAddr::Path(rest.to_string()))
    } else {
        Err(bad())
    }
}

/// Encode the proxy message header.
pub fn encode_header(monitor_pid: i32, init_pid: i32, sizes: NotifSizes, cookie_len: u64) -> [u8; PROXY_MSG_LEN] {
    let mut h = [0u8; PROXY_MSG_LEN];
    h[8..12].copy_from_slice(&monitor_pid.to_ne_bytes());
    h[12..16].copy_from_slice(&init_pid.to_ne_bytes());
    h[16..18].copy_from_slice(&sizes.seccomp_notif.to_ne_bytes());
    h[18..20].copy_from_slice(&sizes.seccomp_notif_resp.to_ne_bytes());
    h[20..22].copy_from_slice(&sizes.seccomp_data.to_ne_bytes());
    h[24..32].copy_from_slice(&cookie_len.to_ne_bytes());
    h
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_ne_bytes(a)
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_ne_bytes(a)
}

/// Fields of a raw `struct seccomp_notif` the monitor needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotifHead {
    /// Notification id.
    pub id: u64,
    /// Pid of the task (in the monitor's pid namespace).
    pub pid: u32,
    /// Syscall number.
    pub nr: i32,
    /// Audit arch.
    pub arch: u32,
}

/// Decode the head of a raw notification.
pub fn notif_head(req: &[u8]) -> NotifHead {
    NotifHead { id: u64_at(req, 0), pid: u32_at(req, 8), nr: u32_at(req, 16) as i32, arch: u32_at(req, 20) }
}

/// A raw response: `id`, `val`, `error`, `flags`.
pub fn encode_resp(buf: &mut [u8], id: u64, val: i64, error: i32, flags: u32) {
    buf.fill(0);
    buf[0..8].copy_from_slice(&id.to_ne_bytes());
    buf[8..16].copy_from_slice(&val.to_ne_bytes());
    buf[16..20].copy_from_slice(&error.to_ne_bytes());
    buf[20..24].copy_from_slice(&flags.to_ne_bytes());
}

/// The monitor's handler of one container's notify listener.
pub struct NotifyHandler {
    listener: OwnedFd,
    proxy: Option<OwnedFd>,
    proxy_addr: Option<ProxyAddr>,
    cookie: Vec<u8>,
    sizes: NotifSizes,
    monitor_pid: i32,
    init_pid: i32,
}

fn connect_proxy(addr: &ProxyAddr) -> Result<OwnedFd> {
    let what = || format!("connecting to the seccomp notify proxy {addr:?}");
    let sock = socket_with(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)
        .map_err(|e| SecurityError::io(what(), e.into()))?;
    let sa = match addr {
        ProxyAddr::Path(p) => SocketAddrUnix::new(p.as_str()),
        ProxyAddr::Abstract(n) => SocketAddrUnix::new_abstract_name(n.as_bytes()),
    }
    .map_err(|e| SecurityError::io(what(), e.into()))?;
    connect(&sock, &sa).map_err(|e| SecurityError::io(what(), e.into()))?;
    Ok(sock)
}

impl NotifyHandler {
    /// Take over the listener fd of container init `init_pid`; connects to the proxy if one is
    /// configured (failure to connect is an error, as in LXC).
    pub fn new(listener: OwnedFd, proxy: Option<&str>, cookie: Option<&str>, init_pid: i32) -> Result<NotifyHandler> {
        let sizes = notif_sizes().map_err(|e| SecurityError::io("SECCOMP_GET_NOTIF_SIZES", e))?;
        let proxy_addr = proxy.map(parse_proxy_addr).transpose()?;
        let proxy = proxy_addr.as_ref().map(connect_proxy).transpose()?;
        Ok(NotifyHandler {
            listener,
            proxy,
            proxy_addr,
            cookie: cookie.unwrap_or("").as_bytes().to_vec(),
            sizes,
            monitor_pid: std::process::id() as i32,
            init_pid,
        })
    }

    /// A duplicate of the listener (GET_SECCOMP_NOTIFY_FD hands one to API users).
    pub fn listener_dup(&self) -> std::io::Result<OwnedFd> {
        self.listener.try_clone()
    }

    /// Whether notifications go to a proxy (LXC accepts SECCOMP_NOTIFY_ADD_LISTENER only then).
    pub fn has_proxy(&self) -> bool {
        self.proxy_addr.is_some()
    }

    /// The fd the monitor polls for readability.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }

    /// Handle one readable event: receive, forward or answer. Returns false when the listener
    /// is dead (every filtered task is gone) and should be removed from the loop.
    pub fn handle_ready(&mut self) -> bool {
        let mut req = vec![0u8; usize::from(self.sizes.seccomp_notif).max(80)];
        if let Err(e) = notif_recv(self.listener.as_fd(), &mut req) {
            match e.raw_os_error() {
                Some(libc::ENOENT) | Some(libc::EINTR) => return true,
                _ => {
                    debug!("seccomp notify listener closed: {e}");
                    return false;
                }
            }
        }
        let head = notif_head(&req);
        let mut resp = vec![0u8; usize::from(self.sizes.seccomp_notif_resp).max(24)];
        let forwarded = match self.proxy.as_ref() {
            Some(_) => match self.forward(&mut req, &mut resp, head) {
                Ok(()) => true,
                Err(e) => {
                    warn!("seccomp notify proxy: {e}; answering ENOSYS");
                    self.proxy = None;
                    false
                }
            },
            None => false,
        };
        if !forwarded {
            encode_resp(&mut resp, head.id, 0, -libc::ENOSYS, 0);
        } else {
            // The proxy answers for this id only.
            resp[0..8].copy_from_slice(&head.id.to_ne_bytes());
        }
        if let Err(e) = notif_send(self.listener.as_fd(), &mut resp) {
            debug!("answering seccomp notification {} of pid {}: {e}", head.id, head.pid);
        }
        true
    }

    fn forward(&mut self, req: &mut [u8], resp: &mut [u8], head: NotifHead) -> Result<()> {
        let Some(proxy) = self.proxy.as_ref() else {
            return Err(SecurityError::config("lxc.seccomp.notify.proxy", "not connected"));
        };
        let mem_path = format!("/proc/{}/mem", head.pid);
        let mem = rustix::fs::open(
            mem_path.as_str(),
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| SecurityError::io(format!("opening {mem_path}"), e.into()))?;
        // The pid could have been recycled between the notification and the open.
        notif_id_valid(self.listener.as_fd(), head.id)
            .map_err(|e| SecurityError::io(format!("notification {} no longer valid", head.id), e))?;
        let header = encode_header(self.monitor_pid, self.init_pid, self.sizes, self.cookie.len() as u64);
        let iov = [IoSlice::new(&header), IoSlice::new(req), IoSlice::new(resp), IoSlice::new(&self.cookie)];
        let fds = [mem.as_fd()];
        let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut anc = SendAncillaryBuffer::new(&mut space);
        anc.push(SendAncillaryMessage::ScmRights(&fds));
        sendmsg(proxy, &iov, &mut anc, SendFlags::NOSIGNAL).map_err(|e| {
            SecurityError::io(format!("sending to the seccomp notify proxy {:?}", self.proxy_addr), e.into())
        })?;
        let mut hdr_back = [0u8; PROXY_MSG_LEN];
        let mut iov = [IoSliceMut::new(&mut hdr_back), IoSliceMut::new(req), IoSliceMut::new(resp)];
        let mut rspace: [std::mem::MaybeUninit<u8>; 0] = [];
        let mut ranc = RecvAncillaryBuffer::new(&mut rspace);
        let got = recvmsg(proxy, &mut iov, &mut ranc, RecvFlags::CMSG_CLOEXEC)
            .map_err(|e| SecurityError::io("receiving from the seccomp notify proxy", e.into()))?;
        let want = PROXY_MSG_LEN + req.len() + resp.len();
        if got.bytes < want {
            return Err(SecurityError::io(
                format!("short reply from the seccomp notify proxy ({} of {want} bytes)", got.bytes),
                std::io::ErrorKind::UnexpectedEof.into(),
            ));
        }
        Ok(())
    }
}

/// One notification as a proxy receives it (the server side of the protocol above; used by
/// tests and as a reference for proxy authors).
#[derive(Debug)]
pub struct ProxyRequest {
    /// `monitor_pid` of the header.
    pub monitor_pid: i32,
    /// `init_pid` of the header.
    pub init_pid: i32,
    /// Kernel structure sizes from the header.
    pub sizes: NotifSizes,
    /// The raw `struct seccomp_notif`.
    pub req: Vec<u8>,
    /// Decoded head of `req`.
    pub head: NotifHead,
    /// The cookie (`lxc.seccomp.notify.cookie`).
    pub cookie: Vec<u8>,
    /// `/proc/<pid>/mem` of the task, if the monitor sent it.
    pub mem: Option<OwnedFd>,
}

/// A listening proxy socket (SOCK_SEQPACKET).
pub struct ProxyServer {
    sock: OwnedFd,
}

impl ProxyServer {
    /// Bind and listen on `path`.
    pub fn bind(path: &std::path::Path) -> Result<ProxyServer> {
        let what = || format!("binding a seccomp proxy socket at {}", path.display());
        let sock = socket_with(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)
            .map_err(|e| SecurityError::io(what(), e.into()))?;
        let addr = SocketAddrUnix::new(path).map_err(|e| SecurityError::io(what(), e.into()))?;
        rustix::net::bind(&sock, &addr).map_err(|e| SecurityError::io(what(), e.into()))?;
        rustix::net::listen(&sock, 4).map_err(|e| SecurityError::io(what(), e.into()))?;
        Ok(ProxyServer { sock })
    }

    /// Accept one monitor connection.
    pub fn accept(&self) -> Result<OwnedFd> {
        rustix::net::accept_with(&self.sock, SocketFlags::CLOEXEC)
            .map_err(|e| SecurityError::io("accepting a monitor", e.into()))
    }

    /// Receive one request on a connection (sizes as the running kernel uses them).
    pub fn receive(conn: BorrowedFd<'_>) -> Result<ProxyRequest> {
        let sizes = notif_sizes().map_err(|e| SecurityError::io("SECCOMP_GET_NOTIF_SIZES", e))?;
        let mut buf =
            vec![0u8; PROXY_MSG_LEN + usize::from(sizes.seccomp_notif) + usize::from(sizes.seccomp_notif_resp) + 4096];
        let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut anc = RecvAncillaryBuffer::new(&mut space);
        let got = {
            let mut iov = [IoSliceMut::new(&mut buf)];
            recvmsg(conn, &mut iov, &mut anc, RecvFlags::CMSG_CLOEXEC)
                .map_err(|e| SecurityError::io("receiving a proxied notification", e.into()))?
        };
        let mut mem = None;
        for msg in anc.drain() {
            if let rustix::net::RecvAncillaryMessage::ScmRights(fds) = msg {
                mem = fds.into_iter().next();
            }
        }
        let n = got.bytes;
        let hs = NotifSizes {
            seccomp_notif: u16::from_ne_bytes([buf[16], buf[17]]),
            seccomp_notif_resp: u16::from_ne_bytes([buf[18], buf[19]]),
            seccomp_data: u16::from_ne_bytes([buf[20], buf[21]]),
        };
        let cookie_len = u64_at(&buf, 24) as usize;
        let rs = PROXY_MSG_LEN;
        let re = rs + usize::from(hs.seccomp_notif);
        let ce = re + usize::from(hs.seccomp_notif_resp);
        if n < PROXY_MSG_LEN || n < ce + cookie_len || hs.seccomp_notif < 80 {
            return Err(SecurityError::io(
                format!("malformed proxy message of {n} bytes"),
                std::io::ErrorKind::InvalidData.into(),
            ));
        }
        let req = buf[rs..re].to_vec();
        Ok(ProxyRequest {
            monitor_pid: u32_at(&buf, 8) as i32,
            init_pid: u32_at(&buf, 12) as i32,
            sizes: hs,
            head: notif_head(&req),
            req,
            cookie: buf[ce..ce + cookie_len].to_vec(),
            mem,
        })
    }

    /// Answer `request` on `conn`: the task's syscall returns `val`, or fails with `errno` when
    /// it is non-zero.
    pub fn reply(conn: BorrowedFd<'_>, request: &ProxyRequest, val: i64, errno: i32) -> Result<()> {
        let header = encode_header(request.monitor_pid, request.init_pid, request.sizes, 0);
        let mut resp = vec![0u8; usize::from(request.sizes.seccomp_notif_resp).max(24)];
        encode_resp(&mut resp, request.head.id, val, if errno != 0 { -errno } else { 0 }, 0);
        let iov = [IoSlice::new(&header), IoSlice::new(&request.req), IoSlice::new(&resp)];
        let mut space: [std::mem::MaybeUninit<u8>; 0] = [];
        let mut anc = SendAncillaryBuffer::new(&mut space);
        sendmsg(conn, &iov, &mut anc, SendFlags::NOSIGNAL)
            .map_err(|e| SecurityError::io("answering the monitor", e.into()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_addresses() {
        assert_eq!(parse_proxy_addr("unix:/run/p.sock").unwrap(), ProxyAddr::Path("/run/p.sock".into()));
        assert_eq!(parse_proxy_addr("unix:@seccomp").unwrap(), ProxyAddr::Abstract("seccomp".into()));
        assert!(parse_proxy_addr("tcp:1.2.3.4").is_err());
        assert!(parse_proxy_addr("unix:@").is_err());
        assert!(parse_proxy_addr("unix:relative").is_err());
    }

    #[test]
    fn header_layout_matches_lxc() {
        let s = NotifSizes { seccomp_notif: 80, seccomp_notif_resp: 24, seccomp_data: 64 };
        let h = encode_header(100, 200, s, 5);
        assert_eq!(u64_at(&h, 0), 0);
        assert_eq!(u32_at(&h, 8), 100);
        assert_eq!(u32_at(&h, 12), 200);
        assert_eq!(&h[16..22], &[80, 0, 24, 0, 64, 0]);
        assert_eq!(u64_at(&h, 24), 5);
    }
}
