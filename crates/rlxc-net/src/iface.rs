//! Moving single interfaces into and out of a running container (`lxc-device add|del`,
//! LXC's `attach_interface` / `detach_interface`).

use std::os::fd::AsFd;

use rlxc_sys::netlink::open_netns;
use tracing::info;

use crate::rtnl::{Result, Rtnl};
use crate::{wireless, NetError};

fn ns_of(pid: i32) -> Result<std::os::fd::OwnedFd> {
    let path = format!("/proc/{pid}/ns/net");
    open_netns(&path).map_err(|e| NetError::io(format!("open {path}"), e))
}

/// Whether `name` is a network interface in our namespace (`pid` None) or in the namespace of
/// `pid`.
pub fn is_interface(pid: Option<i32>, name: &str) -> Result<bool> {
    let mut r = match pid {
        Some(p) => Rtnl::open_in(ns_of(p)?.as_fd())?,
        None => Rtnl::open()?,
    };
    Ok(r.link_by_name(name)?.is_some())
}

/// Move our interface `name` into the network namespace of `pid`, renamed to `dst` if given.
/// It is set down first, like LXC; wireless devices move with their wiphy.
pub fn attach_interface(pid: i32, name: &str, dst: Option<&str>) -> Result<()> {
    let ns = ns_of(pid)?;
    let mut h = Rtnl::open()?;
    let l = h.require(name)?;
    if l.is_up() {
        h.set_up(l.index, false)?;
    }
    match wireless::wiphy_of(None, l.index) {
        Some(phy) => {
            wireless::move_wiphy(phy, None, ns.as_fd())?;
            if let Some(d) = dst.filter(|d| *d != name) {
                let mut c = Rtnl::open_in(ns.as_fd())?;
                let l = c.require(name)?;
                c.set_name(l.index, d)?;
            }
        }
        None => h.move_to_fd(l.index, ns.as_fd(), dst)?,
    }
    info!("moved network interface \"{name}\" into the netns of pid {pid}");
    Ok(())
}

/// Move interface `name` out of the network namespace of `pid` into ours, renamed to `dst`
/// if given. It is set down first.
pub fn detach_interface(pid: i32, name: &str, dst: Option<&str>) -> Result<()> {
    let ns = ns_of(pid)?;
    let own = open_netns("/proc/thread-self/ns/net").map_err(|e| NetError::io("open own netns", e))?;
    let mut c = Rtnl::open_in(ns.as_fd())?;
    let l = c.require(name)?;
    if l.is_up() {
        c.set_up(l.index, false)?;
    }
    match wireless::wiphy_of(Some(ns.as_fd()), l.index) {
        Some(phy) => {
            wireless::move_wiphy(phy, Some(ns.as_fd()), own.as_fd())?;
            if let Some(d) = dst.filter(|d| *d != name) {
                let mut h = Rtnl::open()?;
                let l = h.require(name)?;
                h.set_name(l.index, d)?;
            }
        }
        None => c.move_to_fd(l.index, own.as_fd(), dst)?,
    }
    info!("moved network interface \"{name}\" out of the netns of pid {pid}");
    Ok(())
}
