//! Confinement of a container, in LXC 4.0's order (spec §5.8). The building blocks live in
//! `rlxc-security`; this module decides when each runs and what from the config feeds it.
//!
//! Start path (who calls what, in this order):
//!
//! | phase | side | call |
//! | --- | --- | --- |
//! | before anything starts | monitor | [`check_config`] (lxc.cap.keep + lxc.cap.drop → error) |
//! | after pre-start hooks, before clone | monitor | [`prepare`] → [`SecurityPlan`] (parses the seccomp policy, chooses/generates/loads the AppArmor profile) |
//! | child start, before waiting for id maps | child | [`raise_ambient_caps`] |
//! | after rootfs mount, before network (lxc_setup step 3) | child | [`join_session_keyring`] |
//! | after the clone (LXC phase 10) | monitor | [`write_proc_settings`] (`lxc.proc.*`) |
//! | LXC phase 12 | monitor | [`apply_prlimits`] (`lxc.prlimit.*`) |
//! | after pivot_root, personality (lxc_setup step 12) | child | [`write_sysctls`] |
//! | end of lxc_setup | child | [`drop_capabilities`] |
//! | right after lxc_setup, before start hooks | child | [`apply_lsm_and_seccomp`] → notify fd, send it to the monitor |
//! | just before exec, after the uid/gid switch | child | [`clear_ambient_caps`] |
//! | monitor loop | monitor | [`notify_handler`] → `NotifyHandler::fd()` / `handle_ready()` |
//! | after stop hooks | monitor | [`cleanup`] (unloads a generated AppArmor profile) |
//!
//! The child is a fork of the monitor, so the plan [`prepare`] made is remembered in this process
//! and used by [`apply_lsm_and_seccomp`] in the child without re-reading anything (after
//! pivot_root the policy file and `/sys` are out of reach).
//!
//! `lxc.keyring.session` quirk (spec §1.2): LXC 4.0's setter stores the value in
//! `keyring_disable_session`, so in LXC's code `= 1` *disables* the fresh keyring, the opposite of
//! its man page. rlxc follows the man page: `= 1` or unset gives a new session keyring (the
//! container can't reach the host session's keys), `= 0` keeps the caller's. See
//! [`wants_new_session_keyring`].

use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::Mutex;

use rlxc_config::seccomp::SeccompPolicy;
use rlxc_config::ContainerConfig;
use rlxc_security::apparmor;
use rlxc_security::caps::{self, CapPlan};
use rlxc_security::limits::{self, Limit};
pub use rlxc_security::notify::{self, NotifyHandler};
use rlxc_security::{keyring, seccomp, selinux};
pub use rlxc_security::{Result, SecurityError};
use tracing::{debug, info, warn};

/// Everything decided on the monitor side before the clone.
#[derive(Clone, Debug, Default)]
pub struct SecurityPlan {
    /// Bounding-set plan from `lxc.cap.drop` / `lxc.cap.keep`.
    pub caps: Option<CapPlan>,
    /// The parsed `lxc.seccomp.profile`.
    pub seccomp: Option<SeccompPolicy>,
    /// `lxc.seccomp.allow_nesting`.
    pub seccomp_allow_nesting: bool,
    /// AppArmor decision (label to apply, generated profile to unload).
    pub apparmor: apparmor::Plan,
    /// `lxc.selinux.context` when SELinux is enabled.
    pub selinux_context: Option<String>,
    /// Label of the session keyring when SELinux is enabled.
    pub keyring_context: Option<String>,
    /// `lxc.no_new_privs`.
    pub no_new_privs: bool,
    /// Highest capability number on this kernel (read while /proc is reachable).
    pub last_cap: u32,
}

/// The plan of the container this process is starting (the child inherits it through fork).
static PLAN: Mutex<Option<SecurityPlan>> = Mutex::new(None);

fn remember(plan: &SecurityPlan) {
    if let Ok(mut slot) = PLAN.lock() {
        *slot = Some(plan.clone());
    }
}

fn remembered() -> Option<SecurityPlan> {
    PLAN.lock().ok().and_then(|p| p.clone())
}

fn last_cap() -> Result<u32> {
    rlxc_sys::caps::cap_last_cap().map_err(|e| SecurityError::io("determining the last capability", e))
}

/// Refuse configurations LXC refuses before anything starts: `lxc.cap.keep` together with
/// `lxc.cap.drop`, unknown capabilities, a bad `lxc.seccomp.notify.proxy`.
pub fn check_config(conf: &ContainerConfig) -> Result<()> {
    caps::plan(&conf.cap_drop, &conf.cap_keep, last_cap()?)?;
    if let Some(p) = &conf.seccomp.notify_proxy {
        rlxc_security::notify::parse_proxy_addr(p)?;
    }
    Ok(())
}

