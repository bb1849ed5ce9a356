//! fd-relative reads and writes of cgroup files: the directory is opened once, files are opened
//! with `openat` beneath it, values are written with one `write` and read with one read.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{openat, Mode, OFlags, CWD};

/// Open a cgroup directory (read-only, `O_DIRECTORY`), usable as `openat` base and as the
/// target of a BPF attach.
pub fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    Ok(openat(CWD, path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?)
}

/// Write `value` into the file `name` beneath `dir` with a single write (cgroup files take one
/// value per write).
pub fn write_at(dir: BorrowedFd<'_>, name: &str, value: &str) -> io::Result<()> {
    if name.contains('/') || name == ".." || name.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("bad cgroup file name {name:?}")));
    }
    let fd = openat(dir, name, OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW, Mode::empty())?;
    let mut f = File::from(fd);
    f.write_all(value.as_bytes())
}

/// Read the file `name` beneath `dir` whole.
pub fn read_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<String> {
    if name.contains('/') || name == ".." || name.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("bad cgroup file name {name:?}")));
    }
    let fd = openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW, Mode::empty())?;
    let mut f = File::from(fd);
    let mut s = String::new();
    f.read_to_string(&mut s)?;
    Ok(s)
}

/// Write `value` to an absolute path (used for parents we did not open).
pub fn write_path(path: &Path, value: &str) -> io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.write_all(value.as_bytes())
}

/// A cgroup directory we hold open, with its path for messages.
#[derive(Debug)]
pub struct CgDir {
    /// absolute path of the directory
    pub path: std::path::PathBuf,
    /// the open directory
    pub fd: OwnedFd,
}

impl CgDir {
    /// Open `path`.
    pub fn open(path: &Path) -> io::Result<CgDir> {
        Ok(CgDir { path: path.to_path_buf(), fd: open_dir(path)? })
    }
    /// Write a file beneath this directory.
    pub fn write(&self, name: &str, value: &str) -> io::Result<()> {
        write_at(self.fd.as_fd(), name, value)
    }
    /// Read a file beneath this directory.
    pub fn read(&self, name: &str) -> io::Result<String> {
        read_at(self.fd.as_fd(), name)
    }
}
