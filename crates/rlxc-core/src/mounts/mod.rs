//! Mounts made inside the container before pivot_root: `lxc.mount.entry` / `lxc.mount.fstab`
//! with LXC's extra options, `lxc.mount.auto` proc and sys variants, and `lxc.autodev`.
//! Every target inside the rootfs is resolved with [`resolve::Root`] so the rootfs cannot
//! redirect a mount onto the host.

// MS_*/CLONE_* constants are `c_ulong`/`c_int`: the `as u64` casts are needed on 32-bit targets.
#![allow(clippy::unnecessary_cast)]

pub mod auto;
pub mod autodev;
pub mod resolve;

use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use rlxc_config::MountEntry;
use rlxc_storage::parse_mount_options;
use rlxc_sys::mount::{fd_path, mount};
use tracing::{debug, warn};

use resolve::Root;

/// A mount that failed, with the entry it came from.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    /// An `lxc.mount.entry` / fstab line failed.
    #[error("lxc.mount.entry \"{entry}\": {what}: {source}")]
    Entry {
        /// The line.
        entry: String,
        /// The step.
        what: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Some other mount step failed.
    #[error("{what} \"{}\": {source}", path.display())]
    Step {
        /// The step.
        what: String,
        /// Target.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// `lxc.mount.fstab` could not be read or parsed.
    #[error("lxc.mount.fstab \"{path}\": {msg}")]
    Fstab {
        /// File.
        path: String,
        /// What is wrong.
        msg: String,
    },
}

const MS_BIND: u64 = libc::MS_BIND as u64;
const MS_REMOUNT: u64 = libc::MS_REMOUNT as u64;
const MS_REC: u64 = libc::MS_REC as u64;

/// Mount one entry into the rootfs at `root` (None = no rootfs: host paths, as LXC does when
/// `lxc.rootfs.path` is unset).
pub fn mount_entry(root: Option<&Root>, e: &MountEntry) -> Result<(), MountError> {
    let res = mount_entry_inner(root, e);
    match res {
        Err(err) if e.optional => {
            warn!("optional mount entry \"{}\" skipped: {err}", e.raw);
            Ok(())
        }
        r => r,
    }
}

fn err(e: &MountEntry, what: impl Into<String>) -> impl FnOnce(io::Error) -> MountError + '_ {
    let what = what.into();
    move |source| MountError::Entry { entry: e.raw.clone(), what, source }
}

