//! Parent side: create each device on the host, move the container end into the child's
//! network namespace, and configure it there through an rtnetlink socket opened in that
//! namespace. [`HostNet`] remembers everything it made and undoes it on failure or stop.

use std::net::IpAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Command, Stdio};

use rlxc_sys::netlink::open_netns;
use tracing::{debug, info, warn};

use crate::rtnl::{Result, Rtnl};
use crate::script::{self, When};
use crate::spec::{parse_hwaddr, random_name, Gateway, NicSpec, NicType, VethMode};
use crate::{sysctl, wireless, NetError};

/// What the scripts need to know about the container.
#[derive(Debug, Clone, Default)]
pub struct NetContext {
    /// Container name (first argument of version-0 net scripts).
    pub name: String,
    /// `lxc.hook.version`.
    pub hook_version: u32,
}

/// A `phys` device's host identity, restored when it comes back.
#[derive(Debug, Clone)]
struct PhysOrig {
    name: String,
    mtu: u32,
    wiphy: Option<u32>,
}

/// One device as set up so far (each step recorded before the next, so teardown knows).
#[derive(Debug)]
struct Created {
    spec: NicSpec,
    /// veth: host end name and index.
    host_name: Option<String>,
    host_index: Option<i32>,
    /// The container-end device on the host before the move (name, index).
    dev: Option<(String, i32)>,
    /// Index and name inside the child netns once moved.
    moved: Option<(i32, String)>,
    phys: Option<PhysOrig>,
    /// Proxy neighbour entries added on the host (link index, address).
    proxies: Vec<(i32, IpAddr)>,
    /// Host routes of single addresses to the loopback device (ipvlan l2proxy).
    lo_routes: Vec<(i32, IpAddr)>,
    /// Open vSwitch bridge the host end was added to.
    ovs: Option<String>,
    up_ran: bool,
}

/// A device of a running container as the parent set it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeNic {
    /// N of `lxc.net.N`.
    pub index: usize,
    pub ty: NicType,
    /// Host-side veth name (what `lxc.net.N.veth.pair` reads back on a running container).
    pub host_name: Option<String>,
    /// Name inside the container.
    pub name: Option<String>,
}

/// Everything the parent made for a container's network. Dropping it (or calling
/// [`HostNet::teardown`]) runs `script.down`, deletes host-side devices and proxy entries and
/// moves `phys` devices back with their names and MTUs. It keeps the child's network namespace
/// open so that `phys` devices can be returned even after the container's init died.
///
/// A process that forks after creating this must call [`HostNet::forget`] in the child so the
/// child's exit does not tear down the parent's devices.
#[derive(Debug)]
pub struct HostNet {
    ctx: NetContext,
    host_ns: OwnedFd,
    child_ns: Option<OwnedFd>,
    nics: Vec<Created>,
    done: bool,
}

fn ovs_vsctl() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path).map(|d| d.join("ovs-vsctl")).find(|p| p.is_file())
}

