//! Set / get / clear of every non-network key on the typed model, with LXC's value syntax and
//! `get_config_item` output formats (lists one entry per line, numbers in decimal, ...).

use crate::error::ValueError;
use crate::keys::{KeyDef, KeyShape, Resolved};
use crate::model::*;
use crate::mount::{apply_mount_auto, format_mount_auto, parse_mount_entry};
use crate::values::*;

/// Why a key cannot be handled (the caller turns it into a `ConfigError`).
#[derive(Debug)]
pub(crate) enum ApplyError {
    /// The value is bad.
    Value(ValueError),
    /// The key cannot be read.
    NotReadable,
}

impl From<ValueError> for ApplyError {
    fn from(e: ValueError) -> Self {
        ApplyError::Value(e)
    }
}

fn opt(v: &str) -> Option<String> {
    (!v.is_empty()).then(|| v.to_string())
}

fn b(v: bool) -> String {
    if v { "1" } else { "0" }.to_string()
}

fn s(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// Each entry followed by a newline (LXC's format for most lists).
pub(crate) fn lines<I: IntoIterator<Item = T>, T: AsRef<str>>(items: I) -> String {
    items.into_iter().map(|i| format!("{}\n", i.as_ref())).collect()
}

fn words(v: &str) -> impl Iterator<Item = &str> {
    v.split([' ', '\t']).filter(|w| !w.is_empty())
}

fn namespaces(v: &str) -> Result<Vec<Namespace>, ValueError> {
    let mut out = Vec::new();
    for w in words(v) {
        let ns = Namespace::from_name(w)
            .ok_or_else(|| ValueError::new(format!("{w:?} is not a namespace (cgroup ipc mnt net pid user uts)")))?;
        if !out.contains(&ns) {
            out.push(ns);
        }
    }
    Ok(out)
}

fn format_namespaces(list: &[Namespace]) -> String {
    lines(Namespace::ALL.iter().filter(|n| list.contains(n)).map(|n| n.name()))
}

fn set_kv(list: &mut Vec<(String, String)>, key: &str, value: &str) {
    match list.iter_mut().find(|(k, _)| k == key) {
        Some(e) => e.1 = value.to_string(),
        None => list.push((key.to_string(), value.to_string())),
    }
}

fn family_lines<'a>(prefix: &str, items: impl Iterator<Item = (&'a str, String)>) -> String {
    items.map(|(k, v)| format!("{prefix}.{k} = {v}\n")).collect()
}

/// Known storage backend prefixes of `lxc.rootfs.path`.
pub const ROOTFS_BACKENDS: &[&str] = &["dir", "overlay", "overlayfs", "loop", "nbd", "lvm", "zfs", "btrfs", "rbd"];

fn set_rootfs_path(r: &mut Rootfs, v: &str) {
    r.path = opt(v);
    r.backend = None;
    r.location = opt(v);
    if let Some((t, rest)) = v.split_once(':') {
        if ROOTFS_BACKENDS.contains(&t) {
            r.backend = Some(t.to_string());
            r.location = Some(rest.to_string());
        }
    }
}

fn hook_kind(def: &KeyDef) -> Option<HookKind> {
    def.name.strip_prefix("lxc.hook.").and_then(HookKind::from_name)
}

