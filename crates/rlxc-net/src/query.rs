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
    match rtnl_of(pid) {
        Ok(mut r) => ips_in(&mut r, family, interface),
        Err(e) if e.errno() == Some(libc::EPERM) && !rustix::process::geteuid().is_root() => {
            ips_via_userns(pid, family, interface)
        }
        Err(e) => Err(e),
    }
}

/// [`container_ips`] for a user's container: the kernel lets a user into the network namespace
/// only from inside the container's user namespace (it wants CAP_SYS_ADMIN in the caller's own
/// user namespace too), which a process can join but never leave: a forked child joins both,
/// asks, and writes the addresses back (one per line, or `!reason`).
fn ips_via_userns(pid: i32, family: Option<IpFamily>, interface: Option<&str>) -> Result<Vec<IpAddr>> {
    use rlxc_sys::forkexec::{self, Forked};
    use std::io::{Read, Write};
    let io = |what: &str| {
        let what = what.to_string();
        move |e: std::io::Error| NetError::io(what, e)
    };
    let (rd, wr) =
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| NetError::io("pipe", e.into()))?;
    match forkexec::fork().map_err(io("fork"))? {
        Forked::Child => {
            drop(rd);
            let res = (|| -> Result<Vec<IpAddr>> {
                for (file, flag) in [("user", libc::CLONE_NEWUSER), ("net", libc::CLONE_NEWNET)] {
                    let path = format!("/proc/{pid}/ns/{file}");
                    let ns = open_netns(&path).map_err(|e| NetError::io(format!("open {path}"), e))?;
                    rlxc_sys::ns::setns(ns.as_fd(), flag).map_err(|e| NetError::io(format!("setns {path}"), e))?;
                }
                ips_in(&mut Rtnl::open()?, family, interface)
            })();
            let text = match res {
                Ok(v) => v.iter().map(|a| format!("{a}\n")).collect::<String>(),
                Err(e) => format!("!{e}\n"),
            };
            let _ = std::fs::File::from(wr).write_all(text.as_bytes());
            forkexec::exit_now(0)
        }
        Forked::Parent(child) => {
            drop(wr);
            let mut text = String::new();
            let read = std::fs::File::from(rd).read_to_string(&mut text);
            let _ = forkexec::wait_exit(child);
            read.map_err(io("read the addresses"))?;
            if let Some(reason) = text.strip_prefix('!') {
                return Err(NetError::Other(reason.trim().to_string()));
            }
            Ok(text.lines().filter_map(|l| l.parse().ok()).collect())
        }
    }
}

fn ips_in(r: &mut Rtnl, family: Option<IpFamily>, interface: Option<&str>) -> Result<Vec<IpAddr>> {
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
