//! The monitor's side of one boot (LXC's `lxc_init` + `lxc_spawn`, spec §5.2): hooks, console,
//! clone with the namespace flags, id maps, network, limits, the setup protocol with the child,
//! and the teardown after init exits (`lxc_end`). Every resource is owned by a guard so a failure
//! at any step leaves nothing behind.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use rlxc_config::{HookKind, Namespace};
use rlxc_sys::clone::{clone_process, Cloned};
use rlxc_sys::process as sysproc;
use tracing::{debug, info, warn};

use super::channel::{self, Msg};
use super::child::{self, ChildSpec};
use super::namespaces;
use super::{set_state, StartOptions};
use crate::commands::server::CommandServer;
use crate::console::Console;
use crate::hooks;
use crate::monitor::Monitor;
use crate::state::State;

/// What one boot holds until init exits.
pub struct Boot {
    /// Host-side network devices (removed on drop).
    pub net: Option<crate::network::HostNetGuard>,
    /// `/proc/<init>/ns/*` kept open for the stop hooks.
    pub ns_fds: Vec<(&'static str, File)>,
    /// The nbd device of an `nbd:` rootfs (disconnected on drop).
    pub block: Option<rlxc_storage::nbd::Attachment>,
}

/// Kills and reaps init unless disarmed (a failed start leaves no process behind).
struct ChildGuard {
    pid: i32,
    pidfd: Option<OwnedFd>,
    armed: bool,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        match self.pidfd.as_ref() {
            Some(fd) => {
                let _ = rlxc_sys::pidfd::pidfd_send_signal(fd.as_fd(), libc::SIGKILL);
            }
            None => {
                let _ = rlxc_sys::pidfd::kill(self.pid, libc::SIGKILL);
            }
        }
        let _ = sysproc::waitpid(self.pid, false);
    }
}

