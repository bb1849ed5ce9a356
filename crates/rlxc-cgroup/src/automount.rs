//! `lxc.mount.auto` cgroup variants inside the container (spec §6.7), run by the child in its
//! mount namespace before pivot_root, with targets below the rootfs.
//!
//! - with a cgroup namespace and no force, nothing is mounted (the container's init does it);
//! - pure cgroup2: with cgroup ns + force a cgroup2 filesystem on `/sys/fs/cgroup`; without a
//!   cgroup ns only the `cgroup-full:*` variants mount the whole tree;
//! - legacy/hybrid: a tmpfs on `/sys/fs/cgroup` with one directory per hierarchy; with cgroup
//!   ns + force each hierarchy is mounted directly; otherwise `cgroup-full` binds the whole
//!   hierarchy and `cgroup` binds only the container's own cgroup at its path (writable for
//!   `:mixed`/`:rw`) inside a read-only directory.

use crate::error::{CgroupError, Result};
use crate::layout::{Layout, LayoutKind};
use rustix::mount::{mount, mount_bind, mount_remount, MountFlags};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use tracing::{debug, info};

/// `:mixed`, `:ro` or `:rw`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgMode {
    /// read-only except the container's own cgroup
    Mixed,
    /// everything read-only
    Ro,
    /// everything writable
    Rw,
}

/// One `cgroup[-full][:mode][:force]` request from `lxc.mount.auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgroupAuto {
    /// `cgroup-full`
    pub full: bool,
    /// mode; None for plain `cgroup` (= `:rw` if the container keeps CAP_SYS_ADMIN, else `:mixed`)
    pub mode: Option<CgMode>,
    /// `:force`
    pub force: bool,
}

impl CgroupAuto {
    /// Parse one `lxc.mount.auto` word; None when it is not a cgroup variant.
    pub fn parse(word: &str) -> Option<CgroupAuto> {
        let (full, rest) = if let Some(r) = word.strip_prefix("cgroup-full") {
            (true, r)
        } else if let Some(r) = word.strip_prefix("cgroup") {
            (false, r)
        } else {
            return None;
        };
        let mut a = CgroupAuto { full, mode: None, force: false };
        for part in rest.split(':').skip(1) {
            match part {
                "mixed" => a.mode = Some(CgMode::Mixed),
                "ro" => a.mode = Some(CgMode::Ro),
                "rw" => a.mode = Some(CgMode::Rw),
                "force" => a.force = true,
                _ => return None,
            }
        }
        if !rest.is_empty() && !rest.starts_with(':') {
            return None;
        }
        Some(a)
    }
}

fn merr(target: &Path) -> impl FnOnce(rustix::io::Errno) -> CgroupError + '_ {
    move |e| CgroupError::Mount { target: target.to_path_buf(), source: e.into() }
}

fn mkdir_p(p: &Path) -> Result<()> {
    std::fs::create_dir_all(p).map_err(crate::error::io_err("mkdir", p))
}

const NOSUID_NODEV_NOEXEC: MountFlags =
    MountFlags::NOSUID.union(MountFlags::NODEV).union(MountFlags::NOEXEC).union(MountFlags::RELATIME);

fn bind_ro(src: &Path, target: &Path, ro: bool) -> Result<()> {
    mount_bind(src, target).map_err(merr(target))?;
    if ro {
        mount_remount(target, MountFlags::BIND | MountFlags::RDONLY | NOSUID_NODEV_NOEXEC, "").map_err(merr(target))?;
    }
    Ok(())
}

