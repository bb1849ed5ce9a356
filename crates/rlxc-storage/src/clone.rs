//! Making new root filesystems: `lxc-create -B TYPE` ([`create_for`]) and `lxc-copy` /
//! `lxc-snapshot` ([`clone_rootfs`]), plus running work with rootfs mounted in a private mount
//! namespace ([`with_mounted`]) and copying a tree preserving owners and xattrs ([`copy_tree`]).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::btrfs::{self, Btrfs};
use crate::dir::Dir;
use crate::loopback::{self, Loop};
use crate::lvm::{self, Lvm};
use crate::overlay::Overlay;
use crate::{Storage, StorageError};

/// What a new rootfs should look like.
#[derive(Debug, Clone, Default)]
pub struct NewRootfs {
    /// Backend (`dir`, `overlay`, `overlayfs`, `loop`, `btrfs`, `best`); None = the origin's
    /// (clone) or dir (create).
    pub kind: Option<String>,
    /// `--dir DIR` (create, dir backend).
    pub dir: Option<PathBuf>,
    /// `--fssize` / `-L` in bytes (loop, lvm).
    pub fssize: Option<u64>,
    /// `--fstype` (loop, lvm).
    pub fstype: Option<String>,
    /// `--vgname` (lvm; default `lxc.bdev.lvm.vg`, else `lxc`).
    pub vgname: Option<String>,
    /// `--lvname` (lvm; default: the container's name).
    pub lvname: Option<String>,
    /// `--thinpool` (lvm; default `lxc.bdev.lvm.thin_pool`, else `lxc`).
    pub thinpool: Option<String>,
}

/// `--fssize` / `lxc-copy -L`: `SIZE[bBkKmMgGtT]`, default unit MiB (LXC's `get_fssize`).
pub fn parse_fssize(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("invalid size \"{s}\""))?;
    let shift = match unit {
        "" | "m" | "M" => 20,
        "b" | "B" => 0,
        "k" | "K" => 10,
        "g" | "G" => 30,
        "t" | "T" => 40,
        _ => return Err(format!("invalid size unit in \"{s}\" (use b, k, m, g or t)")),
    };
    n.checked_mul(1u64 << shift).filter(|n| *n > 0).ok_or_else(|| format!("invalid size \"{s}\""))
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StorageError + 'a {
    move |source| StorageError::Io { op, path: path.to_path_buf(), source }
}

/// `best`: btrfs when the container dir is on btrfs and the tool exists, else dir (LXC also
/// tries zfs, lvm and rbd first; rlxc does not pick lvm by itself).
fn resolve_kind(kind: Option<&str>, cdir: &Path) -> String {
    match kind {
        None => "dir".into(),
        Some("best") => {
            let probe = cdir.parent().unwrap_or(cdir);
            if btrfs::usable(probe) {
                "btrfs".into()
            } else {
                "dir".into()
            }
        }
        Some(k) => k.to_string(),
    }
}

/// The volume for container dir `cdir`: named `--lvname` or like the container, in `--vgname`.
fn new_lvm(cdir: &Path, spec: &NewRootfs) -> Result<Lvm, StorageError> {
    let name = cdir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut l = Lvm::new(spec.vgname.as_deref().unwrap_or(lvm::DEFAULT_VG), spec.lvname.as_deref().unwrap_or(&name))?;
    l.fssize = spec.fssize.unwrap_or(loopback::DEFAULT_FSSIZE);
    l.fstype = spec.fstype.clone().unwrap_or_else(|| loopback::DEFAULT_FSTYPE.into());
    l.thinpool = spec.thinpool.clone().unwrap_or_else(|| lvm::DEFAULT_THIN_POOL.into());
    Ok(l)
}

