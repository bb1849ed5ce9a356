//! `lxc-user-nic`: LXC's setuid-root helper that lets a user give its containers veth devices
//! within the quotas of `/etc/lxc/lxc-usernet` (see `lxc-user-nic(1)`, `lxc-usernet(5)`).
//!
//! This library holds the pure, hostile-input parts (everything here is fed by files or
//! arguments an attacker may control): the `lxc-usernet` quota file, the `/run/lxc/nics`
//! accounting database and argument checks. The binary (`main.rs`) does the privileged work.

use std::collections::HashSet;

/// Largest interface name the kernel takes (IFNAMSIZ - 1).
pub const IFNAMSIZ_MAX: usize = 15;

/// One `lxc-usernet` line that applies to the caller: TYPE, BRIDGE and the quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    /// Interface type (`veth`).
    pub kind: String,
    /// Bridge the interfaces may be attached to.
    pub bridge: String,
    /// How many.
    pub count: u64,
}

/// Whether `name` is a name the kernel would accept for an interface and that cannot be
/// mistaken for a path or an option: 1 to 15 bytes of `[A-Za-z0-9_.-]`, not `.`/`..`.
pub fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= IFNAMSIZ_MAX
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// The name to give the container's end: `unset` (LXC's placeholder) → `eth%d` (the kernel
/// picks the first free `ethN`); otherwise a [`valid_ifname`], or None when it is not.
pub fn container_ifname(requested: &str) -> Option<String> {
    if requested == "unset" {
        return Some("eth%d".to_string());
    }
    valid_ifname(requested).then(|| requested.to_string())
}

/// Parse `lxc-usernet` text and return the lines that apply to `user` or to one of `groups`
/// (written `@group`), in file order. Comments (`#`), blank and malformed lines are skipped;
/// counts that do not parse are skipped (never treated as unlimited).
pub fn allowances(text: &str, user: &str, groups: &[String]) -> Vec<Allowance> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let f: Vec<&str> = line.split_whitespace().collect();
        let [who, kind, bridge, count] = f.as_slice() else { continue };
        let applies = match who.strip_prefix('@') {
            Some(g) => groups.iter().any(|x| x == g),
            None => *who == user,
        };
        if !applies {
            continue;
        }
        let Ok(count) = count.parse::<u64>() else { continue };
        out.push(Allowance { kind: kind.to_string(), bridge: bridge.to_string(), count });
    }
    out
}

/// The caller's total quota for `kind` devices on `bridge` (all matching lines add up, as
/// LXC's `get_alloted`), saturating.
pub fn quota(allow: &[Allowance], kind: &str, bridge: &str) -> u64 {
    allow.iter().filter(|a| a.kind == kind && a.bridge == bridge).fold(0u64, |n, a| n.saturating_add(a.count))
}

/// One line of `/run/lxc/nics`: `OWNER TYPE BRIDGE HOSTNIC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbEntry {
    /// User who created it.
    pub owner: String,
    /// Interface type.
    pub kind: String,
    /// Bridge it was attached to.
    pub bridge: String,
    /// Host-side interface name.
    pub nic: String,
}

impl DbEntry {
    /// The line as stored (with the newline).
    pub fn render(&self) -> String {
        format!("{} {} {} {}\n", self.owner, self.kind, self.bridge, self.nic)
    }
}

/// Parse the database; malformed lines are dropped (they would only ever be culled).
pub fn parse_db(text: &str) -> Vec<DbEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let [owner, kind, bridge, nic] = f.as_slice() else { return None };
            Some(DbEntry {
                owner: owner.to_string(),
                kind: kind.to_string(),
                bridge: bridge.to_string(),
                nic: nic.to_string(),
            })
        })
        .collect()
}

/// Keep only entries whose host interface still exists (`exists`), dropping duplicates: a
/// device that vanished with its container's network namespace frees its quota slot.
pub fn cull(entries: Vec<DbEntry>, mut exists: impl FnMut(&str) -> bool) -> Vec<DbEntry> {
    let mut seen = HashSet::new();
    entries.into_iter().filter(|e| valid_ifname(&e.nic) && exists(&e.nic) && seen.insert(e.nic.clone())).collect()
}

