//! `lxc.net.N.*`: setting, reading and clearing NIC fields, parsing addresses, routes and MACs,
//! and the end-of-load check that makes the sub-keys order-independent (LXC 4.0 rejects e.g.
//! `macvlan.mode` before `type`; we accept any order and check the combination once at the end).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::apply::ApplyError;
use crate::error::ValueError;
use crate::keys::KeyDef;
use crate::model::*;
use crate::values::{parse_bool, parse_u32, parse_u64};

/// Longest interface name (IFNAMSIZ - 1).
const IFNAME_MAX: usize = 15;

fn ifname(v: &str) -> Result<Option<String>, ValueError> {
    if v.len() > IFNAME_MAX || v.contains('/') || v.contains(char::is_whitespace) {
        return Err(ValueError::new(format!(
            "{v:?} is not an interface name (at most {IFNAME_MAX} bytes, no / or blanks)"
        )));
    }
    Ok((!v.is_empty()).then(|| v.to_string()))
}

/// The prefix LXC derives for an IPv4 address without one. LXC's `config_ip_prefix` applies the
/// classful `IN_CLASSA/B/C` tests to the address in network byte order, so on little-endian hosts
/// it classifies by the *last* octet (`192.0.2.6` gets /8, `192.0.2.200` gets /24). Debian's LXC
/// still does this; we reproduce it so containers get the same addresses.
pub fn lxc_default_ipv4_prefix(addr: Ipv4Addr) -> u8 {
    let probe = addr.octets()[3];
    if probe & 0x80 == 0 {
        8
    } else if probe & 0xc0 == 0x80 {
        16
    } else if probe & 0xe0 == 0xc0 {
        24
    } else {
        0
    }
}

/// The broadcast address of `addr/prefix`.
pub fn ipv4_broadcast(addr: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    let host_mask = if prefix >= 32 { 0 } else { u32::MAX >> prefix };
    Ipv4Addr::from(u32::from(addr) | host_mask)
}

fn prefix_of(p: &str, max: u8, whole: &str) -> Result<u8, ValueError> {
    parse_u64(p)
        .ok()
        .filter(|n| *n <= u64::from(max))
        .map(|n| n as u8)
        .ok_or_else(|| ValueError::new(format!("{whole:?}: prefix {p:?} is not a number from 0 to {max}")))
}

/// Parse `A.B.C.D[/PREFIX] [BROADCAST]`.
pub fn parse_ipv4_address(v: &str) -> Result<Ipv4Entry, ValueError> {
    let f: Vec<&str> = v.split_whitespace().collect();
    if f.is_empty() || f.len() > 2 {
        return Err(ValueError::new(format!("{v:?} is not an IPv4 address (A.B.C.D[/PREFIX] [BROADCAST])")));
    }
    let (a, p) = match f[0].split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (f[0], None),
    };
    let addr: Ipv4Addr = a.parse().map_err(|_| ValueError::new(format!("{a:?} is not an IPv4 address")))?;
    let prefix = match p {
        Some(p) => prefix_of(p, 32, v)?,
        None => lxc_default_ipv4_prefix(addr),
    };
    let broadcast = match f.get(1) {
        Some(b) => b.parse().map_err(|_| ValueError::new(format!("{b:?} is not an IPv4 broadcast address")))?,
        None => ipv4_broadcast(addr, prefix),
    };
    Ok(Ipv4Entry { addr, prefix, broadcast })
}

/// Parse `ADDR[/PREFIX]` (prefix default 64).
pub fn parse_ipv6_address(v: &str) -> Result<Ipv6Entry, ValueError> {
    let (a, p) = match v.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (v, None),
    };
    let addr: Ipv6Addr = a.trim().parse().map_err(|_| ValueError::new(format!("{v:?} is not an IPv6 address")))?;
    let prefix = match p {
        Some(p) => prefix_of(p.trim(), 128, v)?,
        None => 64,
    };
    Ok(Ipv6Entry { addr, prefix })
}

