//! The few per-interface `/proc/sys/net` switches LXC flips (proxy ARP/NDP) and checks
//! (forwarding for `l2proxy`). They act in the namespace of the calling thread.

use crate::NetError;

fn path(v6: bool, dev: &str, key: &str) -> String {
    format!("/proc/sys/net/{}/conf/{dev}/{key}", if v6 { "ipv6" } else { "ipv4" })
}

/// Write `value` to `net.ipv{4,6}.conf.DEV.KEY`.
pub fn set(v6: bool, dev: &str, key: &str, value: &str) -> Result<(), NetError> {
    let p = path(v6, dev, key);
    std::fs::write(&p, value).map_err(|e| NetError::io(format!("write {p}"), e))
}

/// Read `net.ipv{4,6}.conf.DEV.KEY` (trimmed).
pub fn get(v6: bool, dev: &str, key: &str) -> Result<String, NetError> {
    let p = path(v6, dev, key);
    std::fs::read_to_string(&p).map(|s| s.trim().to_string()).map_err(|e| NetError::io(format!("read {p}"), e))
}
