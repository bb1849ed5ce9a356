//! The network part of the model: one `NetDev` per `lxc.net.N`, with every sub-key typed.

use std::net::{Ipv4Addr, Ipv6Addr};

/// `lxc.net.N.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NetType {
    /// `veth`.
    Veth,
    /// `macvlan`.
    Macvlan,
    /// `ipvlan`.
    Ipvlan,
    /// `vlan`.
    Vlan,
    /// `phys`.
    Phys,
    /// `empty`: only a loopback.
    Empty,
    /// `none`: share the host's network namespace.
    None,
}

impl NetType {
    /// Every type.
    pub const ALL: [NetType; 7] =
        [NetType::Veth, NetType::Macvlan, NetType::Ipvlan, NetType::Vlan, NetType::Phys, NetType::Empty, NetType::None];

    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            NetType::Veth => "veth",
            NetType::Macvlan => "macvlan",
            NetType::Ipvlan => "ipvlan",
            NetType::Vlan => "vlan",
            NetType::Phys => "phys",
            NetType::Empty => "empty",
            NetType::None => "none",
        }
    }

    /// Parse a config name.
    pub fn from_name(s: &str) -> Option<NetType> {
        NetType::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// `lxc.net.N.veth.mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VethMode {
    /// `bridge` (default).
    #[default]
    Bridge,
    /// `router`.
    Router,
}

/// `lxc.net.N.macvlan.mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MacvlanMode {
    /// `private` (default).
    #[default]
    Private,
    /// `vepa`.
    Vepa,
    /// `bridge`.
    Bridge,
    /// `passthru`.
    Passthru,
}

/// `lxc.net.N.ipvlan.mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IpvlanMode {
    /// `l3` (default).
    #[default]
    L3,
    /// `l3s`.
    L3s,
    /// `l2`.
    L2,
}

/// `lxc.net.N.ipvlan.isolation`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IpvlanIsolation {
    /// `bridge` (default).
    #[default]
    Bridge,
    /// `private`.
    Private,
    /// `vepa`.
    Vepa,
}

/// An IPv4 address of a NIC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Entry {
    /// Address.
    pub addr: Ipv4Addr,
    /// Prefix length (derived from the address class when not given).
    pub prefix: u8,
    /// Broadcast (computed from address and prefix when not given).
    pub broadcast: Ipv4Addr,
}

/// An IPv6 address of a NIC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Entry {
    /// Address.
    pub addr: Ipv6Addr,
    /// Prefix length (default 64).
    pub prefix: u8,
}

/// A gateway setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gateway<A> {
    /// `auto`: first address of the link (bridge).
    Auto,
    /// `dev`: device route.
    Dev,
    /// An address.
    Addr(A),
}

/// A route `NET/PREFIX` (`lxc.net.N.veth.ipv4.route`, `...ipv6.route`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route<A> {
    /// Network address.
    pub addr: A,
    /// Prefix length.
    pub prefix: u8,
}

/// Veth-specific settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VethConfig {
    /// `veth.mode`.
    pub mode: VethMode,
    /// `veth.pair`: host-side name.
    pub pair: Option<String>,
    /// `veth.ipv4.route`.
    pub ipv4_routes: Vec<Route<Ipv4Addr>>,
    /// `veth.ipv6.route`.
    pub ipv6_routes: Vec<Route<Ipv6Addr>>,
}

/// One network device (`lxc.net.N.*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetDev {
    /// N.
    pub index: u32,
    /// `type` (None = not given; such a NIC is an error at load end).
    pub net_type: Option<NetType>,
    /// `flags = up`.
    pub flags_up: bool,
    /// `link`.
    pub link: Option<String>,
    /// `l2proxy`.
    pub l2proxy: bool,
    /// `mtu`.
    pub mtu: Option<u32>,
    /// `name`: name inside the container.
    pub name: Option<String>,
    /// `hwaddr` (any `x` already randomised).
    pub hwaddr: Option<String>,
    /// `ipv4.address`.
    pub ipv4: Vec<Ipv4Entry>,
    /// `ipv4.gateway`.
    pub ipv4_gateway: Option<Gateway<Ipv4Addr>>,
    /// `ipv6.address`.
    pub ipv6: Vec<Ipv6Entry>,
    /// `ipv6.gateway`.
    pub ipv6_gateway: Option<Gateway<Ipv6Addr>>,
    /// `script.up`.
    pub script_up: Option<String>,
    /// `script.down`.
    pub script_down: Option<String>,
    /// `veth.*`.
    pub veth: VethConfig,
    /// `macvlan.mode`.
    pub macvlan_mode: MacvlanMode,
    /// `ipvlan.mode`.
    pub ipvlan_mode: IpvlanMode,
    /// `ipvlan.isolation`.
    pub ipvlan_isolation: IpvlanIsolation,
    /// `vlan.id`.
    pub vlan_id: Option<u16>,
}

impl NetDev {
    /// A NIC with index `index` and nothing set.
    pub fn new(index: u32) -> NetDev {
        NetDev { index, ..NetDev::default() }
    }
}
