//! `lxc-create -t local -- -m META -f ROOTFS`: a real image (busybox rootfs tarball + metadata
//! tarball, the format lxc-download fetches) becomes a container that starts, runs a command
//! through lxc-attach, stops and is destroyed without a trace; bad input fails with a clear
//! error and leaves no half-created container.

mod templates_common;

use rlxc_suite::{HostState, Lxcpath};
use templates_common::*;

#[test]
fn local_image_becomes_a_working_container() {
    let t = "local_image_becomes_a_working_container";
    if !ready(t, &["tar", "xz"]) {
        return;
    }
    let scratch = Scratch::new("local");
    let mut meta: Vec<(&str, &str)> = Image::standard_meta();
    // The per-compat-level variant wins over the plain file; the unprivileged variant is not
    // for a root-made container.
    let compat = format!("{IMAGE_CONFIG}lxc.environment = IMAGE_COMPAT=5\n");
    meta.push(("config.5", &compat));
    meta.push(("config-user", "lxc.environment = IMAGE_MODE=user\n"));
    let img = Image::build(&scratch.0, &meta);
    let lp = Lxcpath::new("tlocal");
    let name = unique("tlocal");
    let before = HostState::capture(lp.as_str());
    let net = net_empty_conf(&scratch.0);
    let o = lp.lxc(
        "create",
        &[
            "-n",
            &name,
            "-f",
            path_str(&net),
            "-t",
            "local",
            "--",
            "-m",
            path_str(&img.meta),
            "-f",
            path_str(&img.rootfs),
        ],
    );
    assert!(o.status.success(), "lxc-create -t local: {}", show(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("rlxc test image ready"), "create-message: {}", show(&o));
    assert_image_applied(&lp, &name);
    let config = std::fs::read_to_string(lp.path.join(&name).join("config")).expect("config");
    assert!(config.contains("# Template used to create this container:"), "header kept:\n{config}");
    assert!(config.contains("IMAGE_COMPAT=5"), "config.5 used:\n{config}");
    assert!(!config.contains("IMAGE_MODE=user"), "config-user not used by root:\n{config}");
    lifecycle(&lp, &name, &before);
}

#[test]
fn local_bad_input_fails_cleanly() {
    let t = "local_bad_input_fails_cleanly";
    if !ready(t, &["tar", "xz"]) {
        return;
    }
    let scratch = Scratch::new("localbad");
    let img = Image::build(&scratch.0, &Image::standard_meta());
    let junk = scratch.0.join("junk.tar.xz");
    std::fs::write(&junk, "this is not a tarball\n").expect("write junk");
    let no_config = Image::build(&scratch.0.join("noconf"), &[("excludes", "")]);
    let missing = scratch.0.join("missing.tar.xz");
    let lp = Lxcpath::new("tlocbad");
    let name = unique("tlocbad");
    let before = HostState::capture(lp.as_str());
    let (meta, rootfs) = (path_str(&img.meta), path_str(&img.rootfs));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["-f", rootfs], "--metadata FILE is required"),
        (vec!["-m", meta], "--fstree FILE is required"),
        (vec!["-m", path_str(&missing), "-f", rootfs], "no such file"),
        (vec!["-m", meta, "-f", path_str(&missing)], "no such file"),
        (vec!["-m", path_str(&junk), "-f", rootfs], "not a valid metadata tarball"),
        (vec!["-m", path_str(&no_config.meta), "-f", rootfs], "has no 'config' file"),
        (vec!["-m", meta, "-f", path_str(&junk)], "cannot unpack the rootfs tarball"),
    ];
    for (args, why) in cases {
        let mut full = vec!["-n", name.as_str(), "-t", "local", "--"];
        full.extend(args);
        let o = lp.lxc("create", &full);
        assert_create_failed(&o, &lp, &name, why);
    }
    assert_clean(&before, &lp, &name);
}
