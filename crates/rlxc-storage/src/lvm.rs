//! The `lvm` backend: `lvm:/dev/VG/LV`, a logical volume holding a filesystem (LXC's lvm.c).
//! `lxc-create -B lvm` makes the volume with `lvcreate` — thin in the thin pool when the volume
//! group has one by that name (`--thinpool`, `lxc.bdev.lvm.thin_pool`, default `lxc`), else a
//! plain volume of `--fssize` (default 1 GiB) — and `mkfs`es it (`--fstype`, default ext4);
//! `lxc-copy -s` takes an LVM snapshot; `lxc-destroy` runs `lvremove -f`.
//!
//! Where it is mounted: the start path mounts it at `lxc.rootfs.mount`, or at a directory of its
//! own under `/run/rlxc/lvm/` (rlxc's stand-in for LXC's global `rootfs` mount point; the start
//! child and the template's helper mount it in a private mount namespace, so one directory per
//! volume is enough, and two volumes can be mounted at once for a copy).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::loopback::{self, run};
use crate::{Storage, StorageError};

/// Default volume group (LXC's `DEFAULT_VG`, overridden by `lxc.bdev.lvm.vg`).
pub const DEFAULT_VG: &str = "lxc";
/// Default thin pool (LXC's `DEFAULT_THIN_POOL`, overridden by `lxc.bdev.lvm.thin_pool`).
pub const DEFAULT_THIN_POOL: &str = "lxc";
/// Where volumes are mounted when `lxc.rootfs.mount` is unset.
const MOUNT_BASE: &str = "/run/rlxc/lvm";

/// A logical volume rootfs.
pub struct Lvm {
    device: PathBuf,
    vg: String,
    lv: String,
    /// Size for `create` (and a snapshot's copy-on-write space).
    pub fssize: u64,
    /// Filesystem for `create`.
    pub fstype: String,
    /// Thin pool to create the volume in, when the volume group has it.
    pub thinpool: String,
}

/// Volume group and volume names: what LVM itself accepts (letters, digits, `+_.-`, not
/// starting with `-`), which also keeps them safe as path components and tool arguments.
fn check_name(what: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 127
        && !name.starts_with('-')
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid LVM {what} name \"{name}\" (letters, digits and +_.- only)"))
    }
}

impl Lvm {
    /// The volume `lv` of volume group `vg` (`/dev/VG/LV`).
    pub fn new(vg: &str, lv: &str) -> Result<Lvm, StorageError> {
        let bad = |msg: String| StorageError::BadPath { path: format!("lvm:/dev/{vg}/{lv}"), msg };
        check_name("volume group", vg).map_err(bad)?;
        check_name("logical volume", lv).map_err(bad)?;
        Ok(Lvm {
            device: PathBuf::from(format!("/dev/{vg}/{lv}")),
            vg: vg.into(),
            lv: lv.into(),
            fssize: loopback::DEFAULT_FSSIZE,
            fstype: loopback::DEFAULT_FSTYPE.into(),
            thinpool: DEFAULT_THIN_POOL.into(),
        })
    }

    /// Parse the location of `lvm:/dev/VG/LV`.
    pub fn parse(location: &str) -> Result<Lvm, StorageError> {
        let bad = |msg: &str| StorageError::BadPath { path: format!("lvm:{location}"), msg: msg.into() };
        let rest = location.strip_prefix("/dev/").ok_or_else(|| bad("expected /dev/VG/LV"))?;
        let (vg, lv) = rest.split_once('/').ok_or_else(|| bad("expected /dev/VG/LV"))?;
        if lv.contains('/') {
            return Err(bad("expected /dev/VG/LV"));
        }
        Lvm::new(vg, lv)
    }

    /// Volume group.
    pub fn vg(&self) -> &str {
        &self.vg
    }

    /// `VG/LV`, as the LVM tools name the volume.
    fn vg_lv(&self) -> String {
        format!("{}/{}", self.vg, self.lv)
    }

    /// The volume's size in bytes (`lvs -o lv_size`); None when there is no such volume.
    pub fn size_bytes(&self) -> Option<u64> {
        let out = lvm_cmd("lvs")
            .args(["--noheadings", "--units", "b", "--nosuffix", "-o", "lv_size"])
            .arg(self.vg_lv())
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    }

    /// Whether `vg/pool` is a thin pool (`lv_attr` starts with `t`).
    fn has_thin_pool(&self) -> bool {
        lvs_attr(&format!("{}/{}", self.vg, self.thinpool)).is_some_and(|a| a.starts_with('t'))
    }

    /// Whether this volume is thin (`lv_attr` starts with `V`): its snapshots need no size.
    fn is_thin(&self) -> bool {
        lvs_attr(&self.vg_lv()).is_some_and(|a| a.starts_with('V'))
    }