fn parse_gateway<A: std::str::FromStr>(v: &str, fam: &str) -> Result<Gateway<A>, ValueError> {
    match v {
        "auto" => Ok(Gateway::Auto),
        "dev" => Ok(Gateway::Dev),
        _ => v
            .parse()
            .map(Gateway::Addr)
            .map_err(|_| ValueError::new(format!("{v:?} is not an {fam} gateway (address, auto or dev)"))),
    }
}

fn format_gateway<A: std::fmt::Display>(g: &Option<Gateway<A>>) -> String {
    match g {
        None => String::new(),
        Some(Gateway::Auto) => "auto".into(),
        Some(Gateway::Dev) => "dev".into(),
        Some(Gateway::Addr(a)) => a.to_string(),
    }
}

/// Parse a route `NET/PREFIX` (the prefix is required).
pub fn parse_route<A: std::str::FromStr>(v: &str, max: u8) -> Result<Route<A>, ValueError> {
    let (a, p) = v.split_once('/').ok_or_else(|| ValueError::new(format!("{v:?} is not a route (NET/PREFIX)")))?;
    let addr = a.parse().map_err(|_| ValueError::new(format!("{v:?} is not a route (NET/PREFIX)")))?;
    Ok(Route { addr, prefix: prefix_of(p, max, v)? })
}

/// Whether `v` is a MAC address `xx:xx:xx:xx:xx:xx` in hex.
pub fn is_mac(v: &str) -> bool {
    let parts: Vec<&str> = v.split(':').collect();
    parts.len() == 6 && parts.iter().all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// 64 random bits without a PRNG dependency: std's per-process random SipHash keys, a counter
/// and the time.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

/// Replace every `x`/`X` with a random hex digit, keeping the address unicast (LXC's
/// `rand_complete_hwaddr`: the second character of the first octet is made even).
pub fn randomize_hwaddr(v: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bits = random_u64();
    let mut used = 0;
    v.char_indices()
        .map(|(i, c)| {
            if c != 'x' && c != 'X' {
                return c;
            }
            if used == 16 {
                bits = random_u64();
                used = 0;
            }
            let mut n = (bits & 0xf) as usize;
            bits >>= 4;
            used += 1;
            if i == 1 {
                n &= 0xe;
            }
            HEX[n] as char
        })
        .collect()
}

fn sub(def: &KeyDef) -> &'static str {
    def.name.strip_prefix("lxc.net.").unwrap_or(def.name)
}

fn type_only(n: &NetDev, t: NetType, key: &str) -> Result<(), ApplyError> {
    if n.net_type == Some(t) {
        Ok(())
    } else {
        Err(ApplyError::Value(ValueError::new(format!("{key} is only for {} NICs", t.name()))))
    }
}

