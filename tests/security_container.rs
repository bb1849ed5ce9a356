//! Confinement of real busybox containers started with rlxc's tools (spec §5.8, §9): Debian's
//! common.conf (seccomp denials, dropped capabilities), no_new_privs, capability keep/drop
//! rules, session keyrings, custom seccomp policies with errno/notify actions and the notify
//! proxy, limits (prlimit, sysctl, proc), what attached processes inherit, and the
//! CVE-2019-5736 class of attack on the host binary through /proc/<pid>/exe.
//!
//! A small static C probe (source below, built with `cc -static`) is copied into each rootfs to
//! make the syscalls busybox can't.

use rlxc_suite::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const PROBE_C: &str = include_str!("probes/security_probe.c");

const COMMON_CONF: &str = "/usr/share/lxc/config/common.conf";

/// Build the probe once per test binary; None (after a loud skip) when no static C toolchain.
fn probe_binary(test: &str) -> Option<PathBuf> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let dir = repo_root().join("target/security-probe");
        std::fs::create_dir_all(&dir).ok()?;
        let src = dir.join("probe.c");
        std::fs::write(&src, PROBE_C).ok()?;
        let bin = dir.join("probe");
        match std::process::Command::new("cc").args(["-static", "-O1", "-o"]).arg(&bin).arg(&src).output() {
            Ok(out) if out.status.success() => Some(bin),
            Ok(out) => {
                eprintln!("cc -static failed: {}", String::from_utf8_lossy(&out.stderr));
                None
            }
            // No compiler (the test VM): use the probe the host built from this same source
            // (tests/vm/selinux.sh builds it before booting the VM).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && bin.exists() => {
                eprintln!("no cc here: using the probe built earlier, {}", bin.display());
                Some(bin)
            }
            Err(e) => {
                eprintln!("cannot run cc: {e}");
                None
            }
        }
    });
    if built.is_none() {
        skip(test, "cannot build the static probe (needs cc and libc.a: apt-get install build-essential)");
    }
    built.clone()
}

fn ready(test: &str) -> Option<PathBuf> {
    if !require_root(test) || !require_tools(test) {
        return None;
    }
    probe_binary(test)
}

/// A container whose init runs `script`, then sleeps; the probe is at `/probe`.
fn container(lp: &Lxcpath, name: &str, probe: &Path, script: &str, extra: &str) -> PathBuf {
    let dir = busybox_container(
        lp,
        name,
        &format!("lxc.init.cmd = /bin/sh /test.sh\nlxc.mount.auto = proc:mixed sys:mixed\n{extra}"),
    );
    let rootfs = dir.join("rootfs");
    std::fs::copy(probe, rootfs.join("probe")).unwrap();
    std::fs::write(rootfs.join("test.sh"), format!("{script}\necho done >> /result\nexec sleep 1000\n")).unwrap();
    rootfs
}

/// A container name unique to this test process: cgroup names (`lxc.payload.NAME`) are global,
/// so names must not collide with other tests' containers running at the same time.
fn uniq(tag: &str) -> String {
    format!("{tag}{}", std::process::id())
}

/// Like `HostState::assert_nothing_left`, but only for what these containers could leave: other
/// suites run containers at the same time, so unrelated cgroups and links come and go.
fn assert_clean(before: &HostState, lp: &Lxcpath, names: &[&str]) {
    let now = HostState::capture(lp.as_str());
    let mut leaks: Vec<String> = now
        .cgroups
        .difference(&before.cgroups)
        .filter(|c| {
            names.iter().any(|n| {
                c.ends_with(&format!(".{n}")) || c.contains(&format!(".{n}/")) || c.contains(&format!(".{n}-"))
            })
        })
        .map(|c| format!("cgroup: {c}"))
        .collect();
    for (what, b, a) in [
        ("mount", &before.mounts, &now.mounts),
        ("socket", &before.sockets, &now.sockets),
        ("monitor", &before.monitors, &now.monitors),
    ] {
        leaks.extend(a.difference(b).map(|x| format!("{what}: {x}")));
    }
    assert!(leaks.is_empty(), "left behind:\n  {}", leaks.join("\n  "));
}

fn log_path(lp: &Lxcpath, name: &str) -> String {
    format!("{}/{name}.log", lp.as_str())
}

