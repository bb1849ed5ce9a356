//! AppArmor confinement of real busybox containers (spec §9.1). Needs a kernel with AppArmor and
//! `apparmor_parser`: this host has neither, so these run in `../shared/tools/vm-run` through
//! `tests/vm/security.sh` and return early (with a note) elsewhere, like the cgroup2-only tests.
//!
//! Covered: `generated` per-container profiles (written under `<lxcpath>/<name>/apparmor/`,
//! loaded into their own policy namespace, the label applied before exec, removed on stop),
//! `lxc.apparmor.raw`, our default profile `lxc-container-default-cgns` (denies writes to
//! /proc/sysrq-trigger, anything under /proc/acpi, /sys/kernel/security, most of /proc/sys),
//! and `unconfined`.

use rlxc_suite::*;
use std::path::{Path, PathBuf};

fn apparmor_on(test: &str) -> bool {
    let enabled =
        std::fs::read_to_string("/sys/module/apparmor/parameters/enabled").map(|s| s.trim() == "Y").unwrap_or(false)
            && Path::new("/sys/kernel/security/apparmor/profiles").exists();
    if !enabled {
        rlxc_suite::runs_elsewhere(test, "AppArmor is not enabled on this host");
    }
    enabled
}

fn ready(test: &str) -> bool {
    apparmor_on(test) && require_root(test) && require_tools(test) && require_program(test, "apparmor_parser")
}

fn uniq(tag: &str) -> String {
    format!("{tag}{}", std::process::id())
}

/// A container whose init runs `script` with /proc and /sys writable (so only AppArmor stands
/// between the container and the host's knobs), then sleeps.
fn container(lp: &Lxcpath, name: &str, script: &str, extra: &str) -> PathBuf {
    let dir = busybox_container(
        lp,
        name,
        &format!("lxc.init.cmd = /bin/sh /test.sh\nlxc.mount.auto = proc:rw sys:rw\n{extra}"),
    );
    let rootfs = dir.join("rootfs");
    std::fs::write(rootfs.join("test.sh"), format!("{script}\necho done >> /result\nexec sleep 1000\n")).unwrap();
    // Something readable that lxc.apparmor.raw can deny.
    std::fs::write(rootfs.join("etc/hostname"), format!("{name}\n")).unwrap();
    rootfs
}

fn start(lp: &Lxcpath, name: &str) {
    let log = format!("{}/{name}.log", lp.as_str());
    let out = lp.lxc("start", &["-n", name, "-l", "debug", "-o", &log]);
    if !out.status.success() {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("lxc-start {name} failed: {}\nlog:\n{log}", String::from_utf8_lossy(&out.stderr));
    }
    lp.lxc_ok("wait", &["-n", name, "-s", "RUNNING", "-t", "60"]);
}

fn result(rootfs: &Path) -> String {
    for _ in 0..1200 {
        let r = std::fs::read_to_string(rootfs.join("result")).unwrap_or_default();
        if r.lines().any(|l| l.starts_with("done")) {
            return r;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the container's script did not finish: {:?}", std::fs::read_to_string(rootfs.join("result")));
}

/// Shell lines that try what the default profiles deny; each prints `NAME=ok` or `NAME=denied`.
const ATTEMPTS: &str = r#"(echo h > /proc/sysrq-trigger) 2>/dev/null && echo sysrq=ok >> /result || echo sysrq=denied >> /result
f=$(ls /proc/acpi 2>/dev/null | head -n1)
if [ -z "$f" ]; then echo acpi=absent >> /result; elif (ls /proc/acpi/$f/. || cat /proc/acpi/$f) >/dev/null 2>&1; then echo acpi=ok >> /result; else echo acpi=denied >> /result; fi
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
if [ -e /sys/kernel/security/lsm ] || [ -d /sys/kernel/security/apparmor ]; then (cat /sys/kernel/security/lsm) >/dev/null 2>&1 && echo securityfs=ok >> /result || echo securityfs=denied >> /result; else echo securityfs=unmounted >> /result; fi
(echo 0 > /sys/kernel/mm/ksm/run) 2>/dev/null && echo syswrite=ok >> /result || echo syswrite=denied >> /result
(echo 1 > /proc/sys/kernel/ctrl-alt-del) 2>/dev/null && echo procsys=ok >> /result || echo procsys=denied >> /result
(echo rlxc > /proc/sys/kernel/hostname) 2>/dev/null && echo hostname=ok >> /result || echo hostname=denied >> /result
(cat /etc/hostname > /dev/null) 2>/dev/null && echo raw=ok >> /result || echo raw=denied >> /result"#;

fn value<'a>(r: &'a str, key: &str) -> &'a str {
    r.lines().find_map(|l| l.strip_prefix(key).and_then(|x| x.strip_prefix('='))).unwrap_or("")
}

fn loaded_profiles() -> String {
    std::fs::read_to_string("/sys/kernel/security/apparmor/profiles").unwrap_or_default()
}

/// Label of the container's init as the host sees it (inside, a process in a stacked policy
/// namespace sees its own namespace's view, e.g. just `unconfined`).
fn init_label(lp: &Lxcpath, name: &str) -> String {
    let pid = lp.lxc_ok("info", &["-n", name, "-p", "-H"]);
    let label = std::fs::read_to_string(format!("/proc/{}/attr/current", pid.trim())).unwrap_or_default();
    label.trim_end_matches(['\n', '\0']).to_string()
}

