//! Read-only queries for the tools: a container's addresses and interfaces (by entering its
//! network namespace through its init pid) and host-side link counters.

use std::net::IpAddr;
use std::os::fd::AsFd;

use rlxc_sys::netlink::open_netns;

use crate::rtnl::{Link, LinkStats, Result, Rtnl};
use crate::NetError;

/// Address family filter (`lxc-ls -f` IPV4 / IPV6 columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpFamily {
    V4,
    V6,
}

fn rtnl_of(pid: i32) -> Result<Rtnl> {
    let path = format!("/proc/{pid}/ns/net");
    let ns = open_netns(&path).map_err(|e| NetError::io(format!("open {path}"), e))?;
    Rtnl::open_in(ns.as_fd())
}

/// The addresses of the container whose init is `pid`, like LXC's `get_ips`: loopback is left
/// out unless `interface` names it, IPv6 only with global scope; `family` and `interface`
/// filter. IPv4 first, then IPv6, each in kernel order.
pub fn container_ips(pid: i32, family: Option<IpFamily>, interface: Option<&str>) -> Result<Vec<IpAddr>> {
    let mut r = rtnl_of(pid)?;
    let links = r.links()?;
    let name_of = |idx: i32| links.iter().find(|l| l.index == idx).map(|l| l.name.as_str()).unwrap_or("");
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for a in r.addrs()? {
        let name = name_of(a.index);
        match interface {
            Some(i) if i != name => continue,
            None if name == "lo" => continue,
            _ => {}
        }
        match a.addr {
            IpAddr::V4(_) if family != Some(IpFamily::V6) => v4.push(a.addr),
            IpAddr::V6(_) if family != Some(IpFamily::V4) && a.scope == 0 => v6.push(a.addr),
            _ => {}
        }
    }
    v4.extend(v6);
    Ok(v4)
}

/// The interfaces of the container whose init is `pid`, with counters (`lxc-info -S`,
/// `lxc-device` lookups).
pub fn container_interfaces(pid: i32) -> Result<Vec<Link>> {
    rtnl_of(pid)?.links()
}

/// Counters of a link in our own namespace, e.g. the host end of a container's veth
/// (`lxc-info -S` prints its TX/RX bytes). None when it does not exist.
pub fn host_link_stats(name: &str) -> Result<Option<LinkStats>> {
    Ok(Rtnl::open()?.link_by_name(name)?.and_then(|l| l.stats))
}
