//! Unprivileged containers: a throwaway user (with subordinate ids, its own delegated v1
//! cgroups and, for networking, an `/etc/lxc/lxc-usernet` allowance) runs rlxc's tools as LXC's
//! `lxc-test-unpriv` / `lxc-test-usernic` do. The container's processes must run as the mapped
//! ids on the host, and nothing may be left afterwards: the [`TestUser`] guard removes the user,
//! its subuid/subgid, lxc-usernet and /run/lxc/nics lines, its home, cgroups and processes, also
//! when the test fails. Network tests run in a network namespace the test makes, with addresses
//! from 192.0.2.0/24.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rlxc_suite::*;

/// Ids the container gets: 10000 of them from here (far from Debian's 100000+ allocations and
/// from the 910000 range LXC's own tests use).
fn id_base() -> u32 {
    1_600_000 + (std::process::id() % 200) * 10_000
}

/// The v1 hierarchies a user can be given (cgroup2 needs delegation by a manager; as LXC's
/// tests, the user runs without it and rlxc skips it).
fn v1_hierarchies() -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir("/sys/fs/cgroup") else { return Vec::new() };
    let mut v: Vec<PathBuf> =
        rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.join("tasks").exists()).collect();
    v.sort();
    v
}

/// A user made for one test, removed with everything it owns on drop.
struct TestUser {
    name: String,
    uid: u32,
    gid: u32,
    home: PathBuf,
    base: u32,
    cgroups: Vec<PathBuf>,
    /// Network namespace the tools run in (None: the test's own).
    netns: Option<String>,
    /// Files that did not exist before (removed again when left empty).
    absent: Vec<&'static str>,
}

/// Files the test (or lxc-user-nic for it) may create.
const LINE_FILES: [&str; 2] = ["/etc/lxc/lxc-usernet", "/run/lxc/nics"];

fn drop_lines(file: &str, starts: &str) {
    if let Ok(t) = fs::read_to_string(file) {
        let kept: String = t.lines().filter(|l| !l.starts_with(starts)).map(|l| format!("{l}\n")).collect();
        if kept != t {
            let _ = fs::write(file, kept);
        }
    }
}

fn id_of(name: &str, flag: &str) -> u32 {
    run_ok("id", &[flag, name]).trim().parse().unwrap_or_else(|e| panic!("id {flag} {name}: {e}"))
}

impl TestUser {
    fn new(tag: &str) -> TestUser {
        let name = format!("rlxct{tag}{}", std::process::id() % 100_000);
        let home = PathBuf::from(format!("/tmp/rlxc-unpriv-{tag}-{}", std::process::id()));
        let base = id_base();
        let _ = run("userdel", &["-f", &name]);
        run_ok("useradd", &["-M", "-d", home.to_str().unwrap_or("/nonexistent"), "-s", "/bin/sh", &name]);
        let mut u = TestUser {
            uid: id_of(&name, "-u"),
            gid: id_of(&name, "-g"),
            name,
            home,
            base,
            cgroups: Vec::new(),
            netns: None,
            absent: LINE_FILES.into_iter().filter(|f| !Path::new(f).exists()).collect(),
        };
        // From here on the guard exists: a failure below still removes the user.
        let range = format!("{}-{}", base, base + 9999);
        run_ok("usermod", &["-v", &range, "-w", &range, &u.name]);
        let conf = u.home.join(".config/lxc");
        fs::create_dir_all(&conf).unwrap_or_else(|e| panic!("mkdir {}: {e}", conf.display()));
        fs::write(
            conf.join("default.conf"),
            format!("lxc.net.0.type = empty\nlxc.idmap = u 0 {base} 10000\nlxc.idmap = g 0 {base} 10000\n"),
        )
        .unwrap_or_else(|e| panic!("write default.conf: {e}"));
        fs::create_dir_all(u.home.join("run")).unwrap_or_else(|e| panic!("mkdir run: {e}"));
        run_ok("chown", &["-R", &format!("{}:{}", u.uid, u.gid), u.home.to_str().unwrap_or("/nonexistent")]);
        run_ok("chmod", &["0755", u.home.to_str().unwrap_or("/nonexistent")]);
        for h in v1_hierarchies() {
            let d = h.join(&u.name);
            if fs::create_dir(&d).is_ok() {
                // cpuset cgroups take tasks only with cpus and mems set (as clone_children does).
                for f in ["cpuset.cpus", "cpuset.mems"] {
                    if let Ok(v) = fs::read_to_string(h.join(f)) {
                        let _ = fs::write(d.join(f), v.trim());
                    }
                }
                u.cgroups.push(d.clone());
                run_ok("chown", &["-R", &format!("{}:{}", u.uid, u.gid), d.to_str().unwrap_or("/nonexistent")]);
            }
        }
        u
    }