/// Boot the container once. On error the reason is returned and everything made here is gone
/// (the caller runs [`teardown`] for hooks and state).
pub fn boot(
    m: &mut Monitor,
    server: &mut CommandServer,
    argv: &[String],
    argv_origin: &str,
    sigmask: sysproc::SigMask,
    opts: &StartOptions,
) -> Result<Boot, String> {
    set_state(m, server, State::Starting);
    let conf = m.conf.clone();
    crate::security::check_config(&conf).map_err(|e| e.to_string())?;
    // Hook environment, exported in the monitor like LXC (inherited by every hook).
    let rootfs_path = conf.rootfs.location.clone().or_else(|| conf.rootfs.path.clone()).unwrap_or_default();
    // Non-dir backends (overlay, loop) mount somewhere other than their location.
    let rootfs_mount = conf.rootfs.mount.clone().unwrap_or_else(|| match rlxc_storage::open(&conf.rootfs) {
        Ok(s) if !s.is_directory() => s.mount_target().to_string_lossy().into_owned(),
        _ => rootfs_path.clone(),
    });
    hooks::export_common_env(
        &m.name,
        &m.config_path,
        &rootfs_mount,
        &rootfs_path,
        conf.console.path.as_deref().unwrap_or(""),
        conf.console.logfile.as_deref().unwrap_or(""),
        std::path::Path::new("/proc/self/ns/cgroup").exists(),
        conf.hook_version,
    );
    std::env::remove_var("LXC_PID");
    hooks::run_hooks(&conf, &m.name, HookKind::PreStart, &[], &[]).map_err(|e| e.to_string())?;

    // Security decisions (seccomp policy parsed, AppArmor profile chosen or generated).
    m.security = Some(crate::security::prepare(&conf, &m.name, &m.lxcpath).map_err(|e| e.to_string())?);

    // An nbd rootfs is attached now, before the monitor enters its cgroup: the qemu-nbd server
    // it leaves running is host plumbing, not part of the container (teardown detaches it).
    let block = rlxc_storage::nbd::attach(&conf.rootfs).map_err(|e| e.to_string())?;

    // Monitor cgroup (entered now) and payload cgroup (entered by init after clone).
    let mut cg =
        crate::cgroups::ContainerCgroups::create_monitor(&conf, &m.name).map_err(|e| format!("cgroups: {e}"))?;
    cg.create_payload().map_err(|e| format!("cgroups: create payload cgroup: {e}"))?;

    // Console pty on the host side.
    m.console = Console::setup(&conf.console).map_err(|e| e.to_string())?;
    if opts.foreground_console {
        if let Some(c) = m.console.as_mut() {
            c.peer_out = rustix::io::dup(rustix::stdio::stdout()).ok();
            if sysproc::isatty(0) {
                c.peer_in = rustix::io::dup(rustix::stdio::stdin()).ok();
                // The console starts with the caller's window size.
                if let Ok(ws) = rustix::termios::tcgetwinsize(rustix::stdio::stdin()) {
                    let _ = rustix::termios::tcsetwinsize(&c.pty.master, ws);
                }
            }
        }
    }
    let console_slave = m.console.as_ref().map(|c| c.pty.slave_path.clone());
    if crate::unpriv::is_unprivileged() && !conf.idmaps.is_empty() {
        // A user hands the console and the payload cgroups to the container's root from a
        // helper user namespace, in one go (LXC's chown_mapped_root / chown_cgroup).
        // The pty belongs to our uid and the tty group, which the helper namespace does not
        // map (the kernel then refuses its chown): hand it to our own group first.
        let console = console_slave.as_deref().filter(|p| {
            let gid = rustix::process::getegid().as_raw();
            std::os::unix::fs::chown(p, None, Some(gid))
                .map_err(|e| warn!("console {} stays with the host's ids: chgrp: {e}", p.display()))
                .is_ok()
        });
        let paths = cg.delegation_paths();
        let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
        if let Err(e) = crate::unpriv::chown_for_container(&conf.idmaps, console, &refs) {
            warn!("delegating the console and cgroups to the container's root: {e}");
        }
        for p in &paths {
            let mode = if p.is_dir() { 0o775 } else { 0o664 };
            if let Err(e) = std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(mode)) {
                debug!("chmod {mode:o} {}: {e}", p.display());
            }
        }
    } else if !conf.idmaps.is_empty() {
        // The console belongs to the container's root (LXC chowns it for the idmap).
        if let Some(p) = console_slave.as_ref() {
            let uid = crate::idmap::host_id(&conf.idmaps, rlxc_config::IdType::Uid, 0);
            let gid = crate::idmap::host_id(&conf.idmaps, rlxc_config::IdType::Gid, 5)
                .or_else(|| crate::idmap::host_id(&conf.idmaps, rlxc_config::IdType::Gid, 0));
            if let Err(e) = std::os::unix::fs::chown(p, uid.map(|u| u as u32), gid.map(|g| g as u32)) {
                warn!("chown console {}: {e}", p.display());
            }
        }
    }

    let (pchan, cchan) = channel::pair().map_err(|e| format!("socketpair for the setup channel: {e}"))?;
    let ns = namespaces::clone_namespaces(&conf);
    let name = m.name.clone();
    let lxcpath = m.lxcpath.clone();
    let pid_of = |who: &str| -> Option<i32> {
        let (p, n) = match who.rsplit_once('/') {
            Some((p, n)) => (p.to_string(), n.to_string()),
            None => (lxcpath.clone(), who.to_string()),
        };
        crate::commands::client::get_init_pid(&n, &p).ok()
    };
    let shared = namespaces::open_shared(&conf, &pid_of)?;
    // A shared pid namespace must be entered before clone (it only affects children).
    let mut own_pidns = None;
    let mut child_shared = Vec::new();
    for (n, fd) in shared {
        if n == Namespace::Pid {
            own_pidns = Some(File::open("/proc/self/ns/pid").map_err(|e| format!("open /proc/self/ns/pid: {e}"))?);
            rlxc_sys::ns::setns(fd.as_fd(), libc::CLONE_NEWPID)
                .map_err(|e| format!("lxc.namespace.share.pid: setns: {e}"))?;
        } else {
            child_shared.push((n, fd));
        }
    }
    let flags = namespaces::flags(&ns);
    m.clone_flags = flags as i32;
    debug!("cloning init with namespaces {:?} (flags {flags:#x})", ns.iter().map(|n| n.name()).collect::<Vec<_>>());
    // As LXC: never CLONE_NEWCGROUP at clone time; the child unshares it after entering the
    // payload cgroup so that becomes its namespace root.
    let cloned = clone_process(flags & !(libc::CLONE_NEWCGROUP as u64), true, None);
    if let Some(own) = own_pidns.as_ref() {
        let _ = rlxc_sys::ns::setns(own.as_fd(), libc::CLONE_NEWPID);
    }
    let (pid, pidfd) = match cloned.map_err(|e| format!("clone init with flags {flags:#x}: {e}"))?.0 {
        Cloned::Child => {
            drop(pchan);
            let spec = ChildSpec {
                conf: &conf,
                name: &name,
                argv: argv.to_vec(),
                argv_origin: argv_origin.to_string(),
                console: console_slave,
                namespaces: ns.clone(),
                shared: child_shared,
                sigmask: Some(sigmask),
            };
            child::run(spec, cchan)
        }
        Cloned::Parent { pid, pidfd } => (pid, pidfd),
    };
    drop(cchan);
    drop(child_shared);
    let pidfd = pidfd.or_else(|| rlxc_sys::pidfd::pidfd_open(pid).ok());
    let mut guard = ChildGuard { pid, pidfd, armed: true };
    std::env::set_var("LXC_PID", pid.to_string());
    info!("init of \"{}\" is pid {pid}", m.name);

    // Namespace references for the stop hooks.
    let mut ns_fds = Vec::new();
    for (cfg, file, _, _) in rlxc_sys::ns::NAMESPACES {
        if let Ok(f) = File::open(format!("/proc/{pid}/ns/{file}")) {
            ns_fds.push((*cfg, f));
        }
    }
    // Everything the monitor does for the child before it may go on. When a step fails because
    // the child already died (its namespaces are gone), the child's own report is the reason.
    let configured = (|| -> Result<_, String> {
        // Id maps before the child proceeds.
        if ns.contains(&Namespace::User) {
            // Root writes the maps itself; a user goes through newuidmap/newgidmap, which check
            // them against /etc/subuid and /etc/subgid.
            crate::usernsexec::map_ids(pid, &conf.idmaps).map_err(|e| format!("lxc.idmap: {e}"))?;
        }
        cg.enter_payload(pid).map_err(|e| format!("cgroups: move init {pid} into the payload cgroup: {e}"))?;
        cg.apply_limits(&conf).map_err(|e| format!("cgroups: {e}"))?;
        // Network: create host-side devices and move them into the child's netns.
        let unpriv = crate::unpriv::is_unprivileged();
        let mut user_nics = Vec::new();
        if unpriv && ns.contains(&Namespace::Net) && !crate::network::joins_other_netns(&conf) {
            // A user has no privilege in the container's network namespace: veth devices come
            // from the setuid lxc-user-nic; they vanish with the namespace.
            let nics = crate::usernic::create(&conf, &m.name, &m.lxcpath, pid).map_err(|e| format!("network: {e}"))?;
            user_nics = nics.iter().map(crate::usernic::encode).collect();
            for n in nics {
                if let Some(d) = m.conf.net.get_mut(&n.index) {
                    d.veth.pair = Some(n.host_name.clone());
                }
            }
        }
        let net = if !unpriv && ns.contains(&Namespace::Net) && !conf.net.is_empty() {
            Some(crate::network::create_host_side_named(&conf, &m.name, pid).map_err(|e| format!("network: {e}"))?)
        } else {
            None
        };
        if let Some(n) = net.as_ref() {
            // Generated host-side names (vethXXXXXX) are what GET_CONFIG_ITEM answers from now on.
            crate::network::record_runtime_names(&mut m.conf, n);
        }
        crate::security::write_proc_settings(&conf, pid).map_err(|e| format!("lxc.proc: {e}"))?;
        crate::security::apply_prlimits(&conf, pid).map_err(|e| format!("lxc.prlimit: {e}"))?;
        pchan.send(&Msg::Configure { nics: user_nics }, &[]).map_err(|e| e.to_string())?;
        Ok(net)
    })();
    let net = configured.map_err(|e| pchan.pending_error().unwrap_or(e))?;
    let (done, mut fds) = pchan.expect("SetupDone").map_err(|e| e.to_string())?;
    if let Msg::SetupDone { notify: true } = done {
        if let Some(listener) = fds.pop() {
            m.notify = Some(
                crate::security::notify_handler(&conf, listener, pid).map_err(|e| format!("seccomp notify: {e}"))?,
            );
        }
    }
    m.ttys = fds.into_iter().map(|f| (f, false)).collect();
    cg.apply_devices(&conf).map_err(|e| format!("cgroups: device rules: {e}"))?;
    hooks::run_hooks(&conf, &m.name, HookKind::StartHost, &[], &[]).map_err(|e| e.to_string())?;
    pchan.send(&Msg::Start, &[]).map_err(|e| e.to_string())?;
    pchan.expect_closed().map_err(|e| e.to_string())?;

    guard.armed = false;
    m.init_pid = Some(pid);
    m.pidfd = guard.pidfd.take();
    m.cgroup_paths = cgroup_paths(&cg);
    m.cgroups = Some(cg);
    Ok(Boot { net, ns_fds, block })
}