/// The backend object for a new rootfs of container dir `cdir` (not created yet).
fn new_backend(kind: &str, cdir: &Path, spec: &NewRootfs) -> Result<Box<dyn Storage>, StorageError> {
    let rootfs = spec.dir.clone().unwrap_or_else(|| cdir.join("rootfs"));
    Ok(match kind {
        "dir" => Box::new(Dir::new(rootfs)),
        "overlay" | "overlayfs" => {
            let mut o = Overlay::new(vec![rootfs], cdir.join("overlay").join("delta"));
            if kind == "overlayfs" {
                o = Overlay::parse("overlayfs", &o.config_value()["overlay:".len()..])?;
            }
            Box::new(o)
        }
        "loop" => {
            let mut l = Loop::new(cdir.join("rootdev"));
            l.fssize = spec.fssize.unwrap_or(loopback::DEFAULT_FSSIZE);
            l.fstype = spec.fstype.clone().unwrap_or_else(|| loopback::DEFAULT_FSTYPE.into());
            Box::new(l)
        }
        "lvm" => Box::new(new_lvm(cdir, spec)?),
        "btrfs" => {
            if !btrfs::usable(cdir.parent().unwrap_or(cdir)) {
                return Err(StorageError::Command(format!(
                    "-B btrfs: \"{}\" is not on btrfs or the btrfs tool is missing",
                    cdir.display()
                )));
            }
            Box::new(Btrfs::new(rootfs))
        }
        other => return Err(StorageError::Unsupported(other.to_string())),
    })
}

/// The backend a new container in `cdir` gets for `spec` (`lxc-create -B`), not created yet:
/// write `lxc.rootfs.path = <returned>.config_value()`, then call `create()`.
pub fn plan_for(cdir: &Path, spec: &NewRootfs) -> Result<Box<dyn Storage>, StorageError> {
    let kind = resolve_kind(spec.kind.as_deref(), cdir);
    new_backend(&kind, cdir, spec)
}

/// [`plan_for`] then `create()`.
pub fn create_for(cdir: &Path, spec: &NewRootfs) -> Result<Box<dyn Storage>, StorageError> {
    let s = plan_for(cdir, spec)?;
    s.create()?;
    Ok(s)
}

/// Make the rootfs of clone `new_cdir` from `orig` (`lxc-copy`, `lxc-snapshot`). `snapshot`
/// asks for a copy-on-write clone: a dir or overlay origin gives an overlay over the origin's
/// lower dir(s) (LXC's rule), btrfs a subvolume snapshot. Otherwise the tree is copied into a
/// new rootfs of `spec.kind` (default: the origin's type). Anything made is removed on failure.
pub fn clone_rootfs(
    orig: &dyn Storage,
    new_cdir: &Path,
    snapshot: bool,
    spec: &NewRootfs,
) -> Result<Box<dyn Storage>, StorageError> {
    let okind = match orig.kind() {
        "overlayfs" => "overlay",
        k => k,
    };
    let want = match spec.kind.as_deref() {
        None if snapshot && okind == "dir" => "overlay".to_string(),
        None => okind.to_string(),
        Some(k) => resolve_kind(Some(k), new_cdir),
    };
    // A copy of an LVM volume lands in the same volume group (whatever `lxc.bdev.lvm.vg` says),
    // with the origin's size unless `-L` says otherwise (LXC's lvm_clonepaths).
    let lvm_orig = if okind == "lvm" { Some(Lvm::parse(&orig.path().to_string_lossy())?) } else { None };
    let mut spec = spec.clone();
    if let (Some(o), "lvm") = (lvm_orig.as_ref(), want.as_str()) {
        spec.vgname = Some(o.vg().to_string());
        spec.fssize = spec.fssize.or_else(|| o.size_bytes());
    }
    let spec = &spec;
    let want_ovl = want == "overlay" || want == "overlayfs";
    let new: Box<dyn Storage> = if want_ovl && (okind == "dir" || okind == "btrfs") {
        if !snapshot {
            // Copying a dir into an overlay: an overlay with an empty lower of its own.
            new_backend(&want, new_cdir, spec)?
        } else {
            Box::new(Overlay::new(vec![orig.path().to_path_buf()], new_cdir.join("overlay").join("delta")))
        }
    } else if want_ovl && okind == "overlay" {
        // Same lower dir(s), a copy of the delta (LXC's ovl_clonepaths), snapshot or not.
        let o = Overlay::parse("overlay", &orig.config_value()[orig.kind().len() + 1..])?;
        Box::new(Overlay::new(o.lowers().to_vec(), new_cdir.join("overlay").join("delta")))
    } else if let (true, "lvm", Some(o)) = (snapshot, want.as_str(), lvm_orig.as_ref()) {
        // An LVM snapshot in the origin's volume group (LXC's lvm_clonepaths).
        let l = new_lvm(new_cdir, spec)?;
        l.snapshot_of(o)?;
        return Ok(Box::new(l));
    } else if snapshot && !(want == "btrfs" && okind == "btrfs") {
        return Err(StorageError::Command(format!(
            "snapshot clone of a {okind} container as {want} is not supported (overlay, btrfs or lvm only)"
        )));
    } else {
        new_backend(&want, new_cdir, spec)?
    };
    let r = fill_clone(orig, okind, new.as_ref(), snapshot, spec.fssize.is_some());
    if r.is_err() {
        let _ = new.destroy();
    }
    r.map(|()| new)
}

