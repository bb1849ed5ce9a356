//! Running a tool from an image of itself that nobody can write through (CVE-2019-5736 class).
//!
//! A process inside a container that reaches `/proc/<pid>/exe` of a host tool running in (or
//! next to) the container could open the host binary for writing. start, attach and execute
//! therefore re-execute themselves, before they touch the container, from one of:
//! 1. the installed binary opened through a private, read-only overlayfs mount of its directory
//!    (no upper layer; the mount is never attached to any mount namespace and goes away with
//!    the last process running from it), as runc does since 1.2. Nothing is copied: the pages
//!    are the installed binary's page cache, shared by every monitor on the host, and a write
//!    through the overlay fails with EROFS.
//! 2. when that is impossible (unprivileged callers, kernels without the mount API or
//!    overlayfs), a sealed memfd copy ([`crate::memfd`]): private memory per process, writes
//!    fail with EPERM.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags, StatVfsMountFlags};
use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags};

use crate::memfd;

/// Environment variable carrying the path of the binary we were re-executed from (so the
/// re-executed tool still finds its install prefix, and knows it was re-executed by us).
pub const ORIGIN_ENV: &str = "RLXC_MEMFD_ORIGIN";

/// Setting this (to anything) turns the re-exec off, e.g. under a debugger.
pub const DISABLE_ENV: &str = "RLXC_NO_MEMFD_REXEC";

/// `RLXC_SEALED_EXE=memfd` skips the overlay and takes the memfd copy (tests of the fallback).
pub const METHOD_ENV: &str = "RLXC_SEALED_EXE";

/// `statfs.f_type` of overlayfs.
const OVERLAYFS_SUPER_MAGIC: u64 = 0x794c_7630;

/// An overlay without an upper layer needs two lower layers; the second one is this empty
/// directory (it sits below the binary's directory, so it can never mask the binary).
const EMPTY_LOWER_DIR: &str = "/run/rlxc/empty";

/// Whether the running program is already a sealed image: a sealed memfd, or (after our own
/// re-exec, which sets [`ORIGIN_ENV`]) a file on a read-only overlay.
pub fn running_sealed() -> bool {
    File::open("/proc/self/exe").map(|exe| is_sealed_image(&exe)).unwrap_or(false)
}

/// [`running_sealed`] for an already opened `/proc/self/exe`.
fn is_sealed_image(exe: &File) -> bool {
    memfd::is_sealed(exe) || (std::env::var_os(ORIGIN_ENV).is_some() && is_on_read_only_overlay(exe))
}

/// Whether `f` lives on an overlayfs mounted read-only.
fn is_on_read_only_overlay<Fd: AsFd>(f: Fd) -> bool {
    let on_overlay = rustix::fs::fstatfs(&f).map(|s| s.f_type as u64 == OVERLAYFS_SUPER_MAGIC).unwrap_or(false);
    let read_only = rustix::fs::fstatvfs(&f).map(|s| s.f_flag.contains(StatVfsMountFlags::RDONLY)).unwrap_or(false);
    on_overlay && read_only
}

/// Escape a path for overlayfs' `lowerdir` list (`:` separates layers, `\` escapes).
fn escape_lowerdir(p: &Path) -> io::Result<String> {
    let s = p.to_str().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "lower directory is not UTF-8"))?;
    Ok(s.replace('\\', "\\\\").replace(':', "\\:"))
}

/// Open the file at `path` through a new read-only overlayfs mount of its directory that is
/// never attached anywhere. `expected` is the file we mean to reach: the result must have the
/// same size and modification time (a binary replaced in between is refused).
fn open_through_private_overlay(path: &Path, expected: &File) -> io::Result<OwnedFd> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{}: {what}", path.display()));
    let dir = path.parent().ok_or_else(|| invalid("no parent directory"))?;
    let name = path.file_name().ok_or_else(|| invalid("no file name"))?;
    // fsopen first: it fails at once for callers without CAP_SYS_ADMIN, before we make anything.
    let ctx = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)?;
    std::fs::create_dir_all(EMPTY_LOWER_DIR)?;
    let lower = format!("{}:{}", escape_lowerdir(dir)?, escape_lowerdir(Path::new(EMPTY_LOWER_DIR))?);
    rustix::mount::fsconfig_set_string(&ctx, "lowerdir", lower.as_str())?;
    // xino only matters for inode numbers across layers on different filesystems; turning it
    // off keeps the kernel from logging about it. Older kernels lack the option: ignore.
    let _ = rustix::mount::fsconfig_set_string(&ctx, "xino", "off");
    rustix::mount::fsconfig_create(&ctx)?;
    let mnt = rustix::mount::fsmount(
        &ctx,
        FsMountFlags::FSMOUNT_CLOEXEC,
        MountAttrFlags::MOUNT_ATTR_RDONLY | MountAttrFlags::MOUNT_ATTR_NODEV | MountAttrFlags::MOUNT_ATTR_NOSUID,
    )?;
    let fd = rustix::fs::openat(&mnt, name, OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW, Mode::empty())?;
    let (got, want) = (File::from(fd.try_clone()?).metadata()?, expected.metadata()?);
    if got.size() != want.size() || got.mtime() != want.mtime() || got.mtime_nsec() != want.mtime_nsec() {
        return Err(invalid("changed while it was being opened"));
    }
    Ok(fd)
}

