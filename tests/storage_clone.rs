//! `lxc-copy` and `lxc-snapshot` on busybox containers: tree copies keeping owners, modes and
//! xattrs (rsync and rlxc's own copy), hostname and MAC renewal (`-K`, `-M`), overlay snapshot
//! clones with `lxc_snapshots` / `lxc_rdepends`, ephemeral clones (`-e`, `-m`), rename, clone
//! hooks with `LXC_SRC_NAME`, copies between backends, and snapshots (`snaps/snapN/{ts,comment}`).

mod storage_common;

use std::process::Command;

use rlxc_suite::{busybox_container, tool, HostState, Lxcpath};
use storage_common::*;

fn set_xattr(path: &std::path::Path, name: &str, value: &str) -> bool {
    Command::new("python3")
        .args(["-c", "import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())"])
        .arg(path)
        .args([name, value])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn get_xattr(path: &std::path::Path, name: &str) -> String {
    let o = Command::new("python3")
        .args(["-c", "import os,sys; print(os.getxattr(sys.argv[1], sys.argv[2]).decode())"])
        .arg(path)
        .arg(name)
        .output();
    o.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
}

fn copy_preserves(no_rsync: bool, tag: &str) {
    use std::os::unix::fs::MetadataExt;
    let lp = Lxcpath::new(tag);
    let before = HostState::capture(lp.as_str());
    let name = unique(tag);
    let dir = busybox_container(&lp, &name, "lxc.net.1.type = veth\nlxc.net.1.hwaddr = 00:16:3e:11:22:33");
    let f = dir.join("rootfs/root/owned");
    std::fs::write(&f, "x").expect("write");
    std::os::unix::fs::chown(&f, Some(1234), Some(5678)).expect("chown");
    std::fs::write(dir.join("rootfs/etc/hostname"), format!("{name}\n")).expect("hostname");
    let xattr = set_xattr(&f, "user.rlxc", "kept");
    let new = format!("{name}n");
    let mut cmd = Command::new(tool("lxc-copy"));
    cmd.args(["-P", lp.as_str(), "-n", &name, "-N", &new]);
    if no_rsync {
        cmd.env("RLXC_NO_RSYNC", "1");
    }
    let o = cmd.output().expect("lxc-copy");
    assert!(o.status.success(), "{}", show(&o));
    let ndir = lp.path.join(&new);
    let cfg = ndir.join("config");
    assert_eq!(config_value(&cfg, "lxc.rootfs.path"), Some(format!("dir:{}", ndir.join("rootfs").display())));
    assert_eq!(config_value(&cfg, "lxc.uts.name"), Some(new.clone()));
    let mac = config_value(&cfg, "lxc.net.1.hwaddr").unwrap_or_default();
    assert!(mac.starts_with("00:16:3e:") && mac != "00:16:3e:11:22:33", "MAC renewed: {mac}");
    let md = std::fs::metadata(ndir.join("rootfs/root/owned")).expect("copied file");
    assert_eq!((md.uid(), md.gid()), (1234, 5678));
    if xattr {
        assert_eq!(get_xattr(&ndir.join("rootfs/root/owned"), "user.rlxc"), "kept");
    }
    // LXC writes the bare name.
    assert_eq!(std::fs::read_to_string(ndir.join("rootfs/etc/hostname")).unwrap_or_default(), new);
    // The original is untouched.
    assert_eq!(std::fs::read_to_string(dir.join("rootfs/etc/hostname")).unwrap_or_default().trim(), name);
    // -K -M keep hostname and MAC.
    let keep = format!("{name}k");
    lp.lxc_ok("copy", &["-n", &name, "-N", &keep, "-K", "-M"]);
    let kcfg = lp.path.join(&keep).join("config");
    assert_eq!(config_value(&kcfg, "lxc.uts.name"), Some(name.clone()));
    assert_eq!(config_value(&kcfg, "lxc.net.1.hwaddr").as_deref(), Some("00:16:3e:11:22:33"));
    let kh = std::fs::read_to_string(lp.path.join(&keep).join("rootfs/etc/hostname")).unwrap_or_default();
    assert_eq!(kh.trim(), name);
    // An existing name is refused.
    let o = lp.lxc("copy", &["-n", &name, "-N", &keep]);
    assert!(!o.status.success(), "{}", show(&o));
    for n in [&name, &new, &keep] {
        lp.lxc_ok("destroy", &["-n", n]);
    }
    assert_clean(&before, &lp);
}

#[test]
fn copy_of_dir_container_with_rsync() {
    if !ready("copy_of_dir_container_with_rsync") || !rlxc_suite::require_program("copy_rsync", "rsync") {
        return;
    }
    copy_preserves(false, "scrs");
}

#[test]
fn copy_of_dir_container_without_rsync() {
    if !ready("copy_of_dir_container_without_rsync") {
        return;
    }
    copy_preserves(true, "scow");
}

#[test]
fn copy_needs_a_new_name() {
    if !ready("copy_needs_a_new_name") {
        return;
    }
    let lp = Lxcpath::new("scnn");
    let name = unique("scnn");
    busybox_container(&lp, &name, "");
    let o = lp.lxc("copy", &["-n", &name]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("You must provide a NEWNAME for the clone"), "{}", show(&o));
}

#[test]
fn overlay_snapshot_clone_tracks_dependencies() {
    if !ready("overlay_snapshot_clone_tracks_dependencies") {
        return;
    }
    let lp = Lxcpath::new("scsn");
    let before = HostState::capture(lp.as_str());
    let name = unique("scsn");
    let dir = busybox_container(&lp, &name, "");
    let snap = format!("{name}s");
    lp.lxc_ok("copy", &["-n", &name, "-N", &snap, "-s"]);
    let sdir = lp.path.join(&snap);
    assert_eq!(
        config_value(&sdir.join("config"), "lxc.rootfs.path"),
        Some(format!("overlay:{}:{}", dir.join("rootfs").display(), sdir.join("overlay/delta").display()))
    );
    let lp_s = lp.as_str();
    assert_eq!(std::fs::read_to_string(dir.join("lxc_snapshots")).unwrap_or_default(), format!("{lp_s}\n{snap}\n"));
    assert_eq!(std::fs::read_to_string(sdir.join("lxc_rdepends")).unwrap_or_default(), format!("{lp_s}\n{name}\n"));
    start(&lp, &snap);
    assert_eq!(attach(&lp, &snap, "hostname").trim(), snap);
    attach(&lp, &snap, "echo delta > /root/only-in-clone");
    stop(&lp, &snap);
    assert!(sdir.join("overlay/delta/root/only-in-clone").exists());
    assert!(!dir.join("rootfs/root/only-in-clone").exists());
    // The origin cannot go while the clone uses its rootfs.
    let o = lp.lxc("destroy", &["-n", &name]);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(dir.join("config").exists());
    // A snapshot of the snapshot depends on both (LXC's lxc_rdepends chain).
    let snap2 = format!("{name}t");
    lp.lxc_ok("copy", &["-n", &snap, "-N", &snap2, "-s"]);
    assert_eq!(
        std::fs::read_to_string(lp.path.join(&snap2).join("lxc_rdepends")).unwrap_or_default(),
        format!("{lp_s}\n{name}\n{lp_s}\n{snap}\n")
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("lxc_snapshots")).unwrap_or_default(),
        format!("{lp_s}\n{snap}\n{lp_s}\n{snap2}\n")
    );
    assert_eq!(std::fs::read_to_string(sdir.join("lxc_snapshots")).unwrap_or_default(), format!("{lp_s}\n{snap2}\n"));
    assert!(!lp.lxc("destroy", &["-n", &snap]).status.success());
    lp.lxc_ok("destroy", &["-n", &snap2]);
    assert!(!sdir.join("lxc_snapshots").exists());
    lp.lxc_ok("destroy", &["-n", &snap]);
    assert!(!dir.join("lxc_snapshots").exists(), "dependency dropped with the clone");
    lp.lxc_ok("destroy", &["-n", &name]);
    assert_clean(&before, &lp);
}

