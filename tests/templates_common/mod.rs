//! Helpers shared by the template tests (`tests/templates_*.rs`): a real LXC image (rootfs and
//! metadata tarballs) built from the busybox rootfs, and a full lifecycle run of a container
//! made from it.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use rlxc_suite::{repo_root, require_program, require_root, require_tools, run_ok, HostState, Lxcpath};

/// stdout + stderr + exit code, for assertion messages.
pub fn show(o: &Output) -> String {
    format!(
        "rc={:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Root, installed tools and the given host programs, else a loud skip.
pub fn ready(test: &str, programs: &[&str]) -> bool {
    require_root(test) && require_tools(test) && programs.iter().all(|p| require_program(test, p))
}

/// A container name unique on this host (cgroup names are global).
pub fn unique(tag: &str) -> String {
    format!("{tag}-{}", std::process::id())
}

/// The image config every test image carries: busybox's init signals, autodev, the usual mounts.
pub const IMAGE_CONFIG: &str = "lxc.signal.halt = SIGUSR1\nlxc.signal.reboot = SIGTERM\nlxc.autodev = 1\n\
lxc.mount.auto = proc:mixed sys:ro cgroup:mixed\n";

/// A busybox image in `dir`: `rootfs.tar.xz` (the busybox rootfs, plus `/etc/hostname` holding
/// the `LXC_NAME` placeholder and `/etc/excluded` that the image's `excludes` leaves out) and
/// `meta.tar.xz` holding `meta` (name, content) files.
pub struct Image {
    pub dir: PathBuf,
    pub rootfs: PathBuf,
    pub meta: PathBuf,
}

impl Image {
    pub fn build(dir: &Path, meta: &[(&str, &str)]) -> Image {
        let tree = dir.join("tree");
        let _ = fs::remove_dir_all(&tree);
        run_ok(repo_root().join("../shared/tools/rootfs"), &["busybox", path_str(&tree)]);
        fs::write(tree.join("etc/hostname"), "LXC_NAME\n").expect("write hostname");
        fs::write(tree.join("etc/excluded"), "must not be unpacked\n").expect("write excluded");
        let rootfs = dir.join("rootfs.tar.xz");
        run_ok("tar", &["--numeric-owner", "-C", path_str(&tree), "-cJf", path_str(&rootfs), "."]);
        fs::remove_dir_all(&tree).expect("remove image tree");
        let mdir = dir.join("meta");
        let _ = fs::remove_dir_all(&mdir);
        fs::create_dir_all(&mdir).expect("mkdir meta");
        for (name, text) in meta {
            fs::write(mdir.join(name), text).expect("write meta file");
        }
        let meta = dir.join("meta.tar.xz");
        run_ok("tar", &["-C", path_str(&mdir), "-cJf", path_str(&meta), "."]);
        fs::remove_dir_all(&mdir).expect("remove meta tree");
        Image { dir: dir.to_path_buf(), rootfs, meta }
    }

    /// The usual metadata: config, excludes, templates, a create message.
    pub fn standard_meta() -> Vec<(&'static str, &'static str)> {
        vec![
            ("config", IMAGE_CONFIG),
            ("excludes", "./etc/excluded\n"),
            ("templates", "/etc/hostname\n"),
            ("create-message", "rlxc test image ready\n"),
        ]
    }
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// A `-f` config for lxc-create: no network but loopback (never a DHCP client on the host).
pub fn net_empty_conf(dir: &Path) -> PathBuf {
    let p = dir.join("net.conf");
    fs::write(&p, "lxc.net.0.type = empty\n").expect("write net.conf");
    p
}

/// What a container made from [`Image`] must look like after create: the image's config, the
/// placeholder filled in, the excluded file absent.
pub fn assert_image_applied(lp: &Lxcpath, name: &str) {
    let dir = lp.path.join(name);
    let config = fs::read_to_string(dir.join("config")).expect("read config");
    assert!(config.contains("lxc.signal.halt = SIGUSR1"), "image config appended:\n{config}");
    assert!(config.contains(&format!("lxc.uts.name = {name}")), "uts name set:\n{config}");
    assert!(config.contains("lxc.net.0.type = empty"), "the -f network kept:\n{config}");
    let hostname = fs::read_to_string(dir.join("rootfs/etc/hostname")).expect("read hostname");
    assert_eq!(hostname.trim(), name, "LXC_NAME substituted in the files named by `templates`");
    assert!(!dir.join("rootfs/etc/excluded").exists(), "`excludes` honoured");
    assert!(dir.join("rootfs/dev/pts").is_dir(), "dev/pts made");
}

/// start (daemonized), attach `true`, stop, destroy; then nothing of the container is left.
pub fn lifecycle(lp: &Lxcpath, name: &str, before: &HostState) {
    let o = lp.lxc("start", &["-n", name]);
    assert!(o.status.success(), "lxc-start: {}", show(&o));
    let o = lp.lxc("attach", &["-n", name, "--", "true"]);
    assert!(o.status.success(), "lxc-attach -- true: {}", show(&o));
    let o = lp.lxc("attach", &["-n", name, "--", "hostname"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), name, "hostname: {}", show(&o));
    let o = lp.lxc("stop", &["-n", name, "-t", "30"]);
    assert!(o.status.success(), "lxc-stop: {}", show(&o));
    destroy_and_check(lp, name, before);
}

/// Destroy, then assert that the container's directory and everything of it on the host is gone.
pub fn destroy_and_check(lp: &Lxcpath, name: &str, before: &HostState) {
    let o = lp.lxc("destroy", &["-n", name]);
    assert!(o.status.success(), "lxc-destroy: {}", show(&o));
    assert!(!lp.path.join(name).exists(), "container directory removed");
    assert_clean(before, lp, name);
}

/// Nothing of container `name` in `lp` is left: no cgroup named after it (host-wide cgroups of
/// other tests' containers are ignored), no mount under the lxcpath, socket or monitor.
pub fn assert_clean(before: &HostState, lp: &Lxcpath, name: &str) {
    let now = HostState::capture(lp.as_str());
    let mut leaks = Vec::new();
    for c in now.cgroups.difference(&before.cgroups) {
        if c.ends_with(&format!(".{name}")) || c.contains(&format!(".{name}/")) {
            leaks.push(format!("cgroup {c}"));
        }
    }
    for (what, b, a) in [
        ("mount", &before.mounts, &now.mounts),
        ("socket", &before.sockets, &now.sockets),
        ("monitor", &before.monitors, &now.monitors),
    ] {
        leaks.extend(a.difference(b).map(|x| format!("{what} {x}")));
    }
    assert!(leaks.is_empty(), "left behind by {name}:\n  {}", leaks.join("\n  "));
}

/// A failed `lxc-create` left no container directory behind and said `why` on stderr.
pub fn assert_create_failed(o: &Output, lp: &Lxcpath, name: &str, why: &str) {
    assert!(!o.status.success(), "lxc-create should fail: {}", show(o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(why), "expected {why:?} in the error: {}", show(o));
    assert!(!lp.path.join(name).exists(), "no half-created container left: {}", show(o));
}

/// A scratch directory removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let p = PathBuf::from(format!("/tmp/rlxc-tmpl-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("mkdir scratch");
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
