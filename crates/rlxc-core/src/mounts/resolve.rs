//! Resolving paths inside the container's rootfs so that nothing in the rootfs (absolute or
//! relative symlinks, `..`) can redirect a mount onto the host: `openat2(RESOLVE_IN_ROOT)` from
//! an fd of the rootfs, then mounting onto `/proc/self/fd/N`.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rlxc_sys::mount::{fd_path, open_in_root};

/// An open rootfs directory to resolve paths in.
pub struct Root {
    fd: OwnedFd,
    path: PathBuf,
}

impl Root {
    /// Open `path` (the staged rootfs mount) as the resolution root.
    pub fn open(path: &Path) -> io::Result<Root> {
        let f = File::open(path)?;
        Ok(Root { fd: OwnedFd::from(f), path: path.to_path_buf() })
    }

    /// The rootfs path on the host side (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Resolve `rel` (leading `/` ignored) inside the root; O_PATH fd of the result.
    pub fn resolve(&self, rel: &Path) -> io::Result<OwnedFd> {
        open_in_root(self.fd.as_fd(), &strip_root(rel), 0)
    }

    /// Resolve like [`Root::resolve`], creating missing directories (`create=dir`, `mkdir -p`
    /// inside the root). Each component is created with mkdirat in its already-resolved parent,
    /// so a symlink planted anywhere on the way still resolves inside the root.
    pub fn mkdir_p(&self, rel: &Path, mode: u32) -> io::Result<OwnedFd> {
        let rel = strip_root(rel);
        let mut cur = PathBuf::new();
        let mut parent = open_in_root(self.fd.as_fd(), Path::new("."), libc::O_DIRECTORY)?;
        for comp in rel.components() {
            let Component::Normal(name) = comp else { continue };
            cur.push(name);
            match open_in_root(self.fd.as_fd(), &cur, libc::O_DIRECTORY) {
                Ok(fd) => parent = fd,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    // O_PATH fds can be used as dirfd for mkdirat.
                    match rustix::fs::mkdirat(&parent, name, rustix::fs::Mode::from_raw_mode(mode)) {
                        Ok(()) => {}
                        Err(e) if e == rustix::io::Errno::EXIST => {}
                        Err(e) => return Err(e.into()),
                    }
                    parent = open_in_root(self.fd.as_fd(), &cur, libc::O_DIRECTORY)?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(parent)
    }

    /// `create=file`: make the parent directories and an empty file (no symlink followed for the
    /// last component's creation), then resolve it.
    pub fn create_file(&self, rel: &Path, mode: u32) -> io::Result<OwnedFd> {
        let rel = strip_root(rel);
        if let Ok(fd) = self.resolve(&rel) {
            return Ok(fd);
        }
        let parent_rel = rel.parent().map(Path::to_path_buf).unwrap_or_default();
        let name = rel.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty target"))?;
        let parent = self.mkdir_p(&parent_rel, 0o755)?;
        // O_PATH parent fd is not usable for openat(O_CREAT); reopen it as a real directory
        // through the magic link (it was resolved safely already).
        let dir = File::open(fd_path(parent.as_fd()))?;
        let flags = rustix::fs::OFlags::CREATE
            | rustix::fs::OFlags::WRONLY
            | rustix::fs::OFlags::NOFOLLOW
            | rustix::fs::OFlags::CLOEXEC;
        match rustix::fs::openat(&dir, name, flags, rustix::fs::Mode::from_raw_mode(mode)) {
            Ok(_) => {}
            // An existing symlink there: resolve it inside the root below.
            Err(e) if e == rustix::io::Errno::LOOP || e == rustix::io::Errno::EXIST => {}
            Err(e) => return Err(e.into()),
        }
        self.resolve(&rel)
    }
}

/// `/a/b` → `a/b`; keeps `..` (RESOLVE_IN_ROOT clamps it at the root).
pub fn strip_root(p: &Path) -> PathBuf {
    p.components().filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_stay_inside_the_root() {
        let d = tempfile::tempdir().expect("tmp");
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("real")).expect("mkdir");
        let outside = d.path().join("outside");
        std::fs::create_dir_all(&outside).expect("mkdir");
        // An absolute symlink pointing at a host path, and a relative one escaping with `..`.
        std::os::unix::fs::symlink(&outside, root.join("abs")).expect("symlink");
        std::os::unix::fs::symlink("../../outside", root.join("rel")).expect("symlink");
        let r = Root::open(&root).expect("open");
        // Dangling inside the root: an error, never a host path.
        assert!(r.mkdir_p(Path::new("/abs/x"), 0o755).is_err());
        assert!(!outside.join("x").exists());
        // Make the in-root targets exist, so resolution succeeds inside the root.
        std::fs::create_dir_all(root.join(outside.strip_prefix("/").expect("abs"))).expect("mkdir");
        std::fs::create_dir_all(root.join("outside")).expect("mkdir");
        // Resolving through the symlink must not reach `outside`: creating dirs lands inside.
        r.mkdir_p(Path::new("/abs/x"), 0o755).expect("mkdir_p");
        r.mkdir_p(Path::new("rel/y"), 0o755).expect("mkdir_p");
        assert!(!outside.join("x").exists() && !outside.join("y").exists());
        assert!(root.join(outside.strip_prefix("/").expect("abs")).join("x").is_dir());
        r.create_file(Path::new("/abs/f"), 0o644).expect("create_file");
        assert!(!outside.join("f").exists());
    }
}