fn mount_entry_inner(root: Option<&Root>, e: &MountEntry) -> Result<(), MountError> {
    let words: Vec<&str> = e.options.iter().map(String::as_str).collect();
    let opts = parse_mount_options(&words).map_err(|m| MountError::Entry {
        entry: e.raw.clone(),
        what: "options".into(),
        source: io::Error::new(io::ErrorKind::InvalidInput, m),
    })?;
    let is_bind = opts.flags & MS_BIND != 0;
    // Source: `relative` sources live inside the rootfs (resolved safely too).
    let source_fd;
    let source: String = if e.relative {
        let r = root.ok_or_else(|| MountError::Entry {
            entry: e.raw.clone(),
            what: "relative source without a rootfs".into(),
            source: io::Error::from_raw_os_error(libc::EINVAL),
        })?;
        source_fd =
            r.resolve(Path::new(&e.source)).map_err(err(e, format!("resolve source \"{}\" in rootfs", e.source)))?;
        fd_path(source_fd.as_fd()).to_string_lossy().into_owned()
    } else {
        e.source.clone()
    };
    // Create the target if asked: a directory, or (create=file) a file. For bind mounts of a
    // file LXC also creates a file when create=file is given.
    let target_fd = match root {
        Some(r) => {
            let t = Path::new(&e.target);
            let fd = if e.create_dir {
                r.mkdir_p(t, 0o755).map_err(err(e, format!("create directory \"{}\" in rootfs", e.target)))?
            } else if e.create_file {
                r.create_file(t, 0o644).map_err(err(e, format!("create file \"{}\" in rootfs", e.target)))?
            } else {
                r.resolve(t).map_err(err(e, format!("resolve target \"{}\" in rootfs", e.target)))?
            };
            Some(fd)
        }
        None => {
            if e.create_dir {
                std::fs::create_dir_all(&e.target).map_err(err(e, "create target directory"))?;
            }
            None
        }
    };
    let target: PathBuf = match target_fd.as_ref() {
        Some(fd) => fd_path(fd.as_fd()),
        None => PathBuf::from(&e.target),
    };
    let data = (!opts.data.is_empty()).then_some(opts.data.as_str());
    let fstype = (!e.fstype.is_empty() && e.fstype != "none" || !is_bind).then_some(e.fstype.as_str());
    debug!("mounting \"{}\" on \"{}\" type \"{}\" (entry \"{}\")", source, e.target, e.fstype, e.raw);
    mount(Some(&source), &target, fstype, opts.flags & !MS_REMOUNT, data).map_err(err(e, "mount"))?;
    // The fd still names the directory under the new mount: resolve again to reach the mount
    // itself for the remount and propagation changes.
    let after_fd = match root {
        Some(r) => Some(r.resolve(Path::new(&e.target)).map_err(err(e, "resolve the new mount"))?),
        None => None,
    };
    let target: PathBuf = match after_fd.as_ref() {
        Some(fd) => fd_path(fd.as_fd()),
        None => PathBuf::from(&e.target),
    };
    // Bind mounts ignore most flags on creation: apply them by a remount, as LXC does.
    if is_bind && (opts.flags & !(MS_BIND | MS_REC)) != 0 {
        let f = MS_BIND | MS_REMOUNT | (opts.flags & !MS_REC);
        mount(None, &target, None, f, None).map_err(err(e, "remount bind mount with its flags"))?;
    }
    if opts.propagation != 0 {
        mount(None, &target, None, opts.propagation, None).map_err(err(e, "set propagation"))?;
    }
    Ok(())
}

/// Parse one fstab-format line into a [`MountEntry`] (fields: spec file vfstype mntops [freq
/// [passno]]). None for blank and comment lines.
pub fn parse_fstab_line(line: &str) -> Option<Result<MountEntry, String>> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') {
        return None;
    }
    let f: Vec<&str> = t.split_whitespace().collect();
    if f.len() < 4 {
        return Some(Err(format!("\"{t}\": expected at least 4 fields (source target type options)")));
    }
    let options: Vec<String> = f[3].split(',').map(str::to_string).collect();
    let has = |w: &str| options.iter().any(|o| o == w);
    Some(Ok(MountEntry {
        source: unescape(f[0]),
        target: unescape(f[1]),
        fstype: f[2].to_string(),
        dump: f.get(4).and_then(|v| v.parse().ok()).unwrap_or(0),
        pass: f.get(5).and_then(|v| v.parse().ok()).unwrap_or(0),
        create_dir: has("create=dir"),
        create_file: has("create=file"),
        optional: has("optional"),
        relative: has("relative"),
        options,
        raw: t.to_string(),
    }))
}

/// fstab octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Read `lxc.mount.fstab` into entries.
pub fn read_fstab(path: &str) -> Result<Vec<MountEntry>, MountError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| MountError::Fstab { path: path.into(), msg: e.to_string() })?;
    let mut v = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(r) = parse_fstab_line(line) {
            v.push(r.map_err(|m| MountError::Fstab { path: path.into(), msg: format!("line {}: {m}", n + 1) })?);
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fstab_lines() {
        assert!(parse_fstab_line("# comment").is_none());
        let e =
            parse_fstab_line("/a/b\\040c mnt none bind,create=dir,optional 0 0").and_then(Result::ok).expect("entry");
        assert_eq!(e.source, "/a/b c");
        assert_eq!(e.target, "mnt");
        assert!(e.create_dir && e.optional && !e.relative);
        assert!(parse_fstab_line("a b c").map(|r| r.is_err()).unwrap_or(false));
    }
}