    fn lxcpath(&self) -> PathBuf {
        self.home.join(".local/share/lxc")
    }

    /// Run `args` as the user (ids and its groups set with setpriv, no PAM session), first
    /// moving itself into the user's cgroups, with LXC's user environment (HOME,
    /// XDG_RUNTIME_DIR) and rlxc's tools first on PATH.
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net=/run/netns/{ns}")).arg("setpriv");
                c
            }
            None => Command::new("setpriv"),
        };
        let tasks: Vec<String> = self.cgroups.iter().map(|d| d.join("tasks").to_string_lossy().into_owned()).collect();
        let script = "for t in $RLXC_TASKS; do echo $$ > \"$t\"; done; exec \"$@\"";
        cmd.args(["--reuid", &self.uid.to_string(), "--regid", &self.gid.to_string(), "--init-groups", "--"])
            .args(["sh", "-c", script, "sh"])
            .args(args)
            .env_clear()
            .env("HOME", &self.home)
            .env("USER", &self.name)
            .env("LOGNAME", &self.name)
            .env("XDG_RUNTIME_DIR", self.home.join("run"))
            .env("RLXC_TASKS", tasks.join(" "))
            .env("PATH", format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", prefix().join("bin").display()))
            .current_dir("/")
            .stdin(Stdio::null());
        cmd.output().unwrap_or_else(|e| panic!("run {args:?} as {}: {e}", self.name))
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{args:?} as {} failed ({}):\nstdout: {}\nstderr: {}",
            self.name,
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// [`TestUser::pids`] once the processes that are on their way out (a monitor exits right
    /// after it reported STOPPED) are gone: waits for them, bounded, and describes the rest.
    fn lingering(&self) -> Vec<String> {
        for _ in 0..250 {
            if self.pids().is_empty() {
                return Vec::new();
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.pids()
            .iter()
            .map(|p| {
                let cmd = fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
                format!("{p} {}", String::from_utf8_lossy(&cmd).replace('\0', " "))
            })
            .collect()
    }

    /// Host pids of processes running as the user or as one of its mapped ids.
    fn pids(&self) -> Vec<i32> {
        let mut v = Vec::new();
        let Ok(rd) = fs::read_dir("/proc") else { return v };
        for e in rd.filter_map(|e| e.ok()) {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
            let Ok(md) = fs::metadata(e.path()) else { continue };
            if md.uid() == self.uid || (self.base..self.base + 10_000).contains(&md.uid()) {
                v.push(pid);
            }
        }
        v
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        // Containers first, through the tools (monitors clean their cgroups up) ...
        for name in fs::read_dir(self.lxcpath())
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_else(|_| Vec::<String>::new())
        {
            let _ = self.run(&["lxc-stop", "-n", &name, "-k"]);
        }
        // ... then whatever still runs as the user or its ids: all started by this test.
        for _ in 0..50 {
            let pids = self.pids();
            if pids.is_empty() {
                break;
            }
            for p in pids {
                let _ = Command::new("kill").args(["-9", &p.to_string()]).status();
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        for d in &self.cgroups {
            let _ = Command::new("find").arg(d).args(["-depth", "-type", "d", "-exec", "rmdir", "{}", ";"]).status();
        }
        let _ = Command::new("userdel").args(["-f", &self.name]).status();
        drop_lines("/etc/subuid", &format!("{}:", self.name));
        drop_lines("/etc/subgid", &format!("{}:", self.name));
        drop_lines("/etc/lxc/lxc-usernet", &format!("{} ", self.name));
        drop_lines("/run/lxc/nics", &format!("{} ", self.name));
        for f in &self.absent {
            if fs::metadata(f).is_ok_and(|m| m.len() == 0) {
                let _ = fs::remove_file(f);
            }
        }
        let _ = Command::new("rm").args(["-rf", "--one-file-system"]).arg(&self.home).status();
    }
}

fn requirements(test: &str) -> bool {
    if !require_root(test) || !require_tools(test) {
        return false;
    }
    for p in ["newuidmap", "newgidmap", "setpriv", "useradd", "usermod", "nsenter"] {
        if !require_program(test, p) {
            return false;
        }
    }
    if v1_hierarchies().is_empty() {
        runs_elsewhere(test, "no v1 cgroup hierarchy to delegate to a user (a pure cgroup2 host needs a manager)");
        return false;
    }
    true
}

fn status_ids(pid: &str, field: &str) -> Vec<u32> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .map(|l| l.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_default()
}

fn cgroup_dirs_named(dirs: &[PathBuf], leaf: &str) -> Vec<PathBuf> {
    dirs.iter().map(|d| d.join(leaf)).filter(|p| p.is_dir()).collect()
}

#[test]
fn user_creates_starts_attaches_snapshots_and_destroys() {
    let t = "user_creates_starts_attaches_snapshots_and_destroys";
    if !requirements(t) {
        return;
    }
    let before = HostState::capture("rlxc-unpriv-");
    {
        let u = TestUser::new("a");
        let lp = u.lxcpath();
        u.ok(&["lxc-create", "-t", "busybox", "-n", "c1"]);
        // The template ran in a user namespace: the rootfs belongs to the container's root.
        let rootfs = lp.join("c1/rootfs");
        let md = fs::metadata(&rootfs).unwrap_or_else(|e| panic!("stat {}: {e}", rootfs.display()));
        assert_eq!((md.uid(), md.gid()), (u.base, u.base), "rootfs owner");
        let config = fs::read_to_string(lp.join("c1/config")).unwrap_or_default();
        assert!(config.contains(&format!("lxc.idmap = u 0 {} 10000", u.base)), "default.conf not applied:\n{config}");

        for round in 0..2 {
            u.ok(&["lxc-start", "-n", "c1", "-d"]);
            let pid = u.ok(&["lxc-info", "-n", "c1", "-p", "-H"]).trim().to_string();
            assert!(pid.parse::<i32>().is_ok_and(|p| p > 0), "round {round}: no init pid: {pid:?}");
            // init runs as the mapped root on the host, its monitor as the user.
            assert_eq!(status_ids(&pid, "Uid:"), vec![u.base; 4], "round {round}: init's host uids");
            assert_eq!(status_ids(&pid, "Gid:"), vec![u.base; 4], "round {round}: init's host gids");
            let state = u.ok(&["lxc-info", "-n", "c1", "-s", "-H"]);
            assert_eq!(state.trim(), "RUNNING");
            // payload cgroups below the user's own, delegated to the container's root group.
            let payload = cgroup_dirs_named(&u.cgroups, "lxc.payload.c1");
            assert!(!payload.is_empty(), "no payload cgroup below the user's cgroups");
            for p in &payload {
                let m = fs::metadata(p).unwrap_or_else(|e| panic!("stat {}: {e}", p.display()));
                assert_eq!((m.uid(), m.gid()), (u.uid, u.base), "{} owner", p.display());
            }
            u.ok(&["lxc-attach", "-n", "c1", "--", "/bin/true"]);
            let inside =
                u.ok(&["lxc-attach", "-n", "c1", "--", "/bin/sh", "-c", "id -u; id -G; cat /proc/self/uid_map"]);
            let mut l = inside.lines();
            assert_eq!(l.next(), Some("0"), "attach runs as the container's root:\n{inside}");
            assert_eq!(l.next(), Some("0"), "the user's supplementary groups were kept:\n{inside}");
            let map: Vec<&str> = l.next().unwrap_or("").split_whitespace().collect();
            assert_eq!(map, vec!["0", &u.base.to_string(), "10000"], "uid_map inside:\n{inside}");
            u.ok(&["lxc-stop", "-n", "c1", "-k"]);
            assert!(cgroup_dirs_named(&u.cgroups, "lxc.payload.c1").is_empty(), "payload cgroup left after stop");
            assert!(cgroup_dirs_named(&u.cgroups, "lxc.monitor.c1").is_empty(), "monitor cgroup left after stop");
        }

        // Overlay snapshot clone, as lxc-test-unpriv does.
        u.ok(&["lxc-copy", "-s", "-n", "c1", "-N", "c2"]);
        u.ok(&["lxc-start", "-n", "c2", "-d"]);
        let hn = u.ok(&["lxc-attach", "-n", "c2", "--", "/bin/cat", "/etc/hostname"]);
        assert_eq!(hn.trim(), "c2");
        let orig = fs::read_to_string(rootfs.join("etc/hostname")).unwrap_or_default();
        assert_eq!(orig.trim(), "c1", "the snapshot wrote through to its origin");
        u.ok(&["lxc-stop", "-n", "c2", "-k"]);
        // A full copy (the container's root copies the directory), owned by the mapped ids.
        u.ok(&["lxc-copy", "-n", "c1", "-N", "c3"]);
        let m = fs::metadata(lp.join("c3/rootfs/bin/busybox")).unwrap_or_else(|e| panic!("stat copied busybox: {e}"));
        assert_eq!(m.uid(), u.base, "copied rootfs owner");
        u.ok(&["lxc-start", "-n", "c3", "-d"]);
        let hn = u.ok(&["lxc-attach", "-n", "c3", "--", "/bin/cat", "/etc/hostname"]);
        assert_eq!(hn.trim(), "c3");
        u.ok(&["lxc-stop", "-n", "c3", "-k"]);
        u.ok(&["lxc-destroy", "-n", "c3"]);
        // Block-device backends need mounting: refused with a clear error, nothing left.
        let o = u.run(&["lxc-copy", "-n", "c1", "-N", "c4", "-B", "loop"]);
        assert!(!o.status.success(), "a user made a loop clone");
        assert!(!lp.join("c4").exists(), "a refused clone left its directory");
        // The origin cannot go while its snapshot exists.
        assert!(!u.run(&["lxc-destroy", "-n", "c1"]).status.success());
        u.ok(&["lxc-destroy", "-n", "c2"]);
        u.ok(&["lxc-destroy", "-n", "c1"]);
        let left: Vec<_> =
            fs::read_dir(&lp).map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect()).unwrap_or_default();
        assert!(left.is_empty(), "left in the lxcpath: {left:?}");
        let left = u.lingering();
        assert!(left.is_empty(), "processes of the user or its ids left: {left:?}");
    }
    before.assert_nothing_left("rlxc-unpriv-");
}

#[test]
fn user_without_subuids_or_idmap_gets_a_clear_error() {
    let t = "user_without_subuids_or_idmap_gets_a_clear_error";
    if !requirements(t) {
        return;
    }
    let before = HostState::capture("rlxc-unpriv-");
    {
        let u = TestUser::new("b");
        // Maps outside the user's subordinate range: newuidmap refuses, nothing is left.
        let dir = u.lxcpath().join("c3");
        fs::create_dir_all(dir.join("rootfs")).unwrap_or_else(|e| panic!("{e}"));
        fs::write(
            dir.join("config"),
            format!(
                "lxc.rootfs.path = dir:{}/rootfs\nlxc.net.0.type = empty\n\
                 lxc.idmap = u 0 5000000 10000\nlxc.idmap = g 0 5000000 10000\n",
                dir.display()
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        run_ok("chown", &["-R", &format!("{}:{}", u.uid, u.gid), u.home.to_str().unwrap_or("/nonexistent")]);
        let o = u.run(&["lxc-start", "-n", "c3", "-F", "--", "/bin/true"]);
        assert!(!o.status.success(), "start with foreign ids succeeded");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("idmap") || err.contains("newuidmap"), "unclear error:\n{err}");
        assert!(cgroup_dirs_named(&u.cgroups, "lxc.payload.c3").is_empty());
        assert!(cgroup_dirs_named(&u.cgroups, "lxc.monitor.c3").is_empty());
    }
    before.assert_nothing_left("rlxc-unpriv-");
}

/// lxc-user-nic as LXC's lxc-test-usernic drives it, and the start path using it.
#[test]
fn user_nic_quota_and_veth_start() {
    let t = "user_nic_quota_and_veth_start";
    if !requirements(t) {
        return;
    }
    let helper = prefix().join("libexec/rlxc/lxc-user-nic");
    match fs::metadata(&helper) {
        Ok(m) if m.uid() == 0 && m.mode() & 0o4000 != 0 => {}
        _ => {
            skip(t, &format!("{} is not installed setuid root (make install)", helper.display()));
            return;
        }
    }
    let ns = NetNs::new("unic");
    run_ok("ip", &["-n", &ns.name, "link", "add", "ubr0", "type", "bridge"]);
    run_ok("ip", &["-n", &ns.name, "addr", "add", "192.0.2.1/24", "dev", "ubr0"]);
    run_ok("ip", &["-n", &ns.name, "link", "set", "ubr0", "up"]);
    let before = HostState::capture("rlxc-unpriv-");
    {
        let mut u = TestUser::new("n");
        u.netns = Some(ns.name.clone());
        let lp = u.lxcpath();
        let lps = lp.to_string_lossy().into_owned();
        let h = helper.to_string_lossy().into_owned();
        u.ok(&["lxc-create", "-t", "busybox", "-n", "b1"]);
        u.ok(&["lxc-start", "-n", "b1", "-d"]);
        let p1 = u.ok(&["lxc-info", "-n", "b1", "-p", "-H"]).trim().to_string();
        // No allowance yet.
        assert!(!u.run(&[&h, "create", &lps, "b1", &p1, "veth", "ubr0", "xx1"]).status.success());
        fs::create_dir_all("/etc/lxc").unwrap_or_else(|e| panic!("{e}"));
        let mut usernet = fs::read_to_string("/etc/lxc/lxc-usernet").unwrap_or_default();
        usernet.push_str(&format!("{} veth ubr0 2\n", u.name));
        fs::write("/etc/lxc/lxc-usernet", usernet).unwrap_or_else(|e| panic!("write lxc-usernet: {e}"));
        // Wrong bridge, hostile names.
        for args in [
            ["veth", "other0", "xx1"],
            ["veth", "../ubr0", "xx1"],
            ["veth", "ubr0", "../../x"],
            ["macvlan", "ubr0", "xx1"],
        ] {
            let o = u.run(&[&h, "create", &lps, "b1", &p1, args[0], args[1], args[2]]);
            assert!(!o.status.success(), "{args:?} accepted");
        }
        // Two allowed, the third refused.
        for n in ["xx2", "xx3"] {
            let out = u.ok(&[&h, "create", &lps, "b1", &p1, "veth", "ubr0", n]);
            let f: Vec<&str> = out.trim().split(':').collect();
            assert_eq!(f.len(), 4, "output {out:?}");
            assert_eq!(f[0], n);
            assert!(f[2].starts_with(&format!("veth{}_", u.uid)), "host name {}", f[2]);
        }
        assert!(!u.run(&[&h, "create", &lps, "b1", &p1, "veth", "ubr0", "xx4"]).status.success());
        let inside = u.ok(&["lxc-attach", "-n", "b1", "--", "/bin/cat", "/proc/net/dev"]);
        assert!(inside.contains("xx2:") && inside.contains("xx3:"), "{inside}");
        // A restart frees the slots (the devices died with the namespace).
        u.ok(&["lxc-stop", "-n", "b1", "-k"]);
        u.ok(&["lxc-start", "-n", "b1", "-d"]);
        let p1 = u.ok(&["lxc-info", "-n", "b1", "-p", "-H"]).trim().to_string();
        u.ok(&[&h, "create", &lps, "b1", &p1, "veth", "ubr0", "xx5"]);
        u.ok(&["lxc-stop", "-n", "b1", "-k"]);
        // A namespace the user does not own (a root process's) is refused.
        let mut sleeper = Command::new("nsenter")
            .args([&format!("--net=/run/netns/{}", ns.name), "unshare", "-n", "sleep", "60"])
            .spawn()
            .unwrap_or_else(|e| panic!("spawn sleeper: {e}"));
        std::thread::sleep(std::time::Duration::from_millis(300));
        let sp = sleeper.id().to_string();
        let o = u.run(&[&h, "create", &lps, "b1", &sp, "veth", "ubr0", "xx6"]);
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        assert!(!o.status.success(), "a root-owned namespace was accepted");

        // The start path: a veth on the bridge, configured inside, reachable.
        let cfg = lp.join("b1/config");
        let mut text = fs::read_to_string(&cfg).unwrap_or_default();
        text = text.replace("lxc.net.0.type = empty", "");
        text.push_str("lxc.net.0.type = veth\nlxc.net.0.link = ubr0\nlxc.net.0.flags = up\nlxc.net.0.name = eth0\n");
        text.push_str("lxc.net.0.ipv4.address = 192.0.2.2/24\n");
        fs::write(&cfg, text).unwrap_or_else(|e| panic!("{e}"));
        u.ok(&["lxc-start", "-n", "b1", "-d"]);
        u.ok(&["lxc-attach", "-n", "b1", "--", "/bin/ping", "-c", "1", "-W", "5", "192.0.2.1"]);
        let ips = u.ok(&["lxc-info", "-n", "b1", "-i", "-H"]);
        assert!(ips.lines().any(|l| l.trim() == "192.0.2.2"), "lxc-info -i as the user: {ips:?}");
        let stats = u.ok(&["lxc-info", "-n", "b1", "-S"]);
        let link = format!("veth{}_", u.uid);
        assert!(stats.lines().any(|l| l.starts_with("Link:") && l.contains(&link)), "lxc-info -S:\n{stats}");
        let nics = fs::read_to_string("/run/lxc/nics").unwrap_or_default();
        assert!(nics.lines().any(|l| l.starts_with(&format!("{} veth ubr0 veth", u.name))), "{nics}");
        u.ok(&["lxc-stop", "-n", "b1", "-k"]);
        u.ok(&["lxc-destroy", "-n", "b1"]);
        let left = u.lingering();
        assert!(left.is_empty(), "processes of the user or its ids left: {left:?}");
        let links = run_ok("ip", &["-n", &ns.name, "-o", "link"]);
        assert!(!links.contains(&format!("veth{}_", u.uid)), "host veth left:\n{links}");
    }
    before.assert_nothing_left("rlxc-unpriv-");
    let usernet = fs::read_to_string("/etc/lxc/lxc-usernet").unwrap_or_default();
    assert!(!usernet.contains("rlxctn"), "lxc-usernet line left");
    assert!(!Path::new(&format!("/tmp/rlxc-unpriv-n-{}", std::process::id())).exists());
}