impl ContainerConfig {
    /// Set one resolved (non-include) key. An empty value clears.
    pub(crate) fn set_resolved(&mut self, r: Resolved<'_>, v: &str) -> Result<(), ValueError> {
        let def = match r {
            Resolved::Net(idx, def) => return self.set_net(idx, def, v),
            Resolved::NetIndex(idx) => {
                if !v.is_empty() {
                    return Err(ValueError::new("only an empty value (remove the NIC) is allowed here"));
                }
                self.net.remove(&idx);
                return Ok(());
            }
            Resolved::Sub(def, sub) => return self.set_sub(def, sub, v),
            Resolved::Key(def) => def,
        };
        if v.is_empty() {
            return self.clear_def(def).map_err(|e| match e {
                ApplyError::Value(e) => e,
                ApplyError::NotReadable => ValueError::new("cannot be cleared"),
            });
        }
        if let Some(kind) = hook_kind(def) {
            self.hooks.entry(kind).or_default().push(v.to_string());
            return Ok(());
        }
        match def.name {
            "lxc.arch" => {
                self.personality = Some(parse_personality(v)?);
                self.arch = Some(v.to_string());
            }
            "lxc.apparmor.profile" => self.apparmor.profile = opt(v),
            "lxc.apparmor.allow_incomplete" => self.apparmor.allow_incomplete = parse_bool(v)?,
            "lxc.apparmor.allow_nesting" => self.apparmor.allow_nesting = parse_bool(v)?,
            "lxc.apparmor.raw" => self.apparmor.raw.push(v.to_string()),
            // LXC: an unparsable size silently means the default.
            "lxc.autodev.tmpfs.size" => self.autodev_tmpfs_size = parse_u64(v).unwrap_or(DEFAULT_AUTODEV_TMPFS_SIZE),
            "lxc.autodev" => self.autodev = parse_bool(v)?,
            "lxc.cap.drop" => {
                for w in words(v) {
                    if parse_cap(w)? == CapWord::None {
                        return Err(ValueError::new("\"none\" is only allowed in lxc.cap.keep"));
                    }
                    self.cap_drop.push(w.to_string());
                }
            }
            "lxc.cap.keep" => {
                for w in words(v) {
                    if parse_cap(w)? == CapWord::None {
                        self.cap_keep.clear();
                    }
                    self.cap_keep.push(w.to_string());
                }
            }
            "lxc.cgroup.dir" => self.cgroup.dir = opt(v),
            "lxc.cgroup.relative" => self.cgroup.relative = parse_bool(v)?,
            "lxc.console.buffer.size" => self.console.buffer_size = parse_console_size(v)?,
            "lxc.console.logfile" => self.console.logfile = opt(v),
            "lxc.console.path" => self.console.path = opt(v),
            "lxc.console.rotate" => self.console.rotate = parse_bool(v)?,
            "lxc.console.size" => self.console.log_size = parse_console_size(v)?,
            "lxc.environment" => {
                if v.contains('=') {
                    self.environment.push(v.to_string());
                } else {
                    let val = std::env::var(v).map_err(|_| {
                        ValueError::new(format!("{v:?} is not set in the environment (use NAME=VALUE)"))
                    })?;
                    self.environment.push(format!("{v}={val}"));
                }
            }
            "lxc.ephemeral" => self.ephemeral = parse_bool(v)?,
            "lxc.execute.cmd" => self.execute_cmd = opt(v),
            "lxc.group" => self.groups.extend(words(v).map(str::to_string)),
            "lxc.hook.version" => {
                self.hook_version = match parse_u64(v)? {
                    0 => 0,
                    1 => 1,
                    _ => return Err(ValueError::new(format!("{v:?} is not a hook version (0 or 1)"))),
                }
            }
            "lxc.hook" => return Err(ValueError::new("only an empty value (clear every hook) is allowed here")),
            "lxc.idmap" => self.idmaps.push(parse_idmap(v)?),
            "lxc.init.cmd" => self.init.cmd = opt(v),
            "lxc.init.gid" => self.init.gid = parse_u32(v)?,
            "lxc.init.uid" => self.init.uid = parse_u32(v)?,
            "lxc.init.cwd" => self.init.cwd = opt(v),
            "lxc.keyring.session" => self.keyring.disable_session = parse_bool(v)?,
            "lxc.log.file" => self.log.file = opt(v),
            "lxc.log.level" => {
                self.log.level = Some(LogLevel::parse(v).ok_or_else(|| {
                    ValueError::new(format!(
                        "{v:?} is not a log level (0-8 or TRACE DEBUG INFO NOTICE WARN ERROR CRIT ALERT FATAL)"
                    ))
                })?)
            }
            "lxc.log.syslog" => {
                if !SYSLOG_FACILITIES.contains(&v) {
                    return Err(ValueError::new(format!("{v:?} is not a syslog facility (daemon, local0 .. local7)")));
                }
                self.log.syslog = opt(v);
            }
            "lxc.monitor.unshare" => self.monitor.unshare = parse_u64(v)? != 0,
            "lxc.monitor.signal.pdeath" => self.monitor.signal_pdeath = parse_signal(v)?,
            "lxc.mount.auto" => {
                // Parse into a copy so a bad word leaves the setting unchanged.
                let mut a = self.mount_auto.clone();
                apply_mount_auto(&mut a, v)?;
                self.mount_auto = a;
            }
            "lxc.mount.entry" => self.mount_entries.push(parse_mount_entry(v)?),
            "lxc.mount.fstab" => self.mount_fstab = opt(v),
            "lxc.namespace.clone" => {
                for ns in namespaces(v)? {
                    if !self.namespaces.clone.contains(&ns) {
                        self.namespaces.clone.push(ns);
                    }
                }
            }
            "lxc.namespace.keep" => {
                for ns in namespaces(v)? {
                    if !self.namespaces.keep.contains(&ns) {
                        self.namespaces.keep.push(ns);
                    }
                }
            }
            "lxc.net" => return Err(ValueError::new("only an empty value (remove every NIC) is allowed here")),
            "lxc.no_new_privs" => self.no_new_privs = parse_bool(v)?,
            "lxc.pty.max" => self.pty_max = u64::from(parse_u32(v)?),
            "lxc.rootfs.managed" => self.rootfs.managed = parse_bool(v)?,
            "lxc.rootfs.mount" => self.rootfs.mount = opt(v),
            "lxc.rootfs.options" => self.rootfs.options = opt(v),
            "lxc.rootfs.path" => set_rootfs_path(&mut self.rootfs, v),
            "lxc.seccomp.allow_nesting" => self.seccomp.allow_nesting = parse_bool(v)?,
            "lxc.seccomp.notify.cookie" => self.seccomp.notify_cookie = opt(v),
            "lxc.seccomp.notify.proxy" => {
                let rest = v.strip_prefix("unix:").ok_or_else(|| {
                    ValueError::new(format!("{v:?} is not a proxy address (unix:/path or unix:@name)"))
                })?;
                if !(rest.starts_with('/') || rest.starts_with('@')) || rest.len() < 2 || rest.len() > 107 {
                    return Err(ValueError::new(format!(
                        "{v:?}: expected unix:/absolute/path or unix:@abstract-name (at most 107 bytes)"
                    )));
                }
                self.seccomp.notify_proxy = opt(v);
            }
            "lxc.seccomp.profile" => self.seccomp.profile = opt(v),
            "lxc.selinux.context.keyring" => self.selinux.context_keyring = opt(v),
            "lxc.selinux.context" => self.selinux.context = opt(v),
            "lxc.signal.halt" => self.signals.halt = parse_signal(v)?,
            "lxc.signal.reboot" => self.signals.reboot = parse_signal(v)?,
            "lxc.signal.stop" => self.signals.stop = parse_signal(v)?,
            "lxc.start.auto" => self.start.auto = parse_bool(v)?,
            "lxc.start.delay" => self.start.delay = parse_u32(v)?,
            "lxc.start.order" => self.start.order = parse_i32(v)?,
            "lxc.tty.dir" => {
                if v.len() > 255 {
                    return Err(ValueError::new(format!("{v:?} is longer than 255 bytes")));
                }
                self.tty.dir = opt(v);
            }
            "lxc.tty.max" => self.tty.max = u64::from(parse_u32(v)?),
            "lxc.uts.name" => {
                if v.len() > 64 {
                    return Err(ValueError::new(format!("{v:?} is longer than 64 bytes")));
                }
                self.uts_name = opt(v);
            }
            _ => match def.shape {
                KeyShape::Family { .. } => {
                    return Err(ValueError::new(format!("needs a sub-key ({}.NAME)", def.name)));
                }
                KeyShape::NetSub { .. } => {
                    return Err(ValueError::new("needs a NIC index (lxc.net.N.<key>)"));
                }
                _ => return Err(ValueError::new("cannot be set")),
            },
        }
        Ok(())
    }

