//! Limits: `lxc.cgroup.<file>` into v1 hierarchies (memsw after the memory limit, devices in a
//! second pass), `lxc.cgroup2.<file>` into the cgroup2 payload (devices compiled to eBPF), and
//! `get`/`set` of single cgroup files.

use crate::devices::{self, rule::DeviceRules, BpfDevices};
use crate::error::{CgroupError, Result};
use crate::manager::Cgroups;
use crate::spec::Role;
use tracing::{info, warn};

fn controller_of(file: &str) -> &str {
    file.split('.').next().unwrap_or(file)
}

fn is_device_key(file: &str) -> bool {
    file == "devices.allow" || file == "devices.deny"
}

/// The v1 settings in the order LXC writes them: every non-memsw key in config order, then
/// `memory.memsw.*` (the kernel refuses a memsw limit below the memory limit).
pub fn v1_order(items: &[(String, String)]) -> Vec<(String, String)> {
    let (memsw, rest): (Vec<_>, Vec<_>) =
        items.iter().filter(|(k, _)| !is_device_key(k)).cloned().partition(|(k, _)| k.starts_with("memory.memsw."));
    rest.into_iter().chain(memsw).collect()
}

impl Cgroups {
    /// Apply `lxc.cgroup.*` (v1) and `lxc.cgroup2.*` (v2) except device rules, into the payload.
    pub fn apply_limits(&self) -> Result<()> {
        let p = self.created(Role::Payload)?;
        if !self.spec.v1.is_empty() && self.is_unified() {
            for (k, _) in &self.spec.v1 {
                warn!("lxc.cgroup.{k} ignored: this host is pure cgroup2 (use lxc.cgroup2.* keys)");
            }
        } else {
            for (file, value) in v1_order(&self.spec.v1) {
                let key = format!("lxc.cgroup.{file}");
                let ctrl = controller_of(&file);
                let Some(h) = self.layout.v1_for(ctrl) else {
                    return Err(CgroupError::MissingController {
                        key,
                        controller: ctrl.to_string(),
                        why: "no cgroup v1 hierarchy carries it".into(),
                    });
                };
                let i = self.layout.hierarchies.iter().position(|x| x == h).unwrap_or(0);
                let d = &p.dirs[i];
                d.write(&file, &value).map_err(|source| CgroupError::Limit {
                    key: key.clone(),
                    value: value.clone(),
                    path: d.path.join(&file),
                    source,
                })?;
                info!("{key} = {value}");
            }
        }
        let v2: Vec<_> = self.spec.v2.iter().filter(|(k, _)| !is_device_key(k)).collect();
        if v2.is_empty() {
            return Ok(());
        }
        let Some(ui) = self.unified_index() else {
            return Err(CgroupError::MissingController {
                key: format!("lxc.cgroup2.{}", v2[0].0),
                controller: "cgroup2".into(),
                why: "no cgroup2 filesystem is mounted".into(),
            });
        };
        let d = &p.dirs[ui];
        let avail = d.read("cgroup.controllers").unwrap_or_default();
        for (file, value) in v2 {
            let key = format!("lxc.cgroup2.{file}");
            let ctrl = controller_of(file);
            if ctrl != "cgroup" && !avail.split_whitespace().any(|c| c == ctrl) && !d.path.join(file).exists() {
                let parent = d.path.parent().map(|x| x.display().to_string()).unwrap_or_default();
                return Err(CgroupError::MissingController {
                    key,
                    controller: ctrl.to_string(),
                    why: format!(
                        "not enabled for {} (missing from {parent}/cgroup.subtree_control; the cgroup2 \
                         tree offers: \"{}\")",
                        d.path.display(),
                        avail.trim()
                    ),
                });
            }
            d.write(file, value).map_err(|source| CgroupError::Limit {
                key: key.clone(),
                value: value.clone(),
                path: d.path.join(file),
                source,
            })?;
            info!("{key} = {value}");
        }
        Ok(())
    }

