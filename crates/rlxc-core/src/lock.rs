//! LXC's per-container lock: `<rundir>/lxc/lock/<lxcpath>/.<name>`, an exclusive OFD record lock
//! on the whole file (`lxclock()` / `lxc_lock()` in LXC's `lxclock.c`).
//!
//! Because it is an open-file-description lock, two [`ContainerLock`]s in one process exclude each
//! other just like two processes do, and an rlxc tool and an LXC tool exclude each other on the
//! same container. The lock file itself is left in place (LXC never removes it either).

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rlxc_sys::ofd::{ofd_lock, OfdLock};

/// A lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot create lock directory {path}: {source}")]
    Dir { path: PathBuf, source: io::Error },
    #[error("cannot open lock file {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("container {name:?} is locked by another process ({path})")]
    Busy { name: String, path: PathBuf },
    #[error("cannot lock {path}: {source}")]
    Lock { path: PathBuf, source: io::Error },
}

/// The lock file path LXC uses for container `name` in `lxcpath`.
pub fn lock_path(lxcpath: &str, name: &str) -> PathBuf {
    // Textual concatenation, like LXC's snprintf: "/run/lxc/lock//var/lib/lxc/.c1".
    PathBuf::from(format!("{}/lxc/lock/{}/.{}", crate::lxcpath::rundir().display(), lxcpath, name))
}

/// A held container lock; released when dropped.
#[derive(Debug)]
pub struct ContainerLock {
    file: File,
    path: PathBuf,
}

impl ContainerLock {
    /// Block until the lock on `name` in `lxcpath` is ours.
    pub fn acquire(lxcpath: &str, name: &str) -> Result<ContainerLock, LockError> {
        Self::take(lxcpath, name, true)
    }

    /// Take the lock only if nobody holds it (`LockError::Busy` otherwise).
    pub fn try_acquire(lxcpath: &str, name: &str) -> Result<ContainerLock, LockError> {
        Self::take(lxcpath, name, false)
    }

    fn take(lxcpath: &str, name: &str, wait: bool) -> Result<ContainerLock, LockError> {
        let path = lock_path(lxcpath, name);
        if let Some(dir) = path.parent() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(dir)
                .map_err(|source| LockError::Dir { path: dir.to_path_buf(), source })?;
        }
        let file = open_lock_file(&path)?;
        match ofd_lock(file.as_fd(), OfdLock::Exclusive, wait) {
            Ok(()) => Ok(ContainerLock { file, path }),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EACCES)) => {
                Err(LockError::Busy { name: name.to_string(), path })
            }
            Err(source) => Err(LockError::Lock { path, source }),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open_lock_file(path: &Path) -> Result<File, LockError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o666)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NOCTTY)
        .open(path)
        .map_err(|source| LockError::Open { path: path.to_path_buf(), source })
}

impl Drop for ContainerLock {
    fn drop(&mut self) {
        // Closing the description releases the lock anyway; unlocking first makes it immediate
        // even if a forked child still shares the description.
        let _ = ofd_lock(self.file.as_fd(), OfdLock::Unlock, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_handles_in_one_process_exclude_each_other() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("lk");
        let a = open_lock_file(&p).expect("open");
        let b = open_lock_file(&p).expect("open");
        ofd_lock(a.as_fd(), OfdLock::Exclusive, false).expect("first");
        assert!(ofd_lock(b.as_fd(), OfdLock::Exclusive, false).is_err());
        ofd_lock(a.as_fd(), OfdLock::Unlock, false).expect("unlock");
        ofd_lock(b.as_fd(), OfdLock::Exclusive, false).expect("second after release");
    }

    #[test]
    fn lock_path_is_lxcs() {
        let p = lock_path("/var/lib/lxc", "c1");
        assert!(p.to_string_lossy().ends_with("/lxc/lock//var/lib/lxc/.c1"), "{}", p.display());
    }
}