    fn set_sub(&mut self, def: &KeyDef, sub: &str, v: &str) -> Result<(), ValueError> {
        if v.is_empty() {
            self.clear_sub(def, sub);
            return Ok(());
        }
        match def.name {
            "lxc.cgroup" | "lxc.cgroup2" => {
                let version = if def.name == "lxc.cgroup" { CgroupVersion::V1 } else { CgroupVersion::V2 };
                // LXC 5.0's lxc.cgroup.dir.{container,monitor,...} would otherwise be taken for a
                // cgroup file named "dir.container".
                if version == CgroupVersion::V1 && (sub.starts_with("dir.") || sub.starts_with("relative.")) {
                    return Err(ValueError::new(
                        "is not an LXC 4.0 key (lxc.cgroup.dir.* came with LXC 5.0); use lxc.cgroup.dir",
                    ));
                }
                if crate::device::is_device_key(sub) {
                    crate::device::parse_device_rule(v)?;
                }
                self.cgroup.settings.push(CgroupSetting { version, key: sub.to_string(), value: v.to_string() });
            }
            "lxc.sysctl" => set_kv(&mut self.sysctls, sub, v),
            "lxc.proc" => set_kv(&mut self.procs, sub, v),
            "lxc.prlimit" => {
                let p = parse_prlimit(sub, v)?;
                match self.prlimits.iter_mut().find(|x| x.resource == sub) {
                    Some(e) => *e = p,
                    None => self.prlimits.push(p),
                }
            }
            "lxc.namespace.share" => {
                let ns = Namespace::from_name(sub).ok_or_else(|| {
                    ValueError::new(format!("{sub:?} is not a namespace (cgroup ipc mnt net pid user uts)"))
                })?;
                self.namespaces.share.insert(ns, v.to_string());
            }
            _ => return Err(ValueError::new("takes no sub-key")),
        }
        Ok(())
    }