fn start(lp: &Lxcpath, name: &str) {
    let out = lp.lxc("start", &["-n", name, "-l", "debug", "-o", &log_path(lp, name)]);
    if !out.status.success() {
        let log = std::fs::read_to_string(log_path(lp, name)).unwrap_or_default();
        panic!("lxc-start {name} failed: {}\nlog:\n{log}", String::from_utf8_lossy(&out.stderr));
    }
    lp.lxc_ok("wait", &["-n", name, "-s", "RUNNING", "-t", "30"]);
}

/// Wait for the script's `done` line and return `/result`.
fn result(rootfs: &Path) -> String {
    wait_file(&rootfs.join("result"), "done")
}

fn wait_file(path: &Path, marker: &str) -> String {
    for _ in 0..600 {
        let r = std::fs::read_to_string(path).unwrap_or_default();
        if r.lines().any(|l| l.starts_with(marker)) {
            return r;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{} never got a {marker:?} line: {:?}", path.display(), std::fs::read_to_string(path));
}

fn value<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines().find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(['=', ':']))).map(str::trim).unwrap_or("")
}

fn cap_mask(text: &str, field: &str) -> u64 {
    u64::from_str_radix(value(text, field), 16).unwrap_or_else(|_| panic!("no {field} in {text}"))
}

fn stop(lp: &Lxcpath, name: &str) {
    lp.lxc_ok("stop", &["-n", name, "-k"]);
}

fn host_keyring(probe: &Path) -> String {
    let out = run_ok(probe, &["keyring"]);
    value(&out, "keyring").to_string()
}

/// Capability numbers (linux/capability.h).
const CAP_SYS_MODULE: u32 = 16;
const CAP_SYS_RAWIO: u32 = 17;
const CAP_SYS_ADMIN: u32 = 21;
const CAP_SYS_BOOT: u32 = 22;
const CAP_SYS_TIME: u32 = 25;
const CAP_MAC_OVERRIDE: u32 = 32;
const CAP_MAC_ADMIN: u32 = 33;

#[test]
fn debian_common_conf_confines_init() {
    let t = "debian_common_conf_confines_init";
    let Some(probe) = ready(t) else { return };
    if !Path::new(COMMON_CONF).exists() {
        return skip(t, "Debian's lxc common.conf is not installed (apt-get install lxc)");
    }
    let lp = Lxcpath::new("seccc");
    let before = HostState::capture(lp.as_str());
    let n_cc = uniq("cc");
    let rootfs = container(
        &lp,
        &n_cc,
        &probe,
        "/probe in-container > /result 2>&1\ngrep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/1/status >> /result\n/probe keyring >> /result",
        &format!("lxc.include = {COMMON_CONF}\nlxc.cap.drop = sys_boot\nlxc.no_new_privs = 1\n"),
    );
    start(&lp, &n_cc);
    let r = result(&rootfs);
    for sys in ["kexec_load", "open_by_handle_at", "init_module", "finit_module", "delete_module"] {
        assert_eq!(value(&r, sys), "1", "{sys} must fail with EPERM (common.seccomp errno 1):\n{r}");
    }
    assert_eq!(value(&r, "umount2_force"), "13", "reject_force_umount: umount2(MNT_FORCE) → EACCES:\n{r}");
    assert_eq!(value(&r, "reboot_cad_on"), "1", "reboot without CAP_SYS_BOOT → EPERM:\n{r}");
    let bnd = cap_mask(&r, "CapBnd");
    for cap in [CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_MAC_OVERRIDE, CAP_MAC_ADMIN, CAP_SYS_BOOT] {
        assert_eq!(bnd & (1 << cap), 0, "capability {cap} must be absent from /proc/1/status CapBnd {bnd:#x}");
        assert_eq!(cap_mask(&r, "CapEff") & (1 << cap), 0, "capability {cap} must be absent from CapEff:\n{r}");
    }
    assert_ne!(bnd & (1 << CAP_SYS_ADMIN), 0, "common.conf keeps sys_admin");
    assert_eq!(cap_mask(&r, "CapInh"), 0, "the ambient dance leaves nothing inheritable:\n{r}");
    assert_eq!(cap_mask(&r, "CapAmb"), 0, "{r}");
    assert_eq!(value(&r, "NoNewPrivs"), "1", "{r}");
    assert_eq!(value(&r, "Seccomp"), "2", "{r}");
    assert_ne!(value(&r, "keyring"), host_keyring(&probe), "lxc.keyring.session default: a new session keyring:\n{r}");
    stop(&lp, &n_cc);
    assert_clean(&before, &lp, &[&n_cc]);
}

