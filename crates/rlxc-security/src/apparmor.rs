//! AppArmor: choosing the container's profile (`lxc.apparmor.profile`), generating and loading
//! per-container profiles (`generated`) into their own policy namespace, applying the label in
//! the child, and unloading on stop.
//!
//! On a host without AppArmor, LXC's "nop" LSM applies: a configured profile is skipped with a
//! warning. An explicit `lxc.apparmor.allow_incomplete = 0` is taken as a demand for full
//! AppArmor confinement, so there a missing AppArmor (or mount mediation) is a start error.

use std::path::{Path, PathBuf};
use std::process::Command;

use tracing::{debug, info, warn};

use crate::error::{Result, SecurityError};

/// The base rules every container profile includes (our `config/apparmor/abstractions/lxc/container-base`).
pub const CONTAINER_BASE: &str = include_str!("../../../config/apparmor/abstractions/lxc/container-base");

/// securityfs directory of AppArmor.
const AA_FS: &str = "/sys/kernel/security/apparmor";
/// Where apparmor_parser caches compiled generated profiles (LXC: `$localstatedir/cache/lxc/apparmor`).
pub const CACHE_DIR: &str = "/var/cache/lxc/apparmor";
/// Longest profile name before LXC hashes it.
const MAX_NAME: usize = 246;

fn lsm_err(message: impl Into<String>) -> SecurityError {
    SecurityError::Lsm { lsm: "apparmor", message: message.into() }
}

/// What the host's AppArmor can do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// The module is enabled and securityfs is mounted.
    pub enabled: bool,
    /// Mount rules are mediated (without them file rules are incomplete protection).
    pub mount_mediation: bool,
    /// Profile stacking and policy namespaces (`features/domain/stack`).
    pub stacking: bool,
    /// Unix socket mediation.
    pub unix: bool,
}

/// Probe the running kernel.
pub fn features() -> Features {
    let enabled =
        std::fs::read_to_string("/sys/module/apparmor/parameters/enabled").map(|s| s.trim() == "Y").unwrap_or(false)
            && Path::new(AA_FS).join("profiles").exists();
    let has = |p: &str| enabled && Path::new(AA_FS).join("features").join(p).exists();
    Features {
        enabled,
        // LXC's AA_MOUNT_RESTR: the `mask` file, not the directory (which an administrator
        // can mask with an empty bind mount, as lxc-test-apparmor-mount does).
        mount_mediation: has("mount/mask"),
        stacking: has("domain/stack") && has("domain/version"),
        unix: has("network/af_unix"),
    }
}

/// The label of the calling process (`unconfined` when AppArmor is off).
pub fn current_label() -> String {
    for p in ["/proc/thread-self/attr/apparmor/current", "/proc/thread-self/attr/current"] {
        if let Ok(s) = std::fs::read_to_string(p) {
            let s = s.trim_end_matches(['\n', '\0']).trim();
            // "name (enforce)" → "name".
            let label = s.strip_suffix(')').and_then(|t| t.rsplit_once(" (")).map_or(s, |(l, _)| l);
            return label.to_string();
        }
    }
    "unconfined".into()
}

/// Name LXC gives a container's generated profile and its policy namespace:
/// `lxc-<name>_<<lxcpath>>`, or `lxc-<fnv64 hex>` if that is too long.
pub fn generated_name(name: &str, lxcpath: &str) -> String {
    let full = format!("lxc-{name}_<{lxcpath}>");
    if full.len() <= MAX_NAME {
        full
    } else {
        format!("lxc-{:016x}", fnv64(full.as_bytes()))
    }
}

fn fnv64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// File name (no `/`) under which the generated profile is written.
pub fn sanitized(name: &str) -> String {
    name.chars().map(|c| if c == '/' { '-' } else { c }).collect()
}

