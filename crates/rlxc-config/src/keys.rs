//! The key table: LXC 4.0.0's 99 `config_jump_table` entries, each with the shape that decides
//! how it matches and how `save` treats it. Matching is exact for plain keys and by family for
//! sub-keyed ones (`lxc.cgroup.X`, `lxc.net.N.X`, ...); the longest family wins, so the order of
//! the table does not matter (a test checks that).

use crate::values::nearest;

/// How a table entry matches keys and behaves when set again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyShape {
    /// One value; setting it again replaces it.
    Scalar,
    /// Values accumulate; an empty value clears them all.
    List,
    /// `NAME.SUB` keys (`lxc.sysctl.net.ipv4.ip_forward`); the bare name reads and clears all.
    /// `list`: whether entries of one `SUB` accumulate (cgroup) or replace (sysctl).
    Family {
        /// Entries with the same sub-key accumulate.
        list: bool,
    },
    /// Internal `lxc.net.<sub>` entry, reached only through `lxc.net.N.<sub>`.
    NetSub {
        /// Values accumulate (addresses, routes).
        list: bool,
    },
    /// The `lxc.net.` dispatcher entry.
    NetIndexed,
    /// `lxc.net`: empty value removes every NIC; reading lists the types.
    NetAll,
    /// `lxc.hook`: empty value clears every hook.
    HookAll,
    /// `lxc.include`.
    Include,
}

/// One table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyDef {
    /// The name as in LXC's table.
    pub name: &'static str,
    /// How it behaves.
    pub shape: KeyShape,
}

const fn k(name: &'static str, shape: KeyShape) -> KeyDef {
    KeyDef { name, shape }
}

use KeyShape::{Family, HookAll, Include, List, NetAll, NetIndexed, NetSub, Scalar};