#[test]
fn running_origin_needs_allowrunning() {
    if !ready("running_origin_needs_allowrunning") {
        return;
    }
    let lp = Lxcpath::new("scar");
    let before = HostState::capture(lp.as_str());
    let name = unique("scar");
    busybox_container(&lp, &name, "");
    start(&lp, &name);
    let new = format!("{name}c");
    let o = lp.lxc("copy", &["-n", &name, "-N", &new]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--allowrunning"), "{}", show(&o));
    assert!(!lp.path.join(&new).exists());
    lp.lxc_ok("copy", &["-n", &name, "-N", &new, "-a"]);
    stop(&lp, &name);
    lp.lxc_ok("destroy", &["-n", &new]);
    lp.lxc_ok("destroy", &["-n", &name]);
    assert_clean(&before, &lp);
}

#[test]
fn ephemeral_clone_runs_and_vanishes() {
    if !ready("ephemeral_clone_runs_and_vanishes") {
        return;
    }
    let lp = Lxcpath::new("scep");
    let before = HostState::capture(lp.as_str());
    let name = unique("scep");
    let dir = busybox_container(&lp, &name, "");
    let shared = lp.path.join("shared");
    std::fs::create_dir_all(&shared).expect("mkdir");
    std::fs::write(shared.join("hello"), "from host").expect("write");
    let eph = format!("{name}e");
    let bind = format!("bind={}:/mnt/shared", shared.display());
    let out = lp.lxc_ok("copy", &["-n", &name, "-N", &eph, "-e", "-m", &bind]);
    assert_eq!(out.trim(), format!("Created {eph} as clone of {name}"));
    let edir = lp.path.join(&eph);
    assert_eq!(config_value(&edir.join("config"), "lxc.ephemeral").as_deref(), Some("1"));
    assert_eq!(attach(&lp, &eph, "cat /mnt/shared/hello"), "from host");
    assert_eq!(attach(&lp, &eph, "hostname").trim(), eph);
    assert!(dir.join("lxc_snapshots").exists());
    stop(&lp, &eph);
    assert!(!edir.exists(), "ephemeral container destroyed on stop");
    assert!(!dir.join("lxc_snapshots").exists());
    // -t: the delta lives on a tmpfs in the container's mount namespace only.
    let tm = format!("{name}t");
    lp.lxc_ok("copy", &["-n", &name, "-N", &tm, "-e", "-t"]);
    attach(&lp, &tm, "echo mem > /root/in-memory");
    assert!(!lp.path.join(&tm).join("overlay/delta/root/in-memory").exists());
    stop(&lp, &tm);
    assert!(!lp.path.join(&tm).exists());
    let o = lp.lxc("copy", &["-n", &name, "-N", &tm, "-t"]);
    assert!(!o.status.success(), "-t needs -e: {}", show(&o));
    // Without -N a name NAME_XXXXXX is made up; -D keeps the clone after stop.
    let out = lp.lxc_ok("copy", &["-n", &name, "-e", "-D"]);
    let made = out.split_whitespace().nth(1).unwrap_or("").to_string();
    assert!(made.starts_with(&format!("{name}_")) && made.len() == name.len() + 7, "{out}");
    stop(&lp, &made);
    assert!(lp.path.join(&made).join("config").exists());
    lp.lxc_ok("destroy", &["-n", &made]);
    lp.lxc_ok("destroy", &["-n", &name]);
    assert_clean(&before, &lp);
}

#[test]
fn rename_moves_the_container() {
    if !ready("rename_moves_the_container") {
        return;
    }
    let lp = Lxcpath::new("scrn");
    let before = HostState::capture(lp.as_str());
    let name = unique("scrn");
    busybox_container(&lp, &name, "");
    let new = format!("{name}r");
    // Not with snapshots.
    lp.lxc_ok("snapshot", &["-n", &name]);
    let o = lp.lxc("copy", &["-n", &name, "-N", &new, "-R"]);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("snapshots"), "{}", show(&o));
    assert!(!lp.path.join(&new).exists());
    lp.lxc_ok("snapshot", &["-n", &name, "-d", "ALL"]);
    lp.lxc_ok("copy", &["-n", &name, "-N", &new, "-R"]);
    assert!(!lp.path.join(&name).exists());
    let cfg = lp.path.join(&new).join("config");
    assert_eq!(
        config_value(&cfg, "lxc.rootfs.path"),
        Some(format!("dir:{}", lp.path.join(&new).join("rootfs").display()))
    );
    start(&lp, &new);
    assert_eq!(attach(&lp, &new, "hostname").trim(), new);
    stop(&lp, &new);
    lp.lxc_ok("destroy", &["-n", &new]);
    assert_clean(&before, &lp);
}

