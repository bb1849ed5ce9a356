//! Networking of a container started by a user (LXC's `lxc_create_network_unpriv`): the monitor
//! has no privilege in the container's network namespace, so `veth` devices come from the setuid
//! helper `lxc-user-nic create LXCPATH NAME PID veth BRIDGE NICNAME`, which checks the user's
//! quota in `/etc/lxc/lxc-usernet`, creates the pair, attaches the host end to the bridge, moves
//! the other end into the container and prints `NAME:IFINDEX:HOSTNAME:HOSTIFINDEX`. `empty`
//! needs nothing from the host; every other type is refused, as in LXC.

use std::path::PathBuf;
use std::process::Command;

use rlxc_config::{ContainerConfig, NetType};
use tracing::{debug, info};

/// Where the helper is: `RLXC_USER_NIC`, else next to this install
/// (`<prefix>/libexec/rlxc/lxc-user-nic`), else LXC's `/usr/libexec/lxc/lxc-user-nic`.
pub fn helper_path() -> PathBuf {
    if let Some(p) = std::env::var_os("RLXC_USER_NIC") {
        return PathBuf::from(p);
    }
    let ours = crate::paths::prefix().join("libexec/rlxc/lxc-user-nic");
    if ours.exists() {
        return ours;
    }
    PathBuf::from("/usr/libexec/lxc/lxc-user-nic")
}

/// One device made by the helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserNic {
    /// `lxc.net.N` index.
    pub index: u32,
    /// Name inside the container.
    pub name: String,
    /// Its ifindex inside the container.
    pub ifindex: u32,
    /// Host-side veth name (what `lxc.net.N.veth.pair` answers while running).
    pub host_name: String,
    /// Host-side ifindex.
    pub host_ifindex: u32,
}

/// Parse the helper's `NAME:IFINDEX:HOSTNAME:HOSTIFINDEX` line.
pub fn parse_output(index: u32, out: &str) -> Result<UserNic, String> {
    let line = out.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let f: Vec<&str> = line.split(':').collect();
    let bad =
        || format!("lxc-user-nic printed \"{}\", expected NAME:IFINDEX:HOSTNAME:HOSTIFINDEX", line.escape_debug());
    let [name, idx, host, hidx] = f.as_slice() else { return Err(bad()) };
    if name.is_empty() || host.is_empty() {
        return Err(bad());
    }
    Ok(UserNic {
        index,
        name: name.to_string(),
        ifindex: idx.parse().map_err(|_| bad())?,
        host_name: host.to_string(),
        host_ifindex: hidx.parse().map_err(|_| bad())?,
    })
}

/// Create the container's devices for `pid` through the helper. Errors name the `lxc.net.N`.
pub fn create(conf: &ContainerConfig, name: &str, lxcpath: &str, pid: i32) -> Result<Vec<UserNic>, String> {
    let mut out = Vec::new();
    for (&i, d) in &conf.net {
        match d.net_type {
            None | Some(NetType::Empty) | Some(NetType::None) => continue,
            Some(NetType::Veth) => {}
            Some(t) => {
                return Err(format!(
                    "lxc.net.{i}.type: networks of type {} are not supported by unprivileged containers",
                    t.name()
                ))
            }
        }
        let link = d.link.as_deref().filter(|l| !l.is_empty()).ok_or_else(|| {
            format!("lxc.net.{i}.link: an unprivileged veth needs a bridge allowed in /etc/lxc/lxc-usernet")
        })?;
        let nicname = d.name.as_deref().filter(|n| !n.is_empty()).unwrap_or("unset");
        let helper = helper_path();
        debug!("running {} create {lxcpath} {name} {pid} veth {link} {nicname}", helper.display());
        let res = Command::new(&helper)
            .args(["create", lxcpath, name, &pid.to_string(), "veth", link, nicname])
            .output()
            .map_err(|e| format!("lxc.net.{i}: run {}: {e}", helper.display()))?;
        if !res.status.success() {
            return Err(format!(
                "lxc.net.{i}: {} failed ({}): {}",
                helper.display(),
                res.status,
                String::from_utf8_lossy(&res.stderr).trim()
            ));
        }
        let nic = parse_output(i, &String::from_utf8_lossy(&res.stdout)).map_err(|e| format!("lxc.net.{i}: {e}"))?;
        info!("lxc.net.{i}: lxc-user-nic made {} (host side {} on {link})", nic.name, nic.host_name);
        out.push(nic);
    }
    Ok(out)
}

