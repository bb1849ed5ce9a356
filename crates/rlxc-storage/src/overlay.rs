//! The `overlay` (alias `overlayfs`) backend: `overlay:LOWER[:LOWER...]:UPPER`. The kernel's
//! overlayfs is mounted with the workdir `work` next to the upper dir (a clone keeps them in
//! `<lxcpath>/<name>/overlay/{delta,work}`), as LXC's `ovl_mount` does.

use std::path::{Path, PathBuf};

use crate::{parse_mount_options, Storage, StorageError};

/// An overlay rootfs: read-only lower dirs and the writable upper dir (the delta).
pub struct Overlay {
    kind: &'static str,
    lowers: Vec<PathBuf>,
    upper: PathBuf,
}

impl Overlay {
    /// Parse the location after `overlay:` (`LOWER[:LOWER...]:UPPER`).
    pub fn parse(kind: &str, loc: &str) -> Result<Overlay, StorageError> {
        let parts: Vec<&str> = loc.split(':').collect();
        if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
            return Err(StorageError::BadPath {
                path: format!("{kind}:{loc}"),
                msg: "an overlay rootfs is overlay:LOWER:UPPER".into(),
            });
        }
        let (upper, lowers) = parts.split_last().map(|(u, l)| (*u, l)).unwrap_or(("", &[]));
        Ok(Overlay {
            kind: if kind == "overlayfs" { "overlayfs" } else { "overlay" },
            lowers: lowers.iter().map(PathBuf::from).collect(),
            upper: PathBuf::from(upper),
        })
    }

    /// An overlay of `lowers` (topmost first) with the writable `upper`.
    pub fn new(lowers: Vec<PathBuf>, upper: PathBuf) -> Overlay {
        Overlay { kind: "overlay", lowers, upper }
    }

    /// The lower dirs, topmost first.
    pub fn lowers(&self) -> &[PathBuf] {
        &self.lowers
    }

    /// The writable upper dir (the delta).
    pub fn upper(&self) -> &Path {
        &self.upper
    }

    /// The workdir: `work` next to the upper dir.
    pub fn workdir(&self) -> PathBuf {
        self.upper.parent().map(|p| p.join("work")).unwrap_or_else(|| PathBuf::from("work"))
    }
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StorageError + 'a {
    move |source| StorageError::Io { op, path: path.to_path_buf(), source }
}

/// Overlayfs option values cannot contain `,` (option separator); `:` separates lower dirs.
fn check_option_path(p: &Path) -> Result<&str, StorageError> {
    let s = p.to_str().ok_or_else(|| StorageError::Options(format!("\"{}\" is not UTF-8", p.display())))?;
    if s.contains(',') {
        return Err(StorageError::Options(format!("overlay path \"{s}\" contains a comma")));
    }
    Ok(s)
}

impl Storage for Overlay {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn path(&self) -> &Path {
        &self.upper
    }

    fn mount_target(&self) -> PathBuf {
        self.upper.clone()
    }

    fn config_value(&self) -> String {
        let mut s = format!("{}:", self.kind);
        for l in &self.lowers {
            s.push_str(&l.to_string_lossy());
            s.push(':');
        }
        s.push_str(&self.upper.to_string_lossy());
        s
    }

    fn mount(&self, target: &Path, options: Option<&str>) -> Result<(), StorageError> {
        for l in &self.lowers {
            if !l.is_dir() {
                return Err(StorageError::Missing(l.clone()));
            }
        }
        let work = self.workdir();
        std::fs::create_dir_all(&self.upper).map_err(io("create overlay upper dir", &self.upper))?;
        std::fs::create_dir_all(&work).map_err(io("create overlay workdir", &work))?;
        let words: Vec<&str> =
            options.map(|o| o.split(',').map(str::trim).filter(|w| !w.is_empty()).collect()).unwrap_or_default();
        let opts = parse_mount_options(&words).map_err(StorageError::Options)?;
        let mut lower = Vec::new();
        for l in &self.lowers {
            lower.push(check_option_path(l)?);
        }
        let mut data = format!(
            "lowerdir={},upperdir={},workdir={}",
            lower.join(":"),
            check_option_path(&self.upper)?,
            check_option_path(&work)?
        );
        if !opts.data.is_empty() {
            data.push(',');
            data.push_str(&opts.data);
        }
        let flags = opts.flags & !(libc::MS_BIND as u64 | libc::MS_REC as u64 | libc::MS_REMOUNT as u64);
        rlxc_sys::mount::mount(Some("overlay"), target, Some("overlay"), flags, Some(&data))
            .map_err(io("mount overlay rootfs onto", target))?;
        if opts.propagation != 0 {
            rlxc_sys::mount::mount(None, target, None, opts.propagation, None)
                .map_err(io("set propagation of rootfs", target))?;
        }
        Ok(())
    }

    fn create(&self) -> Result<(), StorageError> {
        use std::os::unix::fs::PermissionsExt;
        for d in self.lowers.iter().chain([&self.upper]) {
            let existed = d.is_dir();
            std::fs::create_dir_all(d).map_err(io("create overlay directory", d))?;
            match std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)) {
                Ok(()) => {}
                // A snapshot's lower dir is the origin's rootfs; for a user it belongs to the
                // container's root, and its mode is the origin's business.
                Err(e) if existed && e.raw_os_error() == Some(libc::EPERM) => {}
                Err(e) => return Err(io("chmod overlay directory", d)(e)),
            }
        }
        let work = self.workdir();
        std::fs::create_dir_all(&work).map_err(io("create overlay workdir", &work))
    }

    /// Removes the upper dir and the workdir only: the lower dirs belong to the origin.
    fn destroy(&self) -> Result<(), StorageError> {
        for d in [self.upper.clone(), self.workdir()] {
            match std::fs::remove_dir_all(&d) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StorageError::Io { op: "remove overlay directory", path: d, source: e }),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_lower_upper() {
        let o = Overlay::parse("overlayfs", "/a:/b:/c/overlay/delta").map_err(|e| e.to_string());
        let o = match o {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(o.lowers(), &[PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(o.upper(), Path::new("/c/overlay/delta"));
        assert_eq!(o.workdir(), PathBuf::from("/c/overlay/work"));
        assert_eq!(o.config_value(), "overlayfs:/a:/b:/c/overlay/delta");
        assert!(Overlay::parse("overlay", "/only").is_err());
        assert!(Overlay::parse("overlay", "/a::/b").is_err());
    }
}
