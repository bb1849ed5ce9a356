//! Shared harness for rlxc's integration tests: where the installed tools are, loud skips for
//! missing requirements, and guards that remove what a test made and check nothing was left.
//!
//! Conventions every integration test follows:
//! - tools are run from the install prefix (`make install PREFIX=target/prefix`, done by
//!   `make check`), found with [`tool`]; the prefix can be overridden with `RLXC_PREFIX`;
//! - a missing requirement calls [`skip`] (prints `SKIPPED: ...` and records it in
//!   `target/skipped.txt`); under CI (`CI=true`) a skip is a failure, because CI installs every
//!   requirement;
//! - every container lives in a private lxcpath made by [`Lxcpath::new`], whose `Drop` kills and
//!   destroys what is left; [`HostState`] snapshots cgroups, mounts, links and sockets to assert
//!   that nothing leaked.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root (where the workspace Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The install prefix the tests use.
pub fn prefix() -> PathBuf {
    std::env::var_os("RLXC_PREFIX").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target/prefix"))
}

/// Path of an installed tool, e.g. `tool("lxc-start")` or `tool("rlxc")`.
pub fn tool(name: &str) -> PathBuf {
    let p = prefix();
    if name == "init.lxc" {
        return p.join("sbin").join(name);
    }
    p.join("bin").join(name)
}

/// Whether we run under CI, where every requirement is installed and a skip is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false)
}

/// Report a missing requirement. Returns so the test can `return` after it. Panics under CI.
pub fn skip(test: &str, why: &str) {
    let line = format!("SKIPPED: {test}: {why}");
    eprintln!("\n*** {line} ***\n");
    if let Ok(mut f) = fs::OpenOptions::new().create(true).append(true).open(repo_root().join("target/skipped.txt")) {
        let _ = writeln!(f, "{line}");
    }
    assert!(!in_ci(), "{line} (CI must have every requirement)");
}

/// A test written for another host setup (pure cgroup2, AppArmor, kernel modules this host
/// lacks) that the VM leg of `make check` (`tests/vm/*.sh`) runs. Here it is reported loudly and
/// recorded as skipped, not failed, also under CI: CI has the requirement, in the VM.
pub fn runs_elsewhere(test: &str, why: &str) {
    let line = format!("SKIPPED here: {test}: {why} (runs in the VM leg of `make check`)");
    eprintln!("\n*** {line} ***\n");
    if let Ok(mut f) = fs::OpenOptions::new().create(true).append(true).open(repo_root().join("target/skipped.txt")) {
        let _ = writeln!(f, "{line}");
    }
}

/// True when running as root; otherwise records a skip.
pub fn require_root(test: &str) -> bool {
    // SAFETY-free check through /proc: the effective uid of this process.
    let euid = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2).unwrap_or("").to_string())
        })
        .unwrap_or_default();
    if euid != "0" {
        skip(test, "needs root");
        return false;
    }
    true
}

/// True when the rlxc tools are installed in [`prefix`]; otherwise records a skip.
pub fn require_tools(test: &str) -> bool {
    if !tool("rlxc").exists() {
        skip(
            test,
            &format!("rlxc is not installed in {} (run `make install PREFIX=target/prefix`)", prefix().display()),
        );
        return false;
    }
    true
}

/// True when a host program is on PATH; otherwise records a skip.
pub fn require_program(test: &str, program: &str) -> bool {
    let found =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file())).unwrap_or(false);
    if !found {
        skip(test, &format!("`{program}` is not installed"));
    }
    found
}

