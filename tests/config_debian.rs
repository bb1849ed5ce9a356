//! Every config file Debian's `lxc` package ships (`/usr/share/lxc/config/**.conf`) passes
//! `rlxc config check`. Uses the installed packages when present, else downloads and unpacks
//! them itself (`apt-get download lxc liblxc-common lxc-templates`, `dpkg-deb -x`), pointing includes at
//! the unpacked copy (`RLXC_TEST_UNPACK_LXC=1` forces that path).

use std::path::{Path, PathBuf};

use rlxc_suite::{require_program, require_tools, run, skip, tool};

const TEST: &str = "config_debian";

fn conf_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in [dir.to_path_buf(), dir.join("common.conf.d")] {
        if let Ok(rd) = std::fs::read_dir(&sub) {
            out.extend(
                rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "conf")),
            );
        }
    }
    out.sort();
    out
}

/// Unpack Debian's `lxc` package into `work` and return its config directory, with the
/// absolute `/usr/share/lxc/config` in the files rewritten to the unpacked location.
fn unpack(work: &Path) -> Option<PathBuf> {
    if !require_program(TEST, "apt-get") || !require_program(TEST, "dpkg-deb") {
        return None;
    }
    // Debian 12 splits them: common.conf & co. in liblxc-common, the distro files in lxc-templates
    // (both pulled in by lxc).
    let ok = std::process::Command::new("apt-get")
        .args(["download", "lxc", "liblxc-common", "lxc-templates"])
        .current_dir(work)
        .status();
    if !ok.map(|s| s.success()).unwrap_or(false) {
        skip(TEST, "`apt-get download lxc liblxc-common lxc-templates` failed (no network or apt sources?)");
        return None;
    }
    let debs: Vec<PathBuf> = std::fs::read_dir(work)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    let root = work.join("root");
    for deb in debs {
        let out = run("dpkg-deb", &["-x", &deb.to_string_lossy(), &root.to_string_lossy()]);
        assert!(out.status.success(), "dpkg-deb -x failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let dir = root.join("usr/share/lxc/config");
    for f in conf_files(&dir) {
        let text = std::fs::read_to_string(&f).expect("readable");
        std::fs::write(&f, text.replace("/usr/share/lxc/config", &dir.to_string_lossy())).expect("writable");
    }
    Some(dir)
}

#[test]
fn every_debian_shipped_config_passes_rlxc_config_check() {
    if !require_tools(TEST) {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let installed = Path::new("/usr/share/lxc/config");
    // RLXC_TEST_UNPACK_LXC=1 exercises the unpack path on a host that has the package.
    let force_unpack = std::env::var_os("RLXC_TEST_UNPACK_LXC").is_some();
    let dir = if conf_files(installed).len() > 30 && !force_unpack {
        installed.to_path_buf()
    } else {
        match unpack(work.path()) {
            Some(d) => d,
            None => return,
        }
    };
    let files = conf_files(&dir);
    assert!(files.len() > 30, "only {} config files in {}", files.len(), dir.display());
    let args: Vec<String> = ["config".to_string(), "check".to_string()]
        .into_iter()
        .chain(files.iter().map(|f| f.to_string_lossy().into_owned()))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(tool("rlxc"), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "rlxc config check failed:\n{}{}", stdout, String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().filter(|l| l.ends_with(": ok")).count(), files.len());
}
