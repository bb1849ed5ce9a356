//! The container's cgroups as the monitor uses them (wraps `rlxc_cgroup`): create and enter
//! `lxc.monitor.NAME`, create/enter/limit/delegate `lxc.payload.NAME`, the eBPF device program,
//! freezer, get/set, and removal of everything made (also on drop). Child side:
//! [`mount_auto`] for the `lxc.mount.auto` cgroup variants.
//!
//! Call order in the monitor (spec §5.2):
//! 1. `ContainerCgroups::create_monitor(conf, name)` before clone (enters the calling process);
//! 2. `create_payload()` before clone;
//! 3. after clone: `enter_payload(child_pid)` then `apply_limits(conf)` (also delegates the
//!    payload to the container's root when an idmap is set);
//! 4. before releasing the child to exec: `apply_devices(conf)`;
//! 5. at runtime: `freeze`/`unfreeze`, `get`/`set`, `add_device_rule` (command 14),
//!    `payload_path` (GET_CGROUP), `unified_fd` (GET_CGROUP2_FD);
//! 6. after the container's init is reaped: `destroy()` (also done by `Drop` in the process
//!    that created the cgroups, never in a forked child).

use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

pub use rlxc_cgroup::devices::rule::{DevType, DeviceRule, ParsedRule};
use rlxc_cgroup::devices::BpfDevices;
pub use rlxc_cgroup::error::CgroupError;
pub use rlxc_cgroup::freezer::FreezerKind;
use rlxc_cgroup::{CgroupSpec, Cgroups, Layout, LayoutKind, Role};
use rlxc_config::model::{CgroupMountMode, CgroupVersion, ContainerConfig, IdType, Namespace};
use tracing::{info, warn};

/// Result of the cgroup API.
pub type Result<T> = std::result::Result<T, CgroupError>;

/// `lxc.cgroup.pattern` and `lxc.cgroup.use` from the system config (`lxc.conf`, found as
/// [`crate::lxcpath::system_config_path`] says). Unset = no pattern, every controller.
pub fn system_cgroup_settings() -> (Option<String>, Vec<String>) {
    let pattern = crate::lxcpath::system_config_value("lxc.cgroup.pattern").filter(|s| !s.is_empty());
    let use_list = crate::lxcpath::system_config_value("lxc.cgroup.use")
        .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    (pattern, use_list)
}

/// Host uid/gid that container root maps to (None without an idmap).
fn root_ids(conf: &ContainerConfig) -> Option<(u32, u32)> {
    if conf.idmaps.is_empty() {
        return None;
    }
    let find = |k: IdType| {
        conf.idmaps.iter().find(|m| m.kind == k && m.nsid == 0).map(|m| m.hostid as u32).or_else(|| {
            // root unmapped: LXC uses the init uid/gid's mapping; take the first range's host id.
            conf.idmaps.iter().find(|m| m.kind == k).map(|m| m.hostid as u32)
        })
    };
    Some((find(IdType::Uid)?, find(IdType::Gid)?))
}

/// Build the cgroup crate's view of a container's settings.
pub fn spec_from_config(conf: &ContainerConfig, name: &str) -> CgroupSpec {
    let (pattern, use_controllers) = system_cgroup_settings();
    let pairs = |v: CgroupVersion| conf.cgroup.of(v).map(|s| (s.key.clone(), s.value.clone())).collect();
    CgroupSpec {
        name: name.to_string(),
        dir: conf.cgroup.dir.clone(),
        relative: conf.cgroup.relative,
        pattern,
        use_controllers,
        v1: pairs(CgroupVersion::V1),
        v2: pairs(CgroupVersion::V2),
        root_ids: root_ids(conf),
    }
}

/// Convert an `ADD_BPF_DEVICE_CGROUP` item (LXC's `struct device_item`) into a rule.
/// `global_rule`: -1 local, 0 allow-list (default deny), 1 deny-list (default allow).
pub fn device_item_to_rule(
    kind: u8,
    major: i32,
    minor: i32,
    access: &str,
    allow: bool,
    global_rule: i32,
) -> std::result::Result<ParsedRule, String> {
    if global_rule >= 0 {
        return Ok(ParsedRule::Global { allow: global_rule == 1 });
    }
    let dtype = DevType::from_letter(kind as char).ok_or_else(|| format!("bad device type {:?}", kind as char))?;
    let num = |n: i32| if n < 0 { None } else { Some(n as u32) };
    let access = rlxc_cgroup::devices::rule::parse_access(access)?;
    Ok(ParsedRule::Local(DeviceRule { dtype, major: num(major), minor: num(minor), access, allow }))
}

