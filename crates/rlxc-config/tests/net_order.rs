//! Property: the `lxc.net.N.*` lines of a config give the same NICs in any order (LXC 4.0
//! rejects some orders, e.g. `macvlan.mode` before `type`), and NIC indices may have gaps.

use proptest::prelude::*;
use rlxc_config::ContainerConfig;

/// Lines for one NIC of a random type with a random selection of its keys.
fn nic(idx: u32) -> impl Strategy<Value = Vec<String>> {
    let common = proptest::sample::subsequence(
        vec![
            "flags = up",
            "link = br0",
            "name = eth1",
            "mtu = 1400",
            "hwaddr = 00:16:3e:00:00:0a",
            "ipv4.address = 192.0.2.10/24",
            "ipv4.address = 198.51.100.7",
            "ipv4.gateway = auto",
            "ipv6.address = 2001:db8::10/64",
            "ipv6.gateway = 2001:db8::1",
            "script.up = /bin/true",
            "l2proxy = 1",
        ],
        0..=12,
    );
    let typed = prop_oneof![
        Just(vec!["type = veth", "veth.mode = router", "veth.pair = vethp", "veth.ipv4.route = 198.51.100.0/24"]),
        Just(vec!["type = veth", "veth.ipv6.route = 2001:db8:1::/64"]),
        Just(vec!["type = macvlan", "macvlan.mode = bridge"]),
        Just(vec!["type = ipvlan", "ipvlan.mode = l2", "ipvlan.isolation = private"]),
        Just(vec!["type = vlan", "vlan.id = 42"]),
        Just(vec!["type = phys"]),
        Just(vec!["type = empty"]),
    ];
    (common, typed)
        .prop_map(move |(c, t)| t.into_iter().chain(c).map(|l| format!("lxc.net.{idx}.{l}")).collect::<Vec<_>>())
}

fn config() -> impl Strategy<Value = Vec<String>> {
    (proptest::collection::btree_set(0u32..20, 1..4)).prop_flat_map(|idxs| {
        let nics: Vec<_> = idxs.into_iter().map(nic).collect();
        nics.prop_map(|v| v.into_iter().flatten().collect::<Vec<_>>())
    })
}

proptest! {
    #[test]
    fn net_keys_in_any_order_give_the_same_nics((lines, shuffled) in config().prop_flat_map(|l| {
        let s = Just(l.clone()).prop_shuffle();
        (Just(l), s)
    })) {
        let a = ContainerConfig::parse_str(&lines.join("\n"), "ordered").map_err(|e| TestCaseError::fail(e.to_string()))?;
        let b = ContainerConfig::parse_str(&shuffled.join("\n"), "shuffled").map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Address lists keep their relative order; compare them as sets when shuffled apart.
        let norm = |c: &ContainerConfig| {
            let mut n = c.net.clone();
            for d in n.values_mut() {
                d.ipv4.sort_by_key(|a| (a.addr, a.prefix));
            }
            n
        };
        prop_assert_eq!(norm(&a), norm(&b));
        for idx in a.net.keys() {
            prop_assert_eq!(a.net_keys(*idx), b.net_keys(*idx));
        }
    }
}

#[test]
fn veth_block_with_type_last_equals_type_first() {
    let first = "lxc.net.0.type = veth\nlxc.net.0.veth.mode = router\nlxc.net.0.veth.ipv4.route = 198.51.100.0/24\nlxc.net.0.link = br0\n";
    let last = "lxc.net.0.veth.mode = router\nlxc.net.0.veth.ipv4.route = 198.51.100.0/24\nlxc.net.0.link = br0\nlxc.net.0.type = veth\n";
    let a = ContainerConfig::parse_str(first, "a").expect("valid");
    let b = ContainerConfig::parse_str(last, "b").expect("valid");
    assert_eq!(a.net, b.net);
}
