//! A start that fails at any step exits non-zero with the reason and leaves nothing behind: no
//! process, mount, cgroup, socket or monitor. One test per failure kind, each comparing what
//! exists before and after.

mod lifecycle_common;

use lifecycle_common::*;
use rlxc_suite::{busybox_container, HostState, Lxcpath};

/// Start `name` with `extra` config; assert failure with `reason` in stderr and a clean host.
fn fails_cleanly(test: &str, tag: &str, extra: &str, reason: &str, daemon: bool) {
    if !ready(test) {
        return;
    }
    let lp = Lxcpath::new(tag);
    let name = unique(tag);
    let dir = busybox_container(&lp, &name, extra);
    if tag == "lfnoroot" {
        std::fs::remove_dir_all(dir.join("rootfs")).expect("remove rootfs");
    }
    let before = HostState::capture(lp.as_str());
    let args: Vec<&str> = if daemon { vec!["-n", &name] } else { vec!["-n", &name, "-F"] };
    let o = lp.lxc("start", &args);
    assert!(!o.status.success(), "start should fail: {}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(reason), "expected {reason:?} in the error: {}", show(&o));
    assert_eq!(state(&lp, &name), "STOPPED");
    assert_clean(&before, &lp, &name);
}

#[test]
fn missing_init_names_the_command() {
    fails_cleanly(
        "missing_init_names_the_command",
        "lfinit",
        "lxc.init.cmd = /sbin/nope",
        "lxc.init.cmd \"/sbin/nope\" not found in rootfs",
        true,
    );
}

#[test]
fn bad_mount_entry_names_the_entry() {
    fails_cleanly(
        "bad_mount_entry_names_the_entry",
        "lfmount",
        "lxc.mount.entry = /nonexistent-rlxc-source mnt none bind 0 0",
        "lxc.mount.entry \"/nonexistent-rlxc-source mnt none bind 0 0\"",
        true,
    );
}

#[test]
fn failing_pre_start_hook_aborts_the_start() {
    fails_cleanly(
        "failing_pre_start_hook_aborts_the_start",
        "lfhook",
        "lxc.hook.pre-start = /bin/sh -c 'echo nope >&2; exit 4'",
        "lxc.hook.pre-start",
        true,
    );
}

#[test]
fn missing_rootfs_is_reported() {
    fails_cleanly("missing_rootfs_is_reported", "lfnoroot", "", "does not exist", true);
}

#[test]
fn failing_start_hook_in_the_foreground() {
    fails_cleanly(
        "failing_start_hook_in_the_foreground",
        "lfstarthook",
        "lxc.hook.start = /bin/false",
        "lxc.hook.start",
        false,
    );
}

#[test]
fn missing_rootfs_mount_point_is_reported() {
    fails_cleanly(
        "missing_rootfs_mount_point_is_reported",
        "lfrmount",
        "lxc.rootfs.mount = /nonexistent-rlxc-mount",
        "lxc.rootfs.mount",
        true,
    );
}

/// A regular file as the rootfs names lxc.rootfs.path, not the unset lxc.rootfs.mount (R6).
#[test]
fn rootfs_that_is_a_file_names_the_rootfs_key() {
    fails_cleanly(
        "rootfs_that_is_a_file_names_the_rootfs_key",
        "lfrfile",
        "lxc.rootfs.path = dir:/etc/hostname",
        "lxc.rootfs.path: \"/etc/hostname\" is not a directory",
        true,
    );
}

#[test]
fn network_failure_on_the_host_side_leaves_no_link() {
    fails_cleanly(
        "network_failure_on_the_host_side_leaves_no_link",
        "lfnet",
        "lxc.net.0.type = veth\nlxc.net.0.link = rlxcnobr0",
        "rlxcnobr0",
        true,
    );
}

#[test]
fn bad_cgroup_limit_is_reported() {
    fails_cleanly(
        "bad_cgroup_limit_is_reported",
        "lfcg",
        "lxc.cgroup.memory.limit_in_bytes = not-a-number",
        "memory.limit_in_bytes",
        true,
    );
}