/// The reverse of [`device_item_to_rule`]: (kind, major, minor, access, allow, global_rule).
pub fn rule_to_device_item(r: &ParsedRule) -> (u8, i32, i32, String, bool, i32) {
    match r {
        ParsedRule::Global { allow } => (b'a', -1, -1, "rwm".into(), *allow, if *allow { 1 } else { 0 }),
        ParsedRule::Local(d) => (
            d.dtype.letter() as u8,
            d.major.map_or(-1, |m| m as i32),
            d.minor.map_or(-1, |m| m as i32),
            rlxc_cgroup::devices::rule::access_string(d.access),
            d.allow,
            -1,
        ),
    }
}

/// A running container's cgroups, owned by its monitor.
#[derive(Debug)]
pub struct ContainerCgroups {
    inner: Cgroups,
    devices: Option<BpfDevices>,
    owner_pid: u32,
    destroyed: bool,
}

/// Get the kernel's next cgroup migration ready now, in the background, so that the
/// `cgroup.procs` writes a tool makes a few milliseconds later (the monitor entering
/// `lxc.monitor.NAME`, an attached process entering the payload) don't wait for it.
///
/// Why: every write to a `cgroup.procs` file takes the kernel's global
/// `cgroup_threadgroup_rwsem` for writing; the first writer after a quiet period waits a whole
/// RCU grace period (8-30 ms on this host, `strace -T` on the write), a writer within about a
/// grace period of the previous one does not. A throw-away process that moves itself into the
/// cgroup it is already in (a no-op migration) pays that wait while the tool copies its binary,
/// re-executes and reads the config. Double fork: nobody waits for it and it leaves no zombie;
/// it closes every inherited fd first, so a caller reading the tool's output through a pipe
/// sees EOF when the tool exits. Root only (a user cannot write there); failures are ignored,
/// nothing depends on it.
pub fn warm_up_migrations() {
    use rlxc_sys::process as sysproc;
    if !rustix::process::geteuid().is_root() {
        return;
    }
    match rlxc_sys::clone::fork() {
        Ok(Some(pid)) => {
            let _ = sysproc::waitpid(pid, false);
        }
        Ok(None) => {
            if !matches!(rlxc_sys::clone::fork(), Ok(None)) {
                sysproc::exit_now(0);
            }
            if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
                for n in 0..3 {
                    let _ = sysproc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), n);
                }
            }
            sysproc::close_fds_from(3, &[]);
            // Not the caller's command line: leak checks look for the container's name there.
            let _ = sysproc::set_process_title("rlxc cgroup warm-up");
            let _ = sysproc::set_comm("rlxc warm-up");
            if let Ok(layout) = Layout::detect() {
                if let Some(h) = layout.unified().or(layout.hierarchies.first()) {
                    let _ = std::fs::write(h.dir_of(&h.self_cgroup).join("cgroup.procs"), "0");
                }
            }
            sysproc::exit_now(0);
        }
        Err(_) => {}
    }
}

impl ContainerCgroups {
    /// Detect the layout, create `lxc.monitor.NAME` (or `-N` on collision) and move the
    /// calling process into it.
    pub fn create_monitor(conf: &ContainerConfig, name: &str) -> Result<ContainerCgroups> {
        let spec = spec_from_config(conf, name);
        let mut inner = Cgroups::new(spec)?;
        if let Err(e) = inner.create_and_enter_monitor(0) {
            // Created but not entered (e.g. the kernel refused the move): remove it again.
            let _ = inner.destroy();
            return Err(e);
        }
        Ok(ContainerCgroups { inner, devices: None, owner_pid: std::process::id(), destroyed: false })
    }

    /// Like [`ContainerCgroups::create_monitor`] from a ready spec (tests, tools).
    pub fn from_spec(spec: CgroupSpec, enter_monitor: bool) -> Result<ContainerCgroups> {
        let mut inner = Cgroups::new(spec)?;
        if enter_monitor {
            inner.create_and_enter_monitor(0)?;
        } else {
            inner.create(Role::Monitor)?;
        }
        Ok(ContainerCgroups { inner, devices: None, owner_pid: std::process::id(), destroyed: false })
    }

    /// Also move `pid` (e.g. the transient parent of a daemonized start) into the monitor cgroup.
    pub fn enter_monitor(&self, pid: i32) -> Result<()> {
        self.inner.enter(Role::Monitor, pid)
    }