#[test]
fn keyring_session_0_keeps_the_callers_keyring_1_makes_a_new_one() {
    let t = "keyring_session_0_keeps_the_callers_keyring_1_makes_a_new_one";
    let Some(probe) = ready(t) else { return };
    let lp = Lxcpath::new("seckr");
    let before = HostState::capture(lp.as_str());
    let n_k1 = uniq("k1");
    let n_k0 = uniq("k0");
    let host = host_keyring(&probe);
    let keep = container(&lp, &n_k0, &probe, "/probe keyring > /result", "lxc.keyring.session = 0\n");
    let fresh = container(&lp, &n_k1, &probe, "/probe keyring > /result", "lxc.keyring.session = 1\n");
    start(&lp, &n_k0);
    start(&lp, &n_k1);
    assert_eq!(value(&result(&keep), "keyring"), host, "lxc.keyring.session = 0 keeps the caller's session keyring");
    assert_ne!(value(&result(&fresh), "keyring"), host, "lxc.keyring.session = 1 gives a new session keyring");
    stop(&lp, &n_k0);
    stop(&lp, &n_k1);
    assert_clean(&before, &lp, &[&n_k0, &n_k1]);
}

#[test]
fn cap_keep_none_leaves_init_without_capabilities() {
    let t = "cap_keep_none_leaves_init_without_capabilities";
    let Some(probe) = ready(t) else { return };
    let lp = Lxcpath::new("seckn");
    let before = HostState::capture(lp.as_str());
    let n_kn = uniq("kn");
    let rootfs = container(&lp, &n_kn, &probe, "grep -E '^Cap' /proc/1/status > /result", "lxc.cap.keep = none\n");
    start(&lp, &n_kn);
    let r = result(&rootfs);
    assert_eq!(cap_mask(&r, "CapBnd"), 0, "{r}");
    assert_eq!(cap_mask(&r, "CapEff"), 0, "{r}");
    stop(&lp, &n_kn);
    assert_clean(&before, &lp, &[&n_kn]);
}

#[test]
fn cap_keep_keeps_only_the_listed_capabilities() {
    let t = "cap_keep_keeps_only_the_listed_capabilities";
    let Some(probe) = ready(t) else { return };
    let lp = Lxcpath::new("secks");
    let before = HostState::capture(lp.as_str());
    let n_ks = uniq("ks");
    let rootfs = container(
        &lp,
        &n_ks,
        &probe,
        "grep -E '^Cap' /proc/1/status > /result",
        "lxc.cap.keep = sys_admin\nlxc.cap.keep = chown kill\n",
    );
    start(&lp, &n_ks);
    let r = result(&rootfs);
    assert_eq!(cap_mask(&r, "CapBnd"), (1 << CAP_SYS_ADMIN) | 1 | (1 << 5), "{r}");
    stop(&lp, &n_ks);
    assert_clean(&before, &lp, &[&n_ks]);
}

#[test]
fn cap_keep_and_drop_together_refuse_to_start() {
    let t = "cap_keep_and_drop_together_refuse_to_start";
    let Some(probe) = ready(t) else { return };
    let lp = Lxcpath::new("seckd");
    let before = HostState::capture(lp.as_str());
    let n_kd = uniq("kd");
    container(&lp, &n_kd, &probe, "true", "lxc.cap.keep = sys_admin\nlxc.cap.drop = sys_module\n");
    let out = lp.lxc("start", &["-n", &n_kd, "-F", "-l", "debug", "-o", &log_path(&lp, &n_kd)]);
    assert!(!out.status.success(), "start must fail");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(log_path(&lp, &n_kd)).unwrap_or_default()
    );
    assert!(text.contains("lxc.cap.keep") && text.contains("lxc.cap.drop"), "the error must name both keys:\n{text}");
    let state = lp.lxc_ok("info", &["-n", &n_kd, "-s"]);
    assert!(state.contains("STOPPED"), "{state}");
    assert_clean(&before, &lp, &[&n_kd]);
}