fn assert_default_denials(r: &str) {
    assert_eq!(value(r, "sysrq"), "denied", "writes to /proc/sysrq-trigger:\n{r}");
    assert_ne!(value(r, "acpi"), "ok", "/proc/acpi/** (new in 4.0):\n{r}");
    assert_ne!(value(r, "securityfs"), "ok", "/sys/kernel/security/**:\n{r}");
    assert_eq!(value(r, "syswrite"), "denied", "writes under /sys outside cgroup and net:\n{r}");
    assert_eq!(value(r, "procsys"), "denied", "writes under /proc/sys outside the allowed set:\n{r}");
    assert_eq!(value(r, "hostname"), "ok", "/proc/sys/kernel/hostname stays writable:\n{r}");
}

#[test]
fn generated_profile_confines_and_is_removed_on_stop() {
    let t = "generated_profile_confines_and_is_removed_on_stop";
    if !ready(t) {
        return;
    }
    let lp = Lxcpath::new("aagen");
    let name = uniq("gen");
    let rootfs = container(
        &lp,
        &name,
        ATTEMPTS,
        "lxc.apparmor.profile = generated\nlxc.apparmor.allow_nesting = 0\nlxc.apparmor.raw = deny /etc/hostname r,\n",
    );
    start(&lp, &name);
    let r = result(&rootfs);
    let profile = format!("lxc-{name}_<{}>", lp.as_str());
    // What LXC's lxc-test-apparmor-generated expects: the profile stacked with its namespace.
    let expected = format!("{profile}//&:{}:unconfined (enforce)", profile.replace('/', "-"));
    assert_eq!(init_label(&lp, &name), expected, "init runs under the generated profile:\n{r}");
    assert_default_denials(&r);
    assert_eq!(value(&r, "raw"), "denied", "lxc.apparmor.raw lines are part of the profile:\n{r}");
    let dir = lp.path.join(&name).join("apparmor");
    let files: Vec<_> = std::fs::read_dir(&dir).map(|d| d.filter_map(|e| e.ok()).collect()).unwrap_or_default();
    assert_eq!(files.len(), 1, "one profile file under {}", dir.display());
    assert!(loaded_profiles().contains(&profile), "{profile} is loaded:\n{}", loaded_profiles());
    lp.lxc_ok("stop", &["-n", &name, "-k"]);
    assert!(!loaded_profiles().contains(&profile), "{profile} is unloaded on stop:\n{}", loaded_profiles());
    let ns = Path::new("/sys/kernel/security/apparmor/policy/namespaces").join(profile.replace('/', "-"));
    assert!(!ns.exists(), "its namespace {} is removed", ns.display());
}

/// Load our profiles (config/apparmor) the way a package would install them.
fn load_shipped_profiles() {
    let src = repo_root().join("config/apparmor");
    let inc = src.clone();
    for p in ["lxc-default", "lxc-default-cgns", "lxc-default-with-mounting", "lxc-default-with-nesting"] {
        let path = src.join("profiles").join(p);
        run_ok(
            "apparmor_parser",
            &["-r", "-I", inc.to_str().unwrap(), "-I", "/etc/apparmor.d", path.to_str().unwrap()],
        );
    }
}

#[test]
fn default_profile_denies_what_lxc_4_denies() {
    let t = "default_profile_denies_what_lxc_4_denies";
    if !ready(t) {
        return;
    }
    load_shipped_profiles();
    let lp = Lxcpath::new("aadef");
    let name = uniq("def");
    // No lxc.apparmor.profile: the default is lxc-container-default-cgns on cgroup-ns kernels.
    let rootfs = container(&lp, &name, ATTEMPTS, "");
    start(&lp, &name);
    let r = result(&rootfs);
    assert_eq!(init_label(&lp, &name), "lxc-container-default-cgns (enforce)", "{r}");
    assert_default_denials(&r);
    assert_eq!(value(&r, "raw"), "ok", "no raw rules here:\n{r}");
    lp.lxc_ok("stop", &["-n", &name, "-k"]);
}

#[test]
fn unconfined_is_unconfined() {
    let t = "unconfined_is_unconfined";
    if !ready(t) {
        return;
    }
    let lp = Lxcpath::new("aaunc");
    let name = uniq("unc");
    let rootfs = container(
        &lp,
        &name,
        "echo label=$(cat /proc/1/attr/current) > /result",
        "lxc.apparmor.profile = unconfined\n",
    );
    start(&lp, &name);
    let r = result(&rootfs);
    assert_eq!(value(&r, "label"), "unconfined", "{r}");
    assert_eq!(init_label(&lp, &name), "unconfined");
    lp.lxc_ok("stop", &["-n", &name, "-k"]);
}

#[test]
fn missing_named_profile_fails_the_start() {
    let t = "missing_named_profile_fails_the_start";
    if !ready(t) {
        return;
    }
    let lp = Lxcpath::new("aamis");
    let name = uniq("mis");
    container(&lp, &name, "true", "lxc.apparmor.profile = rlxc-no-such-profile\n");
    let out = lp.lxc("start", &["-n", &name, "-F"]);
    assert!(!out.status.success(), "a profile that is not loaded must fail the start");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rlxc-no-such-profile"), "{err}");
}
