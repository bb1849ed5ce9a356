//! `lxc-update-config`: rewrite pre-3.0 key names to the 3.0+ names LXC 4.0 reads, in place,
//! with a backup. Mirrors LXC's shell script (`lxc-update-config.in`), including converting
//! commented-out keys, but without its bugs: running it twice changes nothing the second time,
//! `lxc.network.N.ipv4` becomes `lxc.net.N.ipv4.address`, and a rootfs path that already names
//! its backend is not prefixed again.

use std::path::{Path, PathBuf};

use crate::apply::ROOTFS_BACKENDS;

/// Old key → new key, whole-key renames.
const RENAMES: &[(&str, &str)] = &[
    ("lxc.id_map", "lxc.idmap"),
    ("lxc.pts", "lxc.pty.max"),
    ("lxc.tty", "lxc.tty.max"),
    ("lxc.devttydir", "lxc.tty.dir"),
    ("lxc.aa_profile", "lxc.apparmor.profile"),
    ("lxc.aa_allow_incomplete", "lxc.apparmor.allow_incomplete"),
    ("lxc.se_context", "lxc.selinux.context"),
    ("lxc.mount", "lxc.mount.fstab"),
    ("lxc.utsname", "lxc.uts.name"),
    ("lxc.seccomp", "lxc.seccomp.profile"),
    ("lxc.console", "lxc.console.path"),
    ("lxc.haltsignal", "lxc.signal.halt"),
    ("lxc.rebootsignal", "lxc.signal.reboot"),
    ("lxc.stopsignal", "lxc.signal.stop"),
    ("lxc.syslog", "lxc.log.syslog"),
    ("lxc.loglevel", "lxc.log.level"),
    ("lxc.logfile", "lxc.log.file"),
    ("lxc.init_cmd", "lxc.init.cmd"),
    ("lxc.init_uid", "lxc.init.uid"),
    ("lxc.init_gid", "lxc.init.gid"),
    ("lxc.network", "lxc.net"),
];

/// Keys that no longer exist and are dropped.
const REMOVED: &[&str] = &["lxc.rootfs.backend", "lxc.pivotdir", "lxc.kmsg"];

/// A line split into its comment/blank prefix, key, and the rest (starting at `=` or blanks).
fn split(line: &str) -> Option<(&str, &str, &str)> {
    let start = line.find(|c: char| !(c == ' ' || c == '\t' || c == '#'))?;
    let body = &line[start..];
    if !body.starts_with("lxc.") {
        return None;
    }
    let end = body.find(['=', ' ', '\t']).unwrap_or(body.len());
    Some((&line[..start], &body[..end], &body[end..]))
}

fn value_of(rest: &str) -> Option<&str> {
    rest.trim_start().strip_prefix('=').map(str::trim)
}

/// Convert a config's text; returns the new text (equal to the input when nothing is old).
pub fn update_config_text(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    // The backend named by lxc.rootfs.backend (the last one wins, as in LXC's script).
    let driver = lines
        .iter()
        .filter_map(|l| split(l))
        .filter(|(p, k, _)| *k == "lxc.rootfs.backend" && !p.contains('#'))
        .filter_map(|(_, _, r)| value_of(r))
        .rfind(|v| !v.is_empty())
        .unwrap_or("dir")
        .to_string();
    let mut idx: i64 = -1;
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for line in lines {
        let Some((prefix, key, rest)) = split(line) else {
            out.push(line.to_string());
            continue;
        };
        if REMOVED.contains(&key) {
            continue;
        }
        if key == "lxc.network.type" {
            idx += 1;
        }
        let new_key: Option<String> = if key == "lxc.rootfs" {
            let v = value_of(rest).unwrap_or("");
            let has_backend = v.split_once(':').is_some_and(|(t, _)| ROOTFS_BACKENDS.contains(&t));
            if v.is_empty() || has_backend {
                Some("lxc.rootfs.path".into())
            } else {
                // Put the backend in front of the value.
                let eq = rest.find('=').unwrap_or(0);
                let after_eq = &rest[eq + 1..];
                let blanks = &after_eq[..after_eq.len() - after_eq.trim_start().len()];
                out.push(format!("{prefix}lxc.rootfs.path{}{blanks}{driver}:{}", &rest[..=eq], after_eq.trim_start()));
                continue;
            }
        } else if let Some((_, n)) = RENAMES.iter().find(|(o, _)| *o == key) {
            Some(n.to_string())
        } else if let Some(sub) = key.strip_prefix("lxc.limit.") {
            Some(format!("lxc.prlimit.{sub}"))
        } else if let Some(sub) = key.strip_prefix("lxc.network.") {
            let (n, s) = match sub.split_once('.') {
                Some((n, s)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => (n.to_string(), s),
                _ => (idx.max(0).to_string(), sub),
            };
            let s = match s {
                "ipv4" => "ipv4.address",
                "ipv6" => "ipv6.address",
                other => other,
            };
            if sub.chars().all(|c| c.is_ascii_digit()) {
                Some(format!("lxc.net.{sub}"))
            } else {
                Some(format!("lxc.net.{n}.{s}"))
            }
        } else {
            None
        };
        match new_key {
            Some(k) => out.push(format!("{prefix}{k}{rest}")),
            None => out.push(line.to_string()),
        }
    }
    out.join("\n")
}

/// Update `path` in place, after copying it to `PATH.backup`. Returns whether anything changed.
pub fn update_config_file(path: &Path) -> std::io::Result<bool> {
    let text = std::fs::read_to_string(path)?;
    let mut backup = PathBuf::from(path);
    backup.as_mut_os_string().push(".backup");
    std::fs::copy(path, &backup)?;
    let new = update_config_text(&text);
    if new == text {
        return Ok(false);
    }
    std::fs::write(path, new)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "\
lxc.utsname = c1
lxc.rootfs = /var/lib/lxc/c1/rootfs
lxc.rootfs.backend = dir
lxc.tty = 4
lxc.pts = 1024
#lxc.aa_profile = unconfined
lxc.id_map = u 0 100000 65536
lxc.network.type = veth
lxc.network.flags = up
lxc.network.link = lxcbr0
lxc.network.ipv4 = 192.0.2.2/24
lxc.network.type = empty
lxc.network.1.name = eth1
lxc.limit.nofile = 1024
lxc.haltsignal = SIGPWR
lxc.pivotdir = x
lxc.mount.entry = a b none bind 0 0
";

    #[test]
    fn old_keys_are_rewritten() {
        let new = update_config_text(OLD);
        let want = "\
lxc.uts.name = c1
lxc.rootfs.path = dir:/var/lib/lxc/c1/rootfs
lxc.tty.max = 4
lxc.pty.max = 1024
#lxc.apparmor.profile = unconfined
lxc.idmap = u 0 100000 65536
lxc.net.0.type = veth
lxc.net.0.flags = up
lxc.net.0.link = lxcbr0
lxc.net.0.ipv4.address = 192.0.2.2/24
lxc.net.1.type = empty
lxc.net.1.name = eth1
lxc.prlimit.nofile = 1024
lxc.signal.halt = SIGPWR
lxc.mount.entry = a b none bind 0 0
";
        assert_eq!(new, want);
        assert_eq!(update_config_text(&new), new, "idempotent");
        crate::ContainerConfig::parse_str(&new, "updated").expect("result is valid");
    }

    #[test]
    fn backend_prefix_from_rootfs_backend() {
        let new = update_config_text("lxc.rootfs.backend = btrfs\nlxc.rootfs=/x\n");
        assert_eq!(new, "lxc.rootfs.path=btrfs:/x\n");
    }
}