#[test]
fn clone_hooks_get_the_source_name_and_mounted_rootfs() {
    if !ready("clone_hooks_get_the_source_name_and_mounted_rootfs") {
        return;
    }
    let lp = Lxcpath::new("schk");
    let before = HostState::capture(lp.as_str());
    let name = unique("schk");
    let out = lp.path.join("hook.out");
    let hook = lp.path.join("hook.sh");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\necho \"$LXC_SRC_NAME $LXC_NAME $* $(cat $LXC_ROOTFS_MOUNT/etc/passwd | head -c 4)\" > {}\n",
            out.display()
        ),
    )
    .expect("hook");
    std::os::unix::fs::PermissionsExt::set_mode(&mut std::fs::metadata(&hook).expect("md").permissions(), 0o755);
    let _ = Command::new("chmod").arg("755").arg(&hook).status();
    busybox_container(&lp, &name, &format!("lxc.hook.clone = {}", hook.display()));
    let new = format!("{name}h");
    lp.lxc_ok("copy", &["-n", &name, "-N", &new, "-s", "--", "extra"]);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap_or_default().trim(),
        format!("{name} {new} {new} lxc clone extra root")
    );
    // A failing hook fails the clone and removes it.
    std::fs::write(&hook, "#!/bin/sh\nexit 3\n").expect("hook");
    let bad = format!("{name}b");
    let o = lp.lxc("copy", &["-n", &name, "-N", &bad]);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(!lp.path.join(&bad).exists());
    lp.lxc_ok("destroy", &["-n", &new]);
    lp.lxc_ok("destroy", &["-n", &name]);
    assert_clean(&before, &lp);
}

