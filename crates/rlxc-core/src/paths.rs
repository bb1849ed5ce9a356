//! Where rlxc's own files are (relative to the install prefix) and where a container's files are
//! (relative to its lxcpath).

use std::path::{Path, PathBuf};

/// The install prefix: the directory above the `bin/` holding the running binary
/// (`/proc/self/exe`), so a tree installed anywhere finds its own templates and configs.
pub fn prefix() -> PathBuf {
    // origin_exe: the installed path even when we run from a sealed image of the binary.
    let exe = rlxc_sys::sealed_exe::origin_exe().unwrap_or_else(|_| PathBuf::from("/usr/local/bin/rlxc"));
    exe.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("/usr/local"))
}

/// `<prefix>/share/rlxc`.
pub fn datadir() -> PathBuf {
    if let Some(d) = std::env::var_os("RLXC_DATADIR") {
        return PathBuf::from(d);
    }
    prefix().join("share/rlxc")
}

/// Where `lxc-<template>` scripts live.
pub fn templates_dir() -> PathBuf {
    datadir().join("templates")
}

/// Where `common.conf` and friends live (`lxc.include` of LXC's config dir maps here).
pub fn config_dir() -> PathBuf {
    datadir().join("config")
}

/// `<lxcpath>/<name>`.
pub fn container_dir(lxcpath: &str, name: &str) -> PathBuf {
    Path::new(lxcpath).join(name)
}

/// `<lxcpath>/<name>/config`.
pub fn config_path(lxcpath: &str, name: &str) -> PathBuf {
    container_dir(lxcpath, name).join("config")
}

/// `<lxcpath>/<name>/partial`: present while `create` runs.
pub fn partial_path(lxcpath: &str, name: &str) -> PathBuf {
    container_dir(lxcpath, name).join("partial")
}

/// LXC's default log file for `-l` without `-o`: `<lxcpath>/<name>/<name>.log`.
pub fn default_log_path(lxcpath: &str, name: &str) -> PathBuf {
    container_dir(lxcpath, name).join(format!("{name}.log"))
}

/// A container name LXC would accept: non-empty, no `/`, not `.`/`..`, within NAME_MAX.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && name != "." && name != ".." && name.len() <= 255 && !name.contains('\0')
}
