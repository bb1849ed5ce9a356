//! Moving an attached process into a running container's cgroups (client side of
//! `lxc-attach`): v1 payload directories directly; on cgroup2 a `.lxc` leaf inside the payload
//! (so the payload itself can keep children, per the leaf-node rule).

use crate::error::{io_err, CgroupError, Result};
use crate::layout::Layout;
use rustix::fs::{mkdirat, openat, Mode, OFlags};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;

/// The leaf attached processes go to on cgroup2.
pub const ATTACH_LEAF: &str = ".lxc";

/// Move `pid` into the `.lxc` leaf below the payload directory `payload` (an open cgroup2
/// directory, e.g. from GET_CGROUP2_FD), creating it when needed; falls back to the payload
/// itself when the leaf cannot be used.
pub fn enter_v2_leaf(payload: BorrowedFd<'_>, pid: i32) -> Result<()> {
    let pid_s = pid.to_string();
    let mut names = vec![ATTACH_LEAF.to_string()];
    names.extend((1..10).map(|n| format!("{ATTACH_LEAF}-{n}")));
    let mut last = None;
    for name in names {
        match mkdirat(payload, name.as_str(), Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => {
                last = Some(std::io::Error::from(e));
                break;
            }
        }
        let leaf =
            match openat(payload, name.as_str(), OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()) {
                Ok(fd) => fd,
                Err(e) => {
                    last = Some(e.into());
                    break;
                }
            };
        match crate::fsio::write_at(leaf.as_fd(), "cgroup.procs", &pid_s) {
            Ok(()) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => last = Some(e),
            Err(e) => {
                last = Some(e);
                break;
            }
        }
    }
    crate::fsio::write_at(payload, "cgroup.procs", &pid_s).map_err(|e| CgroupError::Io {
        op: "attach",
        path: PathBuf::from(format!("<payload fd>/cgroup.procs (leaf failed: {:?})", last.map(|l| l.to_string()))),
        source: e,
    })
}

/// Move `pid` into a running container's cgroups. `path_for(controller)` answers GET_CGROUP:
/// the payload path inside the hierarchy of `controller` (None = cgroup2).
pub fn attach_pid(layout: &Layout, pid: i32, path_for: impl Fn(Option<&str>) -> Option<String>) -> Result<()> {
    for h in &layout.hierarchies {
        if h.v2 {
            let Some(cg) = path_for(None) else { continue };
            let dir = h.dir_of(&cg);
            let fd = crate::fsio::open_dir(&dir).map_err(io_err("open", &dir))?;
            enter_v2_leaf(fd.as_fd(), pid)?;
        } else {
            let Some(c) = h.controllers.first() else { continue };
            let Some(cg) = path_for(Some(c)) else { continue };
            let f = h.dir_of(&cg).join("cgroup.procs");
            crate::fsio::write_path(&f, &pid.to_string()).map_err(io_err("write", &f))?;
        }
    }
    Ok(())
}