#[test]
fn copies_between_backends() {
    if !ready("copies_between_backends") {
        return;
    }
    let lp = Lxcpath::new("scbk");
    let before = HostState::capture(lp.as_str());
    let name = unique("scbk");
    busybox_container(&lp, &name, "");
    // dir -> loop (-L size), loop -> loop (image copy), loop -> dir, dir -s -> overlay -> dir.
    let lo = format!("{name}l");
    lp.lxc_ok("copy", &["-n", &name, "-N", &lo, "-B", "loop", "-L", "48M"]);
    assert_eq!(std::fs::metadata(lp.path.join(&lo).join("rootdev")).map(|m| m.len()).unwrap_or(0), 48 << 20);
    let lo2 = format!("{name}m");
    lp.lxc_ok("copy", &["-n", &lo, "-N", &lo2]);
    let back = format!("{name}d");
    lp.lxc_ok("copy", &["-n", &lo2, "-N", &back, "-B", "dir"]);
    assert!(lp.path.join(&back).join("rootfs/bin/busybox").exists());
    let ov = format!("{name}o");
    lp.lxc_ok("copy", &["-n", &name, "-N", &ov, "-s"]);
    let flat = format!("{name}f");
    lp.lxc_ok("copy", &["-n", &ov, "-N", &flat, "-B", "dir"]);
    assert!(lp.path.join(&flat).join("rootfs/bin/busybox").exists());
    assert!(loops_under(lp.as_str()).is_empty());
    for n in [&lo2, &back, &flat] {
        start(&lp, n);
        assert_eq!(attach(&lp, n, "hostname").trim(), n.as_str());
        stop(&lp, n);
    }
    for n in [&lo, &lo2, &back, &ov, &flat, &name] {
        lp.lxc_ok("destroy", &["-n", n]);
    }
    assert_clean(&before, &lp);
}

