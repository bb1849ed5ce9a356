//! The `dir` backend: the rootfs is a directory on the host, bind-mounted into place.

use std::path::{Path, PathBuf};

use crate::{parse_mount_options, Storage, StorageError};

/// A directory rootfs.
pub struct Dir {
    path: PathBuf,
}

impl Dir {
    /// A dir backend at `path`.
    pub fn new(path: PathBuf) -> Dir {
        Dir { path }
    }
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StorageError + 'a {
    move |source| StorageError::Io { op, path: path.to_path_buf(), source }
}

impl Storage for Dir {
    fn kind(&self) -> &'static str {
        "dir"
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn is_directory(&self) -> bool {
        true
    }

    fn mount(&self, target: &Path, options: Option<&str>) -> Result<(), StorageError> {
        if !self.path.is_dir() {
            return Err(StorageError::Missing(self.path.clone()));
        }
        let words: Vec<&str> =
            options.map(|o| o.split(',').map(str::trim).filter(|w| !w.is_empty()).collect()).unwrap_or_default();
        let opts = parse_mount_options(&words).map_err(StorageError::Options)?;
        let src = self.path.to_str().ok_or_else(|| StorageError::Options("rootfs path is not UTF-8".into()))?;
        // Like LXC's dir_mount: a recursive bind, then the flags bind mounts ignore on creation
        // (ro, nosuid, ...) by a remount, then the propagation.
        rlxc_sys::mount::mount(Some(src), target, Some("bind"), libc::MS_BIND as u64 | libc::MS_REC as u64, None)
            .map_err(io("bind-mount rootfs onto", target))?;
        if opts.flags != 0 {
            let f = libc::MS_BIND as u64 | libc::MS_REMOUNT as u64 | opts.flags;
            rlxc_sys::mount::mount(None, target, None, f, None).map_err(io("remount rootfs", target))?;
        }
        if opts.propagation != 0 {
            rlxc_sys::mount::mount(None, target, None, opts.propagation, None)
                .map_err(io("set propagation of rootfs", target))?;
        }
        Ok(())
    }

    fn create(&self) -> Result<(), StorageError> {
        std::fs::create_dir_all(&self.path).map_err(io("create rootfs directory", &self.path))?;
        // LXC creates the dir rootfs 0755.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o755))
            .map_err(io("chmod rootfs directory", &self.path))
    }

    fn destroy(&self) -> Result<(), StorageError> {
        match std::fs::remove_dir_all(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::Io { op: "remove rootfs", path: self.path.clone(), source: e }),
        }
    }
}
