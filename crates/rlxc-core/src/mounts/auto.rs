//! `lxc.mount.auto` proc and sys variants (LXC's `default_mounts` table). The cgroup variants
//! belong to the cgroup code (`cgroups::mount_auto`).

use std::os::fd::AsFd;
use std::path::Path;

use rlxc_config::{MountAuto, ProcMount, SysMount};
use rlxc_sys::mount::{fd_path, mount};
use tracing::debug;

use super::resolve::Root;
use super::MountError;

const NODEV: u64 = libc::MS_NODEV as u64;
const NOEXEC: u64 = libc::MS_NOEXEC as u64;
const NOSUID: u64 = libc::MS_NOSUID as u64;
const BIND: u64 = libc::MS_BIND as u64;
const REMOUNT: u64 = libc::MS_REMOUNT as u64;
const RDONLY: u64 = libc::MS_RDONLY as u64;
const MOVE: u64 = libc::MS_MOVE as u64;

struct Step {
    source: Option<&'static str>,
    /// Source is a path inside the rootfs (bind of the container's own files).
    source_in_root: bool,
    target: &'static str,
    fstype: Option<&'static str>,
    flags: u64,
    /// Failure is tolerated (files that may not exist on every kernel).
    optional: bool,
}

const fn st(
    source: Option<&'static str>,
    in_root: bool,
    target: &'static str,
    fstype: Option<&'static str>,
    flags: u64,
    optional: bool,
) -> Step {
    Step { source, source_in_root: in_root, target, fstype, flags, optional }
}

fn proc_steps(mode: ProcMount) -> Vec<Step> {
    match mode {
        ProcMount::Rw => vec![st(Some("proc"), false, "proc", Some("proc"), NODEV | NOEXEC | NOSUID, false)],
        // /proc/sys read-only except /proc/sys/net: park a bind of proc/sys/net on proc/net,
        // make proc/sys a read-only bind of itself, then move the parked bind back.
        ProcMount::Mixed => vec![
            st(Some("proc"), false, "proc", Some("proc"), NODEV | NOEXEC | NOSUID, false),
            st(Some("proc/sys/net"), true, "proc/net", None, BIND, true),
            st(Some("proc/sys"), true, "proc/sys", None, BIND, false),
            st(None, false, "proc/sys", None, REMOUNT | BIND | RDONLY, false),
            st(Some("proc/net"), true, "proc/sys/net", None, MOVE, true),
            st(Some("proc/sysrq-trigger"), true, "proc/sysrq-trigger", None, BIND, true),
            st(None, false, "proc/sysrq-trigger", None, REMOUNT | BIND | RDONLY, true),
        ],
    }
}

fn sys_steps(mode: SysMount) -> Vec<Step> {
    match mode {
        SysMount::Rw => vec![st(Some("sysfs"), false, "sys", Some("sysfs"), 0, false)],
        SysMount::Ro => vec![st(Some("sysfs"), false, "sys", Some("sysfs"), RDONLY, false)],
        SysMount::Mixed => vec![
            st(Some("sysfs"), false, "sys", Some("sysfs"), NODEV | NOEXEC | NOSUID, false),
            st(Some("sys"), true, "sys", None, BIND, false),
            st(None, false, "sys", None, REMOUNT | BIND | RDONLY, false),
            st(Some("sysfs"), false, "sys/devices/virtual/net", Some("sysfs"), 0, true),
            st(Some("sys/devices/virtual/net/devices/virtual/net"), true, "sys/devices/virtual/net", None, BIND, true),
            st(None, false, "sys/devices/virtual/net", None, REMOUNT | BIND | NOSUID | NODEV | NOEXEC, true),
        ],
    }
}

/// Mount the proc and sys variants of `lxc.mount.auto` into `root`.
pub fn mount_auto_proc_sys(root: &Root, auto: &MountAuto) -> Result<(), MountError> {
    let mut steps = Vec::new();
    if let Some(p) = auto.proc {
        steps.extend(proc_steps(p));
    }
    if let Some(s) = auto.sys {
        steps.extend(sys_steps(s));
    }
    for s in steps {
        let r = run_step(root, &s);
        match r {
            Err(e) if s.optional => debug!("lxc.mount.auto: optional step skipped: {e}"),
            r => r?,
        }
    }
    Ok(())
}

fn run_step(root: &Root, s: &Step) -> Result<(), MountError> {
    let fail = |what: &str| {
        let what = format!("lxc.mount.auto: {what}");
        let path = root.path().join(s.target);
        move |source| MountError::Step { what, path, source }
    };
    let tfd = if s.target == "proc" || s.target == "sys" {
        root.mkdir_p(Path::new(s.target), 0o555).map_err(fail("create mount point"))?
    } else {
        root.resolve(Path::new(s.target)).map_err(fail("resolve target"))?
    };
    let target = fd_path(tfd.as_fd());
    let sfd;
    let source: Option<String> = match s.source {
        Some(src) if s.source_in_root => {
            sfd = root.resolve(Path::new(src)).map_err(fail("resolve source"))?;
            Some(fd_path(sfd.as_fd()).to_string_lossy().into_owned())
        }
        Some(src) => Some(src.to_string()),
        None => None,
    };
    mount(source.as_deref(), &target, s.fstype, s.flags, None).map_err(fail("mount"))
}