fn fill_clone(
    orig: &dyn Storage,
    okind: &str,
    new: &dyn Storage,
    snapshot: bool,
    resize: bool,
) -> Result<(), StorageError> {
    let nkind = match new.kind() {
        "overlayfs" => "overlay",
        k => k,
    };
    if nkind == "overlay" && okind == "overlay" {
        new.create()?;
        return copy_tree(orig.path(), new.path());
    }
    if nkind == "overlay" && snapshot {
        return new.create();
    }
    if nkind == "btrfs" && okind == "btrfs" {
        if let Some(p) = new.path().parent() {
            std::fs::create_dir_all(p).map_err(io("create directory", p))?;
        }
        return Btrfs::snapshot(orig.path(), new.path());
    }
    if nkind == "loop" && okind == "loop" && !resize {
        // No new size asked for: the image itself is the copy.
        let t = new.mount_target();
        std::fs::create_dir_all(&t).map_err(io("create rootfs mount point", &t))?;
        return loopback::run(Command::new("cp").arg("--sparse=always").arg(orig.path()).arg(new.path()));
    }
    new.create()?;
    with_mounted(&[orig, new], |paths| copy_tree(&paths[0], &paths[1]).map_err(|e| e.to_string()))
}

/// Run `f` with each of `storages` mounted (a plain directory as it is; others at their
/// `mount_target`), in a forked child with a private mount namespace, so nothing stays mounted
/// (and loop devices detach) whatever happens. `f` gets the paths in order.
pub fn with_mounted(
    storages: &[&dyn Storage],
    f: impl FnOnce(&[PathBuf]) -> Result<(), String>,
) -> Result<(), StorageError> {
    use rlxc_sys::forkexec::{self, Forked};
    use std::io::{Read, Write};
    // The child's error message comes back through a pipe (close-on-exec: helpers it runs
    // don't inherit it).
    let (rd, wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| StorageError::Command(format!("pipe: {e}")))?;
    match forkexec::fork().map_err(|e| StorageError::Command(format!("fork: {e}")))? {
        Forked::Child => {
            drop(rd);
            let code = match mounted_child(storages, f) {
                Ok(()) => 0,
                Err(e) => {
                    let _ = std::fs::File::from(wr).write_all(e.as_bytes());
                    1
                }
            };
            forkexec::exit_now(code)
        }
        Forked::Parent(pid) => {
            drop(wr);
            let mut msg = String::new();
            let _ = std::fs::File::from(rd).read_to_string(&mut msg);
            match forkexec::wait_exit(pid) {
                Ok(k) if k.shell_status() == 0 => Ok(()),
                Ok(k) if msg.is_empty() => Err(StorageError::Command(format!(
                    "work on the mounted rootfs failed (status {})",
                    k.shell_status()
                ))),
                Ok(_) => Err(StorageError::Command(msg)),
                Err(e) => Err(StorageError::Command(format!("wait for {pid}: {e}"))),
            }
        }
    }
}

