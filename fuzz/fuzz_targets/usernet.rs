//! Fuzz what the setuid lxc-user-nic reads from files and arguments: `/etc/lxc/lxc-usernet`
//! lines, the `/run/lxc/nics` database and interface names. Never a panic; quotas only count
//! matching lines; what the database keeps is a valid interface name and renders back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rlxc_user_nic::{allowances, container_ifname, cull, parse_db, quota, used, valid_ifname};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let s = s.as_ref();
    let groups = vec!["staff".to_string(), "lxc".to_string()];
    let a = allowances(s, "alice", &groups);
    let q = quota(&a, "veth", "lxcbr0");
    let sum: u128 = a.iter().filter(|x| x.kind == "veth" && x.bridge == "lxcbr0").map(|x| u128::from(x.count)).sum();
    assert_eq!(u128::from(q), sum.min(u128::from(u64::MAX)));
    let kept = cull(parse_db(s), |n| n.len() % 2 == 0);
    for e in &kept {
        assert!(valid_ifname(&e.nic));
        assert_eq!(parse_db(&e.render()), vec![e.clone()]);
    }
    let _ = used(&kept, "alice", "veth", "lxcbr0");
    for word in s.split_whitespace() {
        if let Some(n) = container_ifname(word) {
            assert!(n == "eth%d" || valid_ifname(&n));
        }
    }
});