    /// `lxc-copy -s`: an LVM snapshot of `orig` named like this volume (same volume group).
    /// A thin origin gets a thin snapshot; a plain one a snapshot with `fssize` of
    /// copy-on-write space. Snapshots are created skipped from activation by default for thin
    /// volumes, so activate it (`-ay -K`) as LXC does.
    pub fn snapshot_of(&self, orig: &Lvm) -> Result<(), StorageError> {
        if orig.vg != self.vg {
            return Err(StorageError::Command(format!(
                "an LVM snapshot stays in its volume group: {} is in \"{}\", not \"{}\"",
                orig.device.display(),
                orig.vg,
                self.vg
            )));
        }
        let origin = orig.vg_lv();
        let mut cmd = lvm_cmd("lvcreate");
        cmd.args(["--yes", "-s", "-n", &self.lv]);
        if orig.is_thin() {
            cmd.args(["-ay", "-K"]);
        } else {
            cmd.args(["-L", &format!("{}b", self.fssize)]);
        }
        run(cmd.arg(&origin))
    }
}

/// An LVM tool with udev synchronisation off when no udev runs (containers, minimal hosts):
/// LVM then makes the `/dev/VG/LV` nodes itself instead of waiting for udev forever.
fn lvm_cmd(tool: &str) -> Command {
    let mut c = Command::new(tool);
    if !Path::new("/run/udev/control").exists() {
        c.env("DM_DISABLE_UDEV", "1");
    }
    c
}

/// `lvs --noheadings -o lv_attr VG/LV`, trimmed; None when there is no such volume.
fn lvs_attr(name: &str) -> Option<String> {
    let out = lvm_cmd("lvs").args(["--noheadings", "-o", "lv_attr", name]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()).filter(|s| !s.is_empty())
}

impl Storage for Lvm {
    fn kind(&self) -> &'static str {
        "lvm"
    }

    fn path(&self) -> &Path {
        &self.device
    }

    fn mount_target(&self) -> PathBuf {
        Path::new(MOUNT_BASE).join(&self.vg).join(&self.lv)
    }

    fn mount_target_is_runtime(&self) -> bool {
        true
    }

    fn mount(&self, target: &Path, options: Option<&str>) -> Result<(), StorageError> {
        if !self.device.exists() {
            return Err(StorageError::Missing(self.device.clone()));
        }
        // The mount point is made by whoever mounts (the start path for this runtime target,
        // `clone::with_mounted` for templates and copies).
        loopback::mount_block_device(&self.device, target, options)
    }

    /// `lvcreate` (thin when the pool exists) and `mkfs`; the volume is removed again when mkfs
    /// fails.
    fn create(&self) -> Result<(), StorageError> {
        if self.device.exists() || lvs_attr(&self.vg_lv()).is_some() {
            return Err(StorageError::Command(format!("logical volume {} already exists", self.device.display())));
        }
        let size = format!("{}b", self.fssize);
        let mut cmd = lvm_cmd("lvcreate");
        cmd.args(["-Wy", "--yes", "-n", &self.lv]);
        if self.has_thin_pool() {
            cmd.args(["--thinpool", &format!("{}/{}", self.vg, self.thinpool), "-V", &size]);
        } else {
            cmd.args(["-L", &size, &self.vg]);
        }
        run(&mut cmd)?;
        let r = loopback::mkfs(&self.fstype, &self.device);
        if r.is_err() {
            let _ = self.destroy();
        }
        r
    }

    fn destroy(&self) -> Result<(), StorageError> {
        if lvs_attr(&self.vg_lv()).is_none() {
            return Ok(());
        }
        run(lvm_cmd("lvremove").args(["-f", &self.vg_lv()]))?;
        // The runtime mount point, and its volume group's directory once empty.
        let target = self.mount_target();
        let _ = std::fs::remove_dir(&target);
        if let Some(vg_dir) = target.parent() {
            let _ = std::fs::remove_dir(vg_dir);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dev_vg_lv() {
        let l = Lvm::parse("/dev/lxc/c1").map_err(|e| e.to_string());
        assert_eq!(l.as_ref().map(|l| l.path().to_path_buf()), Ok(PathBuf::from("/dev/lxc/c1")));
        assert_eq!(l.as_ref().map(|l| l.config_value()), Ok("lvm:/dev/lxc/c1".to_string()));
        assert_eq!(l.map(|l| l.mount_target()), Ok(PathBuf::from("/run/rlxc/lvm/lxc/c1")));
    }

    #[test]
    fn refuses_malformed_and_unsafe_names() {
        for bad in ["lxc/c1", "/dev/lxc", "/dev/lxc/c1/x", "/dev/../c1", "/dev/lxc/-c1", "/dev/lxc/c 1", "/dev//c1"] {
            let e = Lvm::parse(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("lxc.rootfs.path") && e.contains(bad), "{bad}: {e}");
        }
        assert!(Lvm::new("vg0", "c1.snap_2+x").is_ok());
    }
}
