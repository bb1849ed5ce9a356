//! The nbd backend on a real qcow2 image: `lxc.rootfs.path = nbd:IMAGE` attached by the monitor
//! with qemu-nbd, mounted as the container's root, disconnected at stop; a partition of a
//! partitioned image (`nbd:IMAGE:1`); a missing image fails the start and leaves nothing. Needs the nbd module and qemu-utils: this host's kernel has no
//! nbd, so `tests/vm/nbd.sh` runs it in the VM (`make vm-check`).

mod storage_common;

use std::path::Path;

use rlxc_suite::{busybox_container, require_program, run, skip, HostState, Lxcpath};
use storage_common::*;

/// `/dev/nbdN` devices that are connected (the kernel shows the server's pid).
fn connected_nbds() -> Vec<String> {
    (0..64).filter(|n| Path::new(&format!("/sys/block/nbd{n}/pid")).exists()).map(|n| format!("nbd{n}")).collect()
}

#[test]
#[ignore = "needs the nbd module and qemu-utils: run by tests/vm/nbd.sh"]
fn nbd_rootfs_attached_at_start_and_detached_at_stop() {
    let t = "nbd_rootfs_attached_at_start_and_detached_at_stop";
    if !ready(t) || !require_program(t, "qemu-nbd") || !require_program(t, "qemu-img") {
        return;
    }
    let _ = run("modprobe", &["nbd"]);
    if !Path::new("/sys/block/nbd0").exists() {
        return skip(t, "no nbd devices in this kernel (tests/vm/nbd.sh runs this in the VM)");
    }
    let lp = Lxcpath::new("sbnbd");
    let before = HostState::capture(lp.as_str());
    let nbds_before = connected_nbds();
    let name = unique("nb");
    // A busybox tree turned into an ext4 filesystem image, then into qcow2.
    let dir = busybox_container(&lp, &name, "lxc.mount.auto = proc:mixed sys:ro");
    let raw = dir.join("disk.raw");
    let image = dir.join("disk.qcow2");
    let o = run("mkfs.ext4", &["-q", "-d", &dir.join("rootfs").to_string_lossy(), &raw.to_string_lossy(), "64M"]);
    assert!(o.status.success(), "mkfs.ext4 -d: {}", show(&o));
    let o = run("qemu-img", &["convert", "-f", "raw", "-O", "qcow2", &raw.to_string_lossy(), &image.to_string_lossy()]);
    assert!(o.status.success(), "qemu-img convert: {}", show(&o));
    let _ = std::fs::remove_file(&raw);
    // The tree moves aside (the partitioned image below is made from it); `rootfs` stays as
    // the empty mount point, so only the image can be what the container sees.
    let rootfs = dir.join("rootfs");
    std::fs::rename(&rootfs, dir.join("tree")).expect("move the tree aside");
    std::fs::create_dir(&rootfs).expect("mount point");
    let cfg = dir.join("config");
    let mut text = std::fs::read_to_string(&cfg).expect("config");
    text.push_str(&format!("lxc.rootfs.path = nbd:{}\n", image.display()));
    std::fs::write(&cfg, text).expect("config");

    start(&lp, &name);
    let root = attach(&lp, &name, "grep ' / ' /proc/mounts | tail -1; echo kept > /kept");
    assert!(root.starts_with("/dev/nbd") && root.contains(" ext4 "), "the image is the root: {root}");
    assert_eq!(connected_nbds().len(), nbds_before.len() + 1, "one device while running");
    stop(&lp, &name);
    assert_eq!(connected_nbds(), nbds_before, "disconnected after stop");
    start(&lp, &name);
    assert_eq!(attach(&lp, &name, "cat /kept").trim(), "kept", "the data lives in the image");
    stop(&lp, &name);
    assert_eq!(connected_nbds(), nbds_before);
    assert!(
        std::fs::read_dir(&rootfs).map(|mut d| d.next().is_none()).unwrap_or(false),
        "nothing written to the mount point"
    );

    // A partitioned image: `nbd:IMAGE:1` mounts /dev/nbdNp1. The filesystem is written at the
    // partition's offset (1 MiB) of a raw disk that sfdisk partitioned.
    if require_program(t, "sfdisk") {
        let disk = dir.join("parts.raw");
        let parts = dir.join("parts.qcow2");
        let f = std::fs::File::create(&disk).expect("disk");
        f.set_len(80 << 20).expect("size");
        drop(f);
        let o = rlxc_suite::run("sh", &["-c", &format!("echo 'start=2048, type=83' | sfdisk -q {}", disk.display())]);
        assert!(o.status.success(), "sfdisk: {}", show(&o));
        let tree = dir.join("tree");
        let o = run(
            "mkfs.ext4",
            &["-q", "-F", "-d", &tree.to_string_lossy(), "-E", "offset=1048576", &disk.to_string_lossy(), "64M"],
        );
        assert!(o.status.success(), "mkfs.ext4 at the partition's offset: {}", show(&o));
        let o = run(
            "qemu-img",
            &["convert", "-f", "raw", "-O", "qcow2", &disk.to_string_lossy(), &parts.to_string_lossy()],
        );
        assert!(o.status.success(), "{}", show(&o));
        let _ = std::fs::remove_file(&disk);
        let text = std::fs::read_to_string(&cfg).expect("config");
        std::fs::write(&cfg, format!("{text}lxc.rootfs.path = nbd:{}:1\n", parts.display())).expect("config");
        start(&lp, &name);
        let root = attach(&lp, &name, "grep ' / ' /proc/mounts | tail -1");
        assert!(root.starts_with("/dev/nbd") && root.contains("p1 / ext4 "), "partition 1 is the root: {root}");
        stop(&lp, &name);
        assert_eq!(connected_nbds(), nbds_before);
    }

    // An image that is not there: the start fails naming it, nothing attached or left.
    let text = std::fs::read_to_string(&cfg).expect("config");
    std::fs::write(&cfg, format!("{text}lxc.rootfs.path = nbd:{}/missing.qcow2\n", dir.display())).expect("config");
    let o = lp.lxc("start", &["-n", &name]);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.qcow2"), "{}", show(&o));
    assert_eq!(connected_nbds(), nbds_before);

    let o = lp.lxc("destroy", &["-n", &name]);
    assert!(o.status.success(), "{}", show(&o));
    assert_clean(&before, &lp);
}
