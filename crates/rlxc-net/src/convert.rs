//! From the configuration model (`rlxc_config::NetDev`) to [`NicSpec`].

use rlxc_config::model::{IpvlanIsolation, IpvlanMode, MacvlanMode, NetDev, NetType, VethMode as CfgVethMode};

use crate::spec::{macvlan_mode, Gateway, Ipv4Cidr, Ipv6Cidr, NicSpec, NicType, VethMode};
use crate::NetError;

fn gw<A: Copy>(g: &rlxc_config::model::Gateway<A>) -> Gateway<A> {
    match g {
        rlxc_config::model::Gateway::Auto => Gateway::Auto,
        rlxc_config::model::Gateway::Dev => Gateway::Dev,
        rlxc_config::model::Gateway::Addr(a) => Gateway::Addr(*a),
    }
}

/// Convert one configured device. A device without a type is an error naming its index.
pub fn nic_from_netdev(d: &NetDev) -> Result<NicSpec, NetError> {
    let index = d.index as usize;
    let ty = match d.net_type {
        Some(NetType::Veth) => NicType::Veth,
        Some(NetType::Macvlan) => NicType::Macvlan,
        Some(NetType::Ipvlan) => NicType::Ipvlan,
        Some(NetType::Vlan) => NicType::Vlan,
        Some(NetType::Phys) => NicType::Phys,
        Some(NetType::Empty) => NicType::Empty,
        Some(NetType::None) => NicType::None,
        None => return Err(NetError::Config { index, key: "type".into(), msg: "no network type given".into() }),
    };
    Ok(NicSpec {
        index,
        ty,
        name: d.name.clone().filter(|s| !s.is_empty()),
        link: d.link.clone().filter(|s| !s.is_empty()),
        up: d.flags_up,
        hwaddr: d.hwaddr.clone().filter(|s| !s.is_empty()),
        mtu: d.mtu,
        ipv4: d.ipv4.iter().map(|e| Ipv4Cidr { addr: e.addr, prefix: e.prefix, broadcast: e.broadcast }).collect(),
        ipv4_gateway: d.ipv4_gateway.as_ref().map(gw),
        ipv6: d.ipv6.iter().map(|e| Ipv6Cidr { addr: e.addr, prefix: e.prefix }).collect(),
        ipv6_gateway: d.ipv6_gateway.as_ref().map(gw),
        script_up: d.script_up.clone().filter(|s| !s.is_empty()),
        script_down: d.script_down.clone().filter(|s| !s.is_empty()),
        l2proxy: d.l2proxy,
        veth_mode: match d.veth.mode {
            CfgVethMode::Bridge => VethMode::Bridge,
            CfgVethMode::Router => VethMode::Router,
        },
        veth_pair: d.veth.pair.clone().filter(|s| !s.is_empty()),
        veth_ipv4_routes: d.veth.ipv4_routes.iter().map(|r| (r.addr, r.prefix)).collect(),
        veth_ipv6_routes: d.veth.ipv6_routes.iter().map(|r| (r.addr, r.prefix)).collect(),
        macvlan_mode: match d.macvlan_mode {
            MacvlanMode::Private => macvlan_mode::PRIVATE,
            MacvlanMode::Vepa => macvlan_mode::VEPA,
            MacvlanMode::Bridge => macvlan_mode::BRIDGE,
            MacvlanMode::Passthru => macvlan_mode::PASSTHRU,
        },
        ipvlan_mode: match d.ipvlan_mode {
            IpvlanMode::L2 => 0,
            IpvlanMode::L3 => 1,
            IpvlanMode::L3s => 2,
        },
        ipvlan_isolation: match d.ipvlan_isolation {
            IpvlanIsolation::Bridge => 0,
            IpvlanIsolation::Private => 1,
            IpvlanIsolation::Vepa => 2,
        },
        vlan_id: d.vlan_id.unwrap_or(0),
    })
}

/// Convert every configured device, in index order.
pub fn nics_from_config(net: &std::collections::BTreeMap<u32, NetDev>) -> Result<Vec<NicSpec>, NetError> {
    net.values().map(nic_from_netdev).collect()
}

/// Whether the container shares the host's network namespace: LXC does so only when devices
/// are configured and every one of them is `none` (no devices at all means a new, empty netns).
pub fn shares_host_netns(nics: &[NicSpec]) -> bool {
    !nics.is_empty() && nics.iter().all(|n| n.ty == NicType::None)
}