#[test]
fn seccomp_policy_actions_errno_and_notify_without_proxy() {
    let t = "seccomp_policy_actions_errno_and_notify_without_proxy";
    let Some(probe) = ready(t) else { return };
    let lp = Lxcpath::new("secpo");
    let before = HostState::capture(lp.as_str());
    let n_po = uniq("po");
    let policy = lp.path.join("policy");
    std::fs::write(
        &policy,
        "2\ndenylist\n# unknown on x86_64: skipped with a warning\nnot_a_real_syscall errno 1\n[x86_64]\nmkdir errno 13\n[x86]\nmkdir errno 14\n[s390x]\nmkdir errno 15\n[all]\nmknod notify\nmknodat notify\n",
    )
    .unwrap();
    let rootfs = container(
        &lp,
        &n_po,
        &probe,
        "mkdir /newdir 2> /result; mknod /newdev c 1 3 2>> /result; grep Seccomp: /proc/1/status >> /result",
        &format!("lxc.seccomp.profile = {}\n", policy.display()),
    );
    start(&lp, &n_po);
    let r = result(&rootfs);
    assert!(r.contains("Permission denied"), "mkdir → errno 13 ([x86_64] section):\n{r}");
    assert!(r.contains("Function not implemented"), "mknod → notify, answered ENOSYS without a proxy:\n{r}");
    assert!(!rootfs.join("newdir").exists() && !rootfs.join("newdev").exists());
    let log = std::fs::read_to_string(log_path(&lp, &n_po)).unwrap_or_default();
    assert!(log.contains("not_a_real_syscall"), "an unknown syscall is a warning in the log:\n{log}");
    stop(&lp, &n_po);
    assert_clean(&before, &lp, &[&n_po]);
}

#[test]
fn seccomp_notify_proxy_gets_lxc_messages_and_answers() {
    use rlxc_core::security::notify::ProxyServer;
    use std::os::fd::AsFd;
    let t = "seccomp_notify_proxy_gets_lxc_messages_and_answers";
    let Some(probe) = ready(t) else { return };
    let lp = Lxcpath::new("secpx");
    let before = HostState::capture(lp.as_str());
    let n_px = uniq("px");
    let sock = lp.path.join("proxy.sock");
    let server = ProxyServer::bind(&sock).unwrap();
    let policy = lp.path.join("policy");
    std::fs::write(&policy, "2\ndenylist\nmknod notify\nmknodat notify\n").unwrap();
    let rootfs = container(
        &lp,
        &n_px,
        &probe,
        "mknod /newdev c 1 3 2> /result; echo rc=$? >> /result",
        &format!(
            "lxc.seccomp.profile = {}\nlxc.seccomp.notify.proxy = unix:{}\nlxc.seccomp.notify.cookie = rlxc-cookie\n",
            policy.display(),
            sock.display()
        ),
    );
    // The monitor connects while starting; serve one request from a thread.
    let proxy = std::thread::spawn(move || {
        let conn = server.accept().unwrap();
        let req = ProxyServer::receive(conn.as_fd()).unwrap();
        ProxyServer::reply(conn.as_fd(), &req, 0, 1 /* EPERM */).unwrap();
        req
    });
    start(&lp, &n_px);
    let r = result(&rootfs);
    let req = proxy.join().unwrap();
    assert!(r.contains("Operation not permitted"), "the proxy's EPERM reaches the task:\n{r}");
    assert_eq!(req.cookie, b"rlxc-cookie");
    assert!(req.monitor_pid > 0 && req.init_pid > 0 && req.monitor_pid != req.init_pid, "{req:?}");
    assert!(req.mem.is_some(), "the monitor sends /proc/<pid>/mem of the task");
    assert_eq!(req.head.arch, 0xc000_003e, "x86_64 audit arch");
    assert!(req.head.nr == 133 || req.head.nr == 259, "mknod or mknodat on x86_64: {}", req.head.nr);
    stop(&lp, &n_px);
    assert_clean(&before, &lp, &[&n_px]);
}