    /// The collected `lxc.cgroup2.devices.*` rules.
    pub fn v2_device_rules(&self) -> Result<DeviceRules> {
        let mut rules = DeviceRules::new();
        for (file, value) in self.spec.v2.iter().filter(|(k, _)| is_device_key(k)) {
            rules.add(devices::parse_config_rule(&format!("lxc.cgroup2.{file}"), value)?);
        }
        Ok(rules)
    }

    /// Second pass: v1 `devices.allow/deny` into the devices hierarchy, then the cgroup2 rules
    /// compiled to eBPF and attached to the payload's cgroup2 directory. Returns the attached
    /// program (keep it: it is replaced on live updates and detached on drop).
    pub fn apply_devices(&self) -> Result<Option<BpfDevices>> {
        let p = self.created(Role::Payload)?;
        let v1: Vec<_> = self.spec.v1.iter().filter(|(k, _)| is_device_key(k)).collect();
        if !v1.is_empty() {
            match self.layout.v1_for("devices") {
                None => {
                    for (k, _) in &v1 {
                        warn!("lxc.cgroup.{k} ignored: no cgroup v1 devices controller (use lxc.cgroup2.{k})");
                    }
                }
                Some(h) => {
                    let i = self.layout.hierarchies.iter().position(|x| x == h).unwrap_or(0);
                    let d = &p.dirs[i];
                    for (file, value) in v1 {
                        d.write(file, value).map_err(|source| CgroupError::Limit {
                            key: format!("lxc.cgroup.{file}"),
                            value: value.clone(),
                            path: d.path.join(file),
                            source,
                        })?;
                    }
                }
            }
        }
        let rules = self.v2_device_rules()?;
        if !rules.configured {
            return Ok(None);
        }
        let Some(ui) = self.unified_index() else {
            warn!("lxc.cgroup2.devices.* ignored: no cgroup2 filesystem is mounted");
            return Ok(None);
        };
        let d = &p.dirs[ui];
        let progs = BpfDevices::attach(&d.path, std::os::fd::AsFd::as_fd(&d.fd), rules)?;
        info!("eBPF device program attached to {}: {}", d.path.display(), progs.rules.describe().join(", "));
        Ok(Some(progs))
    }

    /// Read a payload cgroup file (`memory.limit_in_bytes`, `pids.max`, `cgroup.procs`, ...)
    /// from the hierarchy owning its controller.
    pub fn get(&self, file: &str) -> Result<String> {
        let d = self.file_dir(file)?;
        d.read(file).map_err(crate::error::io_err("read", d.path.join(file)))
    }

    /// Write a payload cgroup file. Device keys on hosts without a v1 devices controller must go
    /// through [`BpfDevices::update`] instead (the caller holds the program).
    pub fn set(&self, file: &str, value: &str) -> Result<()> {
        let d = self.file_dir(file)?;
        d.write(file, value).map_err(|source| CgroupError::Limit {
            key: file.to_string(),
            value: value.to_string(),
            path: d.path.join(file),
            source,
        })
    }

    fn file_dir(&self, file: &str) -> Result<&crate::fsio::CgDir> {
        if file.is_empty() || file.contains('/') || !file.contains('.') {
            return Err(CgroupError::BadKey { key: file.to_string(), why: "not a cgroup file name".into() });
        }
        let ctrl = controller_of(file);
        self.payload_dir(Some(ctrl)).ok_or_else(|| CgroupError::MissingController {
            key: file.to_string(),
            controller: ctrl.to_string(),
            why: "no hierarchy carries it or the payload cgroup does not exist".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memsw_goes_after_memory_and_devices_are_left_out() {
        let items: Vec<(String, String)> = [
            ("memory.memsw.limit_in_bytes", "2G"),
            ("devices.allow", "c 1:3 rwm"),
            ("memory.limit_in_bytes", "1G"),
            ("pids.max", "10"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let o: Vec<String> = v1_order(&items).into_iter().map(|(k, _)| k).collect();
        assert_eq!(o, vec!["memory.limit_in_bytes", "pids.max", "memory.memsw.limit_in_bytes"]);
    }
}
