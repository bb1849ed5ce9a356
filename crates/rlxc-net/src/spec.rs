//! What one container network device should look like, independent of how the configuration
//! was parsed, plus the small value parsers LXC applies (addresses, broadcast, MAC templates).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::NetError;

/// `lxc.net.N.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NicType {
    Veth,
    Macvlan,
    Ipvlan,
    Vlan,
    Phys,
    #[default]
    Empty,
    None,
}

impl NicType {
    /// LXC's name of the type (also `LXC_NET_TYPE` and the first script argument).
    pub fn as_str(self) -> &'static str {
        match self {
            NicType::Veth => "veth",
            NicType::Macvlan => "macvlan",
            NicType::Ipvlan => "ipvlan",
            NicType::Vlan => "vlan",
            NicType::Phys => "phys",
            NicType::Empty => "empty",
            NicType::None => "none",
        }
    }
}

/// `lxc.net.N.veth.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VethMode {
    #[default]
    Bridge,
    Router,
}

/// `lxc.net.N.ipv4.gateway` / `ipv6.gateway`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gateway<A> {
    Addr(A),
    /// First address of the link (bridge) on the host.
    Auto,
    /// A device route (no next hop).
    Dev,
}

/// One `ipv4.address` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Cidr {
    pub addr: Ipv4Addr,
    pub prefix: u8,
    pub broadcast: Ipv4Addr,
}

/// One `ipv6.address` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Cidr {
    pub addr: Ipv6Addr,
    pub prefix: u8,
}

/// `macvlan.mode` values as the kernel numbers them (`IFLA_MACVLAN_MODE`).
pub mod macvlan_mode {
    pub const PRIVATE: u32 = 1;
    pub const VEPA: u32 = 2;
    pub const BRIDGE: u32 = 4;
    pub const PASSTHRU: u32 = 8;
}

/// One network device of a container (`lxc.net.N.*`), fully parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NicSpec {
    /// N in `lxc.net.N` (for messages and script arguments).
    pub index: usize,
    pub ty: NicType,
    /// Name inside the container (`name`); default `eth%d` (phys: the link's name).
    pub name: Option<String>,
    pub link: Option<String>,
    /// `flags = up`.
    pub up: bool,
    /// `hwaddr`; `x` placeholders are randomised before use.
    pub hwaddr: Option<String>,
    pub mtu: Option<u32>,
    pub ipv4: Vec<Ipv4Cidr>,
    pub ipv4_gateway: Option<Gateway<Ipv4Addr>>,
    pub ipv6: Vec<Ipv6Cidr>,
    pub ipv6_gateway: Option<Gateway<Ipv6Addr>>,
    pub script_up: Option<String>,
    pub script_down: Option<String>,
    pub l2proxy: bool,
    pub veth_mode: VethMode,
    pub veth_pair: Option<String>,
    pub veth_ipv4_routes: Vec<(Ipv4Addr, u8)>,
    pub veth_ipv6_routes: Vec<(Ipv6Addr, u8)>,
    /// `IFLA_MACVLAN_MODE` value (see [`macvlan_mode`]); 0 means private.
    pub macvlan_mode: u32,
    /// ipvlan mode: l2 = 0, l3 = 1 (default), l3s = 2.
    pub ipvlan_mode: u16,
    /// ipvlan isolation flags: bridge = 0 (default), private = 1, vepa = 2.
    pub ipvlan_isolation: u16,
    pub vlan_id: u16,
}

fn bad(index: usize, key: &str, msg: impl Into<String>) -> NetError {
    NetError::Config { index, key: key.to_string(), msg: msg.into() }
}

/// The prefix LXC derives from the address class when none is given.
pub fn class_prefix(a: Ipv4Addr) -> u8 {
    let o = a.octets()[0];
    if o < 128 {
        8
    } else if o < 192 {
        16
    } else if o < 224 {
        24
    } else {
        0
    }
}

