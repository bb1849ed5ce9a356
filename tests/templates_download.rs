//! `lxc-create -t download` against a real HTTP image server: `python3 -m http.server` serving an
//! LXC image tree (index, rootfs.tar.xz, meta.tar.xz and their `.asc` signatures made with a
//! throwaway GPG key), bound to 192.0.2.1 inside a network namespace the test makes; the
//! template runs in that namespace (`ip netns exec`). Covers --no-validate, a validated download
//! (the key taken from DOWNLOAD_GNUPGHOME: no keyserver), bad signatures, --list, unknown images,
//! the cache (--force-cache offline, --flush-cache), and a server that is down.

mod templates_common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use rlxc_suite::{run_ok, tool, HostState, Lxcpath, NetNs};
use templates_common::*;

const ADDR: &str = "192.0.2.1";
const PORT: &str = "8000";
const IMAGE_DIR: &str = "images/busybox/1.36/amd64/default/b1";

/// A throwaway GnuPG home with one signing key; its agent is stopped on drop.
struct Keyring {
    home: PathBuf,
    fingerprint: String,
}

impl Keyring {
    fn new(home: PathBuf) -> Keyring {
        std::fs::create_dir_all(&home).expect("mkdir gnupg home");
        std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).expect("chmod");
        let h = path_str(&home);
        run_ok(
            "gpg",
            &[
                "--homedir",
                h,
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                "rlxc test <t@example.invalid>",
                "ed25519",
                "sign",
                "never",
            ],
        );
        let out = run_ok("gpg", &["--homedir", h, "--batch", "--with-colons", "--list-keys"]);
        let fingerprint = out
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .expect("fingerprint of the new key")
            .to_string();
        Keyring { home, fingerprint }
    }

    fn sign(&self, file: &Path) {
        let asc = format!("{}.asc", file.display());
        run_ok(
            "gpg",
            &[
                "--homedir",
                path_str(&self.home),
                "--batch",
                "--yes",
                "--armor",
                "--detach-sign",
                "-o",
                &asc,
                path_str(file),
            ],
        );
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        // Key generation and signing started a gpg-agent for this home only.
        let _ = Command::new("gpgconf").args(["--homedir", path_str(&self.home), "--kill", "all"]).status();
    }
}

/// An image server tree under `root`, served by python's http.server inside `ns`. The server
/// (our child, killed by pid) stops on drop, before the namespace goes.
struct ImageServer {
    child: Option<Child>,
    root: PathBuf,
    ns: NetNs,
}

impl ImageServer {
    fn new(tag: &str, scratch: &Path, keys: Option<&Keyring>) -> ImageServer {
        let root = scratch.join("srv");
        let img_dir = root.join(IMAGE_DIR);
        std::fs::create_dir_all(&img_dir).expect("mkdir image dir");
        std::fs::create_dir_all(root.join("meta/1.0")).expect("mkdir meta/1.0");
        let img = Image::build(&scratch.join("image"), &Image::standard_meta());
        std::fs::copy(&img.rootfs, img_dir.join("rootfs.tar.xz")).expect("copy rootfs");
        std::fs::copy(&img.meta, img_dir.join("meta.tar.xz")).expect("copy meta");
        let index = root.join("meta/1.0/index-system");
        std::fs::write(
            &index,
            format!("busybox;1.36;amd64;default;b1;/{IMAGE_DIR}/\nother;1;amd64;default;x;/nowhere/\n"),
        )
        .expect("write index");
        if let Some(k) = keys {
            for f in [index, img_dir.join("rootfs.tar.xz"), img_dir.join("meta.tar.xz")] {
                k.sign(&f);
            }
        }
        let ns = NetNs::new(tag);
        run_ok("ip", &["-n", &ns.name, "addr", "add", &format!("{ADDR}/32"), "dev", "lo"]);
        let mut server = ImageServer { child: None, root, ns };
        server.start();
        server
    }

