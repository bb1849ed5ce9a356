//! `lxc.keyring.session`: a fresh session keyring for the container's init, so it can't read
//! or use the keys of the session that started it.

use rlxc_sys::keyctl;
use tracing::{debug, error};

use crate::error::{Result, SecurityError};
use crate::selinux;

/// Join a new anonymous session keyring (LXC's `lxc_setup_keyring`). With SELinux enabled the
/// keyring is created under `label` (`lxc.selinux.context.keyring`, else `lxc.selinux.context`).
/// Like LXC, a kernel without keyctl, or one that refuses it (EACCES/EPERM, e.g. a seccomp
/// filter already in place), is logged and not fatal.
pub fn join_new_session_keyring(label: Option<&str>) -> Result<Option<i32>> {
    if let Some(label) = label {
        selinux::set_keycreate_label(label)?;
    }
    match keyctl::join_session_keyring(None) {
        Ok(id) => {
            debug!("joined a new session keyring {id}");
            Ok(Some(id))
        }
        Err(e) => match e.raw_os_error() {
            Some(libc::ENOSYS) => {
                debug!("the keyctl() syscall is not supported or blocked");
                Ok(None)
            }
            Some(libc::EACCES) | Some(libc::EPERM) => {
                debug!("failed to access the kernel keyring, continuing: {e}");
                Ok(None)
            }
            _ => {
                error!("failed to create a session keyring: {e}");
                Err(SecurityError::io("creating a session keyring (lxc.keyring.session)", e))
            }
        },
    }
}

/// Serial number of the calling process's session keyring, if it has one.
pub fn current_session_keyring() -> Option<i32> {
    keyctl::keyring_id(keyctl::KEY_SPEC_SESSION_KEYRING).ok()
}