/// The broadcast address of `addr/prefix` (all host bits set; the address itself for /31, /32).
pub fn broadcast(addr: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    if prefix >= 31 {
        return addr;
    }
    let host = u32::MAX >> prefix;
    Ipv4Addr::from(u32::from(addr) | host)
}

/// Parse `A.B.C.D[/PREFIX] [BROADCAST]` for device `index`.
pub fn parse_ipv4(index: usize, s: &str) -> Result<Ipv4Cidr, NetError> {
    let key = "ipv4.address";
    let mut parts = s.split_whitespace();
    let cidr = parts.next().ok_or_else(|| bad(index, key, "empty address"))?;
    let (a, p) = match cidr.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (cidr, None),
    };
    let addr: Ipv4Addr = a.parse().map_err(|_| bad(index, key, format!("invalid IPv4 address \"{a}\"")))?;
    let prefix = match p {
        Some(p) => match p.parse::<u8>() {
            Ok(v) if v <= 32 => v,
            _ => return Err(bad(index, key, format!("invalid prefix \"{p}\""))),
        },
        None => class_prefix(addr),
    };
    let broadcast = match parts.next() {
        Some(b) => b.parse().map_err(|_| bad(index, key, format!("invalid broadcast address \"{b}\"")))?,
        None => broadcast(addr, prefix),
    };
    Ok(Ipv4Cidr { addr, prefix, broadcast })
}

/// Parse `ADDR[/PREFIX]` (default prefix 64) for device `index`.
pub fn parse_ipv6(index: usize, s: &str) -> Result<Ipv6Cidr, NetError> {
    let key = "ipv6.address";
    let s = s.trim();
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: Ipv6Addr = a.parse().map_err(|_| bad(index, key, format!("invalid IPv6 address \"{a}\"")))?;
    let prefix = match p {
        Some(p) => match p.parse::<u8>() {
            Ok(v) if v <= 128 => v,
            _ => return Err(bad(index, key, format!("invalid prefix \"{p}\""))),
        },
        None => 64,
    };
    Ok(Ipv6Cidr { addr, prefix })
}

/// Parse a gateway value (`auto`, `dev`, or an address).
pub fn parse_gateway<A: std::str::FromStr>(index: usize, key: &str, s: &str) -> Result<Gateway<A>, NetError> {
    match s.trim() {
        "auto" => Ok(Gateway::Auto),
        "dev" => Ok(Gateway::Dev),
        a => a.parse().map(Gateway::Addr).map_err(|_| bad(index, key, format!("invalid gateway \"{a}\""))),
    }
}

/// Parse `NET/PREFIX` for `veth.ipv4.route` / `veth.ipv6.route`.
pub fn parse_route<A: std::str::FromStr>(index: usize, key: &str, s: &str, max: u8) -> Result<(A, u8), NetError> {
    let (a, p) = s.trim().split_once('/').ok_or_else(|| bad(index, key, format!("\"{s}\" is not NET/PREFIX")))?;
    let addr = a.parse().map_err(|_| bad(index, key, format!("invalid address \"{a}\"")))?;
    let prefix = match p.parse::<u8>() {
        Ok(v) if v <= max => v,
        _ => return Err(bad(index, key, format!("invalid prefix \"{p}\""))),
    };
    Ok((addr, prefix))
}

/// Random bytes from the kernel (falls back to time and pid, which is enough for names).
pub fn random_bytes(n: usize) -> Vec<u8> {
    use std::io::Read;
    let mut v = vec![0u8; n];
    let ok = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut v)).is_ok();
    if !ok {
        let mut x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ u64::from(std::process::id());
        for b in v.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
    v
}

/// `PREFIX` followed by `n` random alphanumerics (LXC's `vethXXXXXX`, `mcXXXXXX`).
pub fn random_name(prefix: &str, n: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut s = prefix.to_string();
    for b in random_bytes(n) {
        s.push(CHARS[b as usize % CHARS.len()] as char);
    }
    s
}

