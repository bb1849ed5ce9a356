//! The container's confinement, copied onto an attached process: init's capability bounding
//! set, the LSM label, no_new_privs and the seccomp policy (LXC's attach order, spec 5.8).
//!
//! The security work owns the policy ([`crate::security::attach_prepare`] in the parent,
//! [`crate::security::attach_confine`] in the attached child); this module maps lxc-attach's
//! flags onto its options and keeps the result for the child.

use rlxc_config::ContainerConfig;
use tracing::warn;

use super::context::InitContext;
use super::options::{self, AttachOptions};
use crate::security;

/// What to apply in the attached child; prepared in the parent (host view of paths).
#[derive(Debug, Default)]
pub struct Confinement {
    /// The security module's plan; `None` when nothing is to be applied.
    pub plan: Option<security::AttachConfinement>,
    /// Init's pid, for the security module's messages.
    pub init_pid: i32,
}

/// Decide the confinement for this attach from the container's config (on disk or `-f`) and
/// what init runs with.
pub fn plan(conf: &ContainerConfig, ctx: &InitContext, opts: &AttachOptions) -> Result<Confinement, String> {
    let sec_opts = security::AttachOptions {
        keep_capabilities: opts.flags & options::DROP_CAPABILITIES == 0,
        skip_lsm: opts.flags & options::LSM == 0,
        no_new_privs: opts.flags & options::NO_NEW_PRIVS != 0 || ctx.no_new_privs,
    };
    let mut plan = security::attach_prepare(conf, ctx.pid, &sec_opts).map_err(|e| e.to_string())?;
    // An init that already runs without an LSM label of our knowing keeps none for us either.
    if plan.apparmor_label.is_none() && ctx.lsm_label.is_some() && !sec_opts.skip_lsm {
        warn!("init runs under LSM label {:?} that will not be applied to the attached process", ctx.lsm_label);
    }
    if plan.seccomp.is_none() && ctx.seccomp_mode == 2 {
        warn!("init of the container runs under a seccomp filter that is not in its config; not copied");
    }
    if sec_opts.keep_capabilities {
        plan.bounding = None;
    }
    Ok(Confinement { plan: Some(plan), init_pid: ctx.pid })
}

impl Confinement {
    /// In the attached child, before the final uid/gid switch: bounding set, LSM label,
    /// no_new_privs, seccomp.
    pub fn apply(&self) -> Result<(), String> {
        let Some(plan) = &self.plan else { return Ok(()) };
        match security::attach_confine(self.init_pid, plan) {
            Ok(None) => Ok(()),
            Ok(Some(_listener)) => {
                // The notify listener would have to travel back to lxc-attach and on to the
                // monitor (SECCOMP_NOTIFY_ADD_LISTENER); not wired yet, so notify rules answer
                // ENOSYS for attached processes.
                warn!("seccomp notify rules are not proxied for attached processes");
                Ok(())
            }
            Err(e) => Err(format!("cannot confine the attached process: {e}")),
        }
    }
}