impl ContainerConfig {
    /// Set `lxc.net.<idx>.<sub>`; an empty value resets the field.
    pub(crate) fn set_net(&mut self, idx: u32, def: &KeyDef, v: &str) -> Result<(), ValueError> {
        let n = self.net.entry(idx).or_insert_with(|| NetDev::new(idx));
        let empty = v.is_empty();
        match sub(def) {
            "type" => {
                n.net_type = if empty {
                    None
                } else {
                    Some(NetType::from_name(v).ok_or_else(|| {
                        ValueError::new(format!(
                            "{v:?} is not a network type (veth macvlan ipvlan vlan phys empty none)"
                        ))
                    })?)
                }
            }
            "flags" => {
                n.flags_up = match v {
                    "" => false,
                    "up" => true,
                    _ => return Err(ValueError::new(format!("{v:?} is not a flag (only \"up\")"))),
                }
            }
            "link" => {
                // A phys link may end in `+` (all host interfaces with that prefix).
                n.link = ifname(v)?;
            }
            "l2proxy" => n.l2proxy = !empty && parse_bool(v)?,
            "mtu" => {
                n.mtu = if empty {
                    None
                } else {
                    Some(parse_u32(v).map_err(|_| ValueError::new(format!("{v:?} is not an MTU (a number)")))?)
                }
            }
            "name" => n.name = ifname(v)?,
            "hwaddr" => {
                n.hwaddr = if empty {
                    None
                } else {
                    let mac = randomize_hwaddr(v);
                    if !is_mac(&mac) {
                        return Err(ValueError::new(format!("{v:?} is not a MAC address (xx:xx:xx:xx:xx:xx)")));
                    }
                    Some(mac)
                }
            }
            "ipv4.address" => {
                if empty {
                    n.ipv4.clear()
                } else {
                    n.ipv4.push(parse_ipv4_address(v)?)
                }
            }
            "ipv4.gateway" => n.ipv4_gateway = if empty { None } else { Some(parse_gateway(v, "IPv4")?) },
            "ipv6.address" => {
                if empty {
                    n.ipv6.clear()
                } else {
                    n.ipv6.push(parse_ipv6_address(v)?)
                }
            }
            "ipv6.gateway" => n.ipv6_gateway = if empty { None } else { Some(parse_gateway(v, "IPv6")?) },
            "script.up" => n.script_up = (!empty).then(|| v.to_string()),
            "script.down" => n.script_down = (!empty).then(|| v.to_string()),
            "veth.mode" => {
                n.veth.mode = match v {
                    "" | "bridge" => VethMode::Bridge,
                    "router" => VethMode::Router,
                    _ => return Err(ValueError::new(format!("{v:?} is not a veth mode (bridge or router)"))),
                }
            }
            "veth.pair" => n.veth.pair = ifname(v)?,
            "veth.ipv4.route" => {
                if empty {
                    n.veth.ipv4_routes.clear()
                } else {
                    n.veth.ipv4_routes.push(parse_route(v, 32)?)
                }
            }
            "veth.ipv6.route" => {
                if empty {
                    n.veth.ipv6_routes.clear()
                } else {
                    n.veth.ipv6_routes.push(parse_route(v, 128)?)
                }
            }
            "macvlan.mode" => {
                n.macvlan_mode = match v {
                    "" | "private" => MacvlanMode::Private,
                    "vepa" => MacvlanMode::Vepa,
                    "bridge" => MacvlanMode::Bridge,
                    "passthru" => MacvlanMode::Passthru,
                    _ => {
                        return Err(ValueError::new(format!(
                            "{v:?} is not a macvlan mode (private vepa bridge passthru)"
                        )))
                    }
                }
            }
            "ipvlan.mode" => {
                n.ipvlan_mode = match v {
                    "" | "l3" => IpvlanMode::L3,
                    "l3s" => IpvlanMode::L3s,
                    "l2" => IpvlanMode::L2,
                    _ => return Err(ValueError::new(format!("{v:?} is not an ipvlan mode (l3 l3s l2)"))),
                }
            }
            "ipvlan.isolation" => {
                n.ipvlan_isolation = match v {
                    "" | "bridge" => IpvlanIsolation::Bridge,
                    "private" => IpvlanIsolation::Private,
                    "vepa" => IpvlanIsolation::Vepa,
                    _ => {
                        return Err(ValueError::new(format!("{v:?} is not an ipvlan isolation (bridge private vepa)")))
                    }
                }
            }
            "vlan.id" => {
                n.vlan_id = if empty {
                    None
                } else {
                    Some(
                        parse_u64(v)
                            .ok()
                            .and_then(|x| u16::try_from(x).ok())
                            .ok_or_else(|| ValueError::new(format!("{v:?} is not a VLAN id (0-65535)")))?,
                    )
                }
            }
            other => return Err(ValueError::new(format!("unknown NIC key {other:?}"))),
        }
        Ok(())
    }