/// Whether `lxc.apparmor.allow_incomplete = 0` was written explicitly (a demand for AppArmor).
fn demands_complete_apparmor(conf: &ContainerConfig) -> bool {
    conf.origins.iter().rev().find(|o| o.key == "lxc.apparmor.allow_incomplete").is_some_and(|o| o.value.trim() == "0")
}

fn kernel_has_cgroupns() -> bool {
    Path::new("/proc/self/ns/cgroup").exists()
}

/// Monitor side, before the clone: check the config, parse the seccomp policy, decide (and for
/// `generated`, write and load) the AppArmor profile. The plan is remembered for the child.
pub fn prepare(conf: &ContainerConfig, name: &str, lxcpath: &str) -> Result<SecurityPlan> {
    let last_cap = last_cap()?;
    let cap_plan = caps::plan(&conf.cap_drop, &conf.cap_keep, last_cap)?;
    let seccomp = match conf.seccomp.profile.as_deref().filter(|p| !p.is_empty()) {
        Some(path) => {
            let policy = seccomp::read_policy(Path::new(path))?;
            // Build once now so a policy libseccomp rejects fails the start here, not in the child.
            let filter = seccomp::compile(&policy, seccomp::native_arch())?;
            for w in &filter.warnings {
                warn!("lxc.seccomp.profile {path}: {w}");
            }
            Some(policy)
        }
        None => None,
    };
    if let Some(p) = &conf.seccomp.notify_proxy {
        rlxc_security::notify::parse_proxy_addr(p)?;
    }
    let req = apparmor::Request {
        profile: conf.apparmor.profile.as_deref(),
        allow_incomplete: conf.apparmor.allow_incomplete,
        demand_complete: demands_complete_apparmor(conf),
        allow_nesting: conf.apparmor.allow_nesting,
        raw: &conf.apparmor.raw,
        name,
        lxcpath,
        unprivileged: conf.is_unprivileged(),
        cgns: kernel_has_cgroupns(),
    };
    let aa = apparmor::prepare(&req)?;
    let se_on = selinux::enabled();
    let selinux_context = conf.selinux.context.clone().filter(|_| se_on);
    if !se_on && (conf.selinux.context.is_some() || conf.selinux.context_keyring.is_some()) {
        info!("lxc.selinux.context ignored: SELinux is not enabled on this host");
    }
    let keyring_context =
        conf.selinux.context_keyring.clone().or_else(|| conf.selinux.context.clone()).filter(|_| se_on);
    let plan = SecurityPlan {
        caps: Some(cap_plan),
        seccomp,
        seccomp_allow_nesting: conf.seccomp.allow_nesting,
        apparmor: aa,
        selinux_context,
        keyring_context,
        no_new_privs: conf.no_new_privs,
        last_cap,
    };
    remember(&plan);
    Ok(plan)
}

/// Monitor side, after the container stopped: unload a generated AppArmor profile and remove
/// its file and namespace.
pub fn cleanup(plan: &SecurityPlan) {
    apparmor::cleanup(&plan.apparmor);
}

/// Whether the container gets a fresh session keyring. Decision on the LXC 4.0 quirk: we follow
/// the man page (and the behaviour users ask for when they write the key): `lxc.keyring.session
/// = 1` (and the default) creates a new keyring, `= 0` keeps the caller's. LXC's code does the
/// opposite for explicit values because its setter writes `keyring_disable_session`; the raw
/// value is read from the config's origins so this holds whatever the model field is named.
pub fn wants_new_session_keyring(conf: &ContainerConfig) -> bool {
    match conf.origins.iter().rev().find(|o| o.key == "lxc.keyring.session") {
        Some(o) => !matches!(o.value.trim().to_ascii_lowercase().as_str(), "0" | "false" | "no" | "off"),
        None => !conf.keyring.disable_session,
    }
}

/// Child side (lxc_setup step 3): join a fresh session keyring unless the config disables it
/// (see [`wants_new_session_keyring`]).
pub fn join_session_keyring(conf: &ContainerConfig) -> Result<()> {
    if !wants_new_session_keyring(conf) {
        debug!("lxc.keyring.session: keeping the caller's session keyring");
        return Ok(());
    }
    let label = match remembered() {
        Some(p) => p.keyring_context,
        None => {
            conf.selinux.context_keyring.clone().or_else(|| conf.selinux.context.clone()).filter(|_| selinux::enabled())
        }
    };
    keyring::join_new_session_keyring(label.as_deref()).map(|_| ())
}

