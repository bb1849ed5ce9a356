//! Generates AppArmor "deny writes everywhere under DIR except these paths" rules. AppArmor has
//! no "except" in globs, so (like LXC's `lxc-generate-aa-rules.py`) every branch off the allowed
//! names is denied with a negated character class: allowing `kernel/hostname` under `/proc/sys`
//! gives `deny /proc/sys/[^k]*{,/**} wklx,`, `deny /proc/sys/k[^e]*{,/**} wklx,` and so on.

use std::collections::BTreeMap;

#[derive(Default)]
struct Node {
    /// Next characters of allowed names at this point.
    next: BTreeMap<char, Node>,
    /// An allowed name ends here and everything below it is allowed (`name/**`).
    whole: bool,
    /// An allowed name ends here with `*`: every name with this prefix is allowed.
    prefix: bool,
    /// An allowed name ends here and its own children are listed (a directory).
    dir: Option<Vec<String>>,
    /// An allowed name ends here exactly (a file).
    file: bool,
}

fn insert(root: &mut Node, name: &str, rest: Option<&str>) {
    let (stem, star) = match name.strip_suffix('*') {
        Some(s) => (s, true),
        None => (name, false),
    };
    let mut node = root;
    for c in stem.chars() {
        node = node.next.entry(c).or_default();
    }
    match rest {
        _ if star => node.prefix = true,
        Some("**") => node.whole = true,
        Some(r) => node.dir.get_or_insert_with(Vec::new).push(r.to_string()),
        None => node.file = true,
    }
}

fn class(chars: impl Iterator<Item = char>) -> String {
    chars.collect()
}

fn walk(dir: &str, s: &str, node: &Node, out: &mut Vec<String>) {
    if node.prefix {
        out.push(format!("deny {dir}/{s}*/** wklx,"));
        return;
    }
    let ends_here = node.whole || node.file || node.dir.is_some();
    if !node.next.is_empty() {
        let cls = class(node.next.keys().copied());
        if s.is_empty() || !ends_here {
            out.push(format!("deny {dir}/{s}[^{cls}]*{{,/**}} wklx,"));
        }
        for (c, child) in &node.next {
            walk(dir, &format!("{s}{c}"), child, out);
        }
    }
    if ends_here {
        if node.next.is_empty() {
            out.push(format!("deny {dir}/{s}?*{{,/**}} wklx,"));
        } else {
            let cls = class(node.next.keys().copied());
            out.push(format!("deny {dir}/{s}[^{cls}]*{{,/**}} wklx,"));
        }
        if let Some(children) = &node.dir {
            out.extend(deny_writes_except(
                &format!("{dir}/{s}"),
                &children.iter().map(String::as_str).collect::<Vec<_>>(),
            ));
        }
    }
}

/// Rules denying write/lock/link/exec under `dir` for everything not matched by `allowed`
/// (paths relative to `dir`; a component may end in `*`; `x/**` allows a whole subtree).
pub fn deny_writes_except(dir: &str, allowed: &[&str]) -> Vec<String> {
    let mut root = Node::default();
    for a in allowed {
        let (first, rest) = match a.split_once('/') {
            Some((f, r)) => (f, Some(r)),
            None => (*a, None),
        };
        insert(&mut root, first, rest);
    }
    let mut out = Vec::new();
    walk(dir, "", &root, &mut out);
    out
}

/// The generated part of the container base abstraction (LXC 4.0's `container-rules.base`).
pub fn generated_base_rules() -> Vec<String> {
    let mut rules = deny_writes_except(
        "/proc/sys",
        &["kernel/shm*", "kernel/sem*", "kernel/msg*", "kernel/hostname", "kernel/domainname", "net/**"],
    );
    rules.extend(deny_writes_except("/sys", &["fs/cgroup/**", "devices/virtual/net/**", "class/net/**"]));
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_exception() {
        let r = deny_writes_except("/d", &["net/**"]);
        assert_eq!(
            r,
            vec![
                "deny /d/[^n]*{,/**} wklx,",
                "deny /d/n[^e]*{,/**} wklx,",
                "deny /d/ne[^t]*{,/**} wklx,",
                "deny /d/net?*{,/**} wklx,"
            ]
        );
    }

    #[test]
    fn committed_container_base_has_the_generated_rules() {
        let base = crate::apparmor::CONTAINER_BASE;
        for rule in generated_base_rules() {
            assert!(
                base.lines().any(|l| l.trim() == rule),
                "config/apparmor/abstractions/lxc/container-base lacks: {rule}"
            );
        }
    }

    #[test]
    fn hostname_allowed_but_longer_names_denied() {
        let r = deny_writes_except("/proc/sys", &["kernel/hostname", "kernel/domainname"]);
        assert!(r.contains(&"deny /proc/sys/kernel/hostname?*{,/**} wklx,".to_string()), "{r:#?}");
        assert!(r.contains(&"deny /proc/sys/kernel/[^dh]*{,/**} wklx,".to_string()), "{r:#?}");
        assert!(!r.iter().any(|l| l == "deny /proc/sys/kernel/hostname{,/**} wklx,"));
    }
}
