//! The `loop` backend: `loop:/path/to/image`. The image (`<lxcpath>/<name>/rootdev` for created
//! containers) holds a filesystem (default ext4, 1 GiB sparse); start attaches it to a free loop
//! device with autoclear and mounts it on `rootfs` next to the image, so the device detaches when
//! the container's mount namespace goes away.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{parse_mount_options, MountOptions, Storage, StorageError};

/// Default image size (LXC's `DEFAULT_FS_SIZE`).
pub const DEFAULT_FSSIZE: u64 = 1 << 30;
/// Default filesystem (LXC's `DEFAULT_FSTYPE`).
pub const DEFAULT_FSTYPE: &str = "ext4";

/// A loop-image rootfs.
pub struct Loop {
    image: PathBuf,
    /// Size and filesystem for `create`.
    pub fssize: u64,
    /// Filesystem for `create`.
    pub fstype: String,
}

impl Loop {
    /// A loop backend on `image`.
    pub fn new(image: PathBuf) -> Loop {
        Loop { image, fssize: DEFAULT_FSSIZE, fstype: DEFAULT_FSTYPE.into() }
    }
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StorageError + 'a {
    move |source| StorageError::Io { op, path: path.to_path_buf(), source }
}

/// Filesystems to try on the device: the usual block filesystems first, then whatever else the
/// kernel lists without `nodev` (LXC probes the same way when blkid cannot tell).
fn candidate_fstypes() -> Vec<String> {
    let mut v: Vec<String> = ["ext4", "ext3", "ext2", "xfs", "btrfs"].iter().map(|s| s.to_string()).collect();
    if let Ok(s) = std::fs::read_to_string("/proc/filesystems") {
        for l in s.lines() {
            if l.starts_with("nodev") {
                continue;
            }
            let t = l.trim();
            if !t.is_empty() && !v.iter().any(|x| x == t) {
                v.push(t.to_string());
            }
        }
    }
    v
}

/// Mount the filesystem on block device `device` onto `target` with `lxc.rootfs.options`,
/// trying the filesystems the kernel knows (loop and lvm backends).
pub(crate) fn mount_block_device(device: &Path, target: &Path, options: Option<&str>) -> Result<(), StorageError> {
    mount_parsed(device, target, &rootfs_options(options)?, "mount block device onto")
}

/// `lxc.rootfs.options` (comma-separated words) parsed.
fn rootfs_options(options: Option<&str>) -> Result<MountOptions, StorageError> {
    let words: Vec<&str> =
        options.map(|o| o.split(',').map(str::trim).filter(|w| !w.is_empty()).collect()).unwrap_or_default();
    parse_mount_options(&words).map_err(StorageError::Options)
}

fn mount_parsed(device: &Path, target: &Path, opts: &MountOptions, op: &'static str) -> Result<(), StorageError> {
    let flags = opts.flags & !(libc::MS_BIND as u64 | libc::MS_REC as u64 | libc::MS_REMOUNT as u64);
    let data = (!opts.data.is_empty()).then_some(opts.data.as_str());
    let src = device.to_string_lossy().into_owned();
    let mut last = None;
    for t in candidate_fstypes() {
        match rlxc_sys::mount::mount(Some(&src), target, Some(&t), flags, data) {
            Ok(()) => {
                last = None;
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    if let Some(e) = last {
        return Err(StorageError::Io { op, path: target.to_path_buf(), source: e });
    }
    if opts.propagation != 0 {
        rlxc_sys::mount::mount(None, target, None, opts.propagation, None)
            .map_err(io("set propagation of rootfs", target))?;
    }
    Ok(())
}

/// `mkfs.<fstype> -q DEVICE` (without `-q` for the mkfs variants that lack it).
pub(crate) fn mkfs(fstype: &str, device: &Path) -> Result<(), StorageError> {
    let mkfs = format!("mkfs.{fstype}");
    match run(Command::new(&mkfs).arg("-q").arg(device)) {
        Err(_) => run(Command::new(&mkfs).arg(device)),
        ok => ok,
    }
}

/// Run a helper program, its output folded into the error.
pub(crate) fn run(cmd: &mut Command) -> Result<(), StorageError> {
    let what = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| StorageError::Command(format!("run {what}: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(StorageError::Command(format!("{what} failed ({}): {}", out.status, err.trim())));
    }
    Ok(())
}

impl Storage for Loop {
    fn kind(&self) -> &'static str {
        "loop"
    }

    fn path(&self) -> &Path {
        &self.image
    }

    fn mount_target(&self) -> PathBuf {
        self.image.parent().map(|p| p.join("rootfs")).unwrap_or_else(|| PathBuf::from("rootfs"))
    }

    fn mount(&self, target: &Path, options: Option<&str>) -> Result<(), StorageError> {
        if !self.image.is_file() {
            return Err(StorageError::Missing(self.image.clone()));
        }
        let opts = rootfs_options(options)?;
        let ro = opts.flags & libc::MS_RDONLY as u64 != 0;
        let file =
            OpenOptions::new().read(true).write(!ro).open(&self.image).map_err(io("open loop image", &self.image))?;
        let name = self.image.to_string_lossy();
        let dev = rlxc_sys::loopdev::attach(&file, &name, true).map_err(io("attach loop device to", &self.image))?;
        drop(file);
        let r = mount_parsed(&dev.path, target, &opts, "mount loop image onto");
        // Closing our fd leaves the mount as the only user: autoclear detaches the device when
        // it is unmounted, or right now when nothing could be mounted.
        drop(dev);
        r
    }

    /// A sparse image of `fssize` bytes with `mkfs.<fstype>` on it, and the mount point.
    fn create(&self) -> Result<(), StorageError> {
        if self.image.exists() {
            return Err(StorageError::Command(format!("loop image \"{}\" already exists", self.image.display())));
        }
        let target = self.mount_target();
        std::fs::create_dir_all(&target).map_err(io("create rootfs mount point", &target))?;
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.image)
            .map_err(io("create loop image", &self.image))?;
        f.set_len(self.fssize).map_err(io("size loop image", &self.image))?;
        drop(f);
        let r = mkfs(&self.fstype, &self.image);
        if r.is_err() {
            let _ = std::fs::remove_file(&self.image);
        }
        r
    }

    fn destroy(&self) -> Result<(), StorageError> {
        match std::fs::remove_file(&self.image) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StorageError::Io { op: "remove loop image", path: self.image.clone(), source: e }),
        }
        // The (empty) mount point next to it.
        let _ = std::fs::remove_dir(self.mount_target());
        Ok(())
    }
}