/// How many entries `owner` holds for `kind` on `bridge`.
pub fn used(entries: &[DbEntry], owner: &str, kind: &str, bridge: &str) -> u64 {
    entries.iter().filter(|e| e.owner == owner && e.kind == kind && e.bridge == bridge).count() as u64
}

/// The host-side name LXC uses: `veth<uid>_XXXX` for uids 1..=65536, else `vethXXXXXX`, with
/// the X's taken from `random` (alphanumeric, case-sensitive).
pub fn host_veth_name(uid: u32, random: &[u8]) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let (prefix, n) = if (1..=65536).contains(&uid) { (format!("veth{uid}_"), 4) } else { ("veth".to_string(), 6) };
    let mut s = prefix;
    for i in 0..n {
        let b = random.get(i).copied().unwrap_or(0);
        s.push(ALNUM[usize::from(b) % ALNUM.len()] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernet_lines_apply_to_user_and_groups() {
        let text = "# comment\nalice veth lxcbr0 2\n@staff veth lxcbr0 3\nbob veth lxcbr0 9\n\
                    alice veth br1 x\nalice veth\n@other veth lxcbr0 5\nalice veth lxcbr0 1 # more\n";
        let a = allowances(text, "alice", &["staff".to_string()]);
        assert_eq!(a.len(), 3);
        assert_eq!(quota(&a, "veth", "lxcbr0"), 6);
        assert_eq!(quota(&a, "veth", "br1"), 0);
        assert_eq!(quota(&allowances(text, "carol", &[]), "veth", "lxcbr0"), 0);
        let huge = format!("alice veth b {}\nalice veth b {}\n", u64::MAX, u64::MAX);
        assert_eq!(quota(&allowances(&huge, "alice", &[]), "veth", "b"), u64::MAX);
    }

    #[test]
    fn db_roundtrip_and_cull() {
        let text = "alice veth lxcbr0 veth1001_abcd\nbroken line\nbob veth lxcbr0 gone\n\
                    alice veth lxcbr0 veth1001_abcd\nalice veth lxcbr0 ../etc\n";
        let e = parse_db(text);
        assert_eq!(e.len(), 4);
        let kept = cull(e, |n| n != "gone");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].render(), "alice veth lxcbr0 veth1001_abcd\n");
        assert_eq!(used(&kept, "alice", "veth", "lxcbr0"), 1);
    }

    #[test]
    fn names() {
        assert!(valid_ifname("eth0") && valid_ifname("lxcbr0") && valid_ifname("a.b-c_d"));
        for bad in ["", ".", "..", "a/b", "a b", "0123456789abcdef", "x%d", "a:b", "é"] {
            assert!(!valid_ifname(bad), "{bad:?}");
        }
        assert_eq!(container_ifname("unset").as_deref(), Some("eth%d"));
        assert_eq!(container_ifname("../x"), None);
        let n = host_veth_name(1001, &[0, 1, 2, 3]);
        assert_eq!(n, "veth1001_ABCD");
        assert!(n.len() < IFNAMSIZ_MAX, "{n} does not fit IFNAMSIZ with its NUL");
        assert_eq!(host_veth_name(65536, &[255; 4]).len() + 1, 15);
        assert_eq!(host_veth_name(0, &[]), "vethAAAAAA");
        assert_eq!(host_veth_name(100000, &[61; 6]), "veth999999");
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic_and_quota_only_counts_matching(text in ".{0,400}", user in "[a-z]{1,8}") {
            let a = allowances(&text, &user, &["g".to_string()]);
            for x in &a {
                proptest::prop_assert!(!x.kind.is_empty() && !x.bridge.is_empty());
            }
            let _ = quota(&a, "veth", "lxcbr0");
            let db = parse_db(&text);
            let kept = cull(db, |_| true);
            for e in &kept {
                proptest::prop_assert!(valid_ifname(&e.nic));
                proptest::prop_assert_eq!(parse_db(&e.render()), vec![e.clone()]);
            }
        }
    }
}
