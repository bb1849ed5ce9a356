//! Where containers live (lxcpath) and where runtime files go (rundir), by LXC's rules.
//!
//! - lxcpath: `-P PATH` as given (LXC does not canonicalize it: the command socket name is built
//!   from the string), else `lxc.lxcpath` from the system config, else `/var/lib/lxc` for root
//!   and `~/.local/share/lxc` for other users.
//! - system config: `/etc/lxc/lxc.conf` for root, `~/.config/lxc/lxc.conf` otherwise.
//! - rundir: `/run` when the caller owns it (uid or gid), else `$XDG_RUNTIME_DIR`, else
//!   `~/.cache/lxc/run/`.

use std::path::PathBuf;

/// LXC's compiled-in default lxcpath for root.
pub const DEFAULT_LXCPATH: &str = "/var/lib/lxc";
/// LXC's system config file for root.
pub const GLOBAL_CONF: &str = "/etc/lxc/lxc.conf";
/// LXC's RUNTIME_PATH.
pub const RUNTIME_PATH: &str = "/run";

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"))
}

/// The system config file LXC reads for the caller.
pub fn system_config_path() -> PathBuf {
    if let Some(p) = std::env::var_os("LXC_GLOBAL_CONF") {
        return PathBuf::from(p);
    }
    if is_root() {
        PathBuf::from(GLOBAL_CONF)
    } else {
        home().join(".config/lxc/lxc.conf")
    }
}

/// One value from the system config (`key = value` lines, `#` comments), without defaults.
/// Unreadable or missing files count as empty, as in LXC.
pub fn system_config_value(key: &str) -> Option<String> {
    let text = std::fs::read_to_string(system_config_path()).ok()?;
    lookup(&text, key)
}

fn lookup(text: &str, key: &str) -> Option<String> {
    // LXC's reader takes the first non-empty occurrence of a key.
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else { continue };
        if k.trim() == key {
            // LXC strips surrounding blanks and one level of quotes.
            let v = v.trim();
            let v = v.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(v);
            if !v.is_empty() {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// The default lxcpath (no `-P`): rlxc-config's reading of the system config (LXC's rules),
/// or this module's own reading if that fails.
pub fn default_lxcpath() -> String {
    if let Ok(sc) = rlxc_config::system::SystemConfig::load_for_euid(rustix::process::geteuid().as_raw()) {
        if !sc.lxcpath.is_empty() {
            return sc.lxcpath;
        }
    }
    if let Some(v) = system_config_value("lxc.lxcpath") {
        if !v.is_empty() {
            return v;
        }
    }
    if is_root() {
        DEFAULT_LXCPATH.to_string()
    } else {
        home().join(".local/share/lxc").to_string_lossy().into_owned()
    }
}

/// `-P` if given, else the default.
pub fn resolve(given: Option<&str>) -> String {
    match given {
        Some(p) if !p.is_empty() => p.to_string(),
        _ => default_lxcpath(),
    }
}

/// LXC's `get_rundir()`.
pub fn rundir() -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    if let Ok(md) = std::fs::metadata(RUNTIME_PATH) {
        let uid = rustix::process::geteuid().as_raw();
        let gid = rustix::process::getegid().as_raw();
        if md.uid() == uid || md.gid() == gid {
            return PathBuf::from(RUNTIME_PATH);
        }
    }
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR") {
        return PathBuf::from(x);
    }
    home().join(".cache/lxc/run/")
}

/// `<rundir>/lxc/<lxcpath>`: per-lxcpath runtime directory (monitor FIFO lives here). The
/// lxcpath is appended textually, as LXC's `snprintf("%s/lxc/%s", rundir, lxcpath)` does.
pub fn lxcpath_rundir(lxcpath: &str) -> PathBuf {
    PathBuf::from(format!("{}/lxc/{}", rundir().display(), lxcpath))
}

/// Check that `name` can name a container in an lxcpath: LXC keeps every container in
/// `<lxcpath>/<name>/` and its command socket at `<lxcpath>/<name>/command`, so a name that is
/// empty, `.`/`..`, holds a `/` or NUL, or is longer than NAME_MAX would point outside the
/// container's directory (or at another container's socket). Tools that take `-n NAME` refuse
/// such names before touching the disk or a socket. `Err` carries LXC's wording.
pub fn check_name(name: &str) -> Result<(), String> {
    let bad =
        name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') || name.len() > 255;
    if bad {
        return Err(format!("invalid container name \"{}\"", name.escape_debug()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_lookup_takes_first_and_strips() {
        let t = "# c\nlxc.lxcpath =\n lxc.lxcpath=\"/b\" \nlxc.lxcpath = /a\nlxc.other = x\n";
        assert_eq!(lookup(t, "lxc.lxcpath").as_deref(), Some("/b"));
        assert_eq!(lookup(t, "lxc.nope"), None);
    }

    #[test]
    fn given_path_is_kept_verbatim() {
        assert_eq!(resolve(Some("/tmp/x/")), "/tmp/x/");
    }

    #[test]
    fn check_name_refuses_paths() {
        for bad in ["", ".", "..", "a/b", "../c", "c/", "a\0b", &"x".repeat(256)] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["c1", "a.b", "...", "with space", "x-y_z", &"x".repeat(255)] {
            assert!(check_name(good).is_ok(), "{good:?} refused");
        }
    }
}