/// Mount the cgroup filesystems for `req` below `rootfs` (`<rootfs>/sys/fs/cgroup`).
/// `cgroupns`: the container has its own cgroup namespace (already unshared);
/// `keeps_sys_admin`: the container keeps CAP_SYS_ADMIN.
pub fn mount_auto(
    layout: &Layout,
    req: CgroupAuto,
    rootfs: &Path,
    cgroupns: bool,
    keeps_sys_admin: bool,
) -> Result<()> {
    // On a pure cgroup2 host LXC pre-mounts cgroup2 even when the container could mount it
    // itself: most inits (systemd among them) don't mount cgroup2 on their own and, finding no
    // cgroup2 at /sys/fs/cgroup, fall back to legacy v1 mounts that fail on a v2-only kernel.
    let force = req.force || !keeps_sys_admin || layout.kind == LayoutKind::Unified;
    let mode = req.mode.unwrap_or(if keeps_sys_admin { CgMode::Rw } else { CgMode::Mixed });
    if cgroupns && !force {
        info!("cgroup auto-mount skipped: the container has a cgroup namespace and mounts its own");
        return Ok(());
    }
    let root = rootfs.join("sys/fs/cgroup");
    mkdir_p(&root)?;
    let ro_flag = if mode == CgMode::Ro { MountFlags::RDONLY } else { MountFlags::empty() };
    if layout.kind == LayoutKind::Unified {
        if !cgroupns && !req.full {
            info!("cgroup auto-mount: nothing to mount for plain cgroup without a cgroup namespace on cgroup2");
            return Ok(());
        }
        mount("cgroup2", &root, "cgroup2", NOSUID_NODEV_NOEXEC | ro_flag, None).map_err(merr(&root))?;
        info!("mounted cgroup2 on {}", root.display());
        return Ok(());
    }
    let data = CString::new("size=10240k,mode=755").unwrap_or_default();
    mount("cgroup_root", &root, "tmpfs", NOSUID_NODEV_NOEXEC, Some(data.as_c_str())).map_err(merr(&root))?;
    for h in &layout.hierarchies {
        let dname = h.mountpoint.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| h.label());
        let target = root.join(&dname);
        mkdir_p(&target)?;
        // Comounted controllers get a symlink per controller (cpu -> cpu,cpuacct).
        if !h.v2 && h.controllers.len() > 1 {
            for c in h.controllers.iter().filter(|c| !c.starts_with("name=") && **c != dname) {
                let _ = std::os::unix::fs::symlink(&dname, root.join(c));
            }
        }
        if cgroupns && force {
            if h.v2 {
                mount("cgroup2", &target, "cgroup2", NOSUID_NODEV_NOEXEC | ro_flag, None).map_err(merr(&target))?;
            } else {
                let opts = CString::new(h.controllers.join(",")).unwrap_or_default();
                mount("cgroup", &target, "cgroup", NOSUID_NODEV_NOEXEC | ro_flag, Some(opts.as_c_str()))
                    .map_err(merr(&target))?;
            }
            continue;
        }
        let own = h.self_cgroup.trim_start_matches('/');
        if req.full {
            bind_ro(&h.mountpoint, &target, mode != CgMode::Rw)?;
            if mode == CgMode::Mixed && !own.is_empty() {
                let cg = target.join(own);
                bind_ro(&h.dir_of(&h.self_cgroup), &cg, false)?;
            }
        } else {
            let cg: PathBuf = if own.is_empty() { target.clone() } else { target.join(own) };
            // The directories down to the container's cgroup live in the tmpfs: make them before
            // the hierarchy's directory turns read-only.
            mkdir_p(&cg)?;
            if mode != CgMode::Rw {
                bind_ro(&target, &target, true)?;
            }
            bind_ro(&h.dir_of(&h.self_cgroup), &cg, mode == CgMode::Ro)?;
        }
        debug!("cgroup auto-mount {} on {}", h.label(), target.display());
    }
    if mode != CgMode::Rw {
        mount_remount(&root, MountFlags::RDONLY | NOSUID_NODEV_NOEXEC, "size=10240k,mode=755").map_err(merr(&root))?;
    }
    info!("cgroup auto-mount ({:?}{}) on {}", mode, if req.full { ", full" } else { "" }, root.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_variants() {
        assert_eq!(CgroupAuto::parse("cgroup"), Some(CgroupAuto { full: false, mode: None, force: false }));
        assert_eq!(
            CgroupAuto::parse("cgroup:mixed:force"),
            Some(CgroupAuto { full: false, mode: Some(CgMode::Mixed), force: true })
        );
        assert_eq!(
            CgroupAuto::parse("cgroup-full:ro"),
            Some(CgroupAuto { full: true, mode: Some(CgMode::Ro), force: false })
        );
        assert_eq!(CgroupAuto::parse("cgroup:force"), Some(CgroupAuto { full: false, mode: None, force: true }));
        assert_eq!(CgroupAuto::parse("cgroupx"), None);
        assert_eq!(CgroupAuto::parse("cgroup:bogus"), None);
        assert_eq!(CgroupAuto::parse("proc:mixed"), None);
    }
}
