//! The lvm backend on a real volume group: `lxc-create -B lvm` (plain and thin volumes),
//! start, attach, stop, `lxc-copy` (a copy and an LVM snapshot), `lxc-snapshot` (take, list,
//! restore, destroy), `lxc-destroy` removing the volumes, and bad input leaving nothing. Needs device-mapper and lvm2: this host's kernel has
//! no device-mapper, so `tests/vm/storage.sh` runs it in the VM (`make vm-check`). The test makes
//! its own volume group on a loop device over a sparse file and removes all of it.

mod storage_common;

use rlxc_suite::{require_program, run, skip, HostState, Lxcpath};
use storage_common::*;

/// A volume group on a loop device over a sparse file; everything removed on drop.
struct TestVg {
    vg: String,
    loopdev: String,
    image: std::path::PathBuf,
}

impl TestVg {
    fn new(tag: &str) -> Option<TestVg> {
        let vg = format!("rlxc{tag}{}", std::process::id());
        let image = std::env::temp_dir().join(format!("{vg}.img"));
        let f = std::fs::File::create(&image).ok()?;
        f.set_len(1 << 30).ok()?;
        drop(f);
        let o = run("losetup", &["-f", "--show", &image.to_string_lossy()]);
        let loopdev = String::from_utf8_lossy(&o.stdout).trim().to_string();
        let t = TestVg { vg, loopdev, image };
        if !o.status.success() || t.loopdev.is_empty() {
            return None;
        }
        let o = lvm(&["vgcreate", "-y", &t.vg, &t.loopdev]);
        o.status.success().then_some(t)
    }

    fn lvs(&self) -> Vec<String> {
        let o = lvm(&["lvs", "--noheadings", "-o", "lv_name", &self.vg]);
        String::from_utf8_lossy(&o.stdout).split_whitespace().map(str::to_string).collect()
    }
}

impl Drop for TestVg {
    fn drop(&mut self) {
        let _ = lvm(&["vgremove", "-f", &self.vg]);
        let _ = lvm(&["pvremove", "-f", &self.loopdev]);
        let _ = run("losetup", &["-d", &self.loopdev]);
        let _ = std::fs::remove_file(&self.image);
    }
}

/// An LVM tool with udev synchronisation off (the test VM runs no udev).
fn lvm(args: &[&str]) -> std::process::Output {
    std::process::Command::new(args[0])
        .args(&args[1..])
        .env("DM_DISABLE_UDEV", "1")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", args[0]))
}

fn lvm_ready(test: &str) -> bool {
    if !ready(test) || !require_program(test, "lvcreate") || !require_program(test, "mkfs.ext4") {
        return false;
    }
    if !std::path::Path::new("/dev/mapper/control").exists() {
        skip(test, "no device-mapper in this kernel (tests/vm/storage.sh runs this in the VM)");
        return false;
    }
    true
}

