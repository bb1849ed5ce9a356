//! The system configuration `lxc.conf` (LXC's `lxc_global_config_value`): lxcpath, the default
//! container config, storage and cgroup defaults, with LXC's defaults for root and for
//! unprivileged users (paths under `$HOME`).

use std::path::{Path, PathBuf};

use crate::error::ConfigError;

/// The items `lxc-config -l` lists, in LXC's order.
pub const SYSTEM_ITEMS: &[&str] = &[
    "lxc.default_config",
    "lxc.lxcpath",
    "lxc.bdev.lvm.vg",
    "lxc.bdev.lvm.thin_pool",
    "lxc.bdev.zfs.root",
    "lxc.cgroup.use",
    "lxc.cgroup.pattern",
];

/// Compile-time locations (LXC's `--sysconfdir`, `LXCPATH`); Debian's by default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemPaths {
    /// `$sysconfdir/lxc` (holds `lxc.conf`, `default.conf`).
    pub sysconf_lxc: PathBuf,
    /// Root's container directory.
    pub lxcpath: PathBuf,
}

impl Default for SystemPaths {
    fn default() -> Self {
        SystemPaths { sysconf_lxc: PathBuf::from("/etc/lxc"), lxcpath: PathBuf::from("/var/lib/lxc") }
    }
}

/// Who the values are for: root reads `/etc/lxc/lxc.conf`, others `~/.config/lxc/lxc.conf`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// euid 0.
    Root,
    /// Any other user, with their home directory.
    User {
        /// `$HOME`.
        home: PathBuf,
    },
}

impl Identity {
    /// From an effective uid (the caller asks the system) and `$HOME`.
    pub fn from_euid(euid: u32) -> Identity {
        if euid == 0 {
            Identity::Root
        } else {
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"));
            Identity::User { home }
        }
    }
}

/// The values of `lxc.conf`, defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemConfig {
    /// `lxc.lxcpath`.
    pub lxcpath: String,
    /// `lxc.default_config`.
    pub default_config: String,
    /// `lxc.bdev.lvm.vg` (default `lxc`).
    pub bdev_lvm_vg: String,
    /// `lxc.bdev.lvm.thin_pool` (default `lxc`).
    pub bdev_lvm_thin_pool: String,
    /// `lxc.bdev.zfs.root` (default `lxc`).
    pub bdev_zfs_root: String,
    /// `lxc.bdev.rbd.rbdpool` (default `lxc`).
    pub bdev_rbd_rbdpool: String,
    /// `lxc.cgroup.use`: comma list of controllers (None = all).
    pub cgroup_use: Option<String>,
    /// `lxc.cgroup.pattern` (None = not set).
    pub cgroup_pattern: Option<String>,
    /// The `lxc.conf` consulted (it may not exist).
    pub file: PathBuf,
}

impl SystemConfig {
    /// LXC's defaults for `who` (nothing read).
    pub fn defaults(who: &Identity, paths: &SystemPaths) -> SystemConfig {
        let (lxcpath, default_config, file) = match who {
            Identity::Root => {
                (paths.lxcpath.clone(), paths.sysconf_lxc.join("default.conf"), paths.sysconf_lxc.join("lxc.conf"))
            }
            Identity::User { home } => (
                home.join(".local/share/lxc"),
                home.join(".config/lxc/default.conf"),
                home.join(".config/lxc/lxc.conf"),
            ),
        };
        SystemConfig {
            lxcpath: lxcpath.to_string_lossy().into_owned(),
            default_config: default_config.to_string_lossy().into_owned(),
            bdev_lvm_vg: "lxc".into(),
            bdev_lvm_thin_pool: "lxc".into(),
            bdev_zfs_root: "lxc".into(),
            bdev_rbd_rbdpool: "lxc".into(),
            cgroup_use: None,
            cgroup_pattern: None,
            file,
        }
    }