/// Child side, early: raise the permitted capabilities into the ambient set so they survive the
/// switch to the namespace root; [`clear_ambient_caps`] undoes it before exec.
pub fn raise_ambient_caps() -> Result<()> {
    caps::raise_ambient()
}

/// Child side, right before exec: empty the ambient set.
pub fn clear_ambient_caps() -> Result<()> {
    caps::clear_ambient()
}

/// Child side, end of lxc_setup: apply `lxc.cap.keep` / `lxc.cap.drop` to the bounding set.
pub fn drop_capabilities(conf: &ContainerConfig) -> Result<()> {
    let plan = match remembered().and_then(|p| p.caps) {
        Some(p) => p,
        None => caps::plan(&conf.cap_drop, &conf.cap_keep, last_cap()?)?,
    };
    caps::apply_plan(&plan)
}

/// Child side, lxc_setup step 12: write `lxc.sysctl.*` inside the container.
pub fn write_sysctls(conf: &ContainerConfig) -> Result<()> {
    limits::write_sysctls(&conf.sysctls)
}

/// Monitor side: `lxc.prlimit.*` on the container's init.
pub fn apply_prlimits(conf: &ContainerConfig, pid: i32) -> Result<()> {
    let list: Vec<(String, Limit)> = conf
        .prlimits
        .iter()
        .map(|p| (p.resource.clone(), Limit { resource: p.resource_id, soft: p.soft.as_raw(), hard: p.hard.as_raw() }))
        .collect();
    limits::apply_prlimits(pid, &list)
}

/// Monitor side: `lxc.proc.*` into `/proc/<pid>/`.
pub fn write_proc_settings(conf: &ContainerConfig, pid: i32) -> Result<()> {
    limits::write_procs(pid, &conf.procs)
}

/// Run `f` with `/proc` usable: after pivot_root a rootfs without a mounted /proc gets a
/// temporary one (LXC's "temporary /proc for LSM"), unmounted afterwards.
fn with_proc<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    if Path::new("/proc/thread-self/attr").exists() {
        return f();
    }
    let target = Path::new("/proc");
    let _ = std::fs::create_dir_all(target);
    rlxc_sys::mount::mount(Some("proc"), target, Some("proc"), 0, None)
        .map_err(|e| SecurityError::io("mounting a temporary /proc to set the LSM label", e))?;
    let r = f();
    if let Err(e) = rlxc_sys::mount::umount2(target, libc::MNT_DETACH) {
        warn!("unmounting the temporary /proc: {e}");
    }
    r
}

/// The plan for the child: the one [`prepare`] remembered, else built from the config now.
fn child_plan(conf: &ContainerConfig) -> Result<SecurityPlan> {
    if let Some(p) = remembered() {
        return Ok(p);
    }
    warn!("security::prepare was not called before the clone; reading the security settings in the child");
    let seccomp = match conf.seccomp.profile.as_deref().filter(|p| !p.is_empty()) {
        Some(path) => Some(seccomp::read_policy(Path::new(path))?),
        None => None,
    };
    Ok(SecurityPlan {
        caps: None,
        seccomp,
        seccomp_allow_nesting: conf.seccomp.allow_nesting,
        apparmor: apparmor::Plan::default(),
        selinux_context: conf.selinux.context.clone().filter(|_| selinux::enabled()),
        keyring_context: None,
        no_new_privs: conf.no_new_privs,
        last_cap: last_cap()?,
    })
}

/// Child side, after lxc_setup: LSM label (AppArmor now, SELinux at exec), then
/// `PR_SET_NO_NEW_PRIVS` (must follow the LSM change), then the seccomp filter. Returns the
/// seccomp notify listener when the policy has `notify` rules: send it to the monitor.
pub fn apply_lsm_and_seccomp(conf: &ContainerConfig) -> Result<Option<OwnedFd>> {
    let plan = child_plan(conf)?;
    apply_plan_confinement(&plan)
}

fn apply_plan_confinement(plan: &SecurityPlan) -> Result<Option<OwnedFd>> {
    if plan.apparmor.label.is_some() || plan.selinux_context.is_some() {
        with_proc(|| {
            if let Some(label) = &plan.apparmor.label {
                apparmor::apply_label(label)?;
            }
            if let Some(ctx) = &plan.selinux_context {
                selinux::set_exec_label(ctx)?;
            }
            Ok(())
        })?;
    }
    if plan.no_new_privs {
        rlxc_sys::caps::set_no_new_privs().map_err(|e| SecurityError::io("PR_SET_NO_NEW_PRIVS", e))?;
        debug!("no_new_privs set");
    }
    match &plan.seccomp {
        Some(policy) => seccomp::load_policy(policy, plan.seccomp_allow_nesting),
        None => Ok(None),
    }
}

