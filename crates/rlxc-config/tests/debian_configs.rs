//! Every file Debian's `lxc` package ships under /usr/share/lxc/config loads (library level; the
//! tool-level check is in the workspace's tests/config_debian.rs).

use std::path::Path;

#[test]
fn every_debian_shipped_config_loads() {
    let dir = Path::new("/usr/share/lxc/config");
    if !dir.is_dir() {
        eprintln!("SKIP: {} missing (install the lxc package)", dir.display());
        return;
    }
    let mut n = 0;
    let mut files: Vec<_> =
        std::fs::read_dir(dir).expect("readable").filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    for f in files.iter().filter(|p| p.extension().is_some_and(|x| x == "conf")) {
        if let Err(e) = rlxc_config::ContainerConfig::load(f) {
            panic!("{}: {e}", f.display());
        }
        n += 1;
    }
    assert!(n > 30, "found {n} configs");
}
