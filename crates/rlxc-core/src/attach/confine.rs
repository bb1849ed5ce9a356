//! The container's confinement, copied onto an attached process: init's capability bounding
//! set, no_new_privs, the LSM label and the seccomp policy (LXC's attach order, spec 5.8).
//!
//! Seam: the security work owns the building blocks (`rlxc_security::{caps, apparmor, selinux,
//! seccomp}`); this module only decides *what* to apply from what the monitor and init's
//! `/proc` entries say, and applies it in LXC's order. When `rlxc_core::security::attach_confine`
//! lands it can replace [`Confinement::apply_*`] one for one.

use std::path::PathBuf;

use tracing::{debug, warn};

use super::context::InitContext;
use super::options::{self, AttachOptions};

/// What to apply in the attached child; prepared in the parent (host view of paths).
#[derive(Debug, Default)]
pub struct Confinement {
    /// Limit the bounding set to this mask (init's `CapBnd`).
    pub cap_bounding: Option<u64>,
    /// Set no_new_privs (init has it, or `LXC_ATTACH_NO_NEW_PRIVS`).
    pub no_new_privs: bool,
    /// Switch to this LSM label.
    pub lsm_label: Option<String>,
    /// The container's seccomp policy, parsed on the host.
    pub seccomp: Option<(PathBuf, rlxc_config::seccomp::SeccompPolicy)>,
    /// `lxc.seccomp.allow_nesting`.
    pub seccomp_allow_nesting: bool,
}

/// Decide the confinement for this attach.
pub fn plan(name: &str, lxcpath: &str, ctx: &InitContext, opts: &AttachOptions) -> Confinement {
    let mut c = Confinement::default();
    if opts.flags & options::DROP_CAPABILITIES != 0 {
        c.cap_bounding = ctx.cap_bounding;
    }
    c.no_new_privs = ctx.no_new_privs || opts.flags & options::NO_NEW_PRIVS != 0;
    if opts.flags & options::LSM != 0 {
        c.lsm_label = ctx.lsm_label.clone();
    }
    // LXC 4.0 loads the container's configured policy again for attached processes (the
    // flag for it is part of the default set; `-e` does not turn it off).
    let rc = opts.rcfile.as_deref();
    let profile = super::config_item(name, lxcpath, rc, "lxc.seccomp.profile");
    if let Some(p) = profile.filter(|p| !p.trim().is_empty()) {
        let path = PathBuf::from(p.trim());
        match rlxc_security::seccomp::read_policy(&path) {
            Ok(pol) => c.seccomp = Some((path, pol)),
            Err(e) => warn!("container {name:?}: cannot read seccomp policy {}: {e}; attached process unfiltered", path.display()),
        }
        c.seccomp_allow_nesting = super::config_item(name, lxcpath, rc, "lxc.seccomp.allow_nesting")
            .map(|v| v.trim() == "1")
            .unwrap_or(false);
    } else if ctx.seccomp_mode == 2 {
        debug!("init of {name:?} runs under a seccomp filter the monitor did not name; not copied");
    }
    c
}

impl Confinement {
    /// Step 1 (still privileged, before the terminal and ids): the bounding set.
    pub fn apply_capabilities(&self) -> Result<(), String> {
        if let Some(mask) = self.cap_bounding {
            rlxc_security::caps::limit_bounding_to(mask).map_err(|e| format!("cannot drop capabilities: {e}"))?;
        }
        Ok(())
    }

    /// Step 2 (after the namespace-root id switch, before the final ids): no_new_privs, then
    /// the LSM label, then seccomp — LXC's order; no_new_privs must follow nothing that needs
    /// privilege gains and seccomp needs either it or CAP_SYS_ADMIN.
    pub fn apply_lsm_nnp_seccomp(&self) -> Result<(), String> {
        if self.no_new_privs {
            rlxc_sys::caps::set_no_new_privs().map_err(|e| format!("cannot set no_new_privs: {e}"))?;
        }
        if let Some(label) = &self.lsm_label {
            if rlxc_security::selinux::enabled() {
                rlxc_security::selinux::set_exec_label(label).map_err(|e| format!("cannot set SELinux label: {e}"))?;
            } else {
                apparmor_change_profile(label)?;
            }
        }
        if let Some((path, pol)) = &self.seccomp {
            rlxc_security::seccomp::load_policy(pol, self.seccomp_allow_nesting)
                .map_err(|e| format!("cannot load seccomp policy {}: {e}", path.display()))?;
        }
        Ok(())
    }
}

/// Switch to AppArmor profile `label` now (LXC uses `changeprofile`, not exec-time transitions).
fn apparmor_change_profile(label: &str) -> Result<(), String> {
    let new_api = std::path::Path::new("/proc/thread-self/attr/apparmor/current");
    let path = if new_api.exists() { new_api } else { std::path::Path::new("/proc/thread-self/attr/current") };
    std::fs::write(path, format!("changeprofile {label}"))
        .map_err(|e| format!("cannot change to AppArmor profile {label:?} via {}: {e}", path.display()))
}