/// Monitor side: take over the notify listener the child sent, connecting to
/// `lxc.seccomp.notify.proxy` if set. Poll `fd()` and call `handle_ready()` when readable;
/// drop the handler when `handle_ready()` returns false. The same handler serves listeners
/// added later with the SECCOMP_NOTIFY_ADD_LISTENER command (13).
pub fn notify_handler(conf: &ContainerConfig, listener: OwnedFd, init_pid: i32) -> Result<NotifyHandler> {
    NotifyHandler::new(listener, conf.seccomp.notify_proxy.as_deref(), conf.seccomp.notify_cookie.as_deref(), init_pid)
}

/// What an attached process keeps (lxc-attach options).
#[derive(Clone, Debug, Default)]
pub struct AttachOptions {
    /// Keep all capabilities (`lxc-attach -e` / no LXC_ATTACH_DROP_CAPABILITIES).
    pub keep_capabilities: bool,
    /// Skip the LSM label (`-e` / no LXC_ATTACH_LSM_EXEC).
    pub skip_lsm: bool,
    /// Set `PR_SET_NO_NEW_PRIVS` (LXC_ATTACH_NO_NEW_PRIVS, or `lxc.no_new_privs`).
    pub no_new_privs: bool,
}

/// Attach confinement decided before entering the container (needs the host's /proc).
#[derive(Clone, Debug, Default)]
pub struct AttachConfinement {
    /// Bounding set of the container's init (`CapBnd`), None = keep ours.
    pub bounding: Option<u64>,
    /// Label of the container's init to switch to (AppArmor).
    pub apparmor_label: Option<String>,
    /// SELinux context for exec.
    pub selinux_context: Option<String>,
    /// Set no_new_privs.
    pub no_new_privs: bool,
    /// The container's seccomp policy.
    pub seccomp: Option<SeccompPolicy>,
    /// `lxc.seccomp.allow_nesting`.
    pub seccomp_allow_nesting: bool,
}

/// Attach, parent side before setns: read init's bounding set and label, parse the policy.
pub fn attach_prepare(conf: &ContainerConfig, init_pid: i32, options: &AttachOptions) -> Result<AttachConfinement> {
    let bounding = if options.keep_capabilities { None } else { Some(caps::bounding_of_pid(init_pid)?) };
    let apparmor_label = if options.skip_lsm || !apparmor::features().enabled {
        None
    } else {
        let raw = std::fs::read_to_string(format!("/proc/{init_pid}/attr/current")).unwrap_or_default();
        let raw = raw.trim_end_matches(['\n', '\0']).trim();
        let label = raw.strip_suffix(')').and_then(|t| t.rsplit_once(" (")).map_or(raw, |(l, _)| l);
        Some(label.to_string()).filter(|l| !l.is_empty() && l != "unconfined")
    };
    let selinux_context =
        if options.skip_lsm { None } else { conf.selinux.context.clone().filter(|_| selinux::enabled()) };
    let seccomp = match conf.seccomp.profile.as_deref().filter(|p| !p.is_empty()) {
        Some(path) => Some(seccomp::read_policy(Path::new(path))?),
        None => None,
    };
    Ok(AttachConfinement {
        bounding,
        apparmor_label,
        selinux_context,
        no_new_privs: options.no_new_privs || conf.no_new_privs,
        seccomp,
        seccomp_allow_nesting: conf.seccomp.allow_nesting,
    })
}

/// Attach, in the attached child: capability bounding set to init's, then LSM label,
/// no_new_privs and seccomp. Call it before the final uid/gid switch (loading seccomp without
/// no_new_privs needs CAP_SYS_ADMIN). Returns the notify listener if the policy has `notify`
/// rules (send it to the monitor with SECCOMP_NOTIFY_ADD_LISTENER).
pub fn attach_confine(init_pid: i32, c: &AttachConfinement) -> Result<Option<OwnedFd>> {
    if let Some(mask) = c.bounding {
        caps::limit_bounding_to(mask)?;
        debug!("attach: bounding set limited to that of init {init_pid} ({mask:#x})");
    }
    let plan = SecurityPlan {
        caps: None,
        seccomp: c.seccomp.clone(),
        seccomp_allow_nesting: c.seccomp_allow_nesting,
        apparmor: apparmor::Plan { label: c.apparmor_label.clone(), generated: None },
        selinux_context: c.selinux_context.clone(),
        keyring_context: None,
        no_new_privs: c.no_new_privs,
        last_cap: 0,
    };
    apply_plan_confinement(&plan)
}