#[test]
fn prlimit_sysctl_and_proc_settings_reach_init() {
    let t = "prlimit_sysctl_and_proc_settings_reach_init";
    let Some(probe) = ready(t) else { return };
    let host_fwd = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap_or_default();
    let lp = Lxcpath::new("seclm");
    let before = HostState::capture(lp.as_str());
    let n_lm = uniq("lm");
    let rootfs = container(
        &lp,
        &n_lm,
        &probe,
        "grep 'Max open files' /proc/1/limits > /result; echo fwd=$(cat /proc/sys/net/ipv4/ip_forward) >> /result; echo oom=$(cat /proc/1/oom_score_adj) >> /result",
        "lxc.prlimit.nofile = 123:456\nlxc.sysctl.net.ipv4.ip_forward = 1\nlxc.proc.oom_score_adj = 345\n",
    );
    start(&lp, &n_lm);
    let r = result(&rootfs);
    let limits: Vec<&str> = r.lines().next().unwrap_or("").split_whitespace().collect();
    assert_eq!(limits.get(3..5), Some(&["123", "456"][..]), "{r}");
    assert!(r.contains("fwd=1"), "lxc.sysctl.net.ipv4.ip_forward written in the container's netns:\n{r}");
    assert!(r.contains("oom=345"), "{r}");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap_or_default(),
        host_fwd,
        "the host's value is untouched"
    );
    stop(&lp, &n_lm);
    assert_clean(&before, &lp, &[&n_lm]);
}

#[test]
fn attached_processes_get_init_bounding_set_and_seccomp() {
    let t = "attached_processes_get_init_bounding_set_and_seccomp";
    let Some(probe) = ready(t) else { return };
    if !Path::new(COMMON_CONF).exists() {
        return skip(t, "Debian's lxc common.conf is not installed (apt-get install lxc)");
    }
    let lp = Lxcpath::new("secat");
    let before = HostState::capture(lp.as_str());
    let n_at = uniq("at");
    container(&lp, &n_at, &probe, "true", &format!("lxc.include = {COMMON_CONF}\nlxc.cap.drop = sys_boot\n"));
    start(&lp, &n_at);
    let status =
        lp.lxc_ok("attach", &["-n", &n_at, "--", "/bin/grep", "-E", "^(CapBnd|Seccomp):", "/proc/self/status"]);
    let bnd = cap_mask(&status, "CapBnd");
    for cap in [CAP_SYS_MODULE, CAP_SYS_BOOT, CAP_MAC_ADMIN] {
        assert_eq!(bnd & (1 << cap), 0, "attached CapBnd {bnd:#x} must not have {cap}");
    }
    assert_eq!(value(&status, "Seccomp"), "2", "{status}");
    let probes = lp.lxc_ok("attach", &["-n", &n_at, "--", "/probe"]);
    assert_eq!(value(&probes, "kexec_load"), "1", "{probes}");
    assert_eq!(value(&probes, "init_module"), "1", "{probes}");
    stop(&lp, &n_at);
    assert_clean(&before, &lp, &[&n_at]);
}

/// How the tool must have re-executed itself.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Sealed {
    /// rlxc's private read-only overlay (the default for root).
    Overlay,
    /// The sealed memfd fallback (`RLXC_SEALED_EXE=memfd`, or callers that cannot mount).
    Memfd,
}

/// The probe's report on an exe: it must be the expected sealed image, never the installed
/// file, and opening it for writing must fail (EROFS on the overlay; a memfd's write seal
/// answers EPERM at write time, checked by the callers).
fn assert_sealed_image(report: &str, who: &str, how: Sealed) {
    let exe = value(report, "exe");
    match how {
        Sealed::Memfd => assert!(exe.contains("memfd:"), "{who} must run from a sealed memfd, not {exe}:\n{report}"),
        Sealed::Overlay => {
            assert!(!exe.contains("memfd:"), "{who} must run from the read-only overlay, not {exe}:\n{report}");
            assert_eq!(value(report, "exe_fs"), "794c7630", "{who} must run from a read-only overlay:\n{report}");
            assert_eq!(value(report, "open_write"), "30", "{who}: write-open must fail with EROFS:\n{report}");
        }
    }
}