    /// Create `lxc.payload.NAME` (not entered yet).
    pub fn create_payload(&mut self) -> Result<()> {
        self.inner.create(Role::Payload)
    }

    /// Move `pid` (the container's init) into the payload cgroup in every hierarchy.
    pub fn enter_payload(&self, pid: i32) -> Result<()> {
        self.inner.enter(Role::Payload, pid)
    }

    /// Apply `lxc.cgroup.*` / `lxc.cgroup2.*` (not devices) to the payload, then chown it to the
    /// container's root when an idmap is set. v1 keys on a pure cgroup2 host are skipped with a
    /// warning.
    pub fn apply_limits(&mut self, conf: &ContainerConfig) -> Result<()> {
        let fresh = spec_from_config(conf, &self.inner.spec.name);
        self.inner.spec.v1 = fresh.v1;
        self.inner.spec.v2 = fresh.v2;
        self.inner.apply_limits()?;
        if crate::unpriv::is_unprivileged() {
            // A user cannot chown to the container's ids: the start path hands
            // [`ContainerCgroups::delegation_paths`] to a helper user namespace instead.
            return Ok(());
        }
        self.inner.delegate_payload()
    }

    /// What delegating the payload to the container's root chowns: each payload directory,
    /// `cgroup.procs`, `tasks` on v1 and the `/sys/kernel/cgroup/delegate` files on cgroup2.
    pub fn delegation_paths(&self) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        let Some(p) = self.inner.payload.as_ref() else { return out };
        let files = rlxc_cgroup::delegate::delegate_files();
        for (i, d) in p.dirs.iter().enumerate() {
            out.push(d.path.clone());
            let v2 = self.inner.layout.hierarchies.get(i).map(|h| h.v2).unwrap_or(false);
            let mut names: Vec<&str> = vec!["cgroup.procs"];
            if v2 {
                names.extend(files.iter().map(String::as_str).filter(|f| *f != "cgroup.procs"));
            } else {
                names.push("tasks");
            }
            out.extend(names.into_iter().map(|f| d.path.join(f)).filter(|p| p.exists()));
        }
        out
    }

    /// v1 device rules, then the cgroup2 eBPF device program (kept until destroy; replaced by
    /// [`ContainerCgroups::add_device_rule`]).
    pub fn apply_devices(&mut self, conf: &ContainerConfig) -> Result<()> {
        let fresh = spec_from_config(conf, &self.inner.spec.name);
        self.inner.spec.v1 = fresh.v1;
        self.inner.spec.v2 = fresh.v2;
        match self.inner.apply_devices() {
            Ok(d) => {
                self.devices = d;
                Ok(())
            }
            Err(CgroupError::Bpf { path, msg }) if msg.contains("Operation not permitted") => {
                warn!("cgroup2 device rules not enforced: bpf() not permitted ({})", path.display());
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Merge one device rule into the cgroup2 program and swap it atomically (command 14,
    /// `lxc-cgroup NAME devices.allow ...` on cgroup2). Attaches a first program when none is (starting
    /// from "allow everything" when the config has no cgroup2 device rules).
    pub fn add_device_rule(&mut self, rule: ParsedRule) -> Result<()> {
        if let Some(d) = self.devices.as_mut() {
            return d.update(rule);
        }
        let p = self.inner.created(Role::Payload)?;
        let ui = self.inner.unified_index().ok_or_else(|| CgroupError::MissingController {
            key: "devices".into(),
            controller: "cgroup2".into(),
            why: "no cgroup2 filesystem is mounted".into(),
        })?;
        let d = &p.dirs[ui];
        let mut rules = self.inner.v2_device_rules()?;
        if !rules.configured {
            // Nothing configured means every device was allowed: keep that (deny-list) instead of
            // turning one runtime rule into a default-deny program that breaks the container.
            rules.add(ParsedRule::Global { allow: true });
        }
        rules.add(rule);
        self.devices = Some(BpfDevices::attach(&d.path, d.fd.as_fd(), rules)?);
        Ok(())
    }

    /// ADD_BPF_DEVICE_CGROUP (command 14) for the monitor's `CommandHandler::add_bpf_device`:
    /// decode LXC's `struct device_item`, merge it and swap the program. Errors are errnos for
    /// the reply (EINVAL bad item, EOPNOTSUPP/EPERM when the kernel refuses).
    pub fn add_device_item(&mut self, d: &crate::commands::wire::DeviceItem) -> std::result::Result<(), i32> {
        let rule = device_item_to_rule(d.kind, d.major, d.minor, &d.access_str(), d.allow != 0, d.global_rule)
            .map_err(|e| {
                warn!("ADD_BPF_DEVICE_CGROUP: {e}");
                libc::EINVAL
            })?;
        self.add_device_rule(rule).map_err(|e| {
            warn!("ADD_BPF_DEVICE_CGROUP: {e}");
            match e {
                CgroupError::MissingController { .. } => libc::EOPNOTSUPP,
                CgroupError::Bpf { msg, .. } if msg.contains("not permitted") => libc::EPERM,
                _ => libc::EINVAL,
            }
        })
    }

    /// The device rules currently enforced by the eBPF program (`lxc-cgroup NAME devices.list`).
    pub fn device_rules(&self) -> Option<Vec<String>> {
        self.devices.as_ref().map(|d| d.rules.describe())
    }

    /// Freeze the payload: v1 freezer on legacy/hybrid hosts, `cgroup.freeze` on cgroup2;
    /// `timeout_ms` < 0 waits as long as it takes, 0 does not wait.
    pub fn freeze(&self, timeout_ms: i64) -> Result<()> {
        self.inner.freeze(timeout_ms)
    }

    /// Thaw the payload.
    pub fn unfreeze(&self, timeout_ms: i64) -> Result<()> {
        self.inner.unfreeze(timeout_ms)
    }

    /// Which freezer is used.
    pub fn freezer_kind(&self) -> Option<FreezerKind> {
        self.inner.freezer_kind()
    }

    /// Read a payload cgroup file (`memory.max`, `pids.current`, ...). `devices.list` on a host
    /// without a v1 devices controller answers the eBPF rules.
    pub fn get(&self, key: &str) -> Result<String> {
        if key == "devices.list" && self.inner.layout.v1_for("devices").is_none() {
            return Ok(self.device_rules().map(|v| v.join("\n") + "\n").unwrap_or_default());
        }
        self.inner.get(key)
    }

    /// Write a payload cgroup file. `devices.allow`/`devices.deny` on a host without a v1
    /// devices controller update the eBPF program instead.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        if (key == "devices.allow" || key == "devices.deny") && self.inner.layout.v1_for("devices").is_none() {
            let rule = rlxc_cgroup::devices::parse_config_rule(key, value)?;
            return self.add_device_rule(rule);
        }
        self.inner.set(key, value)
    }

    /// The payload cgroup path inside the hierarchy of `controller` (None = cgroup2), relative
    /// to that hierarchy's mount point — the GET_CGROUP answer.
    pub fn payload_path(&self, controller: Option<&str>) -> Option<String> {
        self.inner.payload_cgpath(controller)
    }

    /// The payload's absolute directory in the hierarchy of `controller` (None = cgroup2).
    pub fn payload_dir(&self, controller: Option<&str>) -> Option<&Path> {
        self.inner.payload_dir(controller).map(|d| d.path.as_path())
    }

    /// The monitor cgroup path (relative to the mount) in the hierarchy of `controller`.
    pub fn monitor_path(&self, controller: Option<&str>) -> Option<String> {
        let m = self.inner.monitor.as_ref()?;
        let i = match controller {
            Some(c) => self.inner.index_for(c)?,
            None => self.inner.unified_index()?,
        };
        m.cgpaths.get(i).cloned()
    }

    /// The open payload directory of the cgroup2 tree (GET_CGROUP2_FD); None without cgroup2.
    pub fn unified_fd(&self) -> Option<BorrowedFd<'_>> {
        self.inner.payload_dir(None).map(|d| d.fd.as_fd())
    }

    /// The open payload directory in the hierarchy of `controller` (GET_CGROUP_FD).
    pub fn payload_fd(&self, controller: &str) -> Option<BorrowedFd<'_>> {
        self.inner.payload_dir(Some(controller)).map(|d| d.fd.as_fd())
    }

    /// The layout in use.
    pub fn layout(&self) -> &Layout {
        &self.inner.layout
    }

    /// Whether the host is pure cgroup2 (LXC answers FREEZE/GET_CGROUP2_FD only then).
    pub fn is_unified(&self) -> bool {
        self.inner.layout.kind == LayoutKind::Unified
    }

    /// Remove the payload cgroup (detaching the device program), then leave and remove the
    /// monitor cgroup and any parents we created. Idempotent.
    pub fn destroy(&mut self) -> Result<()> {
        if self.destroyed {
            return Ok(());
        }
        self.destroyed = true;
        self.devices = None;
        let r = self.inner.destroy();
        info!("cgroups of {} removed", self.inner.spec.name);
        r
    }
}

