//! personality(2) (owned by the attach work): `lxc.arch` and `lxc-attach -a ARCH`.

use std::io;

/// `PER_LINUX`: the native personality.
pub const PER_LINUX: u64 = 0x0000;
/// `PER_LINUX32`: 32-bit `uname -m` (i686, armv7l, ...) on a 64-bit kernel.
pub const PER_LINUX32: u64 = 0x0008;

/// LXC's architecture names and the personality each selects (`lxc_config_parse_arch`).
const ARCHES: &[(&str, u64)] = &[
    ("arm", PER_LINUX32),
    ("armel", PER_LINUX32),
    ("armhf", PER_LINUX32),
    ("armv7l", PER_LINUX32),
    ("athlon", PER_LINUX32),
    ("i386", PER_LINUX32),
    ("i486", PER_LINUX32),
    ("i586", PER_LINUX32),
    ("i686", PER_LINUX32),
    ("linux32", PER_LINUX32),
    ("mips", PER_LINUX32),
    ("mipsel", PER_LINUX32),
    ("ppc", PER_LINUX32),
    ("powerpc", PER_LINUX32),
    ("x86", PER_LINUX32),
    ("amd64", PER_LINUX),
    ("arm64", PER_LINUX),
    ("linux64", PER_LINUX),
    ("mips64", PER_LINUX),
    ("mips64el", PER_LINUX),
    ("ppc64", PER_LINUX),
    ("ppc64el", PER_LINUX),
    ("ppc64le", PER_LINUX),
    ("powerpc64", PER_LINUX),
    ("s390x", PER_LINUX),
    ("x86_64", PER_LINUX),
];

/// The personality for an architecture name as `lxc.arch` / `-a` accept it, or `None` if LXC
/// does not know the name.
pub fn parse_arch(name: &str) -> Option<u64> {
    ARCHES.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

/// Every architecture name accepted, for error messages.
pub fn arch_names() -> impl Iterator<Item = &'static str> {
    ARCHES.iter().map(|(n, _)| *n)
}

/// The calling process's current personality.
pub fn current() -> io::Result<u64> {
    // SAFETY: personality(0xffffffff) only queries; no memory is passed.
    let r = unsafe { libc::personality(0xffff_ffff) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as u64)
}

/// Set the personality of the calling process (inherited by exec'ed programs).
pub fn set(persona: u64) -> io::Result<()> {
    // SAFETY: personality(2) takes a plain integer and touches no memory of ours.
    let r = unsafe { libc::personality(persona as libc::c_ulong) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_names_map_like_lxc() {
        assert_eq!(parse_arch("i686"), Some(PER_LINUX32));
        assert_eq!(parse_arch("x86"), Some(PER_LINUX32));
        assert_eq!(parse_arch("x86_64"), Some(PER_LINUX));
        assert_eq!(parse_arch("amd64"), Some(PER_LINUX));
        assert_eq!(parse_arch("vax"), None);
        assert_eq!(parse_arch("X86_64"), None);
    }

    #[test]
    fn current_personality_is_readable() {
        assert!(current().is_ok());
    }
}
