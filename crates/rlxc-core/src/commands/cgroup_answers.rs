//! Ready-made answers for the cgroup commands a monitor serves from its [`ContainerCgroups`]:
//! GET_CGROUP_FD / GET_LIMIT_CGROUP_FD (24/25) and GET_CGROUP_CTX (23), in LXC 5.0's shapes.
//! LXC 5.0 clients use them first (`lxc-info -S` reads `cpuacct.usage` through the fd from 25;
//! `lxc-attach` moves the attached process through the fds from 23), so a monitor that answers
//! them is fully usable by Debian's tools.

use std::os::fd::OwnedFd;

use rlxc_cgroup::LayoutKind;

use super::server::Errno;
use super::wire::{self, CgroupCtxInfo, CgroupFdInfo};
use crate::cgroups::ContainerCgroups;

/// `cgroup_layout_t` of the host.
pub fn layout_number(kind: LayoutKind) -> i32 {
    match kind {
        LayoutKind::Legacy => wire::layout::LEGACY,
        LayoutKind::Hybrid => wire::layout::HYBRID,
        LayoutKind::Unified => wire::layout::UNIFIED,
    }
}

/// The `utilities` bits LXC reports for a cgroup2 payload directory.
fn unified_utilities(cg: &ContainerCgroups) -> u32 {
    let mut u = wire::DEVICES_CONTROLLER;
    if cg.payload_dir(None).is_some_and(|d| d.join("cgroup.freeze").exists()) {
        u |= wire::FREEZER_CONTROLLER;
    }
    u
}

fn dup(fd: std::os::fd::BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    fd.try_clone_to_owned().map_err(|e| e.raw_os_error().unwrap_or(libc::EBADF))
}

/// GET_CGROUP_FD / GET_LIMIT_CGROUP_FD: the payload directory of the hierarchy holding
/// `controller` (on a pure cgroup2 host `freezer` and `devices` mean the unified tree).
pub fn cgroup_fd(cg: &ContainerCgroups, controller: &str) -> Result<(CgroupFdInfo, OwnedFd), Errno> {
    let layout = cg.layout();
    let v1 = layout.v1_for(controller);
    let unified_ok = layout.unified().is_some_and(|h| {
        h.has(controller) || (layout.kind == LayoutKind::Unified && matches!(controller, "freezer" | "devices"))
    });
    let (fd, kind, utilities) = if v1.is_some() {
        (cg.payload_fd(controller).ok_or(libc::ENOENT)?, wire::hierarchy::LEGACY, 0)
    } else if unified_ok {
        (cg.unified_fd().ok_or(libc::ENOENT)?, wire::hierarchy::UNIFIED, unified_utilities(cg))
    } else {
        return Err(libc::ENOENT);
    };
    let info = CgroupFdInfo {
        layout: layout_number(layout.kind),
        utilities,
        kind,
        fd: -1,
        controller: controller.to_string(),
    };
    Ok((info, dup(fd)?))
}

/// GET_CGROUP_CTX: one payload directory fd per hierarchy, in the layout's order.
pub fn cgroup_ctx(cg: &ContainerCgroups) -> Result<(CgroupCtxInfo, Vec<OwnedFd>), Errno> {
    let layout = cg.layout();
    let mut fds = Vec::new();
    for h in &layout.hierarchies {
        let fd = if h.v2 { cg.unified_fd() } else { h.controllers.first().and_then(|c| cg.payload_fd(c)) };
        if let Some(fd) = fd {
            if fds.len() >= wire::CGROUP_CTX_MAX_FD {
                return Err(libc::E2BIG);
            }
            fds.push(dup(fd)?);
        }
    }
    if fds.is_empty() {
        return Err(libc::ENOENT);
    }
    let utilities = if layout.unified().is_some() && cg.unified_fd().is_some() { unified_utilities(cg) } else { 0 };
    Ok((CgroupCtxInfo { layout: layout_number(layout.kind), utilities, fd_len: fds.len() as u32 }, fds))
}
