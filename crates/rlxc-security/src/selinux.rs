//! SELinux: `lxc.selinux.context` (label at exec) and `lxc.selinux.context.keyring` (label of
//! the session keyring). Everything is a no-op with a notice when SELinux is not enabled.

use std::path::Path;

use tracing::info;

use crate::error::{Result, SecurityError};

/// The context that means "don't change anything" (LXC's default).
pub const UNCONFINED: &str = "unconfined_t";

/// Whether SELinux is enabled on this host: selinuxfs mounted and a policy loaded. Until a
/// policy is loaded every process's context reads `kernel` and the kernel refuses all labels,
/// so such a host is treated like one without SELinux (as libselinux's `is_selinux_enabled`).
pub fn enabled() -> bool {
    Path::new("/sys/fs/selinux/enforce").exists()
        && policy_loaded(std::fs::read_to_string("/proc/self/attr/current").ok())
}

/// A loaded policy gives contexts (`user:role:type[:range]`); before that the context is the
/// bare initial SID name `kernel`.
fn policy_loaded(current_context: Option<String>) -> bool {
    current_context.is_some_and(|c| c.trim_end_matches(['\0', '\n']).contains(':'))
}

fn write_attr(attr: &str, value: &str) -> Result<()> {
    let path = format!("/proc/thread-self/attr/{attr}");
    std::fs::write(&path, value)
        .map_err(|e| SecurityError::Lsm { lsm: "selinux", message: format!("writing \"{value}\" to {path}: {e}") })
}

/// Label `exec` will give the next program (LXC writes `/proc/<tid>/attr/exec`). The caller
/// decides with [`enabled`] beforehand, on the host: inside the container `/sys/fs/selinux` is
/// usually not mounted, so asking there would wrongly find SELinux off.
pub fn set_exec_label(context: &str) -> Result<()> {
    if context == UNCONFINED {
        return Ok(());
    }
    write_attr("exec", context)?;
    info!("SELinux: the next exec runs under {context}");
    Ok(())
}

/// Label for keys and keyrings created next (`/proc/<tid>/attr/keycreate`). As
/// [`set_exec_label`], the caller checks [`enabled`] first.
pub fn set_keycreate_label(context: &str) -> Result<()> {
    if context == UNCONFINED {
        return Ok(());
    }
    write_attr("keycreate", context)?;
    info!("SELinux: new keyrings get {context}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_is_loaded_once_contexts_have_fields() {
        assert!(policy_loaded(Some("system_u:system_r:kernel_t:s0\n".into())));
        assert!(policy_loaded(Some("unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023\0".into())));
        assert!(!policy_loaded(Some("kernel\0".into())));
        assert!(!policy_loaded(Some(String::new())));
        assert!(!policy_loaded(None));
    }
}