/// CVE-2019-5736: a container process catches `lxc-attach`'s process inside the container,
/// keeps a read fd of its /proc/<pid>/exe, lets it finish and reopens that fd for writing. The
/// host binary must be out of reach: the attach runs from rlxc's private read-only overlay
/// (writes fail with EROFS) or, without it, from a sealed memfd (writes fail with EPERM), and
/// the installed binary is unchanged.
#[test]
fn attach_exe_is_sealed_cve_2019_5736() {
    attach_cve_2019_5736("attach_exe_is_sealed_cve_2019_5736", Sealed::Overlay);
}

/// The same with the memfd fallback forced (what unprivileged callers get).
#[test]
fn attach_exe_is_sealed_memfd_fallback_cve_2019_5736() {
    attach_cve_2019_5736("attach_exe_is_sealed_memfd_fallback_cve_2019_5736", Sealed::Memfd);
}

fn attach_cve_2019_5736(t: &str, how: Sealed) {
    let Some(probe) = ready(t) else { return };
    let lp = Lxcpath::new(if how == Sealed::Memfd { "seccm" } else { "seccv" });
    let before = HostState::capture(lp.as_str());
    let n_cv = uniq("cv");
    let bin = tool("rlxc");
    let bin_before = std::fs::read(&bin).unwrap();
    let rootfs = container(&lp, &n_cv, &probe, "/probe hunt 120 > /hunt 2>&1 &", "");
    start(&lp, &n_cv);
    result(&rootfs);
    let mut hunt = String::new();
    for _ in 0..20 {
        let mut cmd = std::process::Command::new(tool("lxc-attach"));
        cmd.args(["-P", lp.as_str(), "-n", &n_cv, "--", "/bin/true"]);
        if how == Sealed::Memfd {
            cmd.env("RLXC_SEALED_EXE", "memfd");
        }
        let _ = cmd.output();
        hunt = std::fs::read_to_string(rootfs.join("hunt")).unwrap_or_default();
        if hunt.contains("hunt=") {
            break;
        }
    }
    hunt = if hunt.contains("hunt=") { wait_file(&rootfs.join("hunt"), "hunt=") } else { hunt };
    assert!(hunt.contains("hunt=done"), "the container never saw the attaching process:\n{hunt}");
    assert_sealed_image(&hunt, "the attaching process", how);
    assert_ne!(value(&hunt, "open_write"), "0", "{hunt}");
    if value(&hunt, "reopen_write") == "0" {
        assert_eq!(value(&hunt, "reopen_write_data"), "1", "the memfd must be sealed against writes (EPERM):\n{hunt}");
    }
    assert!(std::fs::read(&bin).unwrap() == bin_before, "the host's rlxc binary changed");
    stop(&lp, &n_cv);
    assert_clean(&before, &lp, &[&n_cv]);
}

/// The same for the start path: a start hook runs while the container's future init is still
/// the rlxc binary, so /proc/1/exe must be a sealed image there too.
#[test]
fn start_exe_is_sealed_cve_2019_5736() {
    let t = "start_exe_is_sealed_cve_2019_5736";
    let Some(probe) = ready(t) else { return };
    let lp = Lxcpath::new("seccs");
    let before = HostState::capture(lp.as_str());
    let n_cs = uniq("cs");
    let rootfs = container(&lp, &n_cs, &probe, "true", "lxc.hook.start = /probe exe 1 > /hookres\n");
    start(&lp, &n_cs);
    let r = wait_file(&rootfs.join("hookres"), "open_write");
    assert_sealed_image(&r, "pid 1 before exec", Sealed::Overlay);
    assert_ne!(value(&r, "open_write"), "0", "{r}");
    stop(&lp, &n_cs);
    assert_clean(&before, &lp, &[&n_cs]);
}

