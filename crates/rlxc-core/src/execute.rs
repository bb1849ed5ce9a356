//! Application containers (`lxc-execute`, `start(useinit)`): the command runs as the child of
//! `init.lxc`, which the host provides — the container's rootfs does not need to contain it.
//!
//! Two ways to inject it, both without touching the image on disk beyond what LXC does:
//! - **bind mount** (LXC's way, what [`inject_into_config`] sets up): an `lxc.mount.entry`
//!   binds the host's `init.lxc` onto `<rootfs>/.lxc-init` (an empty placeholder file created
//!   by `create=file`); init.lxc unmounts and removes the placeholder once it runs;
//! - **sealed memfd** ([`InjectedInit`]): the start path opens a sealed memfd copy of the host's
//!   `init.lxc` before pivot_root and execs it with `execveat(AT_EMPTY_PATH)`, which also works
//!   with a read-only rootfs. The lifecycle's child calls it where it would `execve` init.
//!
//! Without a rootfs (`lxc.rootfs.path` empty) the host path is used directly.

use std::ffi::OsString;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rlxc_config::ContainerConfig;

/// Where the bind-mount injection puts init.lxc inside the container.
pub const INJECTED_INIT_PATH: &str = "/.lxc-init";

/// Environment override for the host's init.lxc (tests, unusual installs).
pub const INIT_LXC_ENV: &str = "RLXC_INIT_LXC";

/// What can go wrong preparing init.lxc.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// No init.lxc where rlxc installs it.
    #[error("init.lxc not found (looked in {}); install rlxc with `make install` or set {INIT_LXC_ENV}", looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NotFound { looked: Vec<PathBuf> },
    /// It exists but is dynamically linked while the container has its own rootfs.
    #[error("{}: init.lxc is dynamically linked and cannot run inside a container rootfs; build it statically (RUSTFLAGS=\"-C target-feature=+crt-static\")", path.display())]
    NotStatic { path: PathBuf },
    /// A config change was refused.
    #[error("{key}: {message}")]
    Config { key: String, message: String },
    /// Reading or copying init.lxc failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Where the host's `init.lxc` is: `$RLXC_INIT_LXC`, else `<prefix>/sbin/init.lxc.static` or
/// `<prefix>/sbin/init.lxc` next to the installed `<prefix>/bin/rlxc` we run from.
pub fn init_lxc_host_path() -> Result<PathBuf, ExecuteError> {
    let mut looked = Vec::new();
    if let Some(p) = std::env::var_os(INIT_LXC_ENV) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        looked.push(p);
    }
    if let Ok(exe) = rlxc_sys::sealed_exe::origin_exe() {
        if let Some(prefix) = exe.parent().and_then(Path::parent) {
            for n in ["init.lxc.static", "init.lxc"] {
                let p = prefix.join("sbin").join(n);
                if p.is_file() {
                    return Ok(p);
                }
                looked.push(p);
            }
        }
    }
    Err(ExecuteError::NotFound { looked })
}