/// Text of a generated per-container profile.
pub fn generate_profile(
    profile: &str,
    feat: Features,
    cgns: bool,
    allow_nesting: bool,
    unprivileged: bool,
    raw: &[String],
) -> String {
    let mut p = String::new();
    p.push_str(&format!("profile \"{profile}\" flags=(attach_disconnected,mediate_deleted) {{\n"));
    p.push_str("  ### Base profile\n");
    for line in CONTAINER_BASE.lines() {
        p.push_str("  ");
        p.push_str(line);
        p.push('\n');
    }
    if feat.unix {
        p.push_str("\n  ### Feature: unix\n  unix,\n");
    }
    if cgns {
        p.push_str("\n  ### Feature: cgroup namespace\n  mount fstype=cgroup -> /sys/fs/cgroup/**,\n  mount fstype=cgroup2 -> /sys/fs/cgroup/**,\n");
    }
    if feat.stacking {
        let ns = sanitized(profile);
        p.push_str(&format!(
            "\n  ### Feature: apparmor stacking (the container manages its own namespace)\n  change_profile -> \":{ns}:*\",\n  change_profile -> \":{ns}://*\",\n"
        ));
    } else {
        p.push_str("\n  ### Feature: apparmor stacking (not present)\n  deny /sys/k*{,/**} rwklx,\n");
    }
    if allow_nesting {
        p.push_str("\n  ### Configuration: nesting\n  pivot_root,\n  ptrace,\n  signal,\n  deny /dev/.lxc/proc/** rw,\n  deny /dev/.lxc/sys/** rw,\n  mount fstype=proc -> /var/cache/lxc/**,\n  mount fstype=sysfs -> /var/cache/lxc/**,\n  mount options=(rw,bind),\n  mount fstype=cgroup -> /sys/fs/cgroup/**,\n  mount fstype=cgroup2 -> /sys/fs/cgroup/**,\n");
    }
    if unprivileged {
        p.push_str("\n  ### Configuration: unprivileged container\n  pivot_root,\n  ptrace,\n  signal,\n");
    }
    if !raw.is_empty() {
        p.push_str("\n  ### Configuration: raw\n");
        for r in raw {
            p.push_str("  ");
            p.push_str(r.trim());
            p.push('\n');
        }
    }
    p.push_str("}\n");
    p
}

/// What was decided for a container (monitor side); the child applies `label`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Label to switch to before exec (None = leave the label alone).
    pub label: Option<String>,
    /// Generated profile loaded for this container, to unload on stop.
    pub generated: Option<Generated>,
}

/// A generated profile that is loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    /// Profile (and namespace) name.
    pub name: String,
    /// Profile file.
    pub path: PathBuf,
    /// Whether a policy namespace was created for it.
    pub namespace: bool,
}

/// Inputs of [`prepare`].
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    /// `lxc.apparmor.profile`.
    pub profile: Option<&'a str>,
    /// `lxc.apparmor.allow_incomplete`.
    pub allow_incomplete: bool,
    /// `lxc.apparmor.allow_incomplete = 0` was written explicitly: AppArmor is required.
    pub demand_complete: bool,
    /// `lxc.apparmor.allow_nesting`.
    pub allow_nesting: bool,
    /// `lxc.apparmor.raw`.
    pub raw: &'a [String],
    /// Container name.
    pub name: &'a str,
    /// lxcpath.
    pub lxcpath: &'a str,
    /// The container has an idmap.
    pub unprivileged: bool,
    /// The kernel has cgroup namespaces.
    pub cgns: bool,
}

/// Decide the label and, for `generated`, write and load the profile (LXC's `apparmor_prepare`).
/// One of our shipped profiles that the kernel doesn't have yet is loaded from the installed
/// `share/rlxc/config/apparmor` (what the distribution's boot-time loader does for LXC).
pub fn prepare(req: &Request<'_>) -> Result<Plan> {
    let plan = prepare_with(req, features(), &current_label())?;
    if let Some(label) = plan.label.as_deref() {
        // A user cannot list (or load) policy: as LXC, it relies on the profile being loaded
        // by the administrator, and the exec into it fails clearly otherwise.
        let visible = std::fs::File::open(Path::new(AA_FS).join("profiles")).is_ok();
        if !visible {
            info!("cannot list the loaded AppArmor profiles as this user: assuming {label} is loaded");
        }
        if plan.generated.is_none() && visible && !is_loaded(label) {
            if let Some(file) = SHIPPED.iter().find(|(n, _)| *n == label).map(|(_, f)| *f) {
                load_shipped(label, file)?;
            }
        }
    }
    Ok(plan)
}