/// LXC's `lxc-test-no-new-privs`, without its network and ping: a setuid-root program run by an
/// attached uid-1000 process gains root only when `lxc.no_new_privs` is off.
#[test]
fn no_new_privs_makes_setuid_powerless_for_attached_processes() {
    let t = "no_new_privs_makes_setuid_powerless_for_attached_processes";
    let Some(probe) = ready(t) else { return };
    use std::os::unix::fs::PermissionsExt;
    let lp = Lxcpath::new("secnn");
    let before = HostState::capture(lp.as_str());
    let n_on = uniq("nnon");
    let n_off = uniq("nnoff");
    for (name, nnp) in [(&n_on, "1"), (&n_off, "0")] {
        let rootfs = container(&lp, name, &probe, "true", &format!("lxc.no_new_privs = {nnp}\n"));
        std::fs::set_permissions(rootfs.join("probe"), std::fs::Permissions::from_mode(0o4755)).unwrap();
        start(&lp, name);
        result(&rootfs);
    }
    let ids = |name: &str| {
        lp.lxc_ok("attach", &["-n", name, "--clear-env", "--uid", "1000", "--gid", "1000", "--", "/probe", "ids"])
    };
    let on = ids(&n_on);
    assert!(on.contains("uid=1000 euid=1000"), "lxc.no_new_privs = 1: the setuid bit must be ignored: {on}");
    let off = ids(&n_off);
    assert!(off.contains("uid=1000 euid=0"), "lxc.no_new_privs = 0: setuid works: {off}");
    stop(&lp, &n_on);
    stop(&lp, &n_off);
    assert_clean(&before, &lp, &[&n_on, &n_off]);
}

/// LXC's `lxc-test-procsys`: a rootfs without /proc and /sys still starts, and the container
/// gets both mounted (the mount targets are created).
#[test]
fn rootfs_without_proc_and_sys_still_gets_them() {
    let t = "rootfs_without_proc_and_sys_still_gets_them";
    let Some(probe) = ready(t) else { return };
    let lp = Lxcpath::new("secps");
    let before = HostState::capture(lp.as_str());
    let name = uniq("ps");
    let rootfs = container(&lp, &name, &probe, "true", "");
    std::fs::remove_dir(rootfs.join("proc")).unwrap();
    std::fs::remove_dir(rootfs.join("sys")).unwrap();
    start(&lp, &name);
    lp.lxc_ok("attach", &["-n", &name, "--", "/bin/sh", "-c", "test -f /proc/version"]);
    lp.lxc_ok("attach", &["-n", &name, "--", "/bin/sh", "-c", "test -d /sys/fs"]);
    stop(&lp, &name);
    assert_clean(&before, &lp, &[&name]);
}

/// `lxc.apparmor.allow_nesting = 1`: procfs and sysfs without the container's overmounts at
/// `/dev/.lxc/proc` and `/dev/.lxc/sys` (man lxc.container.conf), next to the usual ones.
#[test]
fn allow_nesting_provides_dev_lxc_proc_and_sys() {
    let t = "allow_nesting_provides_dev_lxc_proc_and_sys";
    let Some(probe) = ready(t) else { return };
    let lp = Lxcpath::new("secnest");
    let before = HostState::capture(lp.as_str());
    let name = uniq("nest");
    let rootfs = container(&lp, &name, &probe, "true", "lxc.apparmor.allow_nesting = 1\nlxc.autodev = 1\n");
    start(&lp, &name);
    result(&rootfs);
    let mounts = lp.lxc_ok("attach", &["-n", &name, "--", "/bin/cat", "/proc/self/mounts"]);
    let fstype = |target: &str| {
        mounts
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.get(1) == Some(&target)).then(|| f.get(2).map(|s| s.to_string()).unwrap_or_default())
            })
            .next_back()
    };
    assert_eq!(fstype("/dev/.lxc/proc").as_deref(), Some("proc"), "mounts:\n{mounts}");
    assert_eq!(fstype("/dev/.lxc/sys").as_deref(), Some("sysfs"), "mounts:\n{mounts}");
    // The usual /proc is still there and /proc/sys stays read-only (proc:mixed).
    assert_eq!(fstype("/proc").as_deref(), Some("proc"), "mounts:\n{mounts}");
    stop(&lp, &name);
    assert_clean(&before, &lp, &[&name]);
}

