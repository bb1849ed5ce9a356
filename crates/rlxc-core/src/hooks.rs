//! Running `lxc.hook.*` commands the way LXC does: `sh -c "exec HOOK NAME lxc TYPE ARGS"` for
//! `lxc.hook.version = 0`, or `sh -c "exec HOOK"` with `LXC_HOOK_*` variables for version 1.
//! Hook stdout is logged at DEBUG; a non-zero exit fails the step that ran the hook.

use std::process::{Command, Stdio};

use rlxc_config::{ContainerConfig, HookKind};
use tracing::{debug, error};

/// A hook failed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// It could not be run at all.
    #[error("lxc.hook.{kind}: cannot run \"{command}\": {source}")]
    Spawn {
        /// Hook type.
        kind: &'static str,
        /// Command line.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It exited non-zero or was killed.
    #[error("lxc.hook.{kind}: \"{command}\" failed ({status}){}", if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Failed {
        /// Hook type.
        kind: &'static str,
        /// Command line.
        command: String,
        /// Exit status text.
        status: String,
        /// Last line of its stderr.
        stderr: String,
    },
}

/// Run every hook of `kind` in order. `section` is `lxc` (or `net` for network scripts),
/// `extra_env` is added for version 1 hooks (e.g. `LXC_<NS>_NS`, `LXC_TARGET`), `extra_args` for
/// version 0 hooks (e.g. `mnt:/proc/PID/fd/N`).
pub fn run_hooks(
    conf: &ContainerConfig,
    name: &str,
    kind: HookKind,
    extra_env: &[(String, String)],
    extra_args: &[String],
) -> Result<(), HookError> {
    for cmd in conf.hooks_for(kind) {
        run_one(conf.hook_version, name, kind, "lxc", cmd, extra_env, extra_args)?;
    }
    Ok(())
}

/// Run one hook command.
pub fn run_one(
    version: u32,
    name: &str,
    kind: HookKind,
    section: &str,
    cmd: &str,
    extra_env: &[(String, String)],
    extra_args: &[String],
) -> Result<(), HookError> {
    let script = if version == 0 {
        let mut s = format!("exec {cmd} {} {section} {}", shell_quote(name), kind.name());
        for a in extra_args {
            s.push(' ');
            s.push_str(&shell_quote(a));
        }
        s
    } else {
        format!("exec {cmd}")
    };
    debug!("executing {} hook \"{}\"", kind.name(), cmd);
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg(&script).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if version >= 1 {
        c.env("LXC_HOOK_TYPE", kind.name()).env("LXC_HOOK_SECTION", section);
    }
    for (k, v) in extra_env {
        c.env(k, v);
    }
    // A killed monitor (or lxc-start -F) takes its running hook with it (LXC leaves it running).
    rlxc_sys::process::kill_with_parent(&mut c);
    let out = c.output().map_err(|source| HookError::Spawn { kind: kind.name(), command: cmd.to_string(), source })?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        debug!("{} hook output: {line}", kind.name());
    }
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("").to_string();
        let status = match (out.status.code(), std::os::unix::process::ExitStatusExt::signal(&out.status)) {
            (Some(c), _) => format!("exit status {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            _ => "unknown status".into(),
        };
        error!("{} hook \"{}\" failed: {status}", kind.name(), cmd);
        return Err(HookError::Failed { kind: kind.name(), command: cmd.to_string(), status, stderr });
    }
    Ok(())
}

/// Quote one word for `sh` (single quotes).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b)) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The common hook variables LXC exports in the monitor before pre-start (they are inherited by
/// every hook, also those run in the container).
#[allow(clippy::too_many_arguments)]
pub fn export_common_env(
    name: &str,
    config_file: &str,
    rootfs_mount: &str,
    rootfs_path: &str,
    console: &str,
    console_log: &str,
    cgns_aware: bool,
    version: u32,
) {
    let set = |k: &str, v: &str| std::env::set_var(k, v);
    set("LXC_NAME", name);
    set("LXC_CONFIG_FILE", config_file);
    set("LXC_ROOTFS_MOUNT", rootfs_mount);
    set("LXC_ROOTFS_PATH", rootfs_path);
    set("LXC_CONSOLE", console);
    set("LXC_CONSOLE_LOGPATH", console_log);
    if cgns_aware {
        set("LXC_CGNS_AWARE", "1");
    }
    set("LXC_LOG_LEVEL", crate::log::level().name());
    set("LXC_HOOK_VERSION", &version.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("abc"), "abc");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn v0_hook_gets_positional_args_and_failure_is_reported() {
        let r =
            run_one(0, "c1", HookKind::PreStart, "lxc", "sh -c 'test \"$1 $2 $3\" = \"c1 lxc pre-start\"' x", &[], &[]);
        assert!(r.is_ok(), "{r:?}");
        let r = run_one(1, "c1", HookKind::Stop, "lxc", "test \"$LXC_HOOK_TYPE\" = stop", &[], &[]);
        assert!(r.is_ok(), "{r:?}");
        let e = run_one(1, "c1", HookKind::Stop, "lxc", "sh -c 'echo boom >&2; exit 3'", &[], &[]).unwrap_err();
        assert!(e.to_string().contains("exit status 3") && e.to_string().contains("boom"), "{e}");
    }
}
