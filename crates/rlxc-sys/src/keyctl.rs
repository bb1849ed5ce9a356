//! keyctl(2): session keyrings and the keyring label for new keys.

use std::ffi::CStr;
use std::io;

/// `KEYCTL_GET_KEYRING_ID`.
const KEYCTL_GET_KEYRING_ID: libc::c_long = 0;
/// `KEYCTL_JOIN_SESSION_KEYRING`.
const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
/// `KEY_SPEC_SESSION_KEYRING`: the special id of the caller's session keyring.
pub const KEY_SPEC_SESSION_KEYRING: i32 = -3;

/// Join (and create if needed) a session keyring. `None` makes a fresh anonymous keyring,
/// which is what LXC does so the container can't reach the keys of the host session.
/// Returns the serial number of the keyring joined.
pub fn join_session_keyring(name: Option<&CStr>) -> io::Result<i32> {
    let ptr = name.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: KEYCTL_JOIN_SESSION_KEYRING takes a NUL-terminated name or NULL; `ptr` is either
    // null or points into `name`, which outlives the call.
    let r = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, ptr) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as i32)
    }
}

/// Serial number of a keyring given by special id (e.g. [`KEY_SPEC_SESSION_KEYRING`]), without
/// creating it.
pub fn keyring_id(special: i32) -> io::Result<i32> {
    // SAFETY: KEYCTL_GET_KEYRING_ID takes two integers; no memory is passed.
    let r =
        unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_GET_KEYRING_ID, special as libc::c_long, 0 as libc::c_long) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as i32)
    }
}