/// Run a command and capture its output; never panics on a failing command.
pub fn run(program: impl AsRef<Path>, args: &[&str]) -> Output {
    let program = program.as_ref();
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

/// Run a command, assert success, return stdout as text.
pub fn run_ok(program: impl AsRef<Path>, args: &[&str]) -> String {
    let program = program.as_ref();
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{} {:?} failed ({}):\nstdout: {}\nstderr: {}",
        program.display(),
        args,
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A private lxcpath for one test. On drop, every container in it is killed (with rlxc's
/// `lxc-stop -k`) and destroyed, and the directory is removed.
pub struct Lxcpath {
    pub path: PathBuf,
}

impl Lxcpath {
    /// Make `/tmp/rlxc-test-<tag>-<pid>`; short so command-socket names stay unhashed.
    pub fn new(tag: &str) -> Lxcpath {
        let path = PathBuf::from(format!("/tmp/rlxc-test-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
        Lxcpath { path }
    }

    /// `-P <path>` as a str.
    pub fn as_str(&self) -> &str {
        self.path.to_str().unwrap_or("/nonexistent")
    }

    /// Run `lxc-<tool> -P <path> ARGS...` from the prefix.
    pub fn lxc(&self, tool_name: &str, args: &[&str]) -> Output {
        let mut full = vec!["-P", self.as_str()];
        full.extend_from_slice(args);
        run(tool(&format!("lxc-{tool_name}")), &full)
    }

    /// Like [`Lxcpath::lxc`] but asserts success and returns stdout.
    pub fn lxc_ok(&self, tool_name: &str, args: &[&str]) -> String {
        let mut full = vec!["-P", self.as_str()];
        full.extend_from_slice(args);
        run_ok(tool(&format!("lxc-{tool_name}")), &full)
    }

    /// Names of the containers defined here.
    pub fn containers(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(&self.path)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().join("config").exists())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

impl Drop for Lxcpath {
    fn drop(&mut self) {
        for name in self.containers() {
            let _ = self.lxc("stop", &["-n", &name, "-k"]);
            let _ = self.lxc("destroy", &["-n", &name, "-f"]);
        }
        // A rootfs may still have mounts if a test failed midway: unmount below the path first.
        if let Ok(mi) = fs::read_to_string("/proc/self/mountinfo") {
            let mut mps: Vec<&str> = mi
                .lines()
                .filter_map(|l| l.split_whitespace().nth(4))
                .filter(|m| m.starts_with(self.as_str()))
                .collect();
            mps.sort_by_key(|m| std::cmp::Reverse(m.len()));
            for m in mps {
                let _ = Command::new("umount").args(["-l", m]).status();
            }
        }
        let _ = fs::remove_dir_all(&self.path);
        // The tools' on-disk locks live under /run/lxc/lock/<lxcpath>/.
        let locks = PathBuf::from("/run/lxc/lock").join(self.as_str().trim_start_matches('/'));
        let _ = fs::remove_dir_all(locks);
    }
}

/// What exists on the host that a container could leak: cgroups named `lxc.*`, mounts, network
/// links, abstract unix sockets, and processes whose title is an lxc monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostState {
    pub cgroups: BTreeSet<String>,
    pub mounts: BTreeSet<String>,
    pub links: BTreeSet<String>,
    pub sockets: BTreeSet<String>,
    pub monitors: BTreeSet<String>,
}

impl HostState {
    /// Snapshot what exists now, limited to things mentioning `needle` where that applies
    /// (mounts, sockets, monitors: use the test's lxcpath).
    pub fn capture(needle: &str) -> HostState {
        let mut cgroups = BTreeSet::new();
        collect_lxc_cgroups(Path::new("/sys/fs/cgroup"), 0, &mut cgroups);
        let mounts = fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().nth(4))
            .filter(|m| m.contains(needle))
            .map(str::to_string)
            .collect();
        let links = fs::read_dir("/sys/class/net")
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let sockets = fs::read_to_string("/proc/net/unix")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().nth(7))
            .filter(|s| s.contains(needle))
            .map(str::to_string)
            .collect();
        let mut monitors = BTreeSet::new();
        if let Ok(rd) = fs::read_dir("/proc") {
            for e in rd.filter_map(|e| e.ok()) {
                if let Ok(cmd) = fs::read(e.path().join("cmdline")) {
                    let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
                    if cmd.contains("[lxc monitor]") && cmd.contains(needle) {
                        monitors.insert(format!("{} {}", e.file_name().to_string_lossy(), cmd.trim()));
                    }
                }
            }
        }
        HostState { cgroups, mounts, links, sockets, monitors }
    }

    /// Panic with a readable diff when something exists now that did not before.
    pub fn assert_nothing_left(&self, needle: &str) {
        let now = HostState::capture(needle);
        let mut leaks = Vec::new();
        for (what, before, after) in [
            ("cgroup", &self.cgroups, &now.cgroups),
            ("mount", &self.mounts, &now.mounts),
            ("link", &self.links, &now.links),
            ("socket", &self.sockets, &now.sockets),
            ("monitor", &self.monitors, &now.monitors),
        ] {
            for x in after.difference(before) {
                leaks.push(format!("{what}: {x}"));
            }
        }
        assert!(leaks.is_empty(), "left behind:\n  {}", leaks.join("\n  "));
    }
}

fn collect_lxc_cgroups(dir: &Path, depth: usize, out: &mut BTreeSet<String>) {
    if depth > 6 {
        return;
    }
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.filter_map(|e| e.ok()) {
        let Ok(ft) = e.file_type() else { continue };
        if !ft.is_dir() {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        let p = e.path();
        if name.starts_with("lxc.") || name == "lxc" {
            out.insert(p.display().to_string());
        }
        collect_lxc_cgroups(&p, depth + 1, out);
    }
}

/// A network namespace made for a test (`ip netns add`), deleted on drop.
pub struct NetNs {
    pub name: String,
}

impl NetNs {
    pub fn new(tag: &str) -> NetNs {
        let name = format!("rlxct-{tag}-{}", std::process::id());
        run_ok("ip", &["netns", "add", &name]);
        run_ok("ip", &["-n", &name, "link", "set", "lo", "up"]);
        NetNs { name }
    }

    /// Run a command inside this namespace (`ip netns exec NAME ...`).
    pub fn exec(&self, args: &[&str]) -> Output {
        let mut full = vec!["netns", "exec", self.name.as_str()];
        full.extend_from_slice(args);
        run("ip", &full)
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "delete", &self.name]).status();
    }
}

/// Write a busybox container config into `<lxcpath>/<name>/config` with a rootfs made by
/// `../shared/tools/rootfs busybox`, network `empty`. Returns the container dir.
pub fn busybox_container(lxcpath: &Lxcpath, name: &str, extra_config: &str) -> PathBuf {
    let dir = lxcpath.path.join(name);
    let rootfs = dir.join("rootfs");
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    let tool = repo_root().join("../shared/tools/rootfs");
    run_ok(&tool, &["busybox", rootfs.to_str().unwrap_or("/nonexistent")]);
    let config = format!(
        "lxc.uts.name = {name}\nlxc.rootfs.path = dir:{}\nlxc.net.0.type = empty\nlxc.signal.halt = SIGUSR1\nlxc.signal.reboot = SIGTERM\n{extra_config}\n",
        rootfs.display()
    );
    fs::write(dir.join("config"), config).unwrap_or_else(|e| panic!("write config: {e}"));
    dir
}
