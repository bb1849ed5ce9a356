//! Mount option words (`ro,nosuid,size=10m,rslave,create=dir`) into MS_* flags, propagation flags
//! and filesystem data, as LXC's `parse_mntopts` / `parse_propagationopts` do.

/// Parsed mount options.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// MS_* flags (MS_RDONLY, MS_NOSUID, MS_BIND, MS_REC, ...).
    pub flags: u64,
    /// Propagation MS_* flags (MS_SLAVE, MS_SHARED, MS_PRIVATE, MS_UNBINDABLE, with MS_REC).
    pub propagation: u64,
    /// Everything else, comma-joined, passed as filesystem data.
    pub data: String,
}

const RDONLY: u64 = libc::MS_RDONLY as u64;

/// (word, set?, flag): the mount(8) words LXC knows (its `mount_opt` table).
const FLAGS: &[(&str, bool, u64)] = &[
    ("defaults", false, 0),
    ("ro", true, RDONLY),
    ("rw", false, RDONLY),
    ("suid", false, libc::MS_NOSUID as u64),
    ("nosuid", true, libc::MS_NOSUID as u64),
    ("dev", false, libc::MS_NODEV as u64),
    ("nodev", true, libc::MS_NODEV as u64),
    ("exec", false, libc::MS_NOEXEC as u64),
    ("noexec", true, libc::MS_NOEXEC as u64),
    ("sync", true, libc::MS_SYNCHRONOUS as u64),
    ("async", false, libc::MS_SYNCHRONOUS as u64),
    ("dirsync", true, libc::MS_DIRSYNC as u64),
    ("remount", true, libc::MS_REMOUNT as u64),
    ("mand", true, libc::MS_MANDLOCK as u64),
    ("nomand", false, libc::MS_MANDLOCK as u64),
    ("atime", false, libc::MS_NOATIME as u64),
    ("noatime", true, libc::MS_NOATIME as u64),
    ("diratime", false, libc::MS_NODIRATIME as u64),
    ("nodiratime", true, libc::MS_NODIRATIME as u64),
    ("bind", true, libc::MS_BIND as u64),
    ("rbind", true, libc::MS_BIND as u64 | libc::MS_REC as u64),
    ("relatime", true, libc::MS_RELATIME as u64),
    ("norelatime", false, libc::MS_RELATIME as u64),
    ("strictatime", true, libc::MS_STRICTATIME as u64),
    ("nostrictatime", false, libc::MS_STRICTATIME as u64),
    ("silent", true, libc::MS_SILENT as u64),
    ("loud", false, libc::MS_SILENT as u64),
];

const PROPAGATION: &[(&str, u64)] = &[
    ("private", libc::MS_PRIVATE as u64),
    ("shared", libc::MS_SHARED as u64),
    ("slave", libc::MS_SLAVE as u64),
    ("unbindable", libc::MS_UNBINDABLE as u64),
    ("rprivate", libc::MS_PRIVATE as u64 | libc::MS_REC as u64),
    ("rshared", libc::MS_SHARED as u64 | libc::MS_REC as u64),
    ("rslave", libc::MS_SLAVE as u64 | libc::MS_REC as u64),
    ("runbindable", libc::MS_UNBINDABLE as u64 | libc::MS_REC as u64),
];

/// LXC's own words, consumed by the caller (not passed to the kernel).
const LXC_WORDS: &[&str] = &["optional", "create=dir", "create=file", "relative"];

/// Parse option words. Unknown words become filesystem data, as in LXC. Never fails today; the
/// Result leaves room for stricter checks.
pub fn parse_mount_options(words: &[&str]) -> Result<MountOptions, String> {
    let mut out = MountOptions::default();
    let mut data: Vec<&str> = Vec::new();
    for w in words {
        let w = w.trim();
        if w.is_empty() || LXC_WORDS.contains(&w) {
            continue;
        }
        if let Some((_, set, f)) = FLAGS.iter().find(|(n, _, _)| *n == w) {
            if *set {
                out.flags |= f;
            } else {
                out.flags &= !f;
            }
            continue;
        }
        if let Some((_, f)) = PROPAGATION.iter().find(|(n, _)| *n == w) {
            out.propagation |= f;
            continue;
        }
        data.push(w);
    }
    out.data = data.join(",");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_propagation_and_data_are_split() {
        let o =
            parse_mount_options(&["ro", "nosuid", "size=10m", "rslave", "create=dir", "optional"]).unwrap_or_default();
        assert_eq!(o.flags, (libc::MS_RDONLY | libc::MS_NOSUID) as u64);
        assert_eq!(o.propagation, (libc::MS_SLAVE | libc::MS_REC) as u64);
        assert_eq!(o.data, "size=10m");
    }

    #[test]
    fn later_words_override_earlier() {
        let o = parse_mount_options(&["ro", "rw"]).unwrap_or_default();
        assert_eq!(o.flags & RDONLY, 0);
    }
}
