//! Storage backends through `lxc-create -B TYPE`, `lxc-start`, `lxc-destroy`: overlay (delta in
//! `overlay/delta`, workdir `overlay/work`), loop (`rootdev` image with ext4, `--fssize`, device
//! detached after stop and on failures), btrfs when btrfs-progs and a btrfs lxcpath exist.

mod storage_common;

use rlxc_suite::{require_program, skip, HostState, Lxcpath};
use storage_common::*;

#[test]
fn overlay_backend_create_start_destroy() {
    if !ready("overlay_backend_create_start_destroy") {
        return;
    }
    let lp = Lxcpath::new("sbov");
    let before = HostState::capture(lp.as_str());
    let name = unique("sbov");
    create(&lp, &name, &["-B", "overlay"]);
    let dir = lp.path.join(&name);
    let rootfs = config_value(&dir.join("config"), "lxc.rootfs.path").unwrap_or_default();
    assert_eq!(rootfs, format!("overlay:{}:{}", dir.join("rootfs").display(), dir.join("overlay/delta").display()));
    // The template wrote into the upper dir; the lower dir stays empty.
    assert!(dir.join("overlay/delta/bin/busybox").exists());
    assert!(!dir.join("rootfs/bin").exists());
    start(&lp, &name);
    let root = attach(&lp, &name, "grep ' / ' /proc/mounts | tail -1; echo data > /root/written");
    assert!(root.starts_with("overlay / overlay"), "{root}");
    assert!(root.contains("workdir=") && root.contains("overlay/work"), "{root}");
    stop(&lp, &name);
    assert!(dir.join("overlay/delta/root/written").exists());
    assert_eq!(HostState::capture(lp.as_str()).mounts, before.mounts);
    let o = lp.lxc("destroy", &["-n", &name]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(!dir.exists());
    assert_clean(&before, &lp);
}

#[test]
fn loop_backend_create_start_destroy() {
    if !ready("loop_backend_create_start_destroy") || !require_program("loop_backend", "mkfs.ext4") {
        return;
    }
    let lp = Lxcpath::new("sblp");
    let before = HostState::capture(lp.as_str());
    let name = unique("sblp");
    create(&lp, &name, &["-B", "loop", "--fssize", "64M"]);
    let dir = lp.path.join(&name);
    assert_eq!(
        config_value(&dir.join("config"), "lxc.rootfs.path"),
        Some(format!("loop:{}", dir.join("rootdev").display()))
    );
    let size = std::fs::metadata(dir.join("rootdev")).map(|m| m.len()).unwrap_or(0);
    assert_eq!(size, 64 << 20);
    // Nothing attached or mounted once create is done (the template ran in a private namespace).
    assert!(loops_under(lp.as_str()).is_empty(), "{:?}", loops_under(lp.as_str()));
    assert!(std::fs::read_dir(dir.join("rootfs")).map(|mut d| d.next().is_none()).unwrap_or(false));
    start(&lp, &name);
    let root = attach(&lp, &name, "grep ' / ' /proc/mounts | tail -1; echo kept > /root/kept");
    assert!(root.starts_with("/dev/loop") && root.contains(" ext4 "), "{root}");
    assert_eq!(loops_under(lp.as_str()).len(), 1, "one device while running");
    stop(&lp, &name);
    assert!(loops_under(lp.as_str()).is_empty(), "device detached after stop: {:?}", loops_under(lp.as_str()));
    // The data lives in the image.
    start(&lp, &name);
    assert_eq!(attach(&lp, &name, "cat /root/kept").trim(), "kept");
    stop(&lp, &name);
    let o = lp.lxc("destroy", &["-n", &name]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(!dir.exists());
    assert_clean(&before, &lp);
}

#[test]
fn loop_image_without_filesystem_fails_to_start_and_detaches() {
    if !ready("loop_image_without_filesystem_fails_to_start_and_detaches") {
        return;
    }
    let lp = Lxcpath::new("sblf");
    let before = HostState::capture(lp.as_str());
    let name = unique("sblf");
    create(&lp, &name, &["-B", "loop", "--fssize", "16M"]);
    let dir = lp.path.join(&name);
    // Wipe the filesystem: the mount must fail and the device must not stay attached.
    std::fs::write(dir.join("rootdev"), vec![0u8; 1 << 20]).expect("wipe image");
    let o = lp.lxc("start", &["-n", &name]);
    assert!(!o.status.success(), "start must fail: {}", show(&o));
    assert!(loops_under(lp.as_str()).is_empty(), "{:?}", loops_under(lp.as_str()));
    let o = lp.lxc("destroy", &["-n", &name]);
    assert!(o.status.success(), "{}", show(&o));
    assert_clean(&before, &lp);
}

#[test]
fn unsupported_backend_is_refused_and_leaves_nothing() {
    if !ready("unsupported_backend_is_refused_and_leaves_nothing") {
        return;
    }
    let lp = Lxcpath::new("sbno");
    let name = unique("sbno");
    let net = net_conf(&lp);
    let o = lp.lxc("create", &["-n", &name, "-t", "busybox", "-f", &net, "-B", "zfs"]);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("zfs"), "{}", show(&o));
    assert!(!lp.path.join(&name).exists());
    // A bad --fssize is refused before anything is made.
    let o = lp.lxc("create", &["-n", &name, "-t", "busybox", "-f", &net, "-B", "loop", "--fssize", "12Q"]);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(!lp.path.join(&name).exists());
}

#[test]
fn btrfs_backend_when_available() {
    if !ready("btrfs_backend_when_available") || !require_program("btrfs_backend_when_available", "btrfs") {
        return;
    }
    let lp = Lxcpath::new("sbbt");
    let on_btrfs = rlxc_suite::run("stat", &["-f", "-c", "%T", lp.as_str()]);
    if String::from_utf8_lossy(&on_btrfs.stdout).trim() != "btrfs" {
        skip("btrfs_backend_when_available", "the test lxcpath (/tmp) is not on btrfs");
        return;
    }
    let before = HostState::capture(lp.as_str());
    let name = unique("sbbt");
    create(&lp, &name, &["-B", "btrfs"]);
    start(&lp, &name);
    attach(&lp, &name, "true");
    stop(&lp, &name);
    let o = lp.lxc("destroy", &["-n", &name]);
    assert!(o.status.success(), "{}", show(&o));
    assert_clean(&before, &lp);
}