/// Whether an ELF file asks for a program interpreter (is dynamically linked).
pub fn is_dynamically_linked(path: &Path) -> Result<bool, ExecuteError> {
    let io = |source| ExecuteError::Io { path: path.to_path_buf(), source };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut hdr = [0u8; 64];
    f.read_exact(&mut hdr).map_err(io)?;
    if &hdr[..4] != b"\x7fELF" || hdr[4] != 2 {
        // Not a 64-bit ELF: cannot tell; assume it runs.
        return Ok(false);
    }
    let le = hdr[5] == 1;
    let u16_at = |b: &[u8], o: usize| {
        if le {
            u16::from_le_bytes([b[o], b[o + 1]])
        } else {
            u16::from_be_bytes([b[o], b[o + 1]])
        }
    };
    let u64_at = |b: &[u8], o: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[o..o + 8]);
        if le {
            u64::from_le_bytes(a)
        } else {
            u64::from_be_bytes(a)
        }
    };
    let phoff = u64_at(&hdr, 32);
    let phentsize = u16_at(&hdr, 54) as u64;
    let phnum = u16_at(&hdr, 56) as u64;
    let data = std::fs::read(path).map_err(io)?;
    for i in 0..phnum {
        let off = (phoff + i * phentsize) as usize;
        if off + 4 > data.len() {
            break;
        }
        let p_type = if le {
            u32::from_le_bytes([data[off], data[off + 1], data[off + 2], data[off + 3]])
        } else {
            u32::from_be_bytes([data[off], data[off + 1], data[off + 2], data[off + 3]])
        };
        // PT_INTERP
        if p_type == 3 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The argv the start path execs: init.lxc with LXC's arguments, then the command.
pub fn init_argv(init_path: &str, name: &str, lxcpath: &str, quiet: bool, command: &[String]) -> Vec<String> {
    let mut v = vec![init_path.to_string(), "-n".into(), name.into(), "-P".into(), lxcpath.into()];
    if quiet {
        v.push("-q".into());
    }
    v.push("--".into());
    v.extend(command.iter().cloned());
    v
}

/// The command lxc-execute runs: the given one, else `lxc.execute.cmd` split on whitespace.
pub fn execute_command(conf: &ContainerConfig, given: &[String]) -> Option<Vec<String>> {
    if !given.is_empty() {
        return Some(given.to_vec());
    }
    let cmd = conf.execute_cmd.as_deref()?.trim();
    if cmd.is_empty() {
        return None;
    }
    let words = split_quoted(cmd);
    if words.is_empty() {
        None
    } else {
        Some(words)
    }
}

/// Split a command line on blanks, honouring '...' and "..." quoting and backslash escapes
/// outside single quotes (LXC's `lxc_string_split_quoted`, which `lxc.execute.cmd` and
/// `lxc.init.cmd` go through).
pub fn split_quoted(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => match chars.next() {
                Some(n) => cur.push(n),
                None => cur.push('\\'),
            },
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// Bind-mount injection: make the host's init.lxc appear at [`INJECTED_INIT_PATH`] in the
/// container through an `lxc.mount.entry` (or use the host path when there is no rootfs) and
/// return the argv for the start path.
pub fn inject_into_config(
    conf: &mut ContainerConfig,
    name: &str,
    lxcpath: &str,
    quiet: bool,
    command: &[String],
) -> Result<Vec<String>, ExecuteError> {
    let host = init_lxc_host_path()?;
    let has_rootfs = conf.rootfs.path.as_deref().map(|p| !p.trim().is_empty()).unwrap_or(false);
    if !has_rootfs {
        return Ok(init_argv(&host.to_string_lossy(), name, lxcpath, quiet, command));
    }
    if is_dynamically_linked(&host)? {
        return Err(ExecuteError::NotStatic { path: host });
    }
    let entry =
        format!("{} {} none bind,ro,create=file 0 0", host.display(), INJECTED_INIT_PATH.trim_start_matches('/'));
    conf.set_item("lxc.mount.entry", &entry)
        .map_err(|e| ExecuteError::Config { key: "lxc.mount.entry".into(), message: e.to_string() })?;
    Ok(init_argv(INJECTED_INIT_PATH, name, lxcpath, quiet, command))
}

/// The memfd injection: a sealed copy of the host's init.lxc, opened on the host side of the
/// start (before pivot_root) and exec'ed in place of init.
#[derive(Debug)]
pub struct InjectedInit {
    fd: OwnedFd,
}

impl InjectedInit {
    /// Copy the host's init.lxc into a sealed memfd. Call before pivot_root/chroot.
    pub fn prepare() -> Result<InjectedInit, ExecuteError> {
        let host = init_lxc_host_path()?;
        let fd = rlxc_sys::memfd::sealed_copy_of_path(&host, "init.lxc")
            .map_err(|source| ExecuteError::Io { path: host.clone(), source })?;
        Ok(InjectedInit { fd })
    }

    /// Exec it with `argv` (from [`init_argv`], argv[0] is only a label) and `envp`
    /// (`NAME=VALUE`). Only returns on failure.
    pub fn exec(&self, argv: &[String], envp: &[String]) -> std::io::Error {
        let a: Vec<OsString> = argv.iter().map(OsString::from).collect();
        let e: Vec<OsString> = envp.iter().map(OsString::from).collect();
        rlxc_sys::memfd::exec_fd(self.fd.as_fd(), &a, &e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_has_lxcs_shape() {
        let v = init_argv("/.lxc-init", "c1", "/var/lib/lxc", true, &["sh".into(), "-c".into(), "exit 3".into()]);
        assert_eq!(v, ["/.lxc-init", "-n", "c1", "-P", "/var/lib/lxc", "-q", "--", "sh", "-c", "exit 3"]);
    }

    #[test]
    fn command_falls_back_to_execute_cmd() {
        let mut c = ContainerConfig::default();
        assert_eq!(execute_command(&c, &[]), None);
        c.execute_cmd = Some("/bin/sleep 5".into());
        assert_eq!(execute_command(&c, &[]), Some(vec!["/bin/sleep".to_string(), "5".to_string()]));
        assert_eq!(execute_command(&c, &["true".into()]), Some(vec!["true".to_string()]));
    }

    #[test]
    fn quoted_commands_split_like_lxc() {
        assert_eq!(split_quoted("sh -c 'exit 7'"), ["sh", "-c", "exit 7"]);
        assert_eq!(split_quoted(r#"echo "a b" c\ d ''"#), ["echo", "a b", "c d", ""]);
        assert_eq!(split_quoted("  "), Vec::<String>::new());
    }

    #[test]
    fn dynamic_linking_is_detected() {
        // /bin/sh on the build host is dynamic; a missing file is an error.
        if Path::new("/bin/sh").exists() {
            assert!(is_dynamically_linked(Path::new("/bin/sh")).unwrap_or(false));
        }
        assert!(is_dynamically_linked(Path::new("/nonexistent/x")).is_err());
    }
}
