//! The `btrfs` backend: `btrfs:/path`, a subvolume bind-mounted like a dir; created, snapshotted
//! and deleted with the `btrfs` tool (btrfs-progs), as LXC's btrfs backend does with ioctls.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::loopback::run;
use crate::{dir::Dir, Storage, StorageError};

/// A btrfs subvolume rootfs.
pub struct Btrfs {
    path: PathBuf,
}

impl Btrfs {
    /// A btrfs backend at `path`.
    pub fn new(path: PathBuf) -> Btrfs {
        Btrfs { path }
    }

    /// `btrfs subvolume snapshot SRC DST`.
    pub fn snapshot(src: &Path, dst: &Path) -> Result<(), StorageError> {
        run(Command::new("btrfs").args(["subvolume", "snapshot"]).arg(src).arg(dst))
    }
}

/// Whether `path` is on a btrfs filesystem and the `btrfs` tool is installed.
pub fn usable(path: &Path) -> bool {
    let fs_ok = rustix::fs::statfs(path).map(|s| s.f_type as i64 == 0x9123683E_i64).unwrap_or(false);
    fs_ok && Command::new("btrfs").arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
}

impl Storage for Btrfs {
    fn kind(&self) -> &'static str {
        "btrfs"
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn is_directory(&self) -> bool {
        true
    }

    fn mount(&self, target: &Path, options: Option<&str>) -> Result<(), StorageError> {
        Dir::new(self.path.clone()).mount(target, options)
    }

    fn create(&self) -> Result<(), StorageError> {
        run(Command::new("btrfs").args(["subvolume", "create"]).arg(&self.path))
    }

    fn destroy(&self) -> Result<(), StorageError> {
        if !self.path.exists() {
            return Ok(());
        }
        run(Command::new("btrfs").args(["subvolume", "delete"]).arg(&self.path))
    }
}