#[test]
fn snapshots_create_list_restore_destroy() {
    if !ready("snapshots_create_list_restore_destroy") {
        return;
    }
    let lp = Lxcpath::new("scss");
    let before = HostState::capture(lp.as_str());
    let name = unique("scss");
    let dir = busybox_container(&lp, &name, "");
    assert_eq!(lp.lxc_ok("snapshot", &["-n", &name, "-L"]), "No snapshots\n");
    let comment = lp.path.join("comment");
    std::fs::write(&comment, "before the change\n").expect("comment");
    lp.lxc_ok("snapshot", &["-n", &name, "-c", comment.to_str().unwrap_or("")]);
    std::fs::write(dir.join("rootfs/root/later"), "x").expect("write");
    lp.lxc_ok("snapshot", &["-n", &name]);
    let snaps = dir.join("snaps");
    let ts = std::fs::read_to_string(snaps.join("snap0/ts")).unwrap_or_default();
    assert_eq!(ts.len(), 19, "{ts:?}");
    assert_eq!(&ts[4..5], ":");
    let list = lp.lxc_ok("snapshot", &["-n", &name, "-L", "-C"]);
    let want = format!("snap0 ({}) {ts}\nbefore the change\nsnap1 ({}) ", snaps.display(), snaps.display());
    assert!(list.starts_with(&want), "{list}");
    // Snapshots keep the name.
    assert_eq!(config_value(&snaps.join("snap0/config"), "lxc.uts.name"), Some(name.clone()));
    // Restore in place: the file made after snap0 is gone, snapshots stay.
    lp.lxc_ok("snapshot", &["-n", &name, "-r", "snap0"]);
    assert!(!dir.join("rootfs/root/later").exists());
    assert!(snaps.join("snap1/config").exists());
    assert_eq!(
        config_value(&dir.join("config"), "lxc.rootfs.path"),
        Some(format!("dir:{}", dir.join("rootfs").display()))
    );
    // Restore as a new container.
    let other = format!("{name}x");
    lp.lxc_ok("snapshot", &["-n", &name, "-r", "snap1", "-N", &other]);
    assert!(lp.path.join(&other).join("rootfs/root/later").exists());
    start(&lp, &other);
    attach(&lp, &other, "true");
    stop(&lp, &other);
    let o = lp.lxc("snapshot", &["-n", &name, "-r", "snap9"]);
    assert!(!o.status.success(), "{}", show(&o));
    lp.lxc_ok("snapshot", &["-n", &name, "-d", "snap0"]);
    assert!(!snaps.join("snap0").exists());
    lp.lxc_ok("snapshot", &["-n", &name, "-d", "ALL"]);
    assert_eq!(lp.lxc_ok("snapshot", &["-n", &name, "-L"]), "No snapshots\n");
    lp.lxc_ok("destroy", &["-n", &other]);
    lp.lxc_ok("destroy", &["-n", &name]);
    assert_clean(&before, &lp);
}