fn mounted_child(storages: &[&dyn Storage], f: impl FnOnce(&[PathBuf]) -> Result<(), String>) -> Result<(), String> {
    rlxc_sys::ns::unshare(libc::CLONE_NEWNS).map_err(|e| format!("unshare mount namespace: {e}"))?;
    rlxc_sys::mount::mount(None, Path::new("/"), None, (libc::MS_REC | libc::MS_PRIVATE) as u64, None)
        .map_err(|e| format!("make / private: {e}"))?;
    let mut paths = Vec::new();
    let mut mounted = Vec::new();
    let mut res = Ok(());
    for s in storages {
        if s.is_directory() {
            paths.push(s.path().to_path_buf());
            continue;
        }
        let t = s.mount_target();
        if let Err(e) = std::fs::create_dir_all(&t) {
            res = Err(format!("create mount point {}: {e}", t.display()));
            break;
        }
        if let Err(e) = s.mount(&t, None) {
            res = Err(e.to_string());
            break;
        }
        mounted.push(t.clone());
        paths.push(t);
    }
    if res.is_ok() {
        res = f(&paths);
    }
    // Unmount explicitly so loop devices are detached before the parent looks.
    for t in mounted.iter().rev() {
        let _ = rlxc_sys::mount::umount2(t, 0);
    }
    res
}

/// Copy the tree `src` into `dst` preserving owners, modes, hard links, sparse files and xattrs:
/// `rsync -aHXS --delete SRC/ DST/` as LXC does when rsync is installed, else rlxc's own copy.
pub fn copy_tree(src: &Path, dst: &Path) -> Result<(), StorageError> {
    std::fs::create_dir_all(dst).map_err(io("create directory", dst))?;
    let have_rsync = Command::new("rsync").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    if have_rsync && std::env::var_os("RLXC_NO_RSYNC").is_none() {
        let mut s = OsString::from(src.as_os_str());
        s.push("/");
        let mut d = OsString::from(dst.as_os_str());
        d.push("/");
        return loopback::run(Command::new("rsync").args(["-aHXS", "--delete"]).arg(s).arg(d));
    }
    copy_dir(src, dst, &mut Vec::new())
}

/// rlxc's own recursive copy (no rsync): regular files, dirs, symlinks, device nodes, fifos;
/// owner, mode, xattrs, mtime; hard links kept by (dev, inode).
fn copy_dir(src: &Path, dst: &Path, links: &mut Vec<((u64, u64), PathBuf)>) -> Result<(), StorageError> {
    std::fs::create_dir_all(dst).map_err(io("create directory", dst))?;
    for ent in std::fs::read_dir(src).map_err(io("read directory", src))? {
        let ent = ent.map_err(io("read directory", src))?;
        let from = ent.path();
        let to = dst.join(ent.file_name());
        let md = std::fs::symlink_metadata(&from).map_err(io("stat", &from))?;
        let ft = md.file_type();
        if md.nlink() > 1 && !ft.is_dir() {
            if let Some((_, first)) = links.iter().find(|(k, _)| *k == (md.dev(), md.ino())) {
                std::fs::hard_link(first, &to).map_err(io("link", &to))?;
                continue;
            }
            links.push(((md.dev(), md.ino()), to.clone()));
        }
        if ft.is_dir() {
            std::fs::create_dir_all(&to).map_err(io("create directory", &to))?;
            copy_dir(&from, &to, links)?;
        } else if ft.is_symlink() {
            let t = std::fs::read_link(&from).map_err(io("read link", &from))?;
            std::os::unix::fs::symlink(&t, &to).map_err(io("create symlink", &to))?;
        } else if ft.is_file() {
            std::fs::copy(&from, &to).map_err(io("copy file", &to))?;
        } else if ft.is_block_device() || ft.is_char_device() || ft.is_fifo() || ft.is_socket() {
            let rdev = md.rdev();
            rlxc_sys::mount::mknod(&to, md.mode(), libc::major(rdev), libc::minor(rdev))
                .map_err(io("create node", &to))?;
        }
        copy_meta(&from, &to, &md)?;
    }
    let md = std::fs::symlink_metadata(src).map_err(io("stat", src))?;
    copy_meta(src, dst, &md)
}