    fn clear_sub(&mut self, def: &KeyDef, sub: &str) {
        match def.name {
            "lxc.cgroup" | "lxc.cgroup2" => {
                let version = if def.name == "lxc.cgroup" { CgroupVersion::V1 } else { CgroupVersion::V2 };
                self.cgroup.settings.retain(|s| !(s.version == version && s.key == sub));
            }
            "lxc.sysctl" => self.sysctls.retain(|(k, _)| k != sub),
            "lxc.proc" => self.procs.retain(|(k, _)| k != sub),
            "lxc.prlimit" => self.prlimits.retain(|p| p.resource != sub),
            "lxc.namespace.share" => {
                if let Some(ns) = Namespace::from_name(sub) {
                    self.namespaces.share.remove(&ns);
                }
            }
            _ => {}
        }
    }

    /// Clear one resolved key (what an empty value or `clear_config_item` does).
    pub(crate) fn clear_resolved(&mut self, r: Resolved<'_>) -> Result<(), ApplyError> {
        match r {
            Resolved::Net(idx, def) => {
                self.set_net(idx, def, "")?;
                Ok(())
            }
            Resolved::NetIndex(idx) => {
                self.net.remove(&idx);
                Ok(())
            }
            Resolved::Sub(def, sub) => {
                self.clear_sub(def, sub);
                Ok(())
            }
            Resolved::Key(def) => self.clear_def(def),
        }
    }

