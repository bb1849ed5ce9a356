//! A synchronous rtnetlink handle: one socket (in one network namespace), one request at a
//! time, acknowledged before the next. Links, addresses, routes and proxy neighbours.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, BorrowedFd};

use rlxc_sys::netlink::{NetlinkProtocol, NetlinkSocket};

use crate::msg::*;
use crate::NetError;

/// Result of this crate.
pub type Result<T> = std::result::Result<T, NetError>;

/// One network interface as the kernel reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    pub index: i32,
    pub name: String,
    pub flags: u32,
    pub mtu: u32,
    pub mac: Vec<u8>,
    /// Index of the bridge (or bond) this link is enslaved to.
    pub master: Option<i32>,
    /// `IFLA_INFO_KIND` ("veth", "bridge", "macvlan", ...); empty for physical devices.
    pub kind: String,
    pub stats: Option<LinkStats>,
}

impl Link {
    /// Whether the interface is administratively up.
    pub fn is_up(&self) -> bool {
        self.flags & IFF_UP != 0
    }
}

/// Byte and packet counters (`rtnl_link_stats64`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// One address on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrInfo {
    pub index: i32,
    pub addr: IpAddr,
    pub prefix: u8,
    pub scope: u8,
}

/// A synchronous rtnetlink connection.
#[derive(Debug)]
pub struct Rtnl {
    sock: NetlinkSocket,
    seq: u32,
    buf: Vec<u8>,
}

fn nl_err(op: &'static str, what: impl Into<String>, source: std::io::Error) -> NetError {
    NetError::Netlink { op, what: what.into(), source }
}

impl Rtnl {
    /// Open rtnetlink in the current network namespace.
    pub fn open() -> Result<Rtnl> {
        let sock = NetlinkSocket::open(NetlinkProtocol::Route).map_err(|e| nl_err("open", "rtnetlink", e))?;
        Ok(Rtnl { sock, seq: 1, buf: vec![0u8; 1 << 16] })
    }

