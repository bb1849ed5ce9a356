//! Mount syntax: `lxc.mount.entry` / fstab lines (glibc `getmntent` field rules plus LXC's own
//! options), mount option words to `MS_*` flags, and `lxc.mount.auto` words.

use crate::error::ValueError;
use crate::model::{CgroupMount, CgroupMountMode, MountAuto, MountEntry, ProcMount, ShMounts, SysMount};

/// `MS_*` mount flags (stable Linux ABI values), so this crate needs no libc.
pub mod ms {
    /// MS_RDONLY.
    pub const RDONLY: u64 = 1;
    /// MS_NOSUID.
    pub const NOSUID: u64 = 2;
    /// MS_NODEV.
    pub const NODEV: u64 = 4;
    /// MS_NOEXEC.
    pub const NOEXEC: u64 = 8;
    /// MS_SYNCHRONOUS.
    pub const SYNCHRONOUS: u64 = 16;
    /// MS_REMOUNT.
    pub const REMOUNT: u64 = 32;
    /// MS_MANDLOCK.
    pub const MANDLOCK: u64 = 64;
    /// MS_DIRSYNC.
    pub const DIRSYNC: u64 = 128;
    /// MS_NOATIME.
    pub const NOATIME: u64 = 1024;
    /// MS_NODIRATIME.
    pub const NODIRATIME: u64 = 2048;
    /// MS_BIND.
    pub const BIND: u64 = 4096;
    /// MS_REC.
    pub const REC: u64 = 16384;
    /// MS_UNBINDABLE.
    pub const UNBINDABLE: u64 = 1 << 17;
    /// MS_PRIVATE.
    pub const PRIVATE: u64 = 1 << 18;
    /// MS_SLAVE.
    pub const SLAVE: u64 = 1 << 19;
    /// MS_SHARED.
    pub const SHARED: u64 = 1 << 20;
    /// MS_RELATIME.
    pub const RELATIME: u64 = 1 << 21;
    /// MS_STRICTATIME.
    pub const STRICTATIME: u64 = 1 << 24;
    /// MS_LAZYTIME.
    pub const LAZYTIME: u64 = 1 << 25;
}

/// LXC's `mount_opt` table: (word, clears the flag instead of setting it, flag).
const MOUNT_OPTS: &[(&str, bool, u64)] = &[
    ("defaults", false, 0),
    ("ro", false, ms::RDONLY),
    ("rw", true, ms::RDONLY),
    ("suid", true, ms::NOSUID),
    ("nosuid", false, ms::NOSUID),
    ("dev", true, ms::NODEV),
    ("nodev", false, ms::NODEV),
    ("exec", true, ms::NOEXEC),
    ("noexec", false, ms::NOEXEC),
    ("sync", false, ms::SYNCHRONOUS),
    ("async", true, ms::SYNCHRONOUS),
    ("dirsync", false, ms::DIRSYNC),
    ("remount", false, ms::REMOUNT),
    ("mand", false, ms::MANDLOCK),
    ("nomand", true, ms::MANDLOCK),
    ("atime", true, ms::NOATIME),
    ("noatime", false, ms::NOATIME),
    ("diratime", true, ms::NODIRATIME),
    ("nodiratime", false, ms::NODIRATIME),
    ("bind", false, ms::BIND),
    ("rbind", false, ms::BIND | ms::REC),
    ("relatime", false, ms::RELATIME),
    ("norelatime", true, ms::RELATIME),
    ("strictatime", false, ms::STRICTATIME),
    ("nostrictatime", true, ms::STRICTATIME),
    ("lazytime", false, ms::LAZYTIME),
    ("nolazytime", true, ms::LAZYTIME),
];

/// Propagation words (LXC's `propagation_opt`).
const PROPAGATION_OPTS: &[(&str, u64)] = &[
    ("private", ms::PRIVATE),
    ("shared", ms::SHARED),
    ("slave", ms::SLAVE),
    ("unbindable", ms::UNBINDABLE),
    ("rprivate", ms::PRIVATE | ms::REC),
    ("rshared", ms::SHARED | ms::REC),
    ("rslave", ms::SLAVE | ms::REC),
    ("runbindable", ms::UNBINDABLE | ms::REC),
];

/// Option words that are LXC's own and never reach mount(2).
const LXC_OPTS: &[&str] = &["create=dir", "create=file", "optional", "relative"];

/// Mount options split the way mount(2) wants them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MountOptions {
    /// `MS_*` flags (without propagation).
    pub flags: u64,
    /// Propagation flags (`MS_PRIVATE|MS_REC`, ...), applied by a second mount call.
    pub propagation: u64,
    /// Filesystem-specific data (`size=10M,mode=755`), comma-joined.
    pub data: String,
}

