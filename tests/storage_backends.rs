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

/// A btrfs filesystem in a loop image mounted under the test's lxcpath; unmounted and its
/// loop device detached on drop.
struct BtrfsMount {
    path: std::path::PathBuf,
    dev: String,
}

impl Drop for BtrfsMount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.path).status();
        let _ = std::process::Command::new("losetup").args(["-d", &self.dev]).status();
    }
}

#[test]
fn btrfs_backend_create_snapshot_destroy() {
    let t = "btrfs_backend_create_snapshot_destroy";
    if !ready(t) || !require_program(t, "btrfs") || !require_program(t, "mkfs.btrfs") {
        return;
    }
    let lp = Lxcpath::new("sbbt");
    let before = HostState::capture(lp.as_str());
    let img = lp.path.join("btrfs.img");
    std::fs::File::create(&img).and_then(|f| f.set_len(300 << 20)).expect("image");
    let o = rlxc_suite::run("mkfs.btrfs", &["-q", img.to_str().unwrap_or("")]);
    assert!(o.status.success(), "{}", show(&o));
    let mnt = lp.path.join("b");
    std::fs::create_dir_all(&mnt).expect("mkdir");
    let o = rlxc_suite::run("losetup", &["-f", "--show", img.to_str().unwrap_or("")]);
    assert!(o.status.success(), "{}", show(&o));
    let dev = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let guard = BtrfsMount { path: mnt.clone(), dev: dev.clone() };
    let o = rlxc_suite::run("mount", &["-t", "btrfs", &dev, mnt.to_str().unwrap_or("")]);
    if !o.status.success() {
        skip(t, &format!("cannot mount a btrfs image: {}", show(&o)));
        return;
    }
    let blp = mnt.to_str().unwrap_or("").to_string();
    let lxc = |tool: &str, args: &[&str]| {
        let mut full = vec!["-P", blp.as_str()];
        full.extend_from_slice(args);
        rlxc_suite::run(rlxc_suite::tool(&format!("lxc-{tool}")), &full)
    };
    let name = unique("sbbt");
    let net = net_conf(&lp);
    let o = lxc("create", &["-n", &name, "-t", "busybox", "-f", &net, "-B", "best"]);
    assert!(o.status.success(), "{}", show(&o));
    let dir = mnt.join(&name);
    assert_eq!(
        config_value(&dir.join("config"), "lxc.rootfs.path"),
        Some(format!("btrfs:{}", dir.join("rootfs").display()))
    );
    let subvols = rlxc_suite::run("btrfs", &["subvolume", "list", &blp]);
    assert!(String::from_utf8_lossy(&subvols.stdout).contains(&format!("{name}/rootfs")), "{}", show(&subvols));
    // A snapshot clone is a btrfs snapshot; lxc-snapshot too.
    let snap = format!("{name}s");
    let o = lxc("copy", &["-n", &name, "-N", &snap, "-s"]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(!dir.join("lxc_snapshots").exists(), "btrfs snapshots are independent");
    let o = lxc("snapshot", &["-n", &name]);
    assert!(o.status.success(), "{}", show(&o));
    let subvols = String::from_utf8_lossy(&rlxc_suite::run("btrfs", &["subvolume", "list", &blp]).stdout).into_owned();
    assert!(subvols.contains(&format!("{snap}/rootfs")) && subvols.contains("snaps/snap0/rootfs"), "{subvols}");
    for n in [&name, &snap] {
        assert!(lxc("start", &["-n", n]).status.success());
        let o = lxc("attach", &["-n", n, "--", "hostname"]);
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), n.as_str());
        assert!(lxc("stop", &["-n", n, "-k"]).status.success());
    }
    assert!(lxc("snapshot", &["-n", &name, "-d", "ALL"]).status.success());
    for n in [&snap, &name] {
        let o = lxc("destroy", &["-n", n]);
        assert!(o.status.success(), "{}", show(&o));
    }
    let subvols = String::from_utf8_lossy(&rlxc_suite::run("btrfs", &["subvolume", "list", &blp]).stdout).into_owned();
    assert!(subvols.trim().is_empty(), "subvolumes left: {subvols}");
    drop(guard);
    assert_clean(&before, &lp);
}