    fn start(&mut self) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.ns.name, "python3", "-u", "-m", "http.server", "-b", ADDR, "-d"])
            .arg(&self.root)
            .arg(PORT)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn python3 -m http.server");
        // It says "Serving HTTP on ..." once bound: from then on, requests are answered.
        let mut line = String::new();
        let stdout = child.stdout.take().expect("server stdout");
        BufReader::new(stdout).read_line(&mut line).expect("read server banner");
        assert!(line.contains("Serving HTTP"), "http.server did not start: {line:?}");
        self.child = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `lxc-create -P LP -n NAME -f net.conf -t download -- ARGS` inside the namespace.
    fn create(&self, lp: &Lxcpath, name: &str, envs: &[(&str, &str)], args: &[&str]) -> Output {
        let net = lp.path.join("net.conf");
        std::fs::write(&net, "lxc.net.0.type = empty\n").expect("write net.conf");
        let create = tool("lxc-create");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns.name])
            .arg(&create)
            .args(["-P", lp.as_str(), "-n", name, "-f", path_str(&net), "-t", "download", "--"])
            .args(args)
            .stdin(Stdio::null());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().expect("run lxc-create")
    }
}

impl Drop for ImageServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn setup(test: &str) -> bool {
    ready(test, &["tar", "xz", "wget", "gpg", "gpgconf", "python3", "ip"])
}

const SERVER: &str = "192.0.2.1:8000";
const URL: &str = "http://192.0.2.1:8000";