/// Split option words into flags, propagation and data; LXC's own words are dropped.
pub fn parse_mount_options<S: AsRef<str>>(words: &[S]) -> MountOptions {
    let mut out = MountOptions::default();
    let mut data: Vec<&str> = Vec::new();
    for w in words {
        let w = w.as_ref();
        if w.is_empty() || LXC_OPTS.contains(&w) {
            continue;
        }
        if let Some((_, clear, flag)) = MOUNT_OPTS.iter().find(|(n, _, _)| *n == w) {
            if *clear {
                out.flags &= !flag;
            } else {
                out.flags |= flag;
            }
        } else if let Some((_, flag)) = PROPAGATION_OPTS.iter().find(|(n, _)| *n == w) {
            out.propagation |= flag;
        } else {
            data.push(w);
        }
    }
    out.data = data.join(",");
    out
}

/// Undo fstab's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash).
fn decode_fstab(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let rep = [("\\040", ' '), ("\\011", '\t'), ("\\012", '\n'), ("\\134", '\\'), ("\\\\", '\\')]
            .iter()
            .find(|(p, _)| tail.starts_with(p));
        match rep {
            Some((p, c)) => {
                out.push(*c);
                rest = &tail[p.len()..];
            }
            None => {
                out.push('\\');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parse one fstab-format line (`lxc.mount.entry` value or a line of `lxc.mount.fstab`):
/// `SOURCE TARGET [TYPE [OPTIONS [DUMP [PASS]]]]`, blank-separated, octal escapes decoded.
/// Source and target are required; missing fields default as in glibc's `getmntent`.
pub fn parse_mount_entry(line: &str) -> Result<MountEntry, ValueError> {
    let f: Vec<&str> = line.split([' ', '\t']).filter(|s| !s.is_empty()).collect();
    if f.len() < 2 {
        return Err(ValueError::new(format!(
            "{line:?} is not a mount entry (expected \"SOURCE TARGET TYPE OPTIONS [DUMP PASS]\")"
        )));
    }
    // getmntent reads dump and pass with sscanf("%d %d"): what isn't a number counts as 0.
    let num = |i: usize| -> Result<i32, ValueError> { Ok(f.get(i).and_then(|s| s.parse::<i32>().ok()).unwrap_or(0)) };
    let options: Vec<String> =
        f.get(3).map(|o| o.split(',').filter(|w| !w.is_empty()).map(decode_fstab).collect()).unwrap_or_default();
    let has = |w: &str| options.iter().any(|o| o == w);
    Ok(MountEntry {
        source: decode_fstab(f[0]),
        target: decode_fstab(f[1]),
        fstype: f.get(2).map(|s| decode_fstab(s)).unwrap_or_default(),
        dump: num(4)?,
        pass: num(5)?,
        create_dir: has("create=dir"),
        create_file: has("create=file"),
        optional: has("optional"),
        relative: has("relative"),
        options,
        raw: line.to_string(),
    })
}

/// Parse an fstab file's text (`lxc.mount.fstab`): comment and blank lines skipped.
pub fn parse_fstab(text: &str) -> Result<Vec<MountEntry>, ValueError> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(parse_mount_entry).collect()
}

impl MountEntry {
    /// The entry's options as mount(2) arguments.
    pub fn mount_options(&self) -> MountOptions {
        parse_mount_options(&self.options)
    }
}

/// Default container path of `shmounts:`.
pub const SHMOUNTS_DEFAULT: &str = "/dev/.lxc-mounts";

/// Apply the words of one `lxc.mount.auto` value to `auto` (values accumulate, a later word for
/// the same filesystem replaces the earlier one). An unknown word fails.
pub fn apply_mount_auto(auto: &mut MountAuto, value: &str) -> Result<(), ValueError> {
    for w in value.split_whitespace() {
        if let Some(rest) = w.strip_prefix("shmounts:") {
            let (host, ct) = match rest.split_once(':') {
                Some((h, c)) => (h, c),
                None => (rest, SHMOUNTS_DEFAULT),
            };
            if host.is_empty() || ct.is_empty() {
                return Err(ValueError::new(format!("{w:?}: expected shmounts:HOSTPATH[:CTPATH]")));
            }
            auto.shmounts = Some(ShMounts { host_path: host.to_string(), container_path: ct.to_string() });
            continue;
        }
        match w {
            "proc" | "proc:mixed" => auto.proc = Some(ProcMount::Mixed),
            "proc:rw" => auto.proc = Some(ProcMount::Rw),
            "sys" | "sys:mixed" => auto.sys = Some(SysMount::Mixed),
            "sys:ro" => auto.sys = Some(SysMount::Ro),
            "sys:rw" => auto.sys = Some(SysMount::Rw),
            _ => {
                let (full, rest) = if let Some(r) = w.strip_prefix("cgroup-full") {
                    (true, r)
                } else if let Some(r) = w.strip_prefix("cgroup") {
                    (false, r)
                } else {
                    return Err(unknown_auto(w));
                };
                let (rest, force) = match rest.strip_suffix(":force") {
                    Some(r) => (r, true),
                    None => (rest, false),
                };
                let mode = match rest {
                    "" => CgroupMountMode::NoSpec,
                    ":mixed" => CgroupMountMode::Mixed,
                    ":ro" => CgroupMountMode::Ro,
                    ":rw" => CgroupMountMode::Rw,
                    _ => return Err(unknown_auto(w)),
                };
                auto.cgroup = Some(CgroupMount { mode, full, force });
            }
        }
    }
    Ok(())
}

fn unknown_auto(w: &str) -> ValueError {
    ValueError::new(format!(
        "{w:?} is not a mount.auto word (proc[:rw|:mixed], sys[:ro|:rw|:mixed], cgroup[-full][:ro|:rw|:mixed][:force], shmounts:PATH)"
    ))
}

/// `get_config_item("lxc.mount.auto")` as LXC 4.0 prints it (`:force` and shmounts not shown).
pub fn format_mount_auto(auto: &MountAuto) -> String {
    let mut w: Vec<String> = Vec::new();
    match auto.proc {
        Some(ProcMount::Mixed) => w.push("proc:mixed".into()),
        Some(ProcMount::Rw) => w.push("proc:rw".into()),
        None => {}
    }
    match auto.sys {
        Some(SysMount::Mixed) => w.push("sys:mixed".into()),
        Some(SysMount::Ro) => w.push("sys:ro".into()),
        Some(SysMount::Rw) => w.push("sys:rw".into()),
        None => {}
    }
    if let Some(c) = auto.cgroup {
        let base = if c.full { "cgroup-full" } else { "cgroup" };
        let mode = match c.mode {
            CgroupMountMode::NoSpec => "",
            CgroupMountMode::Mixed => ":mixed",
            CgroupMountMode::Ro => ":ro",
            CgroupMountMode::Rw => ":rw",
        };
        w.push(format!("{base}{mode}"));
    }
    w.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_entry_fields_and_lxc_options() {
        let e = parse_mount_entry("/sys/fs/fuse/connections sys/fs/fuse/connections none bind,optional 0 0")
            .expect("valid");
        assert_eq!(e.source, "/sys/fs/fuse/connections");
        assert_eq!(e.target, "sys/fs/fuse/connections");
        assert_eq!(e.fstype, "none");
        assert!(e.optional && !e.create_dir);
        assert_eq!(e.mount_options().flags, ms::BIND);
        let e = parse_mount_entry("tmpfs dev/shm tmpfs rw,nosuid,size=10M,create=dir,rslave").expect("valid");
        assert!(e.create_dir);
        let o = e.mount_options();
        assert_eq!(o.flags, ms::NOSUID);
        assert_eq!(o.propagation, ms::SLAVE | ms::REC);
        assert_eq!(o.data, "size=10M");
        let e = parse_mount_entry("/a\\040b c").expect("valid");
        assert_eq!(e.source, "/a b");
        assert_eq!((e.fstype.as_str(), e.dump, e.pass), ("", 0, 0));
        assert!(parse_mount_entry("a").is_err());
        assert_eq!(parse_mount_entry("a b c d x y").map(|e| e.dump), Ok(0));
    }

    #[test]
    fn mount_auto_words() {
        let mut a = MountAuto::default();
        apply_mount_auto(&mut a, "proc sys:ro cgroup:mixed:force").expect("valid");
        assert_eq!(a.proc, Some(ProcMount::Mixed));
        assert_eq!(a.cgroup, Some(CgroupMount { mode: CgroupMountMode::Mixed, full: false, force: true }));
        assert_eq!(format_mount_auto(&a), "proc:mixed sys:ro cgroup:mixed");
        apply_mount_auto(&mut a, "shmounts:/a").expect("valid");
        assert_eq!(a.shmounts.as_ref().map(|s| s.container_path.as_str()), Some(SHMOUNTS_DEFAULT));
        for b in ["bogus", "cgroup:x", "shmounts:", "proc:ro"] {
            assert!(apply_mount_auto(&mut a, b).is_err(), "{b}");
        }
        let mut a = MountAuto::default();
        apply_mount_auto(&mut a, "cgroup-full:rw").expect("valid");
        assert_eq!(format_mount_auto(&a), "cgroup-full:rw");
    }
}