/// Our profiles: (profile name, file under `profiles/`).
const SHIPPED: [(&str, &str); 4] = [
    ("lxc-container-default", "lxc-default"),
    ("lxc-container-default-cgns", "lxc-default-cgns"),
    ("lxc-container-default-with-mounting", "lxc-default-with-mounting"),
    ("lxc-container-default-with-nesting", "lxc-default-with-nesting"),
];

/// Whether a profile of that name is loaded in the kernel.
pub fn is_loaded(name: &str) -> bool {
    std::fs::read_to_string(Path::new(AA_FS).join("profiles"))
        .map(|t| t.lines().any(|l| l.rsplit_once(" (").map_or(l, |(n, _)| n) == name))
        .unwrap_or(false)
}

/// Directories that may hold our installed policy (`abstractions/lxc/`, `profiles/`).
fn policy_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    // origin_exe, not current_exe: start runs from a sealed image (private overlay or memfd)
    // whose path says nothing about where rlxc is installed.
    if let Ok(exe) = rlxc_sys::sealed_exe::origin_exe() {
        if let Some(prefix) = exe.parent().and_then(Path::parent) {
            dirs.push(prefix.join("share/rlxc/config/apparmor"));
        }
    }
    dirs.push(PathBuf::from("/usr/local/share/rlxc/config/apparmor"));
    dirs.push(PathBuf::from("/usr/share/rlxc/config/apparmor"));
    dirs
}

fn load_shipped(name: &str, file: &str) -> Result<()> {
    let Some(dir) = policy_dirs().into_iter().find(|d| d.join("profiles").join(file).exists()) else {
        return Err(lsm_err(format!(
            "profile {name} is not loaded and rlxc's policy files are not installed (load it with apparmor_parser, or set lxc.apparmor.profile)"
        )));
    };
    let path = dir.join("profiles").join(file);
    let out = Command::new("apparmor_parser")
        .arg("-r")
        .arg("-I")
        .arg(&dir)
        .arg("-I")
        .arg("/etc/apparmor.d")
        .arg("--")
        .arg(&path)
        .output()
        .map_err(|e| lsm_err(format!("running apparmor_parser (is it installed?): {e}")))?;
    if !out.status.success() {
        return Err(lsm_err(format!("loading {}: {}", path.display(), String::from_utf8_lossy(&out.stderr).trim())));
    }
    info!("loaded AppArmor profile {name} from {}", path.display());
    Ok(())
}

/// [`prepare`] with the host probed by the caller (tests).
pub fn prepare_with(req: &Request<'_>, feat: Features, current: &str) -> Result<Plan> {
    let wanted = req.profile.map(str::trim).filter(|p| !p.is_empty());
    if !feat.enabled {
        if req.demand_complete && wanted.is_some_and(|p| p != "unconfined" && p != "unchanged") {
            return Err(SecurityError::config(
                "lxc.apparmor.allow_incomplete",
                format!(
                    "lxc.apparmor.profile = {} needs AppArmor, which this host does not have; set lxc.apparmor.allow_incomplete = 1 to start without it",
                    wanted.unwrap_or("")
                ),
            ));
        }
        if let Some(p) = wanted.filter(|p| *p != "unconfined" && *p != "unchanged") {
            warn!("lxc.apparmor.profile = {p} skipped: AppArmor is not enabled on this host");
        }
        return Ok(Plan::default());
    }
    if wanted == Some("unchanged") {
        return Ok(Plan::default());
    }
    let default = if req.cgns { "lxc-container-default-cgns" } else { "lxc-container-default" };
    let chosen = wanted.unwrap_or(default);
    if chosen != "unconfined" && !feat.mount_mediation && !req.allow_incomplete {
        return Err(SecurityError::config(
            "lxc.apparmor.allow_incomplete",
            "the kernel lacks AppArmor mount mediation, so the profile would be incomplete; set lxc.apparmor.allow_incomplete = 1 to start anyway",
        ));
    }
    let current_confined = current != "unconfined";
    if chosen == "generated" {
        let name = generated_name(req.name, req.lxcpath);
        let dir = Path::new(req.lxcpath).join(req.name).join("apparmor");
        let path = dir.join(sanitized(&name));
        let text = generate_profile(&name, feat, req.cgns, req.allow_nesting, req.unprivileged, req.raw);
        std::fs::create_dir_all(&dir).map_err(|e| SecurityError::io(format!("creating {}", dir.display()), e))?;
        std::fs::write(&path, text).map_err(|e| SecurityError::io(format!("writing {}", path.display()), e))?;
        // The policy namespace is the profile name with '/' turned into '-' (as in LXC).
        let ns_name = sanitized(&name);
        let namespace = feat.stacking && create_namespace(&ns_name)?;
        if let Err(e) = run_parser('r', &path) {
            if namespace {
                remove_namespace(&ns_name);
            }
            return Err(e);
        }
        info!("generated AppArmor profile {name} loaded from {}", path.display());
        // LXC 4.0's label: the profile stacked with the namespace (shown as `...:unconfined`).
        let label = if namespace { format!("{name}//&:{ns_name}:") } else { name.clone() };
        return Ok(Plan { label: Some(label), generated: Some(Generated { name, path, namespace }) });
    }
    if current_confined && !feat.stacking && current != chosen {
        return Err(lsm_err(format!(
            "already confined by \"{current}\" and the kernel cannot stack profiles; the container can only use that same profile (lxc.apparmor.profile = {current})"
        )));
    }
    Ok(Plan { label: Some(chosen.to_string()), generated: None })
}

