//! What an attach should do: LXC's `lxc_attach_options_t` in Rust terms, plus the parsers for
//! the `-e` and `-s` values of `lxc-attach`.

use std::ffi::OsString;
use std::path::PathBuf;

/// `LXC_ATTACH_MOVE_TO_CGROUP`.
pub const MOVE_TO_CGROUP: u32 = 0x0000_0001;
/// `LXC_ATTACH_DROP_CAPABILITIES`.
pub const DROP_CAPABILITIES: u32 = 0x0000_0002;
/// `LXC_ATTACH_SET_PERSONALITY`.
pub const SET_PERSONALITY: u32 = 0x0000_0004;
/// `LXC_ATTACH_LSM_EXEC`.
pub const LSM_EXEC: u32 = 0x0000_0008;
/// `LXC_ATTACH_REMOUNT_PROC_SYS`.
pub const REMOUNT_PROC_SYS: u32 = 0x0001_0000;
/// `LXC_ATTACH_LSM_NOW`.
pub const LSM_NOW: u32 = 0x0002_0000;
/// `LXC_ATTACH_NO_NEW_PRIVS`.
pub const NO_NEW_PRIVS: u32 = 0x0004_0000;
/// `LXC_ATTACH_TERMINAL`.
pub const TERMINAL: u32 = 0x0008_0000;
/// `LXC_ATTACH_DEFAULT`: the four "on by default" flags (cgroup, caps, personality, LSM).
pub const DEFAULT: u32 = 0x0000_ffff;
/// `LXC_ATTACH_LSM`.
pub const LSM: u32 = LSM_EXEC | LSM_NOW;

/// Namespaces by the names `-s` accepts, with their clone flags (LXC's `ns_info` order).
pub const NAMESPACE_NAMES: &[(&str, i32)] = &[
    ("USER", libc::CLONE_NEWUSER),
    ("MOUNT", libc::CLONE_NEWNS),
    ("PID", libc::CLONE_NEWPID),
    ("UTSNAME", libc::CLONE_NEWUTS),
    ("IPC", libc::CLONE_NEWIPC),
    ("NETWORK", libc::CLONE_NEWNET),
    ("CGROUP", libc::CLONE_NEWCGROUP),
];

/// `LXC_ATTACH_KEEP_ENV` / `LXC_ATTACH_CLEAR_ENV`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnvPolicy {
    /// Keep the caller's environment (LXC's default since 0.9).
    #[default]
    Keep,
    /// Start from an empty environment (plus `--keep-var`s and a default PATH).
    Clear,
}

/// Everything `lxc-attach` / `attach()` can be told.
#[derive(Debug, Clone)]
pub struct AttachOptions {
    /// `LXC_ATTACH_*` flags.
    pub flags: u32,
    /// Clone flags of the namespaces to join; `None` = every namespace init does not share
    /// with us.
    pub namespaces: Option<i32>,
    /// Personality to set (`-a`); `None` = the container's `lxc.arch`, if any.
    pub personality: Option<u64>,
    /// Working directory in the container; `None` = ours if it exists there, else `/`.
    pub initial_cwd: Option<PathBuf>,
    /// uid / gid to run as; `None` = init's.
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub env_policy: EnvPolicy,
    /// `NAME=VALUE` pairs to set (`-v`).
    pub extra_env: Vec<String>,
    /// Variables to keep with `--clear-env` (`--keep-var`).
    pub extra_keep_env: Vec<String>,
    /// Log the pty's output to this file (`-L`).
    pub pty_log: Option<PathBuf>,
    /// Allocate a pty for the standard fds that are terminals (lxc-attach decides this from
    /// `isatty`; API callers choose).
    pub terminal: bool,
    /// A config file to read the container's `lxc.environment`, `lxc.arch` and seccomp
    /// settings from instead of asking the monitor (`-f`).
    pub rcfile: Option<PathBuf>,
}

impl Default for AttachOptions {
    fn default() -> Self {
        AttachOptions {
            flags: DEFAULT,
            namespaces: None,
            personality: None,
            initial_cwd: None,
            uid: None,
            gid: None,
            env_policy: EnvPolicy::Keep,
            extra_env: Vec::new(),
            extra_keep_env: Vec::new(),
            pty_log: None,
            terminal: false,
            rcfile: None,
        }
    }
}

/// The command to run: a program and its argv, or the user's login shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachCommand {
    /// `execvp(argv[0], argv)`.
    Argv(Vec<OsString>),
    /// The shell of the target uid in the container's passwd (`/bin/sh` if unknown).
    Shell,
}

/// Parse an `-e` value: `CGROUP|CAP|LSM` (any combination, `|`-separated), or `None` for all
/// three. Returns the flags to *clear* from [`DEFAULT`].
pub fn parse_elevated_privileges(value: Option<&str>) -> Result<u32, String> {
    let all = MOVE_TO_CGROUP | DROP_CAPABILITIES | LSM_EXEC;
    let Some(v) = value else { return Ok(all) };
    let mut out = 0;
    for tok in v.split('|') {
        out |= match tok {
            "CGROUP" => MOVE_TO_CGROUP,
            "CAP" => DROP_CAPABILITIES,
            "LSM" => LSM_EXEC,
            other => {
                return Err(format!(
                    "invalid elevated privilege {other:?} (expected CGROUP, CAP or LSM, joined by '|')"
                ));
            }
        };
    }
    Ok(out)
}

/// Parse a `-s` value: namespace names joined by `|` (e.g. `NETWORK|PID`) into clone flags.
pub fn parse_namespaces(value: &str) -> Result<i32, String> {
    let mut out = 0;
    for tok in value.split('|') {
        let tok = tok.trim();
        let flag = NAMESPACE_NAMES.iter().find(|(n, _)| *n == tok).map(|(_, f)| *f).ok_or_else(|| {
            let names: Vec<&str> = NAMESPACE_NAMES.iter().map(|(n, _)| *n).collect();
            format!("invalid namespace name {tok:?} (expected {})", names.join(", "))
        })?;
        out |= flag;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elevated_privileges_parse_like_lxc() {
        assert_eq!(parse_elevated_privileges(None), Ok(MOVE_TO_CGROUP | DROP_CAPABILITIES | LSM_EXEC));
        assert_eq!(parse_elevated_privileges(Some("CAP")), Ok(DROP_CAPABILITIES));
        assert_eq!(parse_elevated_privileges(Some("CGROUP|LSM")), Ok(MOVE_TO_CGROUP | LSM_EXEC));
        assert!(parse_elevated_privileges(Some("NET")).is_err());
    }

    #[test]
    fn namespaces_parse_like_lxc() {
        assert_eq!(parse_namespaces("NETWORK"), Ok(libc::CLONE_NEWNET));
        assert_eq!(parse_namespaces("PID|UTSNAME"), Ok(libc::CLONE_NEWPID | libc::CLONE_NEWUTS));
        assert!(parse_namespaces("NET").is_err());
        assert!(parse_namespaces("").is_err());
    }

    #[test]
    fn defaults_are_lxcs() {
        let o = AttachOptions::default();
        assert_eq!(o.flags, DEFAULT);
        assert_eq!(o.env_policy, EnvPolicy::Keep);
        assert!(o.namespaces.is_none());
    }
}