    fn clear_def(&mut self, def: &KeyDef) -> Result<(), ApplyError> {
        if let Some(kind) = hook_kind(def) {
            self.hooks.remove(&kind);
            return Ok(());
        }
        let d = ContainerConfig::default();
        match def.name {
            "lxc.arch" => {
                self.arch = None;
                self.personality = None;
            }
            "lxc.apparmor.profile" => self.apparmor.profile = None,
            "lxc.apparmor.allow_incomplete" => self.apparmor.allow_incomplete = false,
            "lxc.apparmor.allow_nesting" => self.apparmor.allow_nesting = false,
            "lxc.apparmor.raw" => self.apparmor.raw.clear(),
            "lxc.autodev.tmpfs.size" => self.autodev_tmpfs_size = 0,
            "lxc.autodev" => self.autodev = d.autodev,
            "lxc.cap.drop" => self.cap_drop.clear(),
            "lxc.cap.keep" => self.cap_keep.clear(),
            "lxc.cgroup2" => self.cgroup.settings.retain(|s| s.version != CgroupVersion::V2),
            "lxc.cgroup" => self.cgroup.settings.retain(|s| s.version != CgroupVersion::V1),
            "lxc.cgroup.dir" => self.cgroup.dir = None,
            "lxc.cgroup.relative" => self.cgroup.relative = false,
            "lxc.console.buffer.size" => self.console.buffer_size = 0,
            "lxc.console.logfile" => self.console.logfile = None,
            "lxc.console.path" => self.console.path = None,
            "lxc.console.rotate" => self.console.rotate = false,
            "lxc.console.size" => self.console.log_size = 0,
            "lxc.environment" => self.environment.clear(),
            "lxc.ephemeral" => self.ephemeral = false,
            "lxc.execute.cmd" => self.execute_cmd = None,
            "lxc.group" => self.groups.clear(),
            "lxc.hook.version" => self.hook_version = 0,
            "lxc.hook" => self.hooks.clear(),
            "lxc.idmap" => self.idmaps.clear(),
            "lxc.include" => {}
            "lxc.init.cmd" => self.init.cmd = None,
            "lxc.init.gid" => self.init.gid = 0,
            "lxc.init.uid" => self.init.uid = 0,
            "lxc.init.cwd" => self.init.cwd = None,
            "lxc.keyring.session" => self.keyring.disable_session = false,
            "lxc.log.file" => self.log.file = None,
            "lxc.log.level" => self.log.level = None,
            "lxc.log.syslog" => self.log.syslog = None,
            "lxc.monitor.unshare" => self.monitor.unshare = false,
            "lxc.monitor.signal.pdeath" => self.monitor.signal_pdeath = d.monitor.signal_pdeath,
            "lxc.mount.auto" => self.mount_auto = MountAuto::default(),
            "lxc.mount.entry" => self.mount_entries.clear(),
            "lxc.mount.fstab" => self.mount_fstab = None,
            "lxc.namespace.clone" => self.namespaces.clone.clear(),
            "lxc.namespace.keep" => self.namespaces.keep.clear(),
            "lxc.namespace.share" => self.namespaces.share.clear(),
            "lxc.net" => self.net.clear(),
            "lxc.no_new_privs" => self.no_new_privs = false,
            "lxc.prlimit" => self.prlimits.clear(),
            "lxc.pty.max" => self.pty_max = 0,
            "lxc.rootfs.managed" => self.rootfs.managed = true,
            "lxc.rootfs.mount" => self.rootfs.mount = None,
            "lxc.rootfs.options" => self.rootfs.options = None,
            "lxc.rootfs.path" => set_rootfs_path(&mut self.rootfs, ""),
            "lxc.seccomp.allow_nesting" => self.seccomp.allow_nesting = false,
            "lxc.seccomp.notify.cookie" => self.seccomp.notify_cookie = None,
            "lxc.seccomp.notify.proxy" => self.seccomp.notify_proxy = None,
            "lxc.seccomp.profile" => self.seccomp.profile = None,
            "lxc.selinux.context.keyring" => self.selinux.context_keyring = None,
            "lxc.selinux.context" => self.selinux.context = None,
            "lxc.signal.halt" => self.signals.halt = 0,
            "lxc.signal.reboot" => self.signals.reboot = 0,
            "lxc.signal.stop" => self.signals.stop = 0,
            "lxc.start.auto" => self.start.auto = false,
            "lxc.start.delay" => self.start.delay = 0,
            "lxc.start.order" => self.start.order = 0,
            "lxc.tty.dir" => self.tty.dir = None,
            "lxc.tty.max" => self.tty.max = 0,
            "lxc.uts.name" => self.uts_name = None,
            "lxc.sysctl" => self.sysctls.clear(),
            "lxc.proc" => self.procs.clear(),
            _ => return Err(ApplyError::Value(ValueError::new("needs a NIC index (lxc.net.N.<key>)"))),
        }
        Ok(())
    }