/// On a host without SELinux (this one), `lxc.selinux.context` and `.context.keyring` are
/// ignored with a notice and the container starts (LXC's behaviour).
#[test]
fn selinux_contexts_are_ignored_with_a_notice_without_selinux() {
    let t = "selinux_contexts_are_ignored_with_a_notice_without_selinux";
    let Some(probe) = ready(t) else { return };
    if std::path::Path::new("/sys/fs/selinux/enforce").exists() {
        skip(t, "SELinux is enabled here: this test is about hosts without it");
        return;
    }
    let lp = Lxcpath::new("secse");
    let before = HostState::capture(lp.as_str());
    let name = uniq("se");
    let rootfs = container(
        &lp,
        &name,
        &probe,
        "true",
        "lxc.selinux.context = system_u:system_r:lxc_t:s0:c22\nlxc.selinux.context.keyring = system_u:system_r:lxc_t:s0:c23\n",
    );
    start(&lp, &name);
    result(&rootfs);
    let log = std::fs::read_to_string(log_path(&lp, &name)).unwrap_or_default();
    assert!(log.contains("SELinux is not enabled"), "no notice in the log:\n{log}");
    stop(&lp, &name);
    assert_clean(&before, &lp, &[&name]);
}

/// Whether SELinux is on with a policy loaded (before `load_policy` a process's context reads
/// `kernel`, and the kernel refuses every label).
fn selinux_policy_loaded() -> bool {
    Path::new("/sys/fs/selinux/enforce").exists()
        && std::fs::read_to_string("/proc/self/attr/current").is_ok_and(|c| c.contains(':'))
}

/// SELinux labels (run by `tests/vm/selinux.sh`: a VM booted with SELinux, Debian's reference
/// policy loaded, permissive so unlabeled files still run). Init runs under
/// `lxc.selinux.context`; its new session keyring carries `lxc.selinux.context.keyring`, or
/// `lxc.selinux.context` when that is unset; `lxc-attach` runs under `lxc.selinux.context`; a
/// context the policy does not know fails the start with the kernel's refusal, leaving nothing.
#[test]
#[ignore = "needs SELinux with a policy loaded: run by tests/vm/selinux.sh"]
fn selinux_labels_init_its_keyring_and_attached_processes() {
    let t = "selinux_labels_init_its_keyring_and_attached_processes";
    let Some(probe) = ready(t) else { return };
    if !selinux_policy_loaded() {
        return skip(t, "SELinux is not enabled with a policy loaded (tests/vm/selinux.sh runs this in a VM)");
    }
    const INIT: &str = "system_u:system_r:initrc_t:s0:c22";
    const KEYRING: &str = "system_u:system_r:initrc_t:s0:c23";
    let lp = Lxcpath::new("secsel");
    let before = HostState::capture(lp.as_str());
    let both = uniq("sb");
    let only = uniq("so");
    let bad = uniq("sx");
    let r_both = container(
        &lp,
        &both,
        &probe,
        "/probe selinux > /result",
        &format!("lxc.selinux.context = {INIT}\nlxc.selinux.context.keyring = {KEYRING}\n"),
    );
    let r_only = container(&lp, &only, &probe, "/probe selinux > /result", &format!("lxc.selinux.context = {INIT}\n"));
    container(&lp, &bad, &probe, "true", "lxc.selinux.context = system_u:system_r:no_such_type_t:s0\n");
    start(&lp, &both);
    start(&lp, &only);

    let r = result(&r_both);
    assert_eq!(value(&r, "context"), INIT, "init runs under lxc.selinux.context:\n{r}");
    assert_eq!(value(&r, "keyring_label"), KEYRING, "the session keyring carries lxc.selinux.context.keyring:\n{r}");
    let r = result(&r_only);
    assert_eq!(value(&r, "context"), INIT, "{r}");
    assert_eq!(value(&r, "keyring_label"), INIT, "without .keyring the keyring gets lxc.selinux.context:\n{r}");
    let attached = lp.lxc_ok("attach", &["-n", &both, "--", "/probe", "selinux"]);
    assert_eq!(value(&attached, "context"), INIT, "lxc-attach runs under lxc.selinux.context:\n{attached}");
    stop(&lp, &both);
    stop(&lp, &only);

    let out = lp.lxc("start", &["-n", &bad, "-l", "debug", "-o", &log_path(&lp, &bad)]);
    let log = std::fs::read_to_string(log_path(&lp, &bad)).unwrap_or_default();
    assert!(!out.status.success(), "a context the policy lacks must fail the start:\n{log}");
    assert!(log.contains("no_such_type_t"), "the error names the context:\n{log}");
    assert_eq!(lp.lxc_ok("info", &["-n", &bad, "-s"]).split_whitespace().last(), Some("STOPPED"));
    assert_clean(&before, &lp, &[&both, &only, &bad]);
}
