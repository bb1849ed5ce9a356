//! The `nbd` backend: `nbd:IMAGE[:PARTITION]`, a disk image in any format `qemu-nbd` reads
//! (qcow2, raw, vmdk...) served through the kernel's network block device (LXC's nbd.c). The
//! monitor attaches the image before it clones the container's init ([`attach`]: a free
//! `/dev/nbdN`, `qemu-nbd -c`), the container's setup mounts `/dev/nbdN` or its partition
//! `/dev/nbdNpP`, and the monitor detaches it after the container stopped (the [`Attachment`]
//! guard runs `qemu-nbd -d`). As in LXC, `lxc-create -B nbd` and clones are not supported: the
//! image is made by other tools, and `lxc-destroy` leaves it where it is.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::{debug, warn};

use crate::loopback;
use crate::{Storage, StorageError};

/// The devices attached by this process, by image: the container's setup runs in a child
/// cloned from the monitor after [`attach`], so it finds its device here.
static ATTACHED: Mutex<Vec<(PathBuf, PathBuf)>> = Mutex::new(Vec::new());

/// How long the kernel gets to show a connected device (and its partitions).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An nbd rootfs.
pub struct Nbd {
    image: PathBuf,
    partition: Option<u32>,
}

impl Nbd {
    /// Parse the location of `nbd:IMAGE[:PARTITION]`.
    pub fn parse(location: &str) -> Result<Nbd, StorageError> {
        let bad = |msg: &str| StorageError::BadPath { path: format!("nbd:{location}"), msg: msg.into() };
        let (image, partition) = match location.rsplit_once(':') {
            Some((img, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                let n: u32 = p.parse().map_err(|_| bad("bad partition number"))?;
                if n == 0 {
                    return Err(bad("partitions are numbered from 1"));
                }
                (img, Some(n))
            }
            _ => (location, None),
        };
        if !image.starts_with('/') {
            return Err(bad("expected an absolute path to a disk image"));
        }
        Ok(Nbd { image: PathBuf::from(image), partition })
    }

    /// The block device to mount: the attached `/dev/nbdN`, or its partition.
    fn device(&self) -> Result<PathBuf, StorageError> {
        let attached = ATTACHED.lock().map_err(|_| StorageError::Command("nbd: attachment list poisoned".into()))?;
        let dev = attached.iter().find(|(img, _)| *img == self.image).map(|(_, d)| d.clone()).ok_or_else(|| {
            StorageError::Command(format!(
                "nbd image \"{}\" is not attached (only a starting container's monitor attaches it)",
                self.image.display()
            ))
        })?;
        Ok(match self.partition {
            Some(p) => PathBuf::from(format!("{}p{p}", dev.display())),
            None => dev,
        })
    }
}

/// An image attached to `/dev/nbdN`; dropping it disconnects the device.
pub struct Attachment {
    image: PathBuf,
    device: PathBuf,
}

impl Drop for Attachment {
    fn drop(&mut self) {
        if let Err(e) = loopback::run(Command::new("qemu-nbd").arg("-d").arg(&self.device)) {
            warn!("nbd: disconnecting {}: {e}", self.device.display());
        } else {
            debug!("nbd: disconnected {}", self.device.display());
        }
        if let Ok(mut a) = ATTACHED.lock() {
            a.retain(|(img, _)| *img != self.image);
        }
    }
}

/// Whether `/dev/nbdN` is connected (the kernel shows the serving process's pid).
fn connected(n: u32) -> bool {
    Path::new(&format!("/sys/block/nbd{n}/pid")).exists()
}

/// Monitor side, before the clone: attach the image of an `nbd:` rootfs to a free `/dev/nbdN`
/// with `qemu-nbd -c` (LXC's attach_nbd) and wait until the device (and the partition asked
/// for) is there. None for other backends.
pub fn attach(rootfs: &rlxc_config::Rootfs) -> Result<Option<Attachment>, StorageError> {
    let Some(("nbd", loc)) = crate::backend_and_location(rootfs) else { return Ok(None) };
    let nbd = Nbd::parse(loc)?;
    if !nbd.image.is_file() {
        return Err(StorageError::Missing(nbd.image.clone()));
    }
    if !Path::new("/sys/block/nbd0").exists() {
        // The module makes the devices; without it there is nothing to attach to.
        let _ = Command::new("modprobe").arg("nbd").output();
    }
    let devices: Vec<u32> = (0..1024).take_while(|n| Path::new(&format!("/sys/block/nbd{n}")).exists()).collect();
    if devices.is_empty() {
        return Err(StorageError::Command("nbd: no /dev/nbd devices (is the nbd module available?)".into()));
    }
    let mut last = String::from("every /dev/nbd device is in use");
    for n in devices.into_iter().filter(|n| !connected(*n)) {
        let device = PathBuf::from(format!("/dev/nbd{n}"));
        // qemu-nbd -c connects, then stays in the background serving the device. Another
        // attacher may take the same free device first: then try the next one.
        match loopback::run(Command::new("qemu-nbd").arg("-c").arg(&device).arg(&nbd.image)) {
            Ok(()) => {}
            Err(e) => {
                last = e.to_string();
                continue;
            }
        }
        let att = Attachment { image: nbd.image.clone(), device: device.clone() };
        let want = match nbd.partition {
            Some(p) => PathBuf::from(format!("{}p{p}", device.display())),
            None => device.clone(),
        };
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        while !(connected(n) && want.exists()) {
            if connected(n) && nbd.partition.is_some() {
                // The kernel reads the partition table at the device's next open, which udev
                // does on hosts that run it: open it ourselves so partitions show up anyway.
                let _ = std::fs::File::open(&device);
            }
            if Instant::now() > deadline {
                let what =
                    if connected(n) { format!("{} never appeared", want.display()) } else { "never connected".into() };
                return Err(StorageError::Command(format!(
                    "nbd: {} for \"{}\": {what}",
                    device.display(),
                    nbd.image.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        debug!("nbd: attached \"{}\" to {}", nbd.image.display(), device.display());
        ATTACHED
            .lock()
            .map_err(|_| StorageError::Command("nbd: attachment list poisoned".into()))?
            .push((nbd.image.clone(), device));
        return Ok(Some(att));
    }
    Err(StorageError::Command(format!("nbd: cannot attach \"{}\": {last}", nbd.image.display())))
}

impl Storage for Nbd {
    fn kind(&self) -> &'static str {
        "nbd"
    }

    fn path(&self) -> &Path {
        &self.image
    }

    fn config_value(&self) -> String {
        match self.partition {
            Some(p) => format!("nbd:{}:{p}", self.image.display()),
            None => format!("nbd:{}", self.image.display()),
        }
    }

    /// `rootfs` next to the image, as the loop backend (LXC mounts at `lxc.rootfs.mount`).
    fn mount_target(&self) -> PathBuf {
        self.image.parent().map(|p| p.join("rootfs")).unwrap_or_else(|| PathBuf::from("rootfs"))
    }

    fn mount(&self, target: &Path, options: Option<&str>) -> Result<(), StorageError> {
        loopback::mount_block_device(&self.device()?, target, options)
    }

    fn create(&self) -> Result<(), StorageError> {
        Err(StorageError::Command(
            "nbd: rlxc does not create images (neither does LXC): make one (qemu-img, virt-builder...) and set lxc.rootfs.path = nbd:IMAGE".into(),
        ))
    }

    /// The image is the user's: it stays.
    fn destroy(&self) -> Result<(), StorageError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_and_partition() {
        let n = Nbd::parse("/var/lib/lxc/c1/disk.qcow2:2").map_err(|e| e.to_string());
        assert_eq!(n.as_ref().map(|n| n.partition), Ok(Some(2)));
        assert_eq!(n.as_ref().map(|n| n.config_value()), Ok("nbd:/var/lib/lxc/c1/disk.qcow2:2".to_string()));
        assert_eq!(n.map(|n| n.mount_target()), Ok(PathBuf::from("/var/lib/lxc/c1/rootfs")));
        let n = Nbd::parse("/img/with:colon.raw").map_err(|e| e.to_string());
        assert_eq!(n.map(|n| (n.image, n.partition)), Ok((PathBuf::from("/img/with:colon.raw"), None)));
        for bad in ["disk.qcow2", "/d.qcow2:0", ""] {
            assert!(Nbd::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mounting_needs_the_monitor_to_attach_first() {
        let n = Nbd::parse("/nonexistent/rlxc-unit.qcow2").map_err(|e| e.to_string());
        let e = n.and_then(|n| n.device().map_err(|e| e.to_string())).err().unwrap_or_default();
        assert!(e.contains("not attached"), "{e}");
    }
}
