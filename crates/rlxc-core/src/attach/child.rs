//! The two forked processes of an attach.
//!
//! The *intermediate* joins the namespaces (user first, then mount, pid, uts, ipc, net,
//! cgroup) and forks the *attached* process with `CLONE_PARENT`, so that the attached process
//! is born inside the container's pid namespace yet is lxc-attach's own child. The intermediate
//! sends the attached pid up and exits. The attached process waits until lxc-attach has moved
//! it into the container's cgroups, then sets itself up in LXC's order (spec 5.8) and execs.
//!
//! Both run in freshly forked copies of a single-threaded lxc-attach, which is what makes
//! changing the environment and allocating here sound. They never return: they `_exit`.

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use rlxc_sys::forkexec::{self, Forked, SigSet};

use super::confine::Confinement;
use super::context::InitContext;
use super::options::{self, AttachCommand, AttachOptions, EnvPolicy};

/// The PATH set when the environment is cleared (LXC's).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Everything the children need, prepared by the parent.
pub(super) struct ChildPlan<'a> {
    pub name: &'a str,
    pub ctx: &'a InitContext,
    pub opts: &'a AttachOptions,
    pub command: &'a AttachCommand,
    pub confine: &'a Confinement,
    /// Personality to set, if any.
    pub personality: Option<u64>,
    /// `lxc.environment` of the container, `NAME=VALUE` each.
    pub config_env: Vec<String>,
    /// The pty slave, and which of stdin/stdout/stderr it replaces.
    pub pty_slave: Option<&'a OwnedFd>,
    pub tty_fds: [bool; 3],
    /// lxc-attach's working directory (tried inside the container when no cwd was asked for).
    pub caller_cwd: Option<PathBuf>,
    /// The signal mask to restore before exec.
    pub old_mask: SigSet,
}

fn fail(name: &str, msg: &str, code: i32) -> ! {
    let _ = writeln!(std::io::stderr(), "lxc-attach: {name}: {msg}");
    forkexec::exit_now(code)
}

/// The intermediate process. `sock` is its end of the socketpair with lxc-attach.
pub(super) fn intermediate(plan: &ChildPlan<'_>, sock: UnixStream) -> ! {
    for ns in &plan.ctx.namespaces {
        if let Err(e) = rlxc_sys::ns::setns(ns.fd.as_fd(), ns.flag) {
            fail(plan.name, &format!("cannot join {} namespace of init (pid {}): {e}", ns.name, plan.ctx.pid), 1);
        }
    }
    // setns(CLONE_NEWNS) left us at the container's root: go to the asked-for directory, else
    // to ours if the container has it, else stay at "/".
    match (&plan.opts.initial_cwd, &plan.caller_cwd) {
        (Some(d), _) => {
            if let Err(e) = std::env::set_current_dir(d) {
                fail(plan.name, &format!("cannot change to directory {}: {e}", d.display()), 1);
            }
        }
        (None, Some(d)) => {
            if std::env::set_current_dir(d).is_err() {
                let _ = std::env::set_current_dir("/");
            }
        }
        (None, None) => {
            let _ = std::env::set_current_dir("/");
        }
    }
    match forkexec::fork_sibling() {
        Ok(Forked::Child) => attached(plan, sock),
        Ok(Forked::Parent(pid)) => {
            let mut s = &sock;
            if s.write_all(&pid.to_ne_bytes()).is_err() {
                forkexec::exit_now(1);
            }
            forkexec::exit_now(0)
        }
        Err(e) => fail(plan.name, &format!("cannot fork into the container: {e}"), 1),
    }
}

/// The attached process: set up and exec; never returns.
fn attached(plan: &ChildPlan<'_>, sock: UnixStream) -> ! {
    // Wait for lxc-attach: it moves us into the cgroups first.
    let mut go = [0u8; 1];
    let mut s = &sock;
    if s.read_exact(&mut go).is_err() || go[0] != 1 {
        forkexec::exit_now(1);
    }
    drop(sock);
    if let Err(msg) = setup(plan) {
        fail(plan.name, &msg, 1);
    }
    let argv = match plan.command {
        AttachCommand::Argv(a) => a.clone(),
        AttachCommand::Shell => vec![OsString::from(user_shell(current_uid()))],
    };
    forkexec::reset_signal_dispositions();
    let _ = forkexec::set_sigmask(&plan.old_mask);
    let err = forkexec::execvp(&argv);
    // Like a shell: 127 when the program does not exist, 126 when it cannot be executed.
    let code = match err.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ENOTDIR) => 127,
        _ => 126,
    };
    fail(plan.name, &format!("failed to exec \"{}\": {err}", argv[0].to_string_lossy()), code)
}

fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