/// LXC 4.0.0's table, in LXC's order (99 entries).
pub static KEYS: &[KeyDef] = &[
    k("lxc.arch", Scalar),
    k("lxc.apparmor.profile", Scalar),
    k("lxc.apparmor.allow_incomplete", Scalar),
    k("lxc.apparmor.allow_nesting", Scalar),
    k("lxc.apparmor.raw", List),
    k("lxc.autodev.tmpfs.size", Scalar),
    k("lxc.autodev", Scalar),
    k("lxc.cap.drop", List),
    k("lxc.cap.keep", List),
    k("lxc.cgroup2", Family { list: true }),
    k("lxc.cgroup.dir", Scalar),
    k("lxc.cgroup.relative", Scalar),
    k("lxc.cgroup", Family { list: true }),
    k("lxc.console.buffer.size", Scalar),
    k("lxc.console.logfile", Scalar),
    k("lxc.console.path", Scalar),
    k("lxc.console.rotate", Scalar),
    k("lxc.console.size", Scalar),
    k("lxc.environment", List),
    k("lxc.ephemeral", Scalar),
    k("lxc.execute.cmd", Scalar),
    k("lxc.group", List),
    k("lxc.hook.autodev", List),
    k("lxc.hook.clone", List),
    k("lxc.hook.destroy", List),
    k("lxc.hook.mount", List),
    k("lxc.hook.post-stop", List),
    k("lxc.hook.pre-mount", List),
    k("lxc.hook.pre-start", List),
    k("lxc.hook.start", List),
    k("lxc.hook.start-host", List),
    k("lxc.hook.stop", List),
    k("lxc.hook.version", Scalar),
    k("lxc.hook", HookAll),
    k("lxc.idmap", List),
    k("lxc.include", Include),
    k("lxc.init.cmd", Scalar),
    k("lxc.init.gid", Scalar),
    k("lxc.init.uid", Scalar),
    k("lxc.init.cwd", Scalar),
    k("lxc.keyring.session", Scalar),
    k("lxc.log.file", Scalar),
    k("lxc.log.level", Scalar),
    k("lxc.log.syslog", Scalar),
    k("lxc.monitor.unshare", Scalar),
    k("lxc.monitor.signal.pdeath", Scalar),
    k("lxc.mount.auto", List),
    k("lxc.mount.entry", List),
    k("lxc.mount.fstab", Scalar),
    k("lxc.namespace.clone", List),
    k("lxc.namespace.keep", List),
    k("lxc.namespace.share", Family { list: false }),
    k("lxc.net.flags", NetSub { list: false }),
    k("lxc.net.hwaddr", NetSub { list: false }),
    k("lxc.net.ipv4.address", NetSub { list: true }),
    k("lxc.net.ipv4.gateway", NetSub { list: false }),
    k("lxc.net.ipv6.address", NetSub { list: true }),
    k("lxc.net.ipv6.gateway", NetSub { list: false }),
    k("lxc.net.link", NetSub { list: false }),
    k("lxc.net.l2proxy", NetSub { list: false }),
    k("lxc.net.macvlan.mode", NetSub { list: false }),
    k("lxc.net.ipvlan.mode", NetSub { list: false }),
    k("lxc.net.ipvlan.isolation", NetSub { list: false }),
    k("lxc.net.mtu", NetSub { list: false }),
    k("lxc.net.name", NetSub { list: false }),
    k("lxc.net.script.down", NetSub { list: false }),
    k("lxc.net.script.up", NetSub { list: false }),
    k("lxc.net.type", NetSub { list: false }),
    k("lxc.net.vlan.id", NetSub { list: false }),
    k("lxc.net.veth.mode", NetSub { list: false }),
    k("lxc.net.veth.pair", NetSub { list: false }),
    k("lxc.net.veth.ipv4.route", NetSub { list: true }),
    k("lxc.net.veth.ipv6.route", NetSub { list: true }),
    k("lxc.net.", NetIndexed),
    k("lxc.net", NetAll),
    k("lxc.no_new_privs", Scalar),
    k("lxc.prlimit", Family { list: false }),
    k("lxc.pty.max", Scalar),
    k("lxc.rootfs.managed", Scalar),
    k("lxc.rootfs.mount", Scalar),
    k("lxc.rootfs.options", Scalar),
    k("lxc.rootfs.path", Scalar),
    k("lxc.seccomp.allow_nesting", Scalar),
    k("lxc.seccomp.notify.cookie", Scalar),
    k("lxc.seccomp.notify.proxy", Scalar),
    k("lxc.seccomp.profile", Scalar),
    k("lxc.selinux.context.keyring", Scalar),
    k("lxc.selinux.context", Scalar),
    k("lxc.signal.halt", Scalar),
    k("lxc.signal.reboot", Scalar),
    k("lxc.signal.stop", Scalar),
    k("lxc.start.auto", Scalar),
    k("lxc.start.delay", Scalar),
    k("lxc.start.order", Scalar),
    k("lxc.tty.dir", Scalar),
    k("lxc.tty.max", Scalar),
    k("lxc.uts.name", Scalar),
    k("lxc.sysctl", Family { list: false }),
    k("lxc.proc", Family { list: false }),
];

/// A key resolved against the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved<'k> {
    /// An exact table entry (including bare family names such as `lxc.cgroup`).
    Key(&'static KeyDef),
    /// A family entry with its sub-key (`lxc.cgroup` + `memory.max`).
    Sub(&'static KeyDef, &'k str),
    /// `lxc.net.N.<sub>`: index and the internal `lxc.net.<sub>` entry.
    Net(u32, &'static KeyDef),
    /// `lxc.net.N` itself.
    NetIndex(u32),
}

impl Resolved<'_> {
    /// Whether setting this key again adds an entry instead of replacing the value.
    pub fn accumulates(&self) -> bool {
        match self {
            Resolved::Key(d) => matches!(d.shape, KeyShape::List | KeyShape::Include),
            Resolved::Sub(d, _) => matches!(d.shape, KeyShape::Family { list: true }),
            Resolved::Net(_, d) => matches!(d.shape, KeyShape::NetSub { list: true }),
            Resolved::NetIndex(_) => false,
        }
    }
}