impl Drop for ContainerCgroups {
    fn drop(&mut self) {
        // A forked child holds a copy of this value: only the creating process removes cgroups.
        if self.owner_pid == std::process::id() && !self.destroyed {
            if let Err(e) = self.destroy() {
                warn!("cgroup cleanup: {e}");
            }
        }
    }
}

/// Whether the container keeps CAP_SYS_ADMIN (not in `lxc.cap.drop`, or in `lxc.cap.keep`).
fn keeps_sys_admin(conf: &ContainerConfig) -> bool {
    let is = |c: &String| {
        let c = c.to_ascii_lowercase();
        c == "sys_admin" || c == "cap_sys_admin" || c == "21"
    };
    if !conf.cap_keep.is_empty() {
        return conf.cap_keep.iter().any(is);
    }
    !conf.cap_drop.iter().any(is)
}

/// Child side: mount the `lxc.mount.auto` cgroup variant below `rootfs` (before pivot_root,
/// after `/sys` is mounted and after `unshare(CLONE_NEWCGROUP)`). Whether the container has a
/// cgroup namespace is decided from the config like the start path does ([`wants_cgroupns`]).
pub fn mount_auto(conf: &ContainerConfig, rootfs: &Path) -> Result<()> {
    mount_auto_with(conf, rootfs, wants_cgroupns(conf))
}