fn ovs(args: &[&str]) -> std::result::Result<(), String> {
    let Some(bin) = ovs_vsctl() else { return Err("ovs-vsctl not found".into()) };
    let out = Command::new(bin).args(args).stdin(Stdio::null()).output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ovs-vsctl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn is_gone(e: &NetError) -> bool {
    matches!(e.errno(), Some(libc::ENODEV) | Some(libc::ENOENT) | Some(libc::ESRCH))
}

/// Name the config key a failed step came from: `lxc.net.N.KEY: <what failed>`, so an admin
/// sees which line of the config to fix (the netlink error alone names only an ifindex).
fn at_key(index: usize, key: &'static str) -> impl FnOnce(NetError) -> NetError {
    move |e| match e {
        NetError::Config { .. } | NetError::Script { .. } => e,
        other => NetError::Config { index, key: key.into(), msg: other.to_string() },
    }
}

fn need_link(nic: &NicSpec) -> Result<&str> {
    nic.link.as_deref().ok_or_else(|| NetError::Config {
        index: nic.index,
        key: "link".into(),
        msg: format!("a {} device needs a link", nic.ty.as_str()),
    })
}

/// Bring up the loopback device of the current network namespace (child side).
pub fn configure_loopback() -> Result<()> {
    let mut r = Rtnl::open()?;
    if let Some(lo) = r.link_by_name("lo")? {
        r.set_up(lo.index, true)?;
    }
    Ok(())
}

/// Expand `phys` links ending in `+` into one device per matching host interface.
fn expand(nics: &[NicSpec], h: &mut Rtnl) -> Result<Vec<NicSpec>> {
    let mut out = Vec::new();
    for n in nics {
        match (&n.ty, n.link.as_deref()) {
            (NicType::Phys, Some(l)) if l.ends_with('+') => {
                let prefix = &l[..l.len() - 1];
                for link in h.links()? {
                    if link.name.starts_with(prefix) && link.name != "lo" {
                        out.push(NicSpec { link: Some(link.name.clone()), name: None, ..n.clone() });
                    }
                }
            }
            _ => out.push(n.clone()),
        }
    }
    Ok(out)
}

/// Create the host side of every device in `nics` and move and configure them inside the
/// network namespace of `child_pid`. On error everything made so far is removed again.
/// When every device is `none` (the container shares our netns) nothing is done.
pub fn create_host_side(ctx: NetContext, nics: &[NicSpec], child_pid: i32) -> Result<HostNet> {
    let host_ns = open_netns("/proc/thread-self/ns/net").map_err(|e| NetError::io("open own network namespace", e))?;
    let mut g = HostNet { ctx, host_ns, child_ns: None, nics: Vec::new(), done: false };
    if crate::convert::shares_host_netns(nics) {
        info!("network type none: sharing the host's network namespace");
        return Ok(g);
    }
    let path = format!("/proc/{child_pid}/ns/net");
    let child_ns = open_netns(&path).map_err(|e| NetError::io(format!("open {path}"), e))?;
    // Moving "into" our own namespace would be a no-op and the teardown would then delete
    // host devices: refuse when the child has no network namespace of its own.
    let same = match (rustix::fs::fstat(&child_ns), rustix::fs::fstat(&g.host_ns)) {
        (Ok(a), Ok(b)) => a.st_ino == b.st_ino && a.st_dev == b.st_dev,
        _ => false,
    };
    if same {
        return Err(NetError::Other(format!(
            "pid {child_pid} shares our network namespace: cannot move network devices into it"
        )));
    }
    let mut h = Rtnl::open()?;
    let mut c = Rtnl::open_in(child_ns.as_fd())?;
    g.child_ns = Some(child_ns);
    if let Some(lo) = c.link_by_name("lo")? {
        c.set_up(lo.index, true)?;
    }
    for nic in expand(nics, &mut h)? {
        if nic.ty == NicType::None {
            warn!("lxc.net.{}: type none ignored next to other network devices", nic.index);
            continue;
        }
        g.nics.push(Created {
            spec: nic,
            host_name: None,
            host_index: None,
            dev: None,
            moved: None,
            phys: None,
            proxies: Vec::new(),
            lo_routes: Vec::new(),
            ovs: None,
            up_ran: false,
        });
        let last = g.nics.len() - 1;
        // On error `g` is dropped here, which tears down what was made.
        g.setup_one(last, &mut h, &mut c)?;
    }
    Ok(g)
}

impl HostNet {
    fn setup_one(&mut self, i: usize, h: &mut Rtnl, c: &mut Rtnl) -> Result<()> {
        let nic = self.nics[i].spec.clone();
        match nic.ty {
            NicType::Veth => self.make_veth(i, &nic, h)?,
            NicType::Macvlan | NicType::Ipvlan | NicType::Vlan => {
                let parent = h.require(need_link(&nic)?).map_err(at_key(nic.index, "link"))?;
                let name = match nic.ty {
                    NicType::Macvlan => random_name("mc", 6),
                    NicType::Ipvlan => random_name("ip", 6),
                    _ => {
                        let mut n = 0;
                        loop {
                            let cand = format!("vlan{}-{n}", nic.vlan_id);
                            if h.link_by_name(&cand)?.is_none() || n > 1000 {
                                break cand;
                            }
                            n += 1;
                        }
                    }
                };
                match nic.ty {
                    NicType::Macvlan => {
                        let mode =
                            if nic.macvlan_mode == 0 { crate::spec::macvlan_mode::PRIVATE } else { nic.macvlan_mode };
                        h.create_macvlan(&name, parent.index, mode)?
                    }
                    NicType::Ipvlan => h.create_ipvlan(&name, parent.index, nic.ipvlan_mode, nic.ipvlan_isolation)?,
                    _ => h.create_vlan(&name, parent.index, nic.vlan_id)?,
                }
                let l = h.require(&name)?;
                self.nics[i].dev = Some((name, l.index));
            }
            NicType::Phys => {
                let link = need_link(&nic)?;
                let l = h.require(link).map_err(at_key(nic.index, "link"))?;
                self.nics[i].phys =
                    Some(PhysOrig { name: l.name.clone(), mtu: l.mtu, wiphy: wireless::wiphy_of(None, l.index) });
                self.nics[i].dev = Some((l.name, l.index));
            }
            NicType::Empty | NicType::None => {}
        }
        if nic.l2proxy {
            self.l2proxy(i, &nic, h)?;
        }
        let host_name = self.nics[i].host_name.clone();
        script::run(&self.ctx.name, self.ctx.hook_version, &nic, When::Up, host_name.as_deref())?;
        self.nics[i].up_ran = true;
        let Some((dev_name, dev_index)) = self.nics[i].dev.clone() else { return Ok(()) };
        let Some(child_ns) = self.child_ns.as_ref() else { return Ok(()) };
        match self.nics[i].phys.as_ref().and_then(|p| p.wiphy) {
            Some(phy) => wireless::move_wiphy(phy, None, child_ns.as_fd())?,
            None => h.move_to_fd(dev_index, child_ns.as_fd(), None).map_err(|e| {
                if nic.ty == NicType::Phys {
                    at_key(nic.index, "link")(NetError::Other(format!(
                        "cannot move \"{dev_name}\" into the container: {e}"
                    )))
                } else {
                    e
                }
            })?,
        }
        // Recorded right away: from here on the device lives in the child's netns.
        self.nics[i].moved = Some((dev_index, dev_name.clone()));
        let inside = c.require(&dev_name)?;
        self.nics[i].moved = Some((inside.index, dev_name));
        self.configure_inside(i, &nic, inside.index, h, c)
    }

    fn make_veth(&mut self, i: usize, nic: &NicSpec, h: &mut Rtnl) -> Result<()> {
        // Generated names can collide (rarely): try a few, never for a configured veth.pair.
        let mut attempt = 0;
        let (host, peer) = loop {
            let host = nic.veth_pair.clone().unwrap_or_else(|| random_name("veth", 6));
            let peer = random_name("veth", 6);
            match h.create_veth(&host, &peer) {
                Err(e) if e.errno() == Some(libc::EEXIST) && nic.veth_pair.is_some() => {
                    return Err(NetError::Config {
                        index: nic.index,
                        key: "veth.pair".into(),
                        msg: format!("a network device \"{host}\" already exists on the host"),
                    })
                }
                Err(e) if e.errno() == Some(libc::EEXIST) && attempt < 5 => attempt += 1,
                Err(e) => return Err(e),
                Ok(()) => break (host, peer),
            }
        };
        let hl = h.require(&host)?;
        self.nics[i].host_name = Some(host.clone());
        self.nics[i].host_index = Some(hl.index);
        let pl = h.require(&peer)?;
        self.nics[i].dev = Some((peer, pl.index));
        // A fixed high MAC byte keeps the bridge from taking the container's MAC as its own.
        if hl.mac.len() == 6 {
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&hl.mac);
            mac[0] = 0xfe;
            h.set_mac(hl.index, &mac)?;
        }
        let link = match nic.veth_mode {
            VethMode::Bridge => match nic.link.as_deref() {
                Some(l) => Some(h.require(l).map_err(at_key(nic.index, "link"))?),
                None => None,
            },
            VethMode::Router => None,
        };
        // veth inherits the bridge's MTU when none is configured.
        if let Some(mtu) = nic.mtu.or(link.as_ref().map(|l| l.mtu)) {
            h.set_mtu(hl.index, mtu).map_err(at_key(nic.index, "mtu"))?;
            h.set_mtu(pl.index, mtu).map_err(at_key(nic.index, "mtu"))?;
        }
        if let Some(br) = &link {
            if br.kind == "bridge" {
                h.set_master(hl.index, br.index)?;
            } else if ovs_vsctl().is_some() && ovs(&["br-exists", &br.name]).is_ok() {
                ovs(&["--may-exist", "add-port", &br.name, &host]).map_err(NetError::Other)?;
                self.nics[i].ovs = Some(br.name.clone());
            } else {
                return Err(NetError::Config {
                    index: nic.index,
                    key: "link".into(),
                    msg: format!("\"{}\" is neither a Linux bridge nor an Open vSwitch bridge", br.name),
                });
            }
        }
        h.set_up(hl.index, true)?;
        if nic.veth_mode == VethMode::Router {
            // Like LXC: the host forwards for the container and answers ARP/NDP for its
            // gateway address on the veth (a proxy entry), and routes the container's own
            // addresses to the veth.
            if let Some(Gateway::Addr(gw)) = nic.ipv4_gateway {
                sysctl::set(false, &host, "forwarding", "1")?;
                h.proxy_neigh(hl.index, IpAddr::V4(gw), true)?;
                self.nics[i].proxies.push((hl.index, IpAddr::V4(gw)));
            }
            if let Some(Gateway::Addr(gw)) = nic.ipv6_gateway {
                if sysctl::get(true, "all", "forwarding")? != "1" {
                    return Err(NetError::Config {
                        index: nic.index,
                        key: "veth.mode".into(),
                        msg: "router mode with an IPv6 gateway requires sysctl net.ipv6.conf.all.forwarding=1".into(),
                    });
                }
                sysctl::set(true, &host, "forwarding", "1")?;
                sysctl::set(true, &host, "proxy_ndp", "1")?;
                h.proxy_neigh(hl.index, IpAddr::V6(gw), true)?;
                self.nics[i].proxies.push((hl.index, IpAddr::V6(gw)));
            }
            for a in &nic.ipv4 {
                h.add_route(Some((IpAddr::V4(a.addr), 32)), None, hl.index, false)?;
            }
            for a in &nic.ipv6 {
                h.add_route(Some((IpAddr::V6(a.addr), 128)), None, hl.index, true)?;
            }
        }
        for (a, p) in &nic.veth_ipv4_routes {
            h.add_route(Some((IpAddr::V4(*a), *p)), None, hl.index, false)?;
        }
        for (a, p) in &nic.veth_ipv6_routes {
            h.add_route(Some((IpAddr::V6(*a), *p)), None, hl.index, true)?;
        }
        debug!("lxc.net.{}: veth {host} made, container end {:?}", nic.index, self.nics[i].dev);
        Ok(())
    }

    fn l2proxy(&mut self, i: usize, nic: &NicSpec, h: &mut Rtnl) -> Result<()> {
        // Like LXC, l2proxy only does something together with a link.
        let Some(link) = nic.link.as_deref() else { return Ok(()) };
        let l = h.require(link)?;
        let err = |k: &str| NetError::Config {
            index: nic.index,
            key: "l2proxy".into(),
            msg: format!("requires sysctl net.{k}=1", k = k.replace("LINK", link)),
        };
        if !nic.ipv4.is_empty() && sysctl::get(false, link, "forwarding")? != "1" {
            return Err(err("ipv4.conf.LINK.forwarding"));
        }
        if !nic.ipv6.is_empty() {
            if sysctl::get(true, link, "proxy_ndp")? != "1" {
                return Err(err("ipv6.conf.LINK.proxy_ndp"));
            }
            if sysctl::get(true, link, "forwarding")? != "1" {
                return Err(err("ipv6.conf.LINK.forwarding"));
            }
        }
        // ipvlan: only l3s works with proxy entries, and the host needs a route for each
        // address to the loopback device to answer for it.
        let lo = if nic.ty == NicType::Ipvlan {
            if nic.ipvlan_mode != 2 {
                return Err(NetError::Config {
                    index: nic.index,
                    key: "l2proxy".into(),
                    msg: format!("requires ipvlan mode on dev \"{link}\" be l3s when used with l2proxy"),
                });
            }
            Some(h.require("lo")?.index)
        } else {
            None
        };
        let addrs: Vec<IpAddr> =
            nic.ipv4.iter().map(|a| IpAddr::V4(a.addr)).chain(nic.ipv6.iter().map(|a| IpAddr::V6(a.addr))).collect();
        for a in addrs {
            h.proxy_neigh(l.index, a, true)?;
            self.nics[i].proxies.push((l.index, a));
            if let Some(lo) = lo {
                let plen = if a.is_ipv6() { 128 } else { 32 };
                h.add_route(Some((a, plen)), None, lo, a.is_ipv6())?;
                self.nics[i].lo_routes.push((lo, a));
            }
        }
        Ok(())
    }

    fn configure_inside(&mut self, i: usize, nic: &NicSpec, idx: i32, h: &mut Rtnl, c: &mut Rtnl) -> Result<()> {
        let target = match (&nic.name, nic.ty) {
            (Some(n), _) => n.clone(),
            (None, NicType::Phys) => {
                self.nics[i].phys.as_ref().map(|p| p.name.clone()).unwrap_or_else(|| "eth%d".into())
            }
            (None, _) => "eth%d".to_string(),
        };
        c.set_name(idx, &target).map_err(at_key(nic.index, "name"))?;
        let now = c.link_by_index(idx)?.ok_or_else(|| NetError::NoSuchDevice(target.clone()))?;
        self.nics[i].moved = Some((idx, now.name.clone()));
        if let Some(hw) = &nic.hwaddr {
            c.set_mac(idx, &parse_hwaddr(nic.index, hw)?).map_err(at_key(nic.index, "hwaddr"))?;
        }
        if nic.ty != NicType::Veth {
            if let Some(mtu) = nic.mtu {
                c.set_mtu(idx, mtu).map_err(at_key(nic.index, "mtu"))?;
            }
        }
        for a in &nic.ipv4 {
            c.add_addr(idx, IpAddr::V4(a.addr), a.prefix, Some(a.broadcast))
                .map_err(at_key(nic.index, "ipv4.address"))?;
        }
        for a in &nic.ipv6 {
            c.add_addr(idx, IpAddr::V6(a.addr), a.prefix, None).map_err(at_key(nic.index, "ipv6.address"))?;
        }
        if nic.up {
            c.set_up(idx, true)?;
        }
        let gw_err = |key: &str| NetError::Config {
            index: nic.index,
            key: key.into(),
            msg: format!("cannot add a gateway to \"{}\" when the interface is not brought up (flags = up)", now.name),
        };
        if let Some(g) = nic.ipv4_gateway {
            if !nic.up {
                return Err(gw_err("ipv4.gateway"));
            }
            let gw = match g {
                Gateway::Dev => None,
                Gateway::Addr(a) => Some(IpAddr::V4(a)),
                Gateway::Auto => Some(self.link_addr(nic, h, false)?),
            };
            add_default(c, idx, gw, false)?;
        }
        if let Some(g) = nic.ipv6_gateway {
            if !nic.up {
                return Err(gw_err("ipv6.gateway"));
            }
            let gw = match g {
                Gateway::Dev => None,
                Gateway::Addr(a) => Some(IpAddr::V6(a)),
                Gateway::Auto => Some(self.link_addr(nic, h, true)?),
            };
            add_default(c, idx, gw, true)?;
        }
        info!("lxc.net.{}: {} device \"{}\" configured in the container", nic.index, nic.ty.as_str(), now.name);
        Ok(())
    }

    /// `gateway = auto`: the first address of the link (bridge) on the host.
    fn link_addr(&self, nic: &NicSpec, h: &mut Rtnl, v6: bool) -> Result<IpAddr> {
        let key = if v6 { "ipv6.gateway" } else { "ipv4.gateway" };
        let link = need_link(nic)?;
        let l = h.require(link)?;
        h.addrs()?
            .into_iter()
            .find(|a| a.index == l.index && a.addr.is_ipv6() == v6 && a.scope == 0)
            .map(|a| a.addr)
            .ok_or_else(|| NetError::Config {
                index: nic.index,
                key: key.into(),
                msg: format!("auto: link \"{link}\" has no {} address", if v6 { "IPv6" } else { "IPv4" }),
            })
    }

    /// The devices as set up (for `get_running_config_item lxc.net.N.veth.pair` and tools).
    pub fn runtime_nics(&self) -> Vec<RuntimeNic> {
        self.nics
            .iter()
            .map(|n| RuntimeNic {
                index: n.spec.index,
                ty: n.spec.ty,
                host_name: n.host_name.clone(),
                name: n.moved.as_ref().map(|m| m.1.clone()),
            })
            .collect()
    }

    /// Forget everything without undoing it (for a forked child holding a copy).
    pub fn forget(mut self) {
        self.done = true;
    }

    /// Undo everything: `script.down`, delete host devices and proxy entries, return `phys`
    /// devices. Goes on after errors and returns the first one. Runs once.
    pub fn teardown(&mut self) -> Result<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        let mut first: Option<NetError> = None;
        let mut keep = |r: Result<()>| {
            if let Err(e) = r {
                if !is_gone(&e) {
                    warn!("network teardown: {e}");
                    if first.is_none() {
                        first = Some(e);
                    }
                }
            }
        };
        // Always act in the namespace the devices were made in, whatever thread or namespace
        // the guard is dropped from: indices mean nothing elsewhere.
        let mut h = Rtnl::open_in(self.host_ns.as_fd())?;
        let mut c = match self.child_ns.as_ref() {
            Some(ns) => match Rtnl::open_in(ns.as_fd()) {
                Ok(c) => Some(c),
                Err(e) => {
                    keep(Err(e));
                    None
                }
            },
            None => None,
        };
        let nics = std::mem::take(&mut self.nics);
        for n in nics.iter().rev() {
            if n.up_ran {
                let run =
                    || script::run(&self.ctx.name, self.ctx.hook_version, &n.spec, When::Down, n.host_name.as_deref());
                keep(match rlxc_sys::netlink::with_netns(self.host_ns.as_fd(), run) {
                    Ok(r) => r,
                    Err(e) => Err(NetError::io("enter the host network namespace for script.down", e)),
                });
            }
            for (idx, a) in &n.proxies {
                keep(h.proxy_neigh(*idx, *a, false));
            }
            for (lo, a) in &n.lo_routes {
                keep(h.del_route((*a, if a.is_ipv6() { 128 } else { 32 }), *lo, a.is_ipv6()));
            }
            if let (Some(br), Some(host)) = (&n.ovs, &n.host_name) {
                keep(ovs(&["--if-exists", "del-port", br, host]).map_err(NetError::Other));
            }
            match n.spec.ty {
                NicType::Veth => {
                    if let Some(idx) = n.host_index {
                        keep(h.delete_link(idx));
                    }
                }
                NicType::Macvlan | NicType::Ipvlan | NicType::Vlan => match (&n.moved, &mut c, &n.dev) {
                    (Some((idx, _)), Some(c), _) => keep(c.delete_link(*idx)),
                    (None, _, Some((_, idx))) => keep(h.delete_link(*idx)),
                    _ => {}
                },
                NicType::Phys => {
                    if let (Some((idx, inside)), Some(c), Some(orig)) = (&n.moved, &mut c, &n.phys) {
                        keep(self.return_phys(*idx, inside, orig, &mut h, c));
                    }
                }
                NicType::Empty | NicType::None => {}
            }
        }
        self.nics = nics;
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn return_phys(&self, idx: i32, inside: &str, orig: &PhysOrig, h: &mut Rtnl, c: &mut Rtnl) -> Result<()> {
        c.set_up(idx, false)?;
        match (orig.wiphy, self.child_ns.as_ref()) {
            (Some(phy), Some(ns)) => {
                wireless::move_wiphy(phy, Some(ns.as_fd()), self.host_ns.as_fd())?;
                let l = h.require(inside)?;
                if l.name != orig.name {
                    h.set_name(l.index, &orig.name)?;
                }
            }
            _ => match c.move_to_fd(idx, self.host_ns.as_fd(), Some(&orig.name)) {
                // Someone took the name meanwhile: bring it home under another name rather
                // than leave it behind.
                Err(e) if e.errno() == Some(libc::EEXIST) => {
                    let tmp = random_name("phys", 6);
                    c.move_to_fd(idx, self.host_ns.as_fd(), Some(&tmp))?;
                    return Err(NetError::Other(format!(
                        "phys device \"{}\" returned to the host as \"{tmp}\": the name is taken there",
                        orig.name
                    )));
                }
                r => r?,
            },
        }
        let l = h.require(&orig.name)?;
        if orig.mtu != 0 && l.mtu != orig.mtu {
            h.set_mtu(l.index, orig.mtu)?;
        }
        info!("phys device \"{}\" returned to the host", orig.name);
        Ok(())
    }
}

/// Add a default route out of `idx`, via `gw` when given. Like LXC, when the gateway is not
/// reachable through the device's addresses, first add a host route to it over the device.
fn add_default(c: &mut Rtnl, idx: i32, gw: Option<IpAddr>, v6: bool) -> Result<()> {
    match c.add_route(None, gw, idx, v6) {
        Err(e) if gw.is_some() && matches!(e.errno(), Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH)) => {
            let g = gw.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
            c.add_route(Some((g, if v6 { 128 } else { 32 })), None, idx, v6)?;
            c.add_route(None, gw, idx, v6)
        }
        r => r,
    }
}

impl Drop for HostNet {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            warn!("network teardown failed: {e}");
        }
    }
}
