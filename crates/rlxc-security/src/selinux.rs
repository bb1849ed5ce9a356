//! SELinux: `lxc.selinux.context` (label at exec) and `lxc.selinux.context.keyring` (label of
//! the session keyring). Everything is a no-op with a notice when SELinux is not enabled.

use std::path::Path;

use tracing::info;

use crate::error::{Result, SecurityError};

/// The context that means "don't change anything" (LXC's default).
pub const UNCONFINED: &str = "unconfined_t";

/// Whether SELinux is enabled on this host (selinuxfs mounted with a policy loaded).
pub fn enabled() -> bool {
    Path::new("/sys/fs/selinux/enforce").exists()
}

fn write_attr(attr: &str, value: &str) -> Result<()> {
    let path = format!("/proc/thread-self/attr/{attr}");
    std::fs::write(&path, value)
        .map_err(|e| SecurityError::Lsm { lsm: "selinux", message: format!("writing \"{value}\" to {path}: {e}") })
}

/// Label `exec` will give the next program (LXC writes `/proc/<tid>/attr/exec`).
pub fn set_exec_label(context: &str) -> Result<()> {
    if context == UNCONFINED {
        return Ok(());
    }
    if !enabled() {
        info!("lxc.selinux.context = {context} ignored: SELinux is not enabled on this host");
        return Ok(());
    }
    write_attr("exec", context)
}

/// Label for keys and keyrings created next (`/proc/<tid>/attr/keycreate`).
pub fn set_keycreate_label(context: &str) -> Result<()> {
    if context == UNCONFINED {
        return Ok(());
    }
    if !enabled() {
        info!("SELinux keyring context {context} ignored: SELinux is not enabled on this host");
        return Ok(());
    }
    write_attr("keycreate", context)
}