/// Parse a NIC index: decimal digits without leading zeros (so each NIC has one spelling).
fn net_index(s: &str) -> Option<u32> {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

/// Resolve `key` against `table` (normally [`KEYS`]); None for an unknown key.
pub fn resolve_in<'k>(table: &'static [KeyDef], key: &'k str) -> Option<Resolved<'k>> {
    if let Some(d) = table.iter().find(|d| d.name == key && d.shape != KeyShape::NetIndexed) {
        return Some(Resolved::Key(d));
    }
    if let Some(rest) = key.strip_prefix("lxc.net.") {
        if !table.iter().any(|d| d.shape == KeyShape::NetIndexed) {
            return None;
        }
        return match rest.split_once('.') {
            None => net_index(rest).map(Resolved::NetIndex),
            Some((idx, sub)) => {
                let idx = net_index(idx)?;
                table
                    .iter()
                    .find(|d| {
                        matches!(d.shape, KeyShape::NetSub { .. }) && d.name.strip_prefix("lxc.net.") == Some(sub)
                    })
                    .map(|d| Resolved::Net(idx, d))
            }
        };
    }
    table
        .iter()
        .filter(|d| matches!(d.shape, KeyShape::Family { .. }))
        .filter_map(|d| {
            let sub = key.strip_prefix(d.name)?.strip_prefix('.')?;
            // A sub-key is a file or resource name: no blanks, `=` or control characters (they
            // could not be written back to a config file either).
            let clean = !sub.is_empty() && !sub.contains(|c: char| c.is_whitespace() || c == '=' || c.is_control());
            clean.then_some((d, sub))
        })
        .max_by_key(|(d, _)| d.name.len())
        .map(|(d, sub)| Resolved::Sub(d, sub))
}

/// Resolve `key` against [`KEYS`].
pub fn resolve(key: &str) -> Option<Resolved<'_>> {
    resolve_in(KEYS, key)
}

/// The names `rlxc config keys` / `lxc_list_config_items` print: every entry not ending in `.`
/// (so the internal `lxc.net.<sub>` names too, as LXC lists them).
pub fn list_keys() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|d| d.name).filter(|n| !n.ends_with('.'))
}