    /// Read `lxc.net.<idx>.<sub>` as LXC prints it.
    pub(crate) fn get_net(&self, idx: u32, def: &KeyDef) -> Result<String, ApplyError> {
        let key = format!("lxc.net.{idx}.{}", sub(def));
        let n =
            self.net.get(&idx).ok_or_else(|| ApplyError::Value(ValueError::new(format!("there is no NIC {idx}"))))?;
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        Ok(match sub(def) {
            "type" => n.net_type.map(NetType::name).unwrap_or("").to_string(),
            "flags" => if n.flags_up { "up" } else { "" }.to_string(),
            "link" => s(&n.link),
            "l2proxy" => if n.l2proxy { "1" } else { "0" }.to_string(),
            "mtu" => n.mtu.map(|m| m.to_string()).unwrap_or_default(),
            "name" => s(&n.name),
            "hwaddr" => s(&n.hwaddr),
            "ipv4.address" => n.ipv4.iter().map(|a| format!("{}/{}", a.addr, a.prefix)).collect::<Vec<_>>().join("\n"),
            "ipv4.gateway" => format_gateway(&n.ipv4_gateway),
            "ipv6.address" => n.ipv6.iter().map(|a| format!("{}/{}", a.addr, a.prefix)).collect::<Vec<_>>().join("\n"),
            "ipv6.gateway" => format_gateway(&n.ipv6_gateway),
            "script.up" => s(&n.script_up),
            "script.down" => s(&n.script_down),
            "veth.mode" => {
                type_only(n, NetType::Veth, &key)?;
                match n.veth.mode {
                    VethMode::Bridge => "bridge",
                    VethMode::Router => "router",
                }
                .to_string()
            }
            "veth.pair" => {
                type_only(n, NetType::Veth, &key)?;
                s(&n.veth.pair)
            }
            "veth.ipv4.route" => {
                type_only(n, NetType::Veth, &key)?;
                n.veth.ipv4_routes.iter().map(|r| format!("{}/{}", r.addr, r.prefix)).collect::<Vec<_>>().join("\n")
            }
            "veth.ipv6.route" => {
                type_only(n, NetType::Veth, &key)?;
                n.veth.ipv6_routes.iter().map(|r| format!("{}/{}", r.addr, r.prefix)).collect::<Vec<_>>().join("\n")
            }
            "macvlan.mode" => {
                type_only(n, NetType::Macvlan, &key)?;
                match n.macvlan_mode {
                    MacvlanMode::Private => "private",
                    MacvlanMode::Vepa => "vepa",
                    MacvlanMode::Bridge => "bridge",
                    MacvlanMode::Passthru => "passthru",
                }
                .to_string()
            }
            "ipvlan.mode" => {
                type_only(n, NetType::Ipvlan, &key)?;
                match n.ipvlan_mode {
                    IpvlanMode::L3 => "l3",
                    IpvlanMode::L3s => "l3s",
                    IpvlanMode::L2 => "l2",
                }
                .to_string()
            }
            "ipvlan.isolation" => {
                type_only(n, NetType::Ipvlan, &key)?;
                match n.ipvlan_isolation {
                    IpvlanIsolation::Bridge => "bridge",
                    IpvlanIsolation::Private => "private",
                    IpvlanIsolation::Vepa => "vepa",
                }
                .to_string()
            }
            "vlan.id" => {
                type_only(n, NetType::Vlan, &key)?;
                n.vlan_id.unwrap_or(0).to_string()
            }
            _ => return Err(ApplyError::NotReadable),
        })
    }

    /// The sub-keys `get_keys("lxc.net.N")` lists for NIC `idx` (LXC's `lxc_list_net_items`).
    pub fn net_keys(&self, idx: u32) -> Option<Vec<&'static str>> {
        let n = self.net.get(&idx)?;
        let mut v = vec![
            "type",
            "script.up",
            "script.down",
            "flags",
            "link",
            "name",
            "hwaddr",
            "mtu",
            "ipv6.address",
            "ipv6.gateway",
            "ipv4.address",
            "ipv4.gateway",
        ];
        match n.net_type {
            Some(NetType::Veth) => v.extend(["veth.pair", "veth.ipv4.route", "veth.ipv6.route"]),
            Some(NetType::Macvlan) => v.push("macvlan.mode"),
            Some(NetType::Ipvlan) => v.extend(["ipvlan.mode", "ipvlan.isolation"]),
            Some(NetType::Vlan) => v.push("vlan.id"),
            _ => {}
        }
        Some(v)
    }
}

