//! Root filesystem storage backends: dir, overlay/overlayfs, loop, btrfs, lvm and nbd (zfs and
//! rbd are refused by name).
//!
//! A backend knows where a container's root filesystem lives on the host, how to mount it at the
//! staging point before pivot_root, and how to create and destroy it.

// MS_* flags are `c_ulong`: u64 here but u32 on 32-bit targets, so the `as u64` casts stay.
#![allow(clippy::unnecessary_cast)]

pub mod btrfs;
pub mod clone;
pub mod dir;
#[path = "loop.rs"]
pub mod loopback;
pub mod lvm;
pub mod nbd;
pub mod options;
pub mod overlay;

use std::path::{Path, PathBuf};

use rlxc_config::Rootfs;

pub use options::{parse_mount_options, MountOptions};

/// What went wrong in a storage backend, with the path and backend involved.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// `lxc.rootfs.path` names a backend rlxc does not implement yet.
    #[error(
        "lxc.rootfs.path: storage type \"{0}\" is not supported by rlxc yet (dir, overlay, loop, btrfs, lvm, nbd)"
    )]
    Unsupported(String),
    /// No `lxc.rootfs.path`.
    #[error("lxc.rootfs.path is not set")]
    NoRootfs,
    /// The rootfs directory does not exist.
    #[error("rootfs \"{}\" does not exist", .0.display())]
    Missing(PathBuf),
    /// A system call on `path` failed.
    #[error("{op} \"{}\": {source}", path.display())]
    Io {
        /// What we tried.
        op: &'static str,
        /// On what.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A bad `lxc.rootfs.options` word.
    #[error("lxc.rootfs.options: {0}")]
    Options(String),
    /// A malformed `lxc.rootfs.path` for its backend.
    #[error("lxc.rootfs.path \"{path}\": {msg}")]
    BadPath {
        /// The value.
        path: String,
        /// What is wrong.
        msg: String,
    },
    /// A helper program (mkfs, rsync, btrfs, lvcreate) failed or is missing.
    #[error("{0}")]
    Command(String),
}

/// One storage backend instance (LXC's `struct lxc_storage` + ops).
pub trait Storage {
    /// Backend name (`dir`).
    fn kind(&self) -> &'static str;
    /// Host path of the root filesystem.
    fn path(&self) -> &Path;
    /// Mount the root filesystem onto `target` with `lxc.rootfs.options`.
    fn mount(&self, target: &Path, options: Option<&str>) -> Result<(), StorageError>;
    /// Create an empty root filesystem (lxc-create before the template runs).
    fn create(&self) -> Result<(), StorageError>;
    /// Remove the root filesystem (lxc-destroy).
    fn destroy(&self) -> Result<(), StorageError>;
    /// Where the start path mounts the rootfs when `lxc.rootfs.mount` is unset (dir: the
    /// directory itself; overlay: the upper dir; loop: `rootfs` next to the image).
    fn mount_target(&self) -> PathBuf {
        self.path().to_path_buf()
    }
    /// Whether [`Storage::mount_target`] is a runtime directory of rlxc's own (lvm:
    /// `/run/rlxc/lvm/VG/LV`), made on demand, rather than one that belongs to the container.
    fn mount_target_is_runtime(&self) -> bool {
        false
    }
    /// The `lxc.rootfs.path` value naming this rootfs (`dir:/p`, `overlay:/l:/u`, `loop:/f`).
    fn config_value(&self) -> String {
        format!("{}:{}", self.kind(), self.path().display())
    }
    /// Whether the rootfs is a plain directory usable without mounting (copy sources, templates).
    fn is_directory(&self) -> bool {
        false
    }
}

/// The backend for a container's `lxc.rootfs.*`.
pub fn open(rootfs: &Rootfs) -> Result<Box<dyn Storage>, StorageError> {
    let (kind, loc) = backend_and_location(rootfs).ok_or(StorageError::NoRootfs)?;
    match kind {
        "dir" => Ok(Box::new(dir::Dir::new(PathBuf::from(loc)))),
        "overlay" | "overlayfs" => Ok(Box::new(overlay::Overlay::parse(kind, loc)?)),
        "loop" => Ok(Box::new(loopback::Loop::new(PathBuf::from(loc)))),
        "btrfs" => Ok(Box::new(btrfs::Btrfs::new(PathBuf::from(loc)))),
        "lvm" => Ok(Box::new(lvm::Lvm::parse(loc)?)),
        "nbd" => Ok(Box::new(nbd::Nbd::parse(loc)?)),
        other => Err(StorageError::Unsupported(other.to_string())),
    }
}

/// The backend type and its location for `lxc.rootfs.*` (None without `lxc.rootfs.path`).
pub fn backend_and_location(rootfs: &Rootfs) -> Option<(&str, &str)> {
    let path = rootfs.path.as_deref()?;
    Some(match rootfs.backend.as_deref() {
        Some(k) => (k, rootfs.location.as_deref().unwrap_or("")),
        None => split_type(path),
    })
}

/// Split `[type:]location`; without a known type prefix the whole thing is a directory.
pub fn split_type(path: &str) -> (&str, &str) {
    const KNOWN: &[&str] = &["dir", "zfs", "lvm", "rbd", "btrfs", "overlay", "overlayfs", "loop", "nbd"];
    if let Some((t, rest)) = path.split_once(':') {
        if KNOWN.contains(&t) {
            return (t, rest);
        }
    }
    ("dir", path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_path_is_dir() {
        assert_eq!(split_type("/var/lib/lxc/c/rootfs"), ("dir", "/var/lib/lxc/c/rootfs"));
        assert_eq!(split_type("dir:/x"), ("dir", "/x"));
        assert_eq!(split_type("overlay:/a:/b"), ("overlay", "/a:/b"));
    }

    #[test]
    fn backends_open_by_prefix() {
        let r = Rootfs { path: Some("overlay:/a/rootfs:/b/overlay/delta".into()), ..Rootfs::default() };
        let s = open(&r).map_err(|e| e.to_string());
        assert_eq!(s.as_ref().map(|s| s.kind()), Ok("overlay"));
        assert_eq!(s.map(|s| s.mount_target()), Ok(PathBuf::from("/b/overlay/delta")));
        let r = Rootfs { path: Some("loop:/c/rootdev".into()), ..Rootfs::default() };
        assert_eq!(open(&r).map(|s| s.mount_target()).ok(), Some(PathBuf::from("/c/rootfs")));
    }

    #[test]
    fn unknown_backend_is_refused_by_name() {
        let r = Rootfs { path: Some("lvm:/dev/lxc/c1".into()), ..Rootfs::default() };
        assert_eq!(open(&r).map(|s| s.kind()).ok(), Some("lvm"));
        let r = Rootfs { path: Some("zfs:pool/c".into()), ..Rootfs::default() };
        let e = open(&r).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("\"zfs\""), "{e}");
    }
}