/// What the monitor tells the child about one device: `INDEX:NAME` (its name in the container).
pub fn encode(n: &UserNic) -> String {
    format!("{}:{}", n.index, n.name)
}

fn gw_any<A>(
    g: rlxc_config::Gateway<A>,
    f: impl FnOnce(A) -> std::net::IpAddr,
) -> rlxc_config::Gateway<std::net::IpAddr> {
    match g {
        rlxc_config::Gateway::Auto => rlxc_config::Gateway::Auto,
        rlxc_config::Gateway::Dev => rlxc_config::Gateway::Dev,
        rlxc_config::Gateway::Addr(a) => rlxc_config::Gateway::Addr(f(a)),
    }
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    for (m, p) in mac.iter_mut().zip(parts) {
        *m = u8::from_str_radix(p, 16).ok()?;
    }
    Some(mac)
}

/// Child side, in the container's network namespace (as its root): configure the devices
/// lxc-user-nic moved in (`INDEX:NAME` from [`encode`]) — MAC, MTU, addresses, up, gateways —
/// as LXC's child does for an unprivileged container (the monitor has no privilege there).
pub fn configure_inside(conf: &ContainerConfig, nics: &[String]) -> Result<(), String> {
    use std::net::IpAddr;
    if nics.is_empty() {
        return Ok(());
    }
    let mut c = rlxc_net::Rtnl::open().map_err(|e| e.to_string())?;
    for n in nics {
        let Some((i, name)) = n.split_once(':') else { continue };
        let Some(d) = i.parse::<u32>().ok().and_then(|i| conf.net.get(&i)) else { continue };
        let at = |key: &str, e: rlxc_net::NetError| format!("lxc.net.{i}.{key}: {e}");
        let l = c.require(name).map_err(|e| at("name", e))?;
        if let Some(hw) = d.hwaddr.as_deref() {
            let mac = parse_mac(hw).ok_or_else(|| format!("lxc.net.{i}.hwaddr: \"{hw}\" is not a MAC address"))?;
            c.set_mac(l.index, &mac).map_err(|e| at("hwaddr", e))?;
        }
        if let Some(mtu) = d.mtu {
            c.set_mtu(l.index, mtu).map_err(|e| at("mtu", e))?;
        }
        for a in &d.ipv4 {
            c.add_addr(l.index, IpAddr::V4(a.addr), a.prefix, Some(a.broadcast)).map_err(|e| at("ipv4.address", e))?;
        }
        for a in &d.ipv6 {
            c.add_addr(l.index, IpAddr::V6(a.addr), a.prefix, None).map_err(|e| at("ipv6.address", e))?;
        }
        if d.flags_up {
            c.set_up(l.index, true).map_err(|e| at("flags", e))?;
        }
        for (gw, v6, key) in [
            (d.ipv4_gateway.map(|g| gw_any(g, IpAddr::V4)), false, "ipv4.gateway"),
            (d.ipv6_gateway.map(|g| gw_any(g, IpAddr::V6)), true, "ipv6.gateway"),
        ] {
            match gw {
                None => {}
                Some(rlxc_config::Gateway::Auto) => {
                    // `auto` needs the bridge's address, which is in the host's namespace.
                    tracing::warn!("lxc.net.{i}.{key} = auto is not supported in unprivileged containers");
                }
                Some(rlxc_config::Gateway::Dev) => c.add_route(None, None, l.index, v6).map_err(|e| at(key, e))?,
                Some(rlxc_config::Gateway::Addr(a)) => {
                    c.add_route(None, Some(a), l.index, v6).map_err(|e| at(key, e))?
                }
            }
        }
        info!("lxc.net.{i}: \"{name}\" configured in the container");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_helper_output() {
        let n = parse_output(0, "eth0:731:veth9MT2L4:730\n").expect("parses");
        assert_eq!(
            (n.name.as_str(), n.ifindex, n.host_name.as_str(), n.host_ifindex),
            ("eth0", 731, "veth9MT2L4", 730)
        );
        for bad in ["", "eth0:x:veth:1", "eth0:1:veth", ":1:v:2", "a:1:b:2:3"] {
            assert!(parse_output(0, bad).is_err(), "{bad:?}");
        }
    }
}