/// After init exited (or a failed boot): STOPPING, stop hooks with namespace references,
/// network and cgroup cleanup, STOPPED, post-stop hooks. Returns false when a post-stop hook
/// failed (which turns a reboot into a stop, as in LXC).
pub fn teardown(m: &mut Monitor, server: &mut CommandServer, boot: Option<&mut Boot>, reboot: bool) -> bool {
    set_state(m, server, State::Stopping);
    let conf = m.conf.clone();
    let target = if reboot { "reboot" } else { "stop" };
    let mut env = vec![("LXC_TARGET".to_string(), target.to_string())];
    let mut args = Vec::new();
    let me = sysproc::getpid();
    let mut started = false;
    if let Some(b) = boot {
        started = true;
        for (ns, f) in &b.ns_fds {
            let p = format!("/proc/{me}/fd/{}", f.as_raw_fd());
            let var = rlxc_sys::ns::NAMESPACES.iter().find(|x| x.0 == *ns).map(|x| x.3).unwrap_or("");
            env.push((format!("LXC_{var}_NS"), p.clone()));
            args.push(format!("{ns}:{p}"));
        }
        if let Err(e) = hooks::run_hooks(&conf, &m.name, HookKind::Stop, &env, &args) {
            warn!("{e}");
        }
        m.notify = None;
        if let Some(net) = b.net.take() {
            drop(net);
        }
        b.ns_fds.clear();
        // The container's mount namespace is gone with init and the references above: its
        // rootfs device can be disconnected.
        b.block = None;
    }
    m.init_pid = None;
    m.pidfd = None;
    m.cgroup_paths.clear();
    if let Some(mut cg) = m.cgroups.take() {
        if let Err(e) = cg.destroy() {
            warn!("cgroups: {e}");
        }
    }
    m.ttys.clear();
    if let Some(plan) = m.security.take() {
        crate::security::cleanup(&plan);
    }
    set_state(m, server, State::Stopped);
    let mut ok = true;
    if started || std::env::var_os("LXC_PID").is_some() {
        if let Err(e) =
            hooks::run_hooks(&conf, &m.name, HookKind::PostStop, &[("LXC_TARGET".into(), target.into())], &[])
        {
            warn!("{e}");
            ok = false;
        }
    }
    m.console = None;
    ok
}

/// The payload cgroup path per controller (None = cgroup2), for GET_CGROUP.
fn cgroup_paths(cg: &crate::cgroups::ContainerCgroups) -> Vec<(Option<String>, String)> {
    let mut v = Vec::new();
    if let Some(p) = cg.payload_path(None) {
        v.push((None, p));
    }
    for c in [
        "cpu",
        "cpuacct",
        "cpuset",
        "memory",
        "devices",
        "freezer",
        "blkio",
        "pids",
        "net_cls",
        "net_prio",
        "perf_event",
        "hugetlb",
        "rdma",
        "misc",
        "name=systemd",
    ] {
        if let Some(p) = cg.payload_path(Some(c)) {
            v.push((Some(c.to_string()), p));
        }
    }
    v
}