    /// Open rtnetlink acting in the namespace `netns` (fd of `/proc/PID/ns/net`).
    pub fn open_in(netns: BorrowedFd<'_>) -> Result<Rtnl> {
        let sock = NetlinkSocket::open_in_netns(NetlinkProtocol::Route, netns)
            .map_err(|e| nl_err("open", format!("rtnetlink in netns fd {}", netns.as_raw_fd()), e))?;
        Ok(Rtnl { sock, seq: 1, buf: vec![0u8; 1 << 16] })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Send `msg` (built with `NLM_F_ACK`) and wait for the kernel's acknowledgement.
    fn ack(&mut self, mut msg: Msg, seq: u32) -> std::io::Result<()> {
        self.sock.send(&msg.finish())?;
        loop {
            let n = self.sock.recv(&mut self.buf)?;
            for m in split(&self.buf[..n]) {
                if m.seq != seq {
                    continue;
                }
                if m.ty == NLMSG_ERROR {
                    let code = if m.payload.len() >= 4 { attr_u32(&m.payload[..4]) as i32 } else { 0 };
                    if code == 0 {
                        return Ok(());
                    }
                    return Err(std::io::Error::from_raw_os_error(-code));
                }
            }
        }
    }

    /// Send a dump request and collect the payloads of every reply message.
    fn dump(&mut self, mut msg: Msg, seq: u32, want: u16) -> std::io::Result<Vec<Vec<u8>>> {
        self.sock.send(&msg.finish())?;
        let mut out = Vec::new();
        loop {
            let n = self.sock.recv(&mut self.buf)?;
            for m in split(&self.buf[..n]) {
                if m.seq != seq {
                    continue;
                }
                match m.ty {
                    NLMSG_DONE => return Ok(out),
                    NLMSG_ERROR => {
                        let code = if m.payload.len() >= 4 { attr_u32(&m.payload[..4]) as i32 } else { 0 };
                        if code == 0 {
                            return Ok(out);
                        }
                        return Err(std::io::Error::from_raw_os_error(-code));
                    }
                    t if t == want => out.push(m.payload.to_vec()),
                    _ => {}
                }
                if m.flags & NLM_F_MULTI == 0 {
                    return Ok(out);
                }
            }
        }
    }

    /// Every link in this namespace, with statistics.
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_GETLINK, NLM_F_DUMP, seq);
        m.ifinfo(AF_UNSPEC, 0, 0, 0);
        let payloads = self.dump(m, seq, RTM_NEWLINK).map_err(|e| nl_err("dump", "links", e))?;
        Ok(payloads.iter().filter_map(|p| parse_link(p)).collect())
    }

    /// One link by index or name with a plain (non-dump) RTM_GETLINK: None when it does not
    /// exist. Cheap even on hosts with thousands of interfaces.
    fn get_link(&mut self, index: i32, name: Option<&str>) -> Result<Option<Link>> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_GETLINK, 0, seq);
        m.ifinfo(AF_UNSPEC, index, 0, 0);
        if let Some(n) = name {
            m.attr_str(IFLA_IFNAME, n);
        }
        let what = name.map(str::to_string).unwrap_or_else(|| format!("index {index}"));
        self.sock.send(&m.finish()).map_err(|e| nl_err("get", format!("link {what}"), e))?;
        loop {
            let n = self.sock.recv(&mut self.buf).map_err(|e| nl_err("get", format!("link {what}"), e))?;
            for r in split(&self.buf[..n]) {
                if r.seq != seq {
                    continue;
                }
                if r.ty == NLMSG_ERROR {
                    let code = if r.payload.len() >= 4 { attr_u32(&r.payload[..4]) as i32 } else { 0 };
                    return match -code {
                        0 | libc::ENODEV => Ok(None),
                        e => Err(nl_err("get", format!("link {what}"), std::io::Error::from_raw_os_error(e))),
                    };
                }
                if r.ty == RTM_NEWLINK {
                    return Ok(parse_link(r.payload));
                }
            }
        }
    }

    /// The link called `name`, if any.
    pub fn link_by_name(&mut self, name: &str) -> Result<Option<Link>> {
        // Names longer than IFNAMSIZ-1 cannot exist (and the kernel would reject the request).
        if name.is_empty() || name.len() > 15 {
            return Ok(None);
        }
        self.get_link(0, Some(name))
    }

    /// The link with index `index`, if any.
    pub fn link_by_index(&mut self, index: i32) -> Result<Option<Link>> {
        if index <= 0 {
            return Ok(None);
        }
        self.get_link(index, None)
    }

    /// The link called `name`, or an error naming it.
    pub fn require(&mut self, name: &str) -> Result<Link> {
        self.link_by_name(name)?.ok_or_else(|| NetError::NoSuchDevice(name.to_string()))
    }

    fn new_link(&mut self, what: String, build: impl FnOnce(&mut Msg)) -> Result<()> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
        m.ifinfo(AF_UNSPEC, 0, 0, 0);
        build(&mut m);
        self.ack(m, seq).map_err(|e| nl_err("create", what, e))
    }

    /// Create a veth pair `host` <-> `peer`.
    pub fn create_veth(&mut self, host: &str, peer: &str) -> Result<()> {
        self.new_link(format!("veth pair {host}/{peer}"), |m| {
            m.attr_str(IFLA_IFNAME, host).nest(IFLA_LINKINFO).attr_str(IFLA_INFO_KIND, "veth");
            m.nest(IFLA_INFO_DATA).nest(VETH_INFO_PEER).ifinfo(AF_UNSPEC, 0, 0, 0).attr_str(IFLA_IFNAME, peer);
            m.end_nest().end_nest().end_nest();
        })
    }

    /// Create a macvlan `name` on `parent` with a `IFLA_MACVLAN_MODE` value.
    pub fn create_macvlan(&mut self, name: &str, parent: i32, mode: u32) -> Result<()> {
        self.new_link(format!("macvlan {name}"), |m| {
            m.attr_u32(IFLA_LINK, parent as u32).attr_str(IFLA_IFNAME, name);
            m.nest(IFLA_LINKINFO).attr_str(IFLA_INFO_KIND, "macvlan").nest(IFLA_INFO_DATA);
            m.attr_u32(IFLA_MACVLAN_MODE, mode).end_nest().end_nest();
        })
    }

    /// Create an ipvlan `name` on `parent` with mode (l2=0, l3=1, l3s=2) and isolation flags.
    pub fn create_ipvlan(&mut self, name: &str, parent: i32, mode: u16, flags: u16) -> Result<()> {
        self.new_link(format!("ipvlan {name}"), |m| {
            m.attr_u32(IFLA_LINK, parent as u32).attr_str(IFLA_IFNAME, name);
            m.nest(IFLA_LINKINFO).attr_str(IFLA_INFO_KIND, "ipvlan").nest(IFLA_INFO_DATA);
            m.attr_u16(IFLA_IPVLAN_MODE, mode).attr_u16(IFLA_IPVLAN_FLAGS, flags).end_nest().end_nest();
        })
    }

    /// Create a vlan `name` with `id` on `parent`.
    pub fn create_vlan(&mut self, name: &str, parent: i32, id: u16) -> Result<()> {
        self.new_link(format!("vlan {name}"), |m| {
            m.attr_u32(IFLA_LINK, parent as u32).attr_str(IFLA_IFNAME, name);
            m.nest(IFLA_LINKINFO).attr_str(IFLA_INFO_KIND, "vlan").nest(IFLA_INFO_DATA);
            m.attr_u16(IFLA_VLAN_ID, id).end_nest().end_nest();
        })
    }

    /// Create a Linux bridge (used by tests and tools).
    pub fn create_bridge(&mut self, name: &str) -> Result<()> {
        self.new_link(format!("bridge {name}"), |m| {
            m.attr_str(IFLA_IFNAME, name).nest(IFLA_LINKINFO).attr_str(IFLA_INFO_KIND, "bridge").end_nest();
        })
    }

    /// Delete the link with `index`.
    pub fn delete_link(&mut self, index: i32) -> Result<()> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_DELLINK, NLM_F_ACK, seq);
        m.ifinfo(AF_UNSPEC, index, 0, 0);
        self.ack(m, seq).map_err(|e| nl_err("delete", format!("link index {index}"), e))
    }

    fn set_link(
        &mut self,
        index: i32,
        what: String,
        flags: u32,
        change: u32,
        build: impl FnOnce(&mut Msg),
    ) -> Result<()> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_NEWLINK, NLM_F_ACK, seq);
        m.ifinfo(AF_UNSPEC, index, flags, change);
        build(&mut m);
        self.ack(m, seq).map_err(|e| nl_err("set", what, e))
    }

    /// Set a link up or down.
    pub fn set_up(&mut self, index: i32, up: bool) -> Result<()> {
        let what = format!("link index {index} {}", if up { "up" } else { "down" });
        self.set_link(index, what, if up { IFF_UP } else { 0 }, IFF_UP, |_| {})
    }

    /// Rename a link (it must be down).
    pub fn set_name(&mut self, index: i32, name: &str) -> Result<()> {
        self.set_link(index, format!("name of link index {index} to {name}"), 0, 0, |m| {
            m.attr_str(IFLA_IFNAME, name);
        })
    }

    /// Set a link's MTU.
    pub fn set_mtu(&mut self, index: i32, mtu: u32) -> Result<()> {
        self.set_link(index, format!("mtu {mtu} of link index {index}"), 0, 0, |m| {
            m.attr_u32(IFLA_MTU, mtu);
        })
    }

    /// Set a link's hardware address.
    pub fn set_mac(&mut self, index: i32, mac: &[u8; 6]) -> Result<()> {
        self.set_link(index, format!("hwaddr of link index {index}"), 0, 0, |m| {
            m.attr(IFLA_ADDRESS, mac);
        })
    }

    /// Enslave a link to a bridge (`master` = bridge index).
    pub fn set_master(&mut self, index: i32, master: i32) -> Result<()> {
        self.set_link(index, format!("master of link index {index} to {master}"), 0, 0, |m| {
            m.attr_u32(IFLA_MASTER, master as u32);
        })
    }

    /// Move a link into the namespace of `pid`, optionally renaming it on the way.
    pub fn move_to_pid(&mut self, index: i32, pid: i32, name: Option<&str>) -> Result<()> {
        self.set_link(index, format!("link index {index} into netns of pid {pid}"), 0, 0, |m| {
            m.attr_u32(IFLA_NET_NS_PID, pid as u32);
            if let Some(n) = name {
                m.attr_str(IFLA_IFNAME, n);
            }
        })
    }

    /// Move a link into the namespace `netns` (an open namespace fd), optionally renaming it.
    pub fn move_to_fd(&mut self, index: i32, netns: BorrowedFd<'_>, name: Option<&str>) -> Result<()> {
        let fd = netns.as_raw_fd();
        self.set_link(index, format!("link index {index} into netns fd {fd}"), 0, 0, |m| {
            m.attr_u32(IFLA_NET_NS_FD, fd as u32);
            if let Some(n) = name {
                m.attr_str(IFLA_IFNAME, n);
            }
        })
    }

    /// Add an address. IPv4 gets `broadcast` when given.
    pub fn add_addr(&mut self, index: i32, addr: IpAddr, prefix: u8, broadcast: Option<Ipv4Addr>) -> Result<()> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
        match addr {
            IpAddr::V4(a) => {
                m.ifaddr(AF_INET, prefix, RT_SCOPE_UNIVERSE, index as u32);
                m.attr(IFA_LOCAL, &a.octets()).attr(IFA_ADDRESS, &a.octets());
                if let Some(b) = broadcast {
                    m.attr(IFA_BROADCAST, &b.octets());
                }
            }
            IpAddr::V6(a) => {
                m.ifaddr(AF_INET6, prefix, RT_SCOPE_UNIVERSE, index as u32);
                m.attr(IFA_LOCAL, &a.octets()).attr(IFA_ADDRESS, &a.octets());
            }
        }
        self.ack(m, seq).map_err(|e| nl_err("add", format!("address {addr}/{prefix} on link index {index}"), e))
    }

    /// Every address in this namespace.
    pub fn addrs(&mut self) -> Result<Vec<AddrInfo>> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_GETADDR, NLM_F_DUMP, seq);
        m.ifaddr(AF_UNSPEC, 0, 0, 0);
        let payloads = self.dump(m, seq, RTM_NEWADDR).map_err(|e| nl_err("dump", "addresses", e))?;
        Ok(payloads.iter().filter_map(|p| parse_addr(p)).collect())
    }

    /// Add a route: to `dst` (None = default), via `gateway` (None = on-link), out of `oif`.
    pub fn add_route(&mut self, dst: Option<(IpAddr, u8)>, gateway: Option<IpAddr>, oif: i32, v6: bool) -> Result<()> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
        let family = if v6 { AF_INET6 } else { AF_INET };
        let scope = if gateway.is_none() { RT_SCOPE_LINK } else { RT_SCOPE_UNIVERSE };
        // A default route without a gateway is still a device route with link scope.
        m.rtmsg(family, dst.map(|d| d.1).unwrap_or(0), scope);
        if let Some((d, _)) = dst {
            m.attr(RTA_DST, &ip_bytes(d));
        }
        if let Some(g) = gateway {
            m.attr(RTA_GATEWAY, &ip_bytes(g));
        }
        m.attr_u32(RTA_OIF, oif as u32);
        let what = format!(
            "route {} via {} dev index {oif}",
            dst.map(|(d, p)| format!("{d}/{p}")).unwrap_or_else(|| "default".into()),
            gateway.map(|g| g.to_string()).unwrap_or_else(|| "-".into())
        );
        self.ack(m, seq).map_err(|e| nl_err("add", what, e))
    }

    /// Delete the route to `dst` out of `oif` from the main table.
    pub fn del_route(&mut self, dst: (IpAddr, u8), oif: i32, v6: bool) -> Result<()> {
        let seq = self.next_seq();
        let mut m = Msg::new(RTM_DELROUTE, NLM_F_ACK, seq);
        m.rtmsg(if v6 { AF_INET6 } else { AF_INET }, dst.1, RT_SCOPE_LINK);
        m.attr(RTA_DST, &ip_bytes(dst.0)).attr_u32(RTA_OIF, oif as u32);
        self.ack(m, seq).map_err(|e| nl_err("delete", format!("route {}/{} dev index {oif}", dst.0, dst.1), e))
    }

    /// Add (or remove) a proxy neighbour entry for `addr` on link `index` (`ip neigh add proxy`).
    pub fn proxy_neigh(&mut self, index: i32, addr: IpAddr, add: bool) -> Result<()> {
        let seq = self.next_seq();
        let (ty, flags) =
            if add { (RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE) } else { (RTM_DELNEIGH, NLM_F_ACK) };
        let mut m = Msg::new(ty, flags, seq);
        let family = if addr.is_ipv6() { AF_INET6 } else { AF_INET };
        m.ndmsg(family, index, NUD_PERMANENT, NTF_PROXY).attr(NDA_DST, &ip_bytes(addr));
        let what = format!("proxy neighbour {addr} on link index {index}");
        self.ack(m, seq).map_err(|e| nl_err(if add { "add" } else { "delete" }, what, e))
    }
}