/// [`mount_auto`] with the cgroup-namespace decision given by the caller.
pub fn mount_auto_with(conf: &ContainerConfig, rootfs: &Path, cgroupns: bool) -> Result<()> {
    let Some(cm) = conf.mount_auto.cgroup else { return Ok(()) };
    use rlxc_cgroup::automount::{CgMode, CgroupAuto};
    let req = CgroupAuto {
        full: cm.full,
        force: cm.force,
        mode: match cm.mode {
            CgroupMountMode::NoSpec => None,
            CgroupMountMode::Mixed => Some(CgMode::Mixed),
            CgroupMountMode::Ro => Some(CgMode::Ro),
            CgroupMountMode::Rw => Some(CgMode::Rw),
        },
    };
    let layout = Layout::detect()?;
    rlxc_cgroup::automount::mount_auto(&layout, req, rootfs, cgroupns, keeps_sys_admin(conf))
}

/// Whether the container gets a cgroup namespace: `lxc.namespace.clone` exactly, else not when
/// kept or shared, else whenever the kernel has them (same rule as the start path).
pub fn wants_cgroupns(conf: &ContainerConfig) -> bool {
    let ns = &conf.namespaces;
    if ns.share.contains_key(&Namespace::Cgroup) {
        return false;
    }
    if !ns.clone.is_empty() {
        return ns.clone.contains(&Namespace::Cgroup);
    }
    if ns.keep.contains(&Namespace::Cgroup) {
        return false;
    }
    Path::new("/proc/self/ns/cgroup").exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_items_round_trip() {
        for r in [
            ParsedRule::Global { allow: true },
            ParsedRule::Global { allow: false },
            rlxc_cgroup::devices::rule::parse_rule("c 1:3 rw", true).unwrap(),
            rlxc_cgroup::devices::rule::parse_rule("b *:* m", false).unwrap(),
        ] {
            let (k, ma, mi, acc, allow, g) = rule_to_device_item(&r);
            assert_eq!(device_item_to_rule(k, ma, mi, &acc, allow, g).unwrap(), r);
        }
    }

    #[test]
    fn spec_takes_cgroup_settings_in_order() {
        let mut c = ContainerConfig::default();
        c.cgroup.dir = Some("d".into());
        c.cgroup.settings.push(rlxc_config::model::CgroupSetting {
            version: CgroupVersion::V2,
            key: "pids.max".into(),
            value: "10".into(),
        });
        c.cgroup.settings.push(rlxc_config::model::CgroupSetting {
            version: CgroupVersion::V1,
            key: "memory.limit_in_bytes".into(),
            value: "1G".into(),
        });
        let s = spec_from_config(&c, "x");
        assert_eq!(s.v2, vec![("pids.max".to_string(), "10".to_string())]);
        assert_eq!(s.v1.len(), 1);
        assert_eq!(s.dir.as_deref(), Some("d"));
        assert_eq!(s.root_ids, None);
        assert!(keeps_sys_admin(&c));
        c.cap_drop.push("sys_admin".into());
        assert!(!keeps_sys_admin(&c));
    }
}