/// Re-execute the running tool from a sealed image of itself (see the module comment), with
/// the same argv and environment (plus [`ORIGIN_ENV`]). Returns `Ok(())` without re-executing
/// when we already run sealed or [`DISABLE_ENV`] is set; returns an error only when the re-exec
/// failed (the caller then carries on from the installed binary). `before` runs first unless we
/// already run sealed: work to overlap with the re-exec (start's cgroup warm-up).
pub fn reexec_self_sealed(before: impl FnOnce()) -> io::Result<()> {
    let exe = File::open("/proc/self/exe")?;
    if is_sealed_image(&exe) {
        return Ok(());
    }
    before();
    if std::env::var_os(DISABLE_ENV).is_some() {
        return Ok(());
    }
    let origin = std::fs::read_link("/proc/self/exe")?;
    let force_memfd = std::env::var_os(METHOD_ENV).is_some_and(|m| m == "memfd");
    let overlay = if force_memfd { None } else { open_through_private_overlay(&origin, &exe).ok() };
    let fd = match overlay {
        Some(fd) => fd,
        None => memfd::sealed_copy(&exe, "rlxc")?,
    };
    let argv: Vec<OsString> = std::env::args_os().collect();
    let mut envp: Vec<OsString> = std::env::vars_os()
        .filter(|(k, _)| k != ORIGIN_ENV)
        .map(|(k, v)| {
            let mut kv = k;
            kv.push("=");
            kv.push(v);
            kv
        })
        .collect();
    let mut o = OsString::from(format!("{ORIGIN_ENV}="));
    o.push(origin.as_os_str());
    envp.push(o);
    Err(memfd::exec_fd(fd.as_fd(), &argv, &envp))
}

/// The path of the installed binary we run from: `/proc/self/exe`, or, in a sealed image, the
/// path recorded by [`reexec_self_sealed`].
pub fn origin_exe() -> io::Result<PathBuf> {
    if running_sealed() {
        if let Some(p) = std::env::var_os(ORIGIN_ENV) {
            return Ok(PathBuf::from(p));
        }
    }
    std::fs::read_link("/proc/self/exe")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn lowerdir_escapes_colons_and_backslashes() {
        assert_eq!(escape_lowerdir(Path::new("/a:b\\c")).expect("utf-8"), "/a\\:b\\\\c");
        assert_eq!(escape_lowerdir(Path::new("/usr/bin")).expect("utf-8"), "/usr/bin");
    }

    /// Through the private overlay the file reads the same, lives on a read-only overlay, and
    /// can't be opened for writing, not even through its /proc/self/fd link.
    #[test]
    fn private_overlay_reads_the_binary_and_refuses_writes() {
        let dir = std::env::temp_dir().join(format!("rlxc-sealed-exe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let p = dir.join("tool");
        std::fs::write(&p, b"#!/bin/false\nsealed").expect("write");
        let expected = File::open(&p).expect("open");
        let fd = match open_through_private_overlay(&p, &expected) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                eprintln!("SKIPPED private_overlay_reads_the_binary_and_refuses_writes: needs CAP_SYS_ADMIN ({e})");
                let _ = std::fs::remove_dir_all(&dir);
                return;
            }
            Err(e) => panic!("private overlay: {e}"),
        };
        assert!(is_on_read_only_overlay(&fd));
        let mut s = String::new();
        File::from(fd.try_clone().expect("dup")).read_to_string(&mut s).expect("read");
        assert_eq!(s, "#!/bin/false\nsealed");
        let link = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
        let err = std::fs::OpenOptions::new().write(true).open(&link).expect_err("write-open must fail");
        assert_eq!(err.raw_os_error(), Some(libc::EROFS), "{err}");
        drop(fd);
        assert_eq!(std::fs::read(&p).expect("read back"), b"#!/bin/false\nsealed");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