    /// Read one resolved key in LXC's `get_config_item` format.
    pub(crate) fn get_resolved(&self, r: Resolved<'_>) -> Result<String, ApplyError> {
        let def = match r {
            Resolved::Net(idx, def) => return self.get_net(idx, def),
            Resolved::NetIndex(_) => return Err(ApplyError::NotReadable),
            Resolved::Sub(def, sub) => return Ok(self.get_sub(def, sub)),
            Resolved::Key(def) => def,
        };
        if let Some(kind) = hook_kind(def) {
            return Ok(lines(self.hooks_for(kind)));
        }
        Ok(match def.name {
            "lxc.arch" => match self.personality {
                Some(Personality::Linux32) => "i686".into(),
                Some(Personality::Linux64) => "x86_64".into(),
                None => String::new(),
            },
            "lxc.apparmor.profile" => s(&self.apparmor.profile),
            "lxc.apparmor.allow_incomplete" => b(self.apparmor.allow_incomplete),
            "lxc.apparmor.allow_nesting" => b(self.apparmor.allow_nesting),
            "lxc.apparmor.raw" => lines(&self.apparmor.raw),
            "lxc.autodev.tmpfs.size" => self.autodev_tmpfs_size.to_string(),
            "lxc.autodev" => b(self.autodev),
            "lxc.cap.drop" => lines(&self.cap_drop),
            "lxc.cap.keep" => lines(&self.cap_keep),
            "lxc.cgroup2" | "lxc.cgroup" => {
                let version = if def.name == "lxc.cgroup" { CgroupVersion::V1 } else { CgroupVersion::V2 };
                family_lines(def.name, self.cgroup.of(version).map(|s| (s.key.as_str(), s.value.clone())))
            }
            "lxc.cgroup.dir" => s(&self.cgroup.dir),
            "lxc.cgroup.relative" => b(self.cgroup.relative),
            "lxc.console.buffer.size" => self.console.buffer_size.to_string(),
            "lxc.console.logfile" => s(&self.console.logfile),
            "lxc.console.path" => s(&self.console.path),
            "lxc.console.rotate" => b(self.console.rotate),
            "lxc.console.size" => self.console.log_size.to_string(),
            "lxc.environment" => lines(&self.environment),
            "lxc.ephemeral" => b(self.ephemeral),
            "lxc.execute.cmd" => s(&self.execute_cmd),
            "lxc.group" => lines(&self.groups),
            "lxc.hook.version" => self.hook_version.to_string(),
            "lxc.idmap" => self.idmaps.iter().map(format_idmap).collect::<Vec<_>>().join("\n"),
            "lxc.init.cmd" => s(&self.init.cmd),
            "lxc.init.gid" => self.init.gid.to_string(),
            "lxc.init.uid" => self.init.uid.to_string(),
            "lxc.init.cwd" => s(&self.init.cwd),
            "lxc.keyring.session" => b(self.keyring.disable_session),
            "lxc.log.file" => s(&self.log.file),
            "lxc.log.level" => self.log.level.map(LogLevel::name).unwrap_or("NOTSET").to_string(),
            "lxc.log.syslog" => s(&self.log.syslog),
            "lxc.monitor.unshare" => b(self.monitor.unshare),
            "lxc.monitor.signal.pdeath" => self.monitor.signal_pdeath.to_string(),
            "lxc.mount.auto" => format_mount_auto(&self.mount_auto),
            "lxc.mount.entry" => lines(self.mount_entries.iter().map(|e| e.raw.as_str())),
            "lxc.mount.fstab" => s(&self.mount_fstab),
            "lxc.namespace.clone" => format_namespaces(&self.namespaces.clone),
            "lxc.namespace.keep" => format_namespaces(&self.namespaces.keep),
            "lxc.net" => lines(self.net.values().map(|n| n.net_type.map(NetType::name).unwrap_or("(invalid)"))),
            "lxc.no_new_privs" => b(self.no_new_privs),
            "lxc.prlimit" => {
                family_lines("lxc.prlimit", self.prlimits.iter().map(|p| (p.resource.as_str(), format_prlimit(p))))
            }
            "lxc.pty.max" => self.pty_max.to_string(),
            "lxc.rootfs.managed" => b(self.rootfs.managed),
            "lxc.rootfs.mount" => s(&self.rootfs.mount),
            "lxc.rootfs.options" => s(&self.rootfs.options),
            "lxc.rootfs.path" => s(&self.rootfs.location),
            "lxc.seccomp.allow_nesting" => b(self.seccomp.allow_nesting),
            "lxc.seccomp.notify.cookie" => s(&self.seccomp.notify_cookie),
            // LXC prints the socket path: without `unix:`, and without the `@` of abstract names.
            "lxc.seccomp.notify.proxy" => {
                let p = self.seccomp.notify_proxy.as_deref().unwrap_or("");
                let p = p.strip_prefix("unix:").unwrap_or(p);
                p.strip_prefix('@').unwrap_or(p).to_string()
            }
            "lxc.seccomp.profile" => s(&self.seccomp.profile),
            "lxc.selinux.context.keyring" => s(&self.selinux.context_keyring),
            "lxc.selinux.context" => s(&self.selinux.context),
            "lxc.signal.halt" => self.signals.halt.to_string(),
            "lxc.signal.reboot" => self.signals.reboot.to_string(),
            "lxc.signal.stop" => self.signals.stop.to_string(),
            "lxc.start.auto" => b(self.start.auto),
            "lxc.start.delay" => self.start.delay.to_string(),
            "lxc.start.order" => self.start.order.to_string(),
            "lxc.tty.dir" => s(&self.tty.dir),
            "lxc.tty.max" => self.tty.max.to_string(),
            "lxc.uts.name" => s(&self.uts_name),
            "lxc.sysctl" => family_lines("lxc.sysctl", self.sysctls.iter().map(|(k, v)| (k.as_str(), v.clone()))),
            "lxc.proc" => family_lines("lxc.proc", self.procs.iter().map(|(k, v)| (k.as_str(), v.clone()))),
            // lxc.include, lxc.hook, lxc.namespace.share (bare), internal lxc.net.<sub>.
            _ => return Err(ApplyError::NotReadable),
        })
    }

    fn get_sub(&self, def: &KeyDef, sub: &str) -> String {
        let kv =
            |list: &[(String, String)]| list.iter().find(|(k, _)| k == sub).map(|(_, v)| v.clone()).unwrap_or_default();
        match def.name {
            "lxc.cgroup" | "lxc.cgroup2" => {
                let version = if def.name == "lxc.cgroup" { CgroupVersion::V1 } else { CgroupVersion::V2 };
                lines(self.cgroup.of(version).filter(|s| s.key == sub).map(|s| s.value.as_str()))
            }
            "lxc.sysctl" => kv(&self.sysctls),
            "lxc.proc" => kv(&self.procs),
            "lxc.prlimit" => self.prlimits.iter().find(|p| p.resource == sub).map(format_prlimit).unwrap_or_default(),
            "lxc.namespace.share" => {
                Namespace::from_name(sub).and_then(|ns| self.namespaces.share.get(&ns).cloned()).unwrap_or_default()
            }
            _ => String::new(),
        }
    }
}