fn setup(plan: &ChildPlan<'_>) -> Result<(), String> {
    let opts = plan.opts;
    if opts.flags & options::REMOUNT_PROC_SYS != 0 && !plan.ctx.joins_mntns() {
        remount_proc_sys(plan.ctx.namespaces.iter().any(|n| n.flag == libc::CLONE_NEWNET))?;
    }
    if opts.flags & options::SET_PERSONALITY != 0 {
        if let Some(p) = plan.personality {
            rlxc_sys::personality::set(p).map_err(|e| format!("cannot set personality {p:#x}: {e}"))?;
        }
    }
    set_environment(plan);
    if let Some(slave) = plan.pty_slave {
        rustix::process::setsid().map_err(|e| format!("setsid: {e}"))?;
        rlxc_sys::pty::set_controlling_terminal(slave).map_err(|e| format!("cannot make the pty our terminal: {e}"))?;
        for (n, used) in plan.tty_fds.iter().enumerate() {
            if *used {
                forkexec::dup2(slave, n as i32).map_err(|e| format!("cannot put the pty on fd {n}: {e}"))?;
            }
        }
    }
    let (def_uid, def_gid) = plan.ctx.container_ids();
    let uid = opts.uid.unwrap_or(def_uid);
    let gid = opts.gid.unwrap_or(def_gid);
    // In a joined user namespace become its root first, so the confinement steps run with the
    // namespace's privileges.
    if plan.ctx.joins_userns() {
        let _ = forkexec::set_gid(0);
        let _ = forkexec::set_uid(0);
        // The caller's own supplementary groups mean nothing in there (they show as the
        // overflow gid): drop them as LXC does; EPERM (setgroups denied) keeps them.
        let _ = forkexec::drop_supplementary_groups();
    }
    plan.confine.apply()?;
    let (cur_uid, cur_gid) = (current_uid(), rustix::process::getgid().as_raw());
    if gid != cur_gid || uid != cur_uid {
        // Only possible with CAP_SETGID; a failure means we keep ours, which is what we want.
        let _ = forkexec::drop_supplementary_groups();
    }
    if gid != cur_gid {
        forkexec::set_gid(gid).map_err(|e| format!("cannot switch to gid {gid}: {e}"))?;
    }
    if uid != cur_uid {
        forkexec::set_uid(uid).map_err(|e| format!("cannot switch to uid {uid}: {e}"))?;
    }
    Ok(())
}

/// LXC's `lxc_attach_set_environment`.
fn set_environment(plan: &ChildPlan<'_>) {
    let opts = plan.opts;
    // Our own re-exec bookkeeping is not the container's business.
    std::env::remove_var(rlxc_sys::sealed_exe::ORIGIN_ENV);
    if opts.env_policy == EnvPolicy::Clear {
        let kept: Vec<(String, OsString)> =
            opts.extra_keep_env.iter().filter_map(|k| std::env::var_os(k).map(|v| (k.clone(), v))).collect();
        for (k, _) in std::env::vars_os() {
            std::env::remove_var(k);
        }
        for (k, v) in &kept {
            std::env::set_var(k, v);
        }
        if !kept.iter().any(|(k, _)| k == "PATH") {
            std::env::set_var("PATH", DEFAULT_PATH);
        }
    }
    std::env::set_var("container", "lxc");
    for kv in &plan.config_env {
        if let Some((k, v)) = kv.split_once('=') {
            if !k.is_empty() {
                std::env::set_var(k, v);
            }
        }
    }
    for kv in &opts.extra_env {
        match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => std::env::set_var(k, v),
            // putenv("NAME") without '=' removes NAME in glibc.
            None if !kv.is_empty() => std::env::remove_var(kv),
            _ => {}
        }
    }
}

/// LXC's `lxc_attach_remount_sys_proc`: a private mount namespace whose /proc (and /sys, when
/// a network namespace was joined) match the joined namespaces.
fn remount_proc_sys(remount_sys: bool) -> Result<(), String> {
    use rustix::mount::{mount, mount_change, unmount, MountFlags, MountPropagationFlags, UnmountFlags};
    rlxc_sys::ns::unshare(libc::CLONE_NEWNS).map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))?;
    // Never let the unmounts below propagate back to the host.
    mount_change("/", MountPropagationFlags::DOWNSTREAM | MountPropagationFlags::REC)
        .map_err(|e| format!("making / a slave mount: {e}"))?;
    unmount("/proc", UnmountFlags::DETACH).map_err(|e| format!("unmounting /proc: {e}"))?;
    mount("proc", "/proc", "proc", MountFlags::empty(), None).map_err(|e| format!("mounting /proc: {e}"))?;
    if remount_sys {
        match unmount("/sys", UnmountFlags::DETACH) {
            Ok(()) => {
                mount("sysfs", "/sys", "sysfs", MountFlags::empty(), None).map_err(|e| format!("mounting /sys: {e}"))?
            }
            Err(rustix::io::Errno::INVAL) => {}
            Err(e) => return Err(format!("unmounting /sys: {e}")),
        }
    }
    Ok(())
}

/// The login shell of `uid` in the passwd file we now see (the container's, once its mount
/// namespace is joined), else `/bin/sh`.
pub fn user_shell(uid: u32) -> String {
    let text = fs::read("/etc/passwd").map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    shell_from_passwd(&text, uid).unwrap_or_else(|| "/bin/sh".to_string())
}

/// Find `uid`'s shell in passwd text.
pub fn shell_from_passwd(text: &str, uid: u32) -> Option<String> {
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() >= 7 && f[2].parse::<u32>().ok() == Some(uid) && !f[6].trim().is_empty() {
            Some(f[6].trim().to_string())
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_comes_from_passwd() {
        let p = "root:x:0:0:root:/root:/bin/ash\nuser:x:1000:1000::/home/u:/bin/zsh\nnosh:x:5:5::/:\n";
        assert_eq!(shell_from_passwd(p, 0).as_deref(), Some("/bin/ash"));
        assert_eq!(shell_from_passwd(p, 1000).as_deref(), Some("/bin/zsh"));
        assert_eq!(shell_from_passwd(p, 5), None);
        assert_eq!(shell_from_passwd(p, 77), None);
    }
}