/// Check one NIC once everything is read: a type is given and type-specific settings match it.
/// Returns the offending sub-key and the problem.
pub(crate) fn check_netdev(n: &NetDev) -> Result<(), (&'static str, String)> {
    let t = n.net_type.ok_or(("type", "the NIC has settings but no type (set lxc.net.N.type)".to_string()))?;
    let wrong = |k: &'static str, want: NetType| {
        Err((k, format!("is only for {} NICs, this one is {}", want.name(), t.name())))
    };
    if t != NetType::Veth {
        if n.veth.mode != VethMode::Bridge {
            return wrong("veth.mode", NetType::Veth);
        }
        if n.veth.pair.is_some() {
            return wrong("veth.pair", NetType::Veth);
        }
        if !n.veth.ipv4_routes.is_empty() {
            return wrong("veth.ipv4.route", NetType::Veth);
        }
        if !n.veth.ipv6_routes.is_empty() {
            return wrong("veth.ipv6.route", NetType::Veth);
        }
    }
    if t != NetType::Macvlan && n.macvlan_mode != MacvlanMode::Private {
        return wrong("macvlan.mode", NetType::Macvlan);
    }
    if t != NetType::Ipvlan && n.ipvlan_mode != IpvlanMode::L3 {
        return wrong("ipvlan.mode", NetType::Ipvlan);
    }
    if t != NetType::Ipvlan && n.ipvlan_isolation != IpvlanIsolation::Bridge {
        return wrong("ipvlan.isolation", NetType::Ipvlan);
    }
    if t != NetType::Vlan && n.vlan_id.is_some() {
        return wrong("vlan.id", NetType::Vlan);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_addresses_as_lxc_derives_them() {
        let a = parse_ipv4_address("192.0.2.5/24").expect("valid");
        assert_eq!((a.prefix, a.broadcast), (24, Ipv4Addr::new(192, 0, 2, 255)));
        assert_eq!(parse_ipv4_address("192.0.2.200").expect("valid").prefix, 24);
        assert_eq!(parse_ipv4_address("192.0.2.130").expect("valid").prefix, 16);
        assert_eq!(parse_ipv4_address("192.0.2.6").expect("valid").prefix, 8);
        let a = parse_ipv4_address("192.0.2.5/24 192.0.2.254").expect("valid");
        assert_eq!(a.broadcast, Ipv4Addr::new(192, 0, 2, 254));
        for b in ["192.0.2.5/33", "192.0.2.5/24 bogus", "300.1.1.1", "", "1.2.3.4/24 1.2.3.255 x"] {
            assert!(parse_ipv4_address(b).is_err(), "{b}");
        }
        assert_eq!(parse_ipv6_address("2001:db8::1").expect("valid").prefix, 64);
        assert!(parse_ipv6_address("2001:db8::1/129").is_err());
        assert!(parse_route::<Ipv4Addr>("198.51.100.1", 32).is_err());
    }

    #[test]
    fn hwaddr_randomisation_is_unicast_hex() {
        for _ in 0..200 {
            let m = randomize_hwaddr("xx:16:3e:xx:xx:XX");
            assert!(is_mac(&m), "{m}");
            let first = u8::from_str_radix(&m[..2], 16).expect("hex");
            assert_eq!(first & 1, 0, "{m} is unicast");
            assert_eq!(&m[2..9], ":16:3e:");
        }
        assert_eq!(randomize_hwaddr("00:16:3e:00:00:01"), "00:16:3e:00:00:01");
    }
}
