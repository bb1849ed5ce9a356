//! capget/capset and prctl capability calls (bounding set, ambient set, keepcaps).
//!
//! Capabilities are passed as plain numbers (`CAP_SYS_ADMIN` = 21) because LXC accepts any
//! number up to `/proc/sys/kernel/cap_last_cap`, including ones newer than our tables.

use std::io;

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit capability sets in two 32-bit halves.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// The kernel's `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// The kernel's `struct __user_cap_data_struct` (one per 32-bit half).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The three per-thread capability sets as 64-bit masks (bit N = capability N).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapSets {
    /// Capabilities in effect now.
    pub effective: u64,
    /// Capabilities the thread may make effective.
    pub permitted: u64,
    /// Capabilities preserved across execve (with ambient/file caps).
    pub inheritable: u64,
}

/// Highest capability number the running kernel knows (`/proc/sys/kernel/cap_last_cap`).
/// Without /proc (after pivot_root into a rootfs that has none yet) the bounding set is probed:
/// `PR_CAPBSET_READ` fails with EINVAL past the last capability.
pub fn cap_last_cap() -> io::Result<u32> {
    if let Ok(text) = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap") {
        if let Ok(n) = text.trim().parse() {
            return Ok(n);
        }
    }
    let mut last = None;
    for cap in 0..64u32 {
        match bounding_has(cap) {
            Ok(_) => last = Some(cap),
            Err(_) => break,
        }
    }
    last.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "cannot determine cap_last_cap"))
}

fn prctl(option: libc::c_int, arg2: libc::c_ulong, arg3: libc::c_ulong) -> io::Result<libc::c_int> {
    // SAFETY: the prctl options used here (capability and no_new_privs related) take integer
    // arguments only; no pointers are passed, so there is no memory the kernel could misuse.
    let r = unsafe { libc::prctl(option, arg2, arg3, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Whether capability `cap` is in the calling thread's bounding set (`PR_CAPBSET_READ`).
pub fn bounding_has(cap: u32) -> io::Result<bool> {
    Ok(prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong, 0)? == 1)
}

/// Remove capability `cap` from the bounding set (`PR_CAPBSET_DROP`); needs CAP_SETPCAP.
pub fn bounding_drop(cap: u32) -> io::Result<()> {
    prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0).map(|_| ())
}

/// Add capability `cap` to the ambient set (it must be permitted and inheritable).
pub fn ambient_raise(cap: u32) -> io::Result<()> {
    prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong, cap as libc::c_ulong).map(|_| ())
}

/// Whether capability `cap` is in the ambient set.
pub fn ambient_is_set(cap: u32) -> io::Result<bool> {
    Ok(prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_IS_SET as libc::c_ulong, cap as libc::c_ulong)? == 1)
}

/// Empty the ambient set (`PR_CAP_AMBIENT_CLEAR_ALL`).
pub fn ambient_clear_all() -> io::Result<()> {
    prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong, 0).map(|_| ())
}

/// Set or clear `PR_SET_KEEPCAPS` (keep permitted caps across a switch away from uid 0).
pub fn set_keepcaps(keep: bool) -> io::Result<()> {
    prctl(libc::PR_SET_KEEPCAPS, keep as libc::c_ulong, 0).map(|_| ())
}

/// Set `PR_SET_NO_NEW_PRIVS` (irreversible for this thread and its descendants).
pub fn set_no_new_privs() -> io::Result<()> {
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0).map(|_| ())
}

/// Whether `PR_SET_NO_NEW_PRIVS` is set for the calling thread.
pub fn no_new_privs() -> io::Result<bool> {
    Ok(prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0)? == 1)
}

/// Read the calling thread's capability sets (`capget`).
pub fn capget() -> io::Result<CapSets> {
    let mut header = CapHeader { version: CAPABILITY_VERSION_3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and data are valid, properly sized kernel structs (version 3 needs two
    // data elements), and live for the whole call.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut header as *mut CapHeader, data.as_mut_ptr()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let join = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
    Ok(CapSets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// Set the calling thread's capability sets (`capset`).
pub fn capset(sets: &CapSets) -> io::Result<()> {
    let mut header = CapHeader { version: CAPABILITY_VERSION_3, pid: 0 };
    let split = |v: u64| (v as u32, (v >> 32) as u32);
    let (el, eh) = split(sets.effective);
    let (pl, ph) = split(sets.permitted);
    let (il, ih) = split(sets.inheritable);
    let data = [
        CapData { effective: el, permitted: pl, inheritable: il },
        CapData { effective: eh, permitted: ph, inheritable: ih },
    ];
    // SAFETY: as in capget; the kernel only reads `data` here.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut CapHeader, data.as_ptr()) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_last_cap_is_sane() {
        let last = cap_last_cap().unwrap();
        assert!((36..64).contains(&last), "{last}");
    }

    #[test]
    fn capget_reads_something_and_bounding_matches_proc() {
        let sets = capget().unwrap();
        assert_eq!(sets.effective & !sets.permitted, 0);
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let bnd = status.lines().find_map(|l| l.strip_prefix("CapBnd:")).unwrap();
        let bnd = u64::from_str_radix(bnd.trim(), 16).unwrap();
        for cap in 0..=cap_last_cap().unwrap() {
            assert_eq!(bounding_has(cap).unwrap(), bnd & (1 << cap) != 0, "cap {cap}");
        }
    }
}