#[test]
fn download_without_validation_then_from_the_cache() {
    let t = "download_without_validation_then_from_the_cache";
    if !setup(t) {
        return;
    }
    let scratch = Scratch::new("dlnv");
    let mut srv = ImageServer::new("dlnv", &scratch.0, None);
    let cache = scratch.0.join("cache");
    let env = [("LXC_CACHE_PATH", path_str(&cache))];
    let lp = Lxcpath::new("tdlnv");
    let name = unique("tdlnv");
    let before = HostState::capture(lp.as_str());
    // A bare host:port: https is tried first, then http with a warning (as LXC).
    let o = srv.create(
        &lp,
        &name,
        &env,
        &["-d", "busybox", "-r", "1.36", "-a", "amd64", "--server", SERVER, "--no-validate"],
    );
    assert!(o.status.success(), "lxc-create -t download --no-validate: {}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("over http instead"), "http fallback warned: {}", show(&o));
    assert!(err.contains("without gpg validation"), "--no-validate warned: {}", show(&o));
    assert_image_applied(&lp, &name);
    let cached = cache.join("download/busybox/1.36/amd64/default");
    assert!(cached.join("rootfs.tar.xz").is_file(), "rootfs cached in {}", cached.display());
    assert_eq!(std::fs::read_to_string(cached.join("build_id")).expect("build_id").trim(), "b1");
    lifecycle(&lp, &name, &before);

    // The server goes away: --force-cache still creates from the cache.
    srv.stop();
    let name2 = unique("tdlnv2");
    let args = ["-d", "busybox", "-r", "1.36", "-a", "amd64", "--server", SERVER, "--no-validate", "--force-cache"];
    let o = srv.create(&lp, &name2, &env, &args);
    assert!(o.status.success(), "--force-cache offline: {}", show(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Using image from local cache"), "{}", show(&o));
    assert_image_applied(&lp, &name2);
    destroy_and_check(&lp, &name2, &before);

    // Server down and the cache flushed: a clear error and no container.
    let name3 = unique("tdlnv3");
    let args = ["-d", "busybox", "-r", "1.36", "-a", "amd64", "--server", URL, "--no-validate", "--flush-cache"];
    let o = srv.create(&lp, &name3, &env, &args);
    assert_create_failed(&o, &lp, &name3, "failed to download http://192.0.2.1:8000/meta/1.0/index-system");
    assert_clean(&before, &lp, &name3);
}

#[test]
fn download_validated_with_a_local_keyring() {
    let t = "download_validated_with_a_local_keyring";
    if !setup(t) {
        return;
    }
    let scratch = Scratch::new("dlgpg");
    let keys = Keyring::new(scratch.0.join("gnupg"));
    let other = Keyring::new(scratch.0.join("gnupg-other"));
    let srv = ImageServer::new("dlgpg", &scratch.0, Some(&keys));
    let cache = scratch.0.join("cache");
    let env = [("LXC_CACHE_PATH", path_str(&cache)), ("DOWNLOAD_GNUPGHOME", path_str(&keys.home))];
    let lp = Lxcpath::new("tdlgpg");
    let name = unique("tdlgpg");
    let before = HostState::capture(lp.as_str());
    let base = ["-d", "busybox", "-r", "1.36", "-a", "amd64", "--server", URL, "--flush-cache", "--keyid"];
    let with_key = |k: &str| -> Vec<String> { base.iter().map(|s| s.to_string()).chain([k.to_string()]).collect() };
    let args = with_key(&keys.fingerprint);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = srv.create(&lp, &name, &env, &argv);
    assert!(o.status.success(), "validated download: {}", show(&o));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("WARNING"), "no warning: {}", show(&o));
    assert_image_applied(&lp, &name);
    lifecycle(&lp, &name, &before);

    // The keyring does not hold the key asked for.
    let name2 = unique("tdlgpg2");
    let args = with_key(&other.fingerprint);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = srv.create(&lp, &name2, &env, &argv);
    assert_create_failed(&o, &lp, &name2, "has no key");

    // A rootfs signed by another key: refused, nothing created, and the cache keeps no copy.
    other.sign(&srv.root.join(IMAGE_DIR).join("rootfs.tar.xz"));
    let args = with_key(&keys.fingerprint);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = srv.create(&lp, &name2, &env, &argv);
    assert_create_failed(&o, &lp, &name2, "invalid signature for http://192.0.2.1:8000/images/busybox");
    assert!(!cache.join("download/busybox/1.36/amd64/default/rootfs.tar.xz").exists(), "no unverified rootfs cached");
    let leftovers: Vec<_> = std::fs::read_dir(cache.join("download/busybox/1.36/amd64"))
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "no partial download left in the cache: {leftovers:?}");
    assert_clean(&before, &lp, &name2);
}

#[test]
fn download_list_and_unknown_images() {
    let t = "download_list_and_unknown_images";
    if !setup(t) {
        return;
    }
    let scratch = Scratch::new("dlls");
    let srv = ImageServer::new("dlls", &scratch.0, None);
    let cache = scratch.0.join("cache");
    let env = [("LXC_CACHE_PATH", path_str(&cache))];
    let lp = Lxcpath::new("tdlls");
    let name = unique("tdlls");
    let before = HostState::capture(lp.as_str());

    // Through lxc-create a listing prints the table and fails, as LXC: no container is made.
    let o = srv.create(&lp, &name, &env, &["--list", "--server", URL, "--no-validate"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("DIST\tRELEASE\tARCH\tVARIANT\tBUILD"), "{}", show(&o));
    assert!(out.contains("busybox\t1.36\tamd64\tdefault\tb1"), "{}", show(&o));
    assert!(!o.status.success() && !lp.path.join(&name).exists(), "{}", show(&o));

    // Run directly (not through lxc-create), --list is a plain query that succeeds.
    let template = rlxc_suite::prefix().join("share/rlxc/templates/lxc-download");
    let o = srv.ns.exec(&[path_str(&template), "--list", "--server", URL, "--no-validate", "-d", "other"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", show(&o));
    assert!(out.contains("other\t1\tamd64\tdefault\tx") && !out.contains("busybox"), "-d filters: {}", show(&o));

    let o = srv.create(&lp, &name, &env, &["-d", "nosuch", "-r", "1", "-a", "amd64", "--server", URL, "--no-validate"]);
    assert_create_failed(&o, &lp, &name, "no image for dist 'nosuch' release '1'");
    // Without -d/-r/-a and no terminal to ask on.
    let o = srv.create(&lp, &name, &env, &["--server", URL, "--no-validate"]);
    assert_create_failed(&o, &lp, &name, "-d/--dist, -r/--release and -a/--arch are required");
    // Nothing answers at this address of the namespace.
    let o = srv.create(
        &lp,
        &name,
        &env,
        &["-d", "busybox", "-r", "1.36", "-a", "amd64", "--server", "http://192.0.2.9:1", "--no-validate"],
    );
    assert_create_failed(&o, &lp, &name, "failed to download");
    assert_clean(&before, &lp, &name);
}