fn copy_meta(from: &Path, to: &Path, md: &std::fs::Metadata) -> Result<(), StorageError> {
    std::os::unix::fs::lchown(to, Some(md.uid()), Some(md.gid())).map_err(io("chown", to))?;
    if md.file_type().is_symlink() {
        return Ok(());
    }
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(md.mode() & 0o7777)).map_err(io("chmod", to))?;
    copy_xattrs(from, to)?;
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::new(md.mtime().max(0) as u64, md.mtime_nsec() as u32);
    if let Ok(f) = std::fs::File::options().read(true).open(to) {
        let _ = f.set_modified(mtime);
    }
    Ok(())
}

fn copy_xattrs(from: &Path, to: &Path) -> Result<(), StorageError> {
    use rustix::fs::{getxattr, listxattr, setxattr, XattrFlags};
    let mut names = vec![0u8; 4096];
    let n = match listxattr(from, &mut names) {
        Ok(n) => n,
        Err(_) => return Ok(()),
    };
    for name in names[..n].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = std::ffi::OsStr::from_bytes(name);
        let mut val = vec![0u8; 65536];
        if let Ok(len) = getxattr(from, name, &mut val) {
            setxattr(to, name, &val[..len], XattrFlags::empty()).map_err(|e| StorageError::Io {
                op: "set xattr on",
                path: to.to_path_buf(),
                source: e.into(),
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fssize_units() {
        assert_eq!(parse_fssize("512"), Ok(512 << 20));
        assert_eq!(parse_fssize("2G"), Ok(2 << 30));
        assert_eq!(parse_fssize("100k"), Ok(100 << 10));
        assert!(parse_fssize("1x").is_err());
        assert!(parse_fssize("0").is_err());
    }

    #[test]
    fn own_copy_keeps_links_modes_and_symlinks() {
        let t = match tempfile::tempdir() {
            Ok(t) => t,
            Err(_) => return,
        };
        let src = t.path().join("src");
        let dst = t.path().join("dst");
        let setup = || -> std::io::Result<()> {
            std::fs::create_dir_all(src.join("d"))?;
            std::fs::write(src.join("d/f"), b"x")?;
            std::fs::set_permissions(src.join("d/f"), std::fs::Permissions::from_mode(0o4751))?;
            std::fs::hard_link(src.join("d/f"), src.join("h"))?;
            std::os::unix::fs::symlink("d/f", src.join("l"))
        };
        assert!(setup().is_ok());
        let r = copy_dir(&src, &dst, &mut Vec::new()).map_err(|e| e.to_string());
        assert_eq!(r, Ok(()));
        let md = std::fs::metadata(dst.join("d/f")).map(|m| (m.mode() & 0o7777, m.ino())).ok();
        let h = std::fs::metadata(dst.join("h")).map(|m| m.ino()).ok();
        assert_eq!(md.map(|m| m.0), Some(0o4751));
        assert_eq!(md.map(|m| m.1), h);
        assert_eq!(std::fs::read_link(dst.join("l")).ok(), Some(PathBuf::from("d/f")));
    }
}
