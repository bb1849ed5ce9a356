//! Device control: the rule model ([`rule`]), the eBPF compiler ([`program`]) and the live
//! program attached to a cgroup2 directory ([`BpfDevices`]).

pub mod program;
pub mod rule;

use crate::error::{CgroupError, Result};
use rlxc_sys::bpf;
use rule::{DevType, DeviceRules, ParsedRule};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Parse `value` of `key` (ending in `devices.allow` or `devices.deny`), resolving `/dev/...`.
pub fn parse_config_rule(key: &str, value: &str) -> Result<ParsedRule> {
    let allow = key.ends_with("devices.allow");
    rule::parse_rule_with(value, allow, stat_device).map_err(|why| CgroupError::DeviceRule {
        key: key.to_string(),
        value: value.to_string(),
        why,
    })
}

/// `stat()` a device node into (type, major, minor).
pub fn stat_device(path: &str) -> std::result::Result<(DevType, u32, u32), String> {
    let md = std::fs::metadata(path).map_err(|e| format!("{path}: {e}"))?;
    let ft = md.file_type();
    let t = if ft.is_char_device() {
        DevType::Char
    } else if ft.is_block_device() {
        DevType::Block
    } else {
        return Err(format!("{path} is not a device node"));
    };
    let rdev = md.rdev();
    Ok((t, libc::major(rdev), libc::minor(rdev)))
}

/// Whether the kernel accepts device programs (loads the trivial probe program).
pub fn bpf_supported() -> bool {
    bpf::prog_load_cgroup_device(&program::probe_program()).is_ok()
}

/// A device program attached to one cgroup2 directory; replaced on update, detached on drop.
#[derive(Debug)]
pub struct BpfDevices {
    path: PathBuf,
    cgroup: OwnedFd,
    prog: Option<OwnedFd>,
    /// the rules the attached program enforces
    pub rules: DeviceRules,
}

impl BpfDevices {
    /// Compile `rules`, load the program and attach it to `cgroup` (an open cgroup2 directory).
    pub fn attach(path: &Path, cgroup: BorrowedFd<'_>, rules: DeviceRules) -> Result<BpfDevices> {
        let cgroup = cgroup.try_clone_to_owned().map_err(crate::error::io_err("dup", path))?;
        let mut d = BpfDevices { path: path.to_path_buf(), cgroup, prog: None, rules };
        let prog = d.load()?;
        bpf::prog_attach_cgroup_device(d.cgroup.as_fd(), prog.as_fd(), bpf::BPF_F_ALLOW_MULTI, None)
            .map_err(|e| d.err(format!("attach: {e}")))?;
        d.prog = Some(prog);
        Ok(d)
    }

    fn err(&self, msg: String) -> CgroupError {
        CgroupError::Bpf { path: self.path.clone(), msg }
    }

    fn load(&self) -> Result<OwnedFd> {
        let insns = program::compile(&self.rules);
        bpf::prog_load_cgroup_device(&insns).map_err(|e| self.err(format!("kernel refused the program: {e}")))
    }

    /// Merge one more rule and swap the attached program: atomically with `BPF_F_REPLACE`,
    /// or (older kernels) attach the new one then detach the old one.
    pub fn update(&mut self, r: ParsedRule) -> Result<()> {
        let old_rules = self.rules.clone();
        self.rules.add(r);
        let new = match self.load() {
            Ok(p) => p,
            Err(e) => {
                self.rules = old_rules;
                return Err(e);
            }
        };
        let res = match &self.prog {
            Some(old) => {
                match bpf::prog_attach_cgroup_device(
                    self.cgroup.as_fd(),
                    new.as_fd(),
                    bpf::BPF_F_ALLOW_MULTI,
                    Some(old.as_fd()),
                ) {
                    Ok(()) => Ok(()),
                    Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                        // No BPF_F_REPLACE: attach the new, then detach the old.
                        bpf::prog_attach_cgroup_device(self.cgroup.as_fd(), new.as_fd(), bpf::BPF_F_ALLOW_MULTI, None)
                            .and_then(|()| bpf::prog_detach_cgroup_device(self.cgroup.as_fd(), old.as_fd()))
                    }
                    Err(e) => Err(e),
                }
            }
            None => bpf::prog_attach_cgroup_device(self.cgroup.as_fd(), new.as_fd(), bpf::BPF_F_ALLOW_MULTI, None),
        };
        if let Err(e) = res {
            self.rules = old_rules;
            return Err(self.err(format!("replace: {e}")));
        }
        self.prog = Some(new);
        Ok(())
    }

    /// Detach the program (also done on drop).
    pub fn detach(&mut self) {
        if let Some(p) = self.prog.take() {
            // The cgroup may already be gone (rmdir detaches everything): nothing to do then.
            let _ = bpf::prog_detach_cgroup_device(self.cgroup.as_fd(), p.as_fd());
        }
    }
}

impl Drop for BpfDevices {
    fn drop(&mut self) {
        self.detach();
    }
}