    /// Defaults for `who`, overridden by their `lxc.conf` when it exists.
    pub fn load(who: &Identity, paths: &SystemPaths) -> Result<SystemConfig, ConfigError> {
        let mut c = SystemConfig::defaults(who, paths);
        match std::fs::read(&c.file) {
            Ok(bytes) => c.apply_text(&String::from_utf8_lossy(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(ConfigError::Io { at: None, path: c.file.clone(), source }),
        }
        Ok(c)
    }

    /// [`SystemConfig::load`] for the current user (`euid` from the caller) and Debian paths.
    pub fn load_for_euid(euid: u32) -> Result<SystemConfig, ConfigError> {
        SystemConfig::load(&Identity::from_euid(euid), &SystemPaths::default())
    }

    /// Apply `lxc.conf` text: `key = value` lines, `#` comments; the first occurrence of a key
    /// wins and empty values are skipped (as LXC's reader); unknown keys are ignored.
    pub fn apply_text(&mut self, text: &str) {
        let mut seen: Vec<String> = Vec::new();
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with('#') {
                continue;
            }
            let Some((k, v)) = t.split_once('=') else { continue };
            let (k, v) = (k.trim(), crate::file::unquote(v.trim()));
            if v.is_empty() || seen.iter().any(|s| s == k) {
                continue;
            }
            let v = v.to_string();
            match k {
                "lxc.lxcpath" => {
                    // LXC drops trailing slashes from the lxcpath.
                    let trimmed = v.trim_end_matches('/');
                    self.lxcpath = if trimmed.is_empty() { "/".into() } else { trimmed.into() };
                }
                "lxc.default_config" => self.default_config = v,
                "lxc.bdev.lvm.vg" => self.bdev_lvm_vg = v,
                "lxc.bdev.lvm.thin_pool" => self.bdev_lvm_thin_pool = v,
                "lxc.bdev.zfs.root" => self.bdev_zfs_root = v,
                "lxc.bdev.rbd.rbdpool" => self.bdev_rbd_rbdpool = v,
                "lxc.cgroup.use" => self.cgroup_use = Some(v),
                "lxc.cgroup.pattern" => self.cgroup_pattern = Some(v),
                _ => continue,
            }
            seen.push(k.to_string());
        }
    }

    /// One item by name: `Ok(None)` when the item exists but is not set, `Err(())` when it is
    /// not an item at all.
    #[allow(clippy::result_unit_err)]
    pub fn get(&self, item: &str) -> Result<Option<String>, ()> {
        Ok(match item {
            "lxc.lxcpath" => Some(self.lxcpath.clone()),
            "lxc.default_config" => Some(self.default_config.clone()),
            "lxc.bdev.lvm.vg" => Some(self.bdev_lvm_vg.clone()),
            "lxc.bdev.lvm.thin_pool" => Some(self.bdev_lvm_thin_pool.clone()),
            "lxc.bdev.zfs.root" => Some(self.bdev_zfs_root.clone()),
            "lxc.bdev.rbd.rbdpool" => Some(self.bdev_rbd_rbdpool.clone()),
            "lxc.cgroup.use" => self.cgroup_use.clone(),
            "lxc.cgroup.pattern" => self.cgroup_pattern.clone(),
            _ => return Err(()),
        })
    }

    /// The lxcpath as a path.
    pub fn lxcpath(&self) -> &Path {
        Path::new(&self.lxcpath)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_for_root_and_users() {
        let p = SystemPaths::default();
        let r = SystemConfig::defaults(&Identity::Root, &p);
        assert_eq!(r.lxcpath, "/var/lib/lxc");
        assert_eq!(r.default_config, "/etc/lxc/default.conf");
        assert_eq!(r.get("lxc.bdev.lvm.vg"), Ok(Some("lxc".into())));
        assert_eq!(r.get("lxc.cgroup.use"), Ok(None));
        assert_eq!(r.get("bogus"), Err(()));
        let u = SystemConfig::defaults(&Identity::User { home: "/home/u".into() }, &p);
        assert_eq!(u.lxcpath, "/home/u/.local/share/lxc");
        assert_eq!(u.default_config, "/home/u/.config/lxc/default.conf");
        assert_eq!(u.file, PathBuf::from("/home/u/.config/lxc/lxc.conf"));
    }

    #[test]
    fn lxc_conf_overrides() {
        let mut c = SystemConfig::defaults(&Identity::Root, &SystemPaths::default());
        c.apply_text("# c\nlxc.lxcpath = /srv/lxc//\nlxc.lxcpath = /other\nlxc.cgroup.use = memory,cpu\nlxc.bdev.zfs.root=\nbogus = 1\n");
        assert_eq!(c.lxcpath, "/srv/lxc");
        assert_eq!(c.cgroup_use.as_deref(), Some("memory,cpu"));
        assert_eq!(c.bdev_zfs_root, "lxc");
    }
}