fn create_namespace(name: &str) -> Result<bool> {
    let dir = Path::new(AA_FS).join("policy/namespaces").join(name);
    match std::fs::create_dir(&dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(true),
        Err(e) => Err(SecurityError::io(format!("creating AppArmor namespace {}", dir.display()), e)),
    }
}

fn remove_namespace(name: &str) {
    let dir = Path::new(AA_FS).join("policy/namespaces").join(name);
    if let Err(e) = std::fs::remove_dir(&dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            warn!("removing AppArmor namespace {}: {e}", dir.display());
        }
    }
}

fn run_parser(command: char, path: &Path) -> Result<()> {
    let mut cmd = Command::new("apparmor_parser");
    if command == 'R' {
        cmd.arg("-R");
    } else {
        let _ = std::fs::create_dir_all(CACHE_DIR);
        cmd.arg(format!("-{command}WL")).arg(CACHE_DIR);
    }
    cmd.arg("--").arg(path);
    debug!("running {cmd:?}");
    let out = cmd.output().map_err(|e| lsm_err(format!("running apparmor_parser (is it installed?): {e}")))?;
    if !out.status.success() {
        return Err(lsm_err(format!(
            "apparmor_parser -{command} {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Unload a generated profile and its namespace, and remove the file (on stop).
pub fn cleanup(plan: &Plan) {
    let Some(g) = &plan.generated else { return };
    if let Err(e) = run_parser('R', &g.path) {
        warn!("unloading AppArmor profile {}: {e}", g.name);
    }
    if g.namespace {
        remove_namespace(&sanitized(&g.name));
    }
    if let Err(e) = std::fs::remove_file(&g.path) {
        debug!("removing {}: {e}", g.path.display());
    }
    if let Some(dir) = g.path.parent() {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Switch the calling thread to `label` now (`changeprofile`, LXC does not use exec-time
/// transitions for AppArmor). `unconfined` when already unconfined is a no-op. The caller
/// decided on the host that AppArmor is on ([`prepare`]); this does not probe again because
/// after pivot_root `/sys` may be absent, and a silent skip would leave the container unconfined.
pub fn apply_label(label: &str) -> Result<()> {
    if label == "unconfined" && current_label() == "unconfined" {
        return Ok(());
    }
    let path = if Path::new("/proc/thread-self/attr/apparmor/current").exists() {
        "/proc/thread-self/attr/apparmor/current"
    } else {
        "/proc/thread-self/attr/current"
    };
    std::fs::write(path, format!("changeprofile {label}"))
        .map_err(|e| lsm_err(format!("changing to profile \"{label}\" via {path}: {e} (is the profile loaded?)")))?;
    info!("changed AppArmor profile to {label}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(profile: Option<&'a str>) -> Request<'a> {
        Request { profile, name: "c1", lxcpath: "/var/lib/lxc", ..Request::default() }
    }

    #[test]
    fn names() {
        assert_eq!(generated_name("c1", "/var/lib/lxc"), "lxc-c1_</var/lib/lxc>");
        assert_eq!(sanitized("lxc-c1_</var/lib/lxc>"), "lxc-c1_<-var-lib-lxc>");
        let long = "x".repeat(300);
        assert!(generated_name(&long, "/p").starts_with("lxc-") && generated_name(&long, "/p").len() == 20);
    }

    #[test]
    fn no_apparmor_host_skips_unless_demanded() {
        let off = Features::default();
        assert_eq!(prepare_with(&req(Some("generated")), off, "unconfined").unwrap(), Plan::default());
        assert_eq!(prepare_with(&req(Some("lxc-container-default")), off, "unconfined").unwrap(), Plan::default());
        let mut r = req(Some("generated"));
        r.demand_complete = true;
        assert!(prepare_with(&r, off, "unconfined").is_err());
        let mut r = req(Some("unconfined"));
        r.demand_complete = true;
        assert!(prepare_with(&r, off, "unconfined").is_ok());
    }

    #[test]
    fn default_and_named_profiles() {
        let on = Features { enabled: true, mount_mediation: true, stacking: true, unix: true };
        let mut r = req(None);
        r.cgns = true;
        assert_eq!(prepare_with(&r, on, "unconfined").unwrap().label.as_deref(), Some("lxc-container-default-cgns"));
        r.cgns = false;
        assert_eq!(prepare_with(&r, on, "unconfined").unwrap().label.as_deref(), Some("lxc-container-default"));
        assert_eq!(
            prepare_with(&req(Some("unconfined")), on, "unconfined").unwrap().label.as_deref(),
            Some("unconfined")
        );
        assert_eq!(prepare_with(&req(Some("unchanged")), on, "x").unwrap(), Plan::default());
        let no_mount = Features { mount_mediation: false, ..on };
        assert!(prepare_with(&req(Some("foo")), no_mount, "unconfined").is_err());
        let mut r = req(Some("foo"));
        r.allow_incomplete = true;
        assert!(prepare_with(&r, no_mount, "unconfined").is_ok());
        let no_stack = Features { stacking: false, ..on };
        assert!(prepare_with(&req(Some("foo")), no_stack, "bar").is_err());
        assert!(prepare_with(&req(Some("bar")), no_stack, "bar").is_ok());
    }

    #[test]
    fn generated_profile_text() {
        let on = Features { enabled: true, mount_mediation: true, stacking: true, unix: true };
        let t = generate_profile("lxc-c1_</p>", on, true, true, false, &["capability,".into()]);
        assert!(t.starts_with("profile \"lxc-c1_</p>\" flags=(attach_disconnected,mediate_deleted) {"));
        assert!(t.contains("deny /proc/sysrq-trigger rwklx,"));
        assert!(t.contains("deny /proc/acpi/** rwklx,"));
        assert!(t.contains("change_profile -> \":lxc-c1_<-p>:*\","));
        assert!(t.contains("### Configuration: nesting"));
        assert!(t.contains("  capability,\n"));
        assert!(t.trim_end().ends_with('}'));
    }

    #[test]
    fn generated_profile_compiles_with_apparmor_parser() {
        let Ok(out) = Command::new("apparmor_parser").arg("--version").output() else {
            eprintln!("SKIP: apparmor_parser not installed");
            return;
        };
        assert!(out.status.success());
        let on = Features { enabled: true, mount_mediation: true, stacking: true, unix: true };
        for (nesting, unpriv) in [(false, false), (true, true)] {
            let name = generated_name("c1", "/var/lib/lxc");
            let text = generate_profile(&name, on, true, nesting, unpriv, &["deny /etc/hostname r,".into()]);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(sanitized(&name));
            std::fs::write(&path, text).unwrap();
            let out = Command::new("apparmor_parser").args(["-Q", "-K", "--"]).arg(&path).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    }
}