/// The nearest known key to an unknown one, for "did you mean" hints.
pub fn suggest(key: &str) -> Option<String> {
    if key.len() > 120 {
        return None;
    }
    if let Some(rest) = key.strip_prefix("lxc.net.") {
        if let Some((idx, sub)) = rest.split_once('.') {
            if net_index(idx).is_some() {
                let subs = KEYS
                    .iter()
                    .filter(|d| matches!(d.shape, KeyShape::NetSub { .. }))
                    .filter_map(|d| d.name.strip_prefix("lxc.net."));
                return nearest(sub, subs).map(|s| format!("lxc.net.{idx}.{s}"));
            }
        }
    }
    let plain =
        KEYS.iter().filter(|d| !matches!(d.shape, KeyShape::NetSub { .. } | KeyShape::NetIndexed)).map(|d| d.name);
    let mut best: Option<(usize, String)> =
        nearest(key, plain).map(|s| (2 * crate::values::edit_distance(key, s), s.to_string()));
    // A family key with a mistyped family name (`lxc.cgroups.memory.max`).
    for fam in KEYS.iter().filter(|d| matches!(d.shape, KeyShape::Family { .. })).map(|d| d.name) {
        let n = fam.matches('.').count();
        let head: Vec<&str> = key.splitn(n + 2, '.').collect();
        if head.len() == n + 2 && !head[n + 1].is_empty() {
            let typed = head[..=n].join(".");
            // Ties go to the family the typed name starts with (`lxc.cgroups` -> `lxc.cgroup`).
            let d = 2 * crate::values::edit_distance(&typed, fam) + usize::from(!typed.starts_with(fam));
            if d <= 4 && best.as_ref().is_none_or(|(bd, _)| d < *bd) {
                best = Some((d, format!("{fam}.{}", head[n + 1])));
            }
        }
    }
    best.map(|(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names of LXC 4.0.0's table, copied from the spec (§1.3), in order.
    const SPEC: &str = "lxc.arch lxc.apparmor.profile lxc.apparmor.allow_incomplete lxc.apparmor.allow_nesting \
        lxc.apparmor.raw lxc.autodev.tmpfs.size lxc.autodev lxc.cap.drop lxc.cap.keep lxc.cgroup2 lxc.cgroup.dir \
        lxc.cgroup.relative lxc.cgroup lxc.console.buffer.size lxc.console.logfile lxc.console.path \
        lxc.console.rotate lxc.console.size lxc.environment lxc.ephemeral lxc.execute.cmd lxc.group \
        lxc.hook.autodev lxc.hook.clone lxc.hook.destroy lxc.hook.mount lxc.hook.post-stop lxc.hook.pre-mount \
        lxc.hook.pre-start lxc.hook.start lxc.hook.start-host lxc.hook.stop lxc.hook.version lxc.hook lxc.idmap \
        lxc.include lxc.init.cmd lxc.init.gid lxc.init.uid lxc.init.cwd lxc.keyring.session lxc.log.file \
        lxc.log.level lxc.log.syslog lxc.monitor.unshare lxc.monitor.signal.pdeath lxc.mount.auto lxc.mount.entry \
        lxc.mount.fstab lxc.namespace.clone lxc.namespace.keep lxc.namespace.share lxc.net.flags lxc.net.hwaddr \
        lxc.net.ipv4.address lxc.net.ipv4.gateway lxc.net.ipv6.address lxc.net.ipv6.gateway lxc.net.link \
        lxc.net.l2proxy lxc.net.macvlan.mode lxc.net.ipvlan.mode lxc.net.ipvlan.isolation lxc.net.mtu \
        lxc.net.name lxc.net.script.down lxc.net.script.up lxc.net.type lxc.net.vlan.id lxc.net.veth.mode \
        lxc.net.veth.pair lxc.net.veth.ipv4.route lxc.net.veth.ipv6.route lxc.net. lxc.net lxc.no_new_privs \
        lxc.prlimit lxc.pty.max lxc.rootfs.managed lxc.rootfs.mount lxc.rootfs.options lxc.rootfs.path \
        lxc.seccomp.allow_nesting lxc.seccomp.notify.cookie lxc.seccomp.notify.proxy lxc.seccomp.profile \
        lxc.selinux.context.keyring lxc.selinux.context lxc.signal.halt lxc.signal.reboot lxc.signal.stop \
        lxc.start.auto lxc.start.delay lxc.start.order lxc.tty.dir lxc.tty.max lxc.uts.name lxc.sysctl lxc.proc";

    #[test]
    fn table_is_lxc_4_0_0s_99_entries() {
        let spec: Vec<&str> = SPEC.split_whitespace().collect();
        let ours: Vec<&str> = KEYS.iter().map(|d| d.name).collect();
        assert_eq!(spec.len(), 99);
        assert_eq!(ours, spec);
        assert_eq!(KEYS.iter().filter(|d| matches!(d.shape, KeyShape::NetSub { .. })).count(), 21);
        let mut uniq = ours.clone();
        uniq.sort_unstable();
        uniq.dedup();
        assert_eq!(uniq.len(), 99, "names are unique");
        for new in ["lxc.autodev.tmpfs.size", "lxc.keyring.session", "lxc.selinux.context.keyring"] {
            assert!(ours.contains(&new));
        }
    }

    /// Sample keys covering every entry, plus sub-keyed forms and near misses.
    fn samples() -> Vec<String> {
        let mut v: Vec<String> = KEYS.iter().map(|d| d.name.to_string()).collect();
        v.extend(
            [
                "lxc.cgroup.memory.limit_in_bytes",
                "lxc.cgroup2.memory.max",
                "lxc.cgroup.dir",
                "lxc.cgroup.dir.x",
                "lxc.cgroup.relative",
                "lxc.cgroup2.dir",
                "lxc.sysctl.net.ipv4.ip_forward",
                "lxc.proc.oom_score_adj",
                "lxc.prlimit.nofile",
                "lxc.namespace.share.net",
                "lxc.net.0.type",
                "lxc.net.12.veth.ipv4.route",
                "lxc.net.0",
                "lxc.net.01.type",
                "lxc.net.x.type",
                "lxc.net.0.bogus",
                "lxc.uts.namex",
                "lxc.autodev.tmpfs.sizex",
                "lxc.hook.bogus",
                "lxc.selinux.context.keyringx",
                "lxc.cgroup.",
                "lxc.cgroup.a b",
                "lxc.sysctl.a\nb",
                "lxc",
                "",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        v
    }

    fn leak(v: Vec<KeyDef>) -> &'static [KeyDef] {
        Box::leak(v.into_boxed_slice())
    }

    #[test]
    fn table_order_does_not_matter() {
        let reversed = leak(KEYS.iter().rev().copied().collect());
        // A deterministic shuffle (no rand dependency): stride through the table.
        let shuffled = leak((0..KEYS.len()).map(|i| KEYS[(i * 37) % KEYS.len()]).collect());
        for key in samples() {
            let a = resolve_in(KEYS, &key).map(|r| format!("{r:?}"));
            assert_eq!(a, resolve_in(reversed, &key).map(|r| format!("{r:?}")), "{key}");
            assert_eq!(a, resolve_in(shuffled, &key).map(|r| format!("{r:?}")), "{key}");
        }
    }

    #[test]
    fn matching_is_exact_for_plain_keys_and_by_family_for_sub_keys() {
        assert!(resolve("lxc.uts.namex").is_none());
        assert!(resolve("lxc.autodev.tmpfs.sizex").is_none());
        assert!(resolve("lxc.hook.bogus").is_none());
        assert!(resolve("lxc.cgroup.").is_none());
        assert!(resolve("lxc.cgroup.a b").is_none());
        assert!(resolve("lxc.sysctl.a\nb").is_none());
        assert!(resolve("lxc.net.01.type").is_none());
        assert_eq!(
            resolve("lxc.autodev.tmpfs.size")
                .map(|r| matches!(r, Resolved::Key(d) if d.name == "lxc.autodev.tmpfs.size")),
            Some(true)
        );
        assert!(matches!(resolve("lxc.cgroup.dir"), Some(Resolved::Key(d)) if d.name == "lxc.cgroup.dir"));
        assert!(
            matches!(resolve("lxc.cgroup2.memory.max"), Some(Resolved::Sub(d, "memory.max")) if d.name == "lxc.cgroup2")
        );
        assert!(
            matches!(resolve("lxc.cgroup.memory.max"), Some(Resolved::Sub(d, "memory.max")) if d.name == "lxc.cgroup")
        );
        assert!(
            matches!(resolve("lxc.net.3.ipv4.address"), Some(Resolved::Net(3, d)) if d.name == "lxc.net.ipv4.address")
        );
        assert!(matches!(resolve("lxc.net.7"), Some(Resolved::NetIndex(7))));
        assert!(matches!(resolve("lxc.net"), Some(Resolved::Key(d)) if d.name == "lxc.net"));
        assert!(matches!(resolve("lxc.namespace.share.pid"), Some(Resolved::Sub(_, "pid"))));
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        assert_eq!(suggest("lxc.tty.maxx").as_deref(), Some("lxc.tty.max"));
        assert_eq!(suggest("lxc.net.0.ipv4.adress").as_deref(), Some("lxc.net.0.ipv4.address"));
        assert_eq!(suggest("lxc.utsname").as_deref(), Some("lxc.uts.name"));
        assert_eq!(suggest("lxc.cgroups.memory.max").as_deref(), Some("lxc.cgroup.memory.max"));
        assert_eq!(list_keys().count(), 98);
    }
}