fn ip_bytes(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    }
}

fn parse_link(p: &[u8]) -> Option<Link> {
    if p.len() < 16 {
        return None;
    }
    let index = i32::from_ne_bytes([p[4], p[5], p[6], p[7]]);
    let flags = u32::from_ne_bytes([p[8], p[9], p[10], p[11]]);
    let a = attrs(&p[16..]);
    let mut l = Link { index, flags, ..Link::default() };
    l.name = find_attr(&a, IFLA_IFNAME).map(attr_string).unwrap_or_default();
    l.mtu = find_attr(&a, IFLA_MTU).map(attr_u32).unwrap_or(0);
    l.mac = find_attr(&a, IFLA_ADDRESS).map(|d| d.to_vec()).unwrap_or_default();
    l.master = find_attr(&a, IFLA_MASTER).map(|d| attr_u32(d) as i32);
    if let Some(li) = find_attr(&a, IFLA_LINKINFO) {
        l.kind = find_attr(&attrs(li), IFLA_INFO_KIND).map(attr_string).unwrap_or_default();
    }
    if let Some(s) = find_attr(&a, IFLA_STATS64) {
        if s.len() >= 32 {
            let u = |i: usize| {
                let mut b = [0u8; 8];
                b.copy_from_slice(&s[i * 8..i * 8 + 8]);
                u64::from_ne_bytes(b)
            };
            l.stats = Some(LinkStats { rx_packets: u(0), tx_packets: u(1), rx_bytes: u(2), tx_bytes: u(3) });
        }
    }
    Some(l)
}

fn parse_addr(p: &[u8]) -> Option<AddrInfo> {
    if p.len() < 8 {
        return None;
    }
    let family = p[0];
    let prefix = p[1];
    let scope = p[3];
    let index = i32::from_ne_bytes([p[4], p[5], p[6], p[7]]);
    let a = attrs(&p[8..]);
    // IFA_LOCAL is the interface's own address on point-to-point links; prefer it.
    let raw = find_attr(&a, IFA_LOCAL).or_else(|| find_attr(&a, IFA_ADDRESS))?;
    let addr = match (family, raw.len()) {
        (AF_INET, 4) => IpAddr::from([raw[0], raw[1], raw[2], raw[3]]),
        (AF_INET6, 16) => {
            let mut b = [0u8; 16];
            b.copy_from_slice(raw);
            IpAddr::from(b)
        }
        _ => return None,
    };
    Some(AddrInfo { index, addr, prefix, scope })
}

#[cfg(test)]
pub(crate) fn parse_link_for_test(p: &[u8]) -> Option<Link> {
    parse_link(p)
}

#[cfg(test)]
pub(crate) fn parse_addr_for_test(p: &[u8]) -> Option<AddrInfo> {
    parse_addr(p)
}