/// Replace `x`/`X` in a MAC template with random hex digits (the first octet's low nibble stays
/// even so the address is unicast), then parse it.
pub fn parse_hwaddr(index: usize, s: &str) -> Result<[u8; 6], NetError> {
    let rnd = random_bytes(s.len());
    let filled: String = s
        .trim()
        .chars()
        .enumerate()
        .map(|(i, c)| match c {
            'x' | 'X' => {
                let v = if i == 1 { rnd[i] & 0x0e } else { rnd[i] & 0x0f };
                char::from_digit(u32::from(v), 16).unwrap_or('0')
            }
            c => c,
        })
        .collect();
    let parts: Vec<&str> = filled.split(':').collect();
    if parts.len() != 6 {
        return Err(bad(index, "hwaddr", format!("invalid MAC address \"{s}\"")));
    }
    let mut mac = [0u8; 6];
    for (i, p) in parts.iter().enumerate() {
        mac[i] = u8::from_str_radix(p, 16).map_err(|_| bad(index, "hwaddr", format!("invalid MAC address \"{s}\"")))?;
    }
    Ok(mac)
}

/// An address as `IpAddr` (for neighbour entries).
pub fn v4(a: Ipv4Addr) -> IpAddr {
    IpAddr::V4(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_parsing_and_broadcast() {
        let c = parse_ipv4(0, "192.0.2.10/24").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.prefix, 24);
        assert_eq!(c.broadcast, Ipv4Addr::new(192, 0, 2, 255));
        let c = parse_ipv4(0, "198.51.100.7/25 198.51.100.100").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.broadcast, Ipv4Addr::new(198, 51, 100, 100));
        let c = parse_ipv4(0, "198.51.100.7").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((c.prefix, c.broadcast), (24, Ipv4Addr::new(198, 51, 100, 255)));
        let c = parse_ipv4(0, "10.1.2.3/32").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.broadcast, Ipv4Addr::new(10, 1, 2, 3));
        assert_eq!(broadcast(Ipv4Addr::new(192, 0, 2, 130), 26), Ipv4Addr::new(192, 0, 2, 191));
        assert!(parse_ipv4(3, "192.0.2.1/33").is_err());
        assert!(parse_ipv4(3, "nonsense").is_err());
        assert!(parse_ipv4(3, "").is_err());
    }

    #[test]
    fn ipv6_and_gateways() {
        let c = parse_ipv6(0, "2001:db8::5").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.prefix, 64);
        assert_eq!(parse_ipv6(0, "2001:db8::5/48").map(|c| c.prefix).ok(), Some(48));
        assert!(parse_ipv6(0, "2001:db8::5/129").is_err());
        assert_eq!(parse_gateway::<Ipv4Addr>(0, "ipv4.gateway", "auto").ok(), Some(Gateway::Auto));
        assert_eq!(parse_gateway::<Ipv4Addr>(0, "ipv4.gateway", "dev").ok(), Some(Gateway::Dev));
        assert!(parse_gateway::<Ipv4Addr>(0, "ipv4.gateway", "x").is_err());
        assert_eq!(
            parse_route::<Ipv4Addr>(0, "veth.ipv4.route", "198.51.100.0/24", 32).ok(),
            Some((Ipv4Addr::new(198, 51, 100, 0), 24))
        );
    }

    #[test]
    fn hwaddr_templates() {
        for _ in 0..50 {
            let m = parse_hwaddr(0, "xx:xx:xx:xx:xx:xx").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(m[0] & 1, 0, "multicast bit set: {m:?}");
        }
        let m = parse_hwaddr(0, "00:16:3e:xx:xx:xx").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&m[..3], &[0x00, 0x16, 0x3e]);
        assert!(parse_hwaddr(0, "00:16:3e").is_err());
        assert!(parse_hwaddr(0, "zz:16:3e:00:00:00").is_err());
        let n = random_name("veth", 6);
        assert_eq!(n.len(), 10);
        assert!(n.starts_with("veth"));
    }
}
