//! Mount entries are confined to the rootfs: symlinks planted in the rootfs (absolute, or
//! escaping with `..`) never redirect a mount onto the host. Also create=dir|file, optional,
//! relative, and the proc:mixed / sys variants of lxc.mount.auto.

mod lifecycle_common;

use lifecycle_common::*;
use rlxc_suite::{busybox_container, HostState, Lxcpath};

#[test]
fn symlinks_in_the_rootfs_cannot_redirect_mounts_onto_the_host() {
    if !ready("symlinks_in_the_rootfs_cannot_redirect_mounts_onto_the_host") {
        return;
    }
    let lp = Lxcpath::new("lmsym");
    let name = unique("lmsym");
    // A host directory the malicious rootfs points at.
    let host = lp.path.join("host-target");
    std::fs::create_dir_all(&host).expect("mkdir");
    let dir = busybox_container(
        &lp,
        &name,
        "lxc.mount.auto = proc:mixed\n\
         lxc.mount.entry = tmpfs mnt/abs tmpfs defaults 0 0\n\
         lxc.mount.entry = tmpfs mnt/rel/sub tmpfs defaults,create=dir 0 0\n\
         lxc.mount.entry = /etc/hostname mnt/absfile/f none bind,create=file 0 0",
    );
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("mnt")).expect("mkdir mnt");
    std::os::unix::fs::symlink(&host, rootfs.join("mnt/abs")).expect("symlink");
    std::os::unix::fs::symlink(
        "../../../../../../../../..".to_string() + host.to_str().unwrap_or(""),
        rootfs.join("mnt/rel"),
    )
    .expect("symlink");
    std::os::unix::fs::symlink(&host, rootfs.join("mnt/absfile")).expect("symlink");
    // The in-root targets of those symlinks exist, so resolution succeeds inside the rootfs.
    let inroot = rootfs.join(host.strip_prefix("/").expect("absolute"));
    std::fs::create_dir_all(&inroot).expect("mkdir in-root target");
    let before = HostState::capture(lp.as_str());
    let o = lp.lxc("start", &["-n", &name]);
    assert!(o.status.success(), "start: {}", show(&o));
    // Nothing on the host side: no mount at the host dir, nothing created in it.
    let mi = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    assert!(!mi.lines().any(|l| l.split_whitespace().nth(4) == host.to_str()), "a mount landed on the host");
    assert_eq!(std::fs::read_dir(&host).expect("read").count(), 0, "files created on the host");
    // Inside, the mounts are where the symlinks point *within* the rootfs.
    let pid = init_pid(&lp, &name).expect("pid");
    let h = host.display();
    let o = in_container(pid, &format!("grep -q ' {h} tmpfs' /proc/mounts && echo abs-ok; grep -q ' {h}/sub tmpfs' /proc/mounts && echo rel-ok; test -f {h}/f && echo file-ok"));
    let out = String::from_utf8_lossy(&o.stdout);
    for want in ["abs-ok", "rel-ok", "file-ok"] {
        assert!(out.contains(want), "missing {want}: {}", show(&o));
    }
    assert!(lp.lxc("stop", &["-n", &name, "-k"]).status.success());
    assert_clean(&before, &lp, &name);
    assert_eq!(std::fs::read_dir(&host).expect("read").count(), 0);
}

#[test]
fn optional_relative_and_mount_auto_variants() {
    if !ready("optional_relative_and_mount_auto_variants") {
        return;
    }
    let lp = Lxcpath::new("lmopt");
    let name = unique("lmopt");
    let dir = busybox_container(
        &lp,
        &name,
        "lxc.mount.auto = proc:mixed sys:mixed\n\
         lxc.mount.entry = /nonexistent-rlxc mnt/x none bind,optional,create=dir 0 0\n\
         lxc.mount.entry = etc mnt/etc-copy none bind,relative,create=dir,ro 0 0",
    );
    let before = HostState::capture(lp.as_str());
    let o = lp.lxc("start", &["-n", &name]);
    assert!(o.status.success(), "start: {}", show(&o));
    let pid = init_pid(&lp, &name).expect("pid");
    let o = in_container(
        pid,
        "test -f /mnt/etc-copy/passwd && echo relative-ok; \
         touch /mnt/etc-copy/x 2>/dev/null || echo ro-ok; \
         echo 1 > /proc/sys/net/ipv4/ip_forward && echo net-rw; \
         echo 1 > /proc/sys/vm/overcommit_memory 2>/dev/null || echo sys-ro; \
         grep -q ' /sys sysfs ro' /proc/mounts && echo sysfs-ro",
    );
    let out = String::from_utf8_lossy(&o.stdout);
    for want in ["relative-ok", "ro-ok", "net-rw", "sys-ro", "sysfs-ro"] {
        assert!(out.contains(want), "missing {want}: {}", show(&o));
    }
    assert!(!dir.join("rootfs/mnt/etc-copy/x").exists());
    assert!(lp.lxc("stop", &["-n", &name, "-k"]).status.success());
    assert_clean(&before, &lp, &name);
}