#[test]
fn snapshots_of_overlay_and_loop_containers() {
    if !ready("snapshots_of_overlay_and_loop_containers") {
        return;
    }
    let lp = Lxcpath::new("scso");
    let before = HostState::capture(lp.as_str());
    let name = unique("scso");
    create(&lp, &name, &["-B", "overlay"]);
    let lname = format!("{name}l");
    create(&lp, &lname, &["-B", "loop", "--fssize", "32M"]);
    // Something only in the overlay's lower dir: an in-place restore must keep it.
    std::fs::write(lp.path.join(&name).join("rootfs/lowerfile"), "lower").expect("write lower");
    for n in [&name, &lname] {
        lp.lxc_ok("snapshot", &["-n", n]);
    }
    let s0 = lp.path.join(&name).join("snaps/snap0");
    assert_eq!(
        config_value(&s0.join("config"), "lxc.rootfs.path"),
        Some(format!(
            "overlay:{}:{}",
            lp.path.join(&name).join("rootfs").display(),
            s0.join("overlay/delta").display()
        ))
    );
    assert!(s0.join("overlay/delta/bin/busybox").exists(), "delta copied");
    let l0 = lp.path.join(&lname).join("snaps/snap0");
    assert_eq!(
        config_value(&l0.join("config"), "lxc.rootfs.path"),
        Some(format!("loop:{}", l0.join("rootdev").display()))
    );
    for n in [&name, &lname] {
        lp.lxc_ok("snapshot", &["-n", n, "-r", "snap0"]);
        start(&lp, n);
        let want = if n == &name { "lower" } else { "" };
        assert_eq!(attach(&lp, n, "cat /lowerfile 2>/dev/null; true"), want);
        stop(&lp, n);
        lp.lxc_ok("snapshot", &["-n", n, "-d", "ALL"]);
        lp.lxc_ok("destroy", &["-n", n]);
    }
    assert_clean(&before, &lp);
}

#[test]
fn copy_to_another_lxcpath_and_copy_of_overlay() {
    if !ready("copy_to_another_lxcpath_and_copy_of_overlay") {
        return;
    }
    let lp = Lxcpath::new("scnp");
    let other = Lxcpath::new("scnq");
    let before = HostState::capture(lp.as_str());
    let name = unique("scnp");
    busybox_container(&lp, &name, "");
    let new = format!("{name}p");
    lp.lxc_ok("copy", &["-n", &name, "-N", &new, "-p", other.as_str()]);
    let ndir = other.path.join(&new);
    assert_eq!(
        config_value(&ndir.join("config"), "lxc.rootfs.path"),
        Some(format!("dir:{}", ndir.join("rootfs").display()))
    );
    other.lxc_ok("start", &["-n", &new]);
    let o = other.lxc_ok("attach", &["-n", &new, "--", "hostname"]);
    assert_eq!(o.trim(), new);
    other.lxc_ok("stop", &["-n", &new, "-k"]);
    // A plain copy of an overlay clone keeps the lower dir and copies the delta.
    let ov = format!("{name}o");
    lp.lxc_ok("copy", &["-n", &name, "-N", &ov, "-s"]);
    std::fs::write(lp.path.join(&ov).join("overlay/delta/marker"), "m").expect("marker");
    let ov2 = format!("{name}q");
    lp.lxc_ok("copy", &["-n", &ov, "-N", &ov2]);
    let o2 = lp.path.join(&ov2);
    assert_eq!(
        config_value(&o2.join("config"), "lxc.rootfs.path"),
        Some(format!(
            "overlay:{}:{}",
            lp.path.join(&name).join("rootfs").display(),
            o2.join("overlay/delta").display()
        ))
    );
    assert!(o2.join("overlay/delta/marker").exists());
    other.lxc_ok("destroy", &["-n", &new]);
    for n in [&ov2, &ov, &name] {
        lp.lxc_ok("destroy", &["-n", n]);
    }
    assert_clean(&before, &lp);
    assert_clean(&before, &other);
}

#[test]
fn destroy_with_snapshots_needs_s() {
    if !ready("destroy_with_snapshots_needs_s") {
        return;
    }
    let lp = Lxcpath::new("scds");
    let before = HostState::capture(lp.as_str());
    let name = unique("scds");
    let dir = busybox_container(&lp, &name, "");
    lp.lxc_ok("snapshot", &["-n", &name]);
    lp.lxc_ok("snapshot", &["-n", &name]);
    let o = lp.lxc("destroy", &["-n", &name]);
    assert!(!o.status.success(), "{}", show(&o));
    let want = format!("Destroying {name} failed: {name} has snapshots.");
    assert!(String::from_utf8_lossy(&o.stderr).contains(&want), "{}", show(&o));
    assert!(dir.join("snaps/snap1/config").exists());
    lp.lxc_ok("destroy", &["-n", &name, "-s"]);
    assert!(!dir.exists());
    assert_clean(&before, &lp);
}