#[test]
#[ignore = "needs device-mapper and lvm2: run by tests/vm/storage.sh"]
fn lvm_backend_create_start_copy_snapshot_destroy() {
    let t = "lvm_backend_create_start_copy_snapshot_destroy";
    if !lvm_ready(t) {
        return;
    }
    let Some(vg) = TestVg::new("a") else { return skip(t, "cannot make a volume group on a loop device") };
    let lp = Lxcpath::new("sblvm");
    let before = HostState::capture(lp.as_str());
    let name = unique("lv");
    create(&lp, &name, &["-B", "lvm", "--vgname", &vg.vg, "--fssize", "96M"]);
    let dir = lp.path.join(&name);
    assert_eq!(config_value(&dir.join("config"), "lxc.rootfs.path"), Some(format!("lvm:/dev/{}/{name}", vg.vg)));
    assert_eq!(vg.lvs(), vec![name.clone()], "one volume named like the container");
    // The mount point lives in /run, which a reboot empties: start makes it again.
    let mount_point = format!("/run/rlxc/lvm/{}/{name}", vg.vg);
    let _ = std::fs::remove_dir(&mount_point);
    start(&lp, &name);
    let root = attach(&lp, &name, "grep ' / ' /proc/mounts | tail -1; echo kept > /root/kept");
    assert!(root.contains(" / ext4 "), "the volume is the container's root: {root}");
    stop(&lp, &name);
    assert_eq!(HostState::capture(lp.as_str()).mounts, before.mounts, "nothing mounted after stop");

    // A copy (new volume in the same group, tree copied) and an LVM snapshot.
    let copy = format!("{name}c");
    let snap = format!("{name}s");
    let o = lp.lxc("copy", &["-n", &name, "-N", &copy]);
    assert!(o.status.success(), "lxc-copy: {}", show(&o));
    let o = lp.lxc("copy", &["-n", &name, "-N", &snap, "-s", "-L", "48M"]);
    assert!(o.status.success(), "lxc-copy -s: {}", show(&o));
    assert_eq!(
        config_value(&lp.path.join(&snap).join("config"), "lxc.rootfs.path"),
        Some(format!("lvm:/dev/{}/{snap}", vg.vg))
    );
    let attr = lvm(&["lvs", "--noheadings", "-o", "lv_attr,origin", &format!("{}/{snap}", vg.vg)]);
    let attr = String::from_utf8_lossy(&attr.stdout).to_string();
    assert!(attr.trim().starts_with('s') && attr.contains(&name), "an LVM snapshot of the origin: {attr}");
    for c in [&copy, &snap] {
        start(&lp, c);
        assert_eq!(attach(&lp, c, "cat /root/kept").trim(), "kept", "{c} has the origin's data");
        stop(&lp, c);
    }
    // lxc-snapshot of an lvm container: a copy as volume snap0 in the same group, listed,
    // restored as a new container, destroyed with its volume.
    let o = lp.lxc("snapshot", &["-n", &name]);
    assert!(o.status.success(), "lxc-snapshot: {}", show(&o));
    assert!(vg.lvs().contains(&"snap0".to_string()), "{:?}", vg.lvs());
    let o = lp.lxc("snapshot", &["-n", &name, "-L"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("snap0"), "{}", show(&o));
    let restored = format!("{name}r");
    let o = lp.lxc("snapshot", &["-n", &name, "-r", "snap0", "-N", &restored]);
    assert!(o.status.success(), "lxc-snapshot -r: {}", show(&o));
    start(&lp, &restored);
    assert_eq!(attach(&lp, &restored, "cat /root/kept").trim(), "kept", "the restored container has the data");
    stop(&lp, &restored);
    let o = lp.lxc("snapshot", &["-n", &name, "-d", "snap0"]);
    assert!(o.status.success(), "lxc-snapshot -d: {}", show(&o));
    assert!(!vg.lvs().contains(&"snap0".to_string()), "{:?}", vg.lvs());
    for c in [&restored, &snap, &copy, &name] {
        let o = lp.lxc("destroy", &["-n", c]);
        assert!(o.status.success(), "lxc-destroy {c}: {}", show(&o));
        assert!(!lp.path.join(c).exists());
    }
    assert!(vg.lvs().is_empty(), "lxc-destroy removed the volumes: {:?}", vg.lvs());
    assert!(!std::path::Path::new(&format!("/run/rlxc/lvm/{}", vg.vg)).exists(), "and their mount points");
    assert_clean(&before, &lp);
}

#[test]
#[ignore = "needs device-mapper and lvm2: run by tests/vm/storage.sh"]
fn lvm_thin_volumes_and_bad_input() {
    let t = "lvm_thin_volumes_and_bad_input";
    if !lvm_ready(t) {
        return;
    }
    let Some(vg) = TestVg::new("t") else { return skip(t, "cannot make a volume group on a loop device") };
    let lp = Lxcpath::new("sblvt");
    let before = HostState::capture(lp.as_str());

    // An unknown volume group, or a name that is not one, fails and leaves no container.
    let bad = unique("lb");
    let net = net_conf(&lp);
    let o = lp.lxc("create", &["-n", &bad, "-t", "busybox", "-f", &net, "-B", "lvm", "--vgname", "no-such-vg-rlxc"]);
    assert!(!o.status.success(), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no-such-vg-rlxc"), "the error names the volume group: {err}");
    assert!(!lp.path.join(&bad).exists(), "a failed create leaves no container dir");
    let o = lp.lxc("create", &["-n", &bad, "-t", "busybox", "-f", &net, "-B", "lvm", "--vgname", "../etc"]);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid LVM volume group name"), "{}", show(&o));
    assert!(!lp.path.join(&bad).exists());

    // With a thin pool named by --thinpool the volume is thin.
    let o = lvm(&["lvcreate", "--yes", "-L", "300M", "-T", &format!("{}/pool", vg.vg)]);
    if !o.status.success() {
        return skip(t, &format!("cannot make a thin pool: {}", String::from_utf8_lossy(&o.stderr)));
    }
    let name = unique("lt");
    create(&lp, &name, &["-B", "lvm", "--vgname", &vg.vg, "--thinpool", "pool", "--lvname", "thinroot"]);
    assert_eq!(
        config_value(&lp.path.join(&name).join("config"), "lxc.rootfs.path"),
        Some(format!("lvm:/dev/{}/thinroot", vg.vg))
    );
    let attr = lvm(&["lvs", "--noheadings", "-o", "lv_attr,pool_lv", &format!("{}/thinroot", vg.vg)]);
    let attr = String::from_utf8_lossy(&attr.stdout).to_string();
    assert!(attr.trim().starts_with('V') && attr.contains("pool"), "a thin volume in the pool: {attr}");
    start(&lp, &name);
    assert!(attach(&lp, &name, "grep ' / ' /proc/mounts").contains(" / ext4 "));
    stop(&lp, &name);
    let o = lp.lxc("destroy", &["-n", &name]);
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(vg.lvs(), vec!["pool".to_string()], "only the pool is left");
    assert_clean(&before, &lp);
}
