//! Running a process inside a running container (`lxc-attach`, `attach()`): LXC 4.0's
//! `attach.c`.
//!
//! Parent side here; the forked intermediate and attached processes are in [`child`]. Order:
//! ask the monitor for the state (not running / frozen are clear errors), init's pid and pidfd;
//! open init's namespaces and read its confinement ([`context`]); allocate a pty for the
//! standard fds that are terminals; fork the intermediate, which joins the namespaces and
//! forks the attached process as our own child; move that process into the container's
//! cgroups ([`cgroup`]); let it go; relay the terminal and signals until it exits; return its
//! status as a shell would (128+N for signal N, 126/127 when it cannot exec).

pub mod cgroup;
mod child;
pub mod confine;
pub mod console;
pub mod context;
pub mod options;

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use rlxc_config::ContainerConfig;
use rlxc_sys::forkexec::{self, Forked, SigSet, SignalFd};
use tracing::{debug, warn};

pub use child::{shell_from_passwd, DEFAULT_PATH};
pub use options::{AttachCommand, AttachOptions, EnvPolicy};

use crate::commands::{client, CmdError};
use crate::state::State;
use crate::terminal::{self, Proxy, ProxyEnd};

/// What can go wrong attaching.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// The container has no running monitor.
    #[error("container {name:?} is not running")]
    NotRunning { name: String },
    /// Its cgroup is frozen: a process moved there would stop at once.
    #[error("container {name:?} is frozen; unfreeze it first (lxc-unfreeze -n {name})")]
    Frozen { name: String },
    /// Talking to the monitor failed.
    #[error("container {name:?}: {source}")]
    Monitor {
        name: String,
        #[source]
        source: CmdError,
    },
    /// Init died while we were looking at it.
    #[error("container {name:?}: init (pid {pid}) exited while attaching")]
    InitGone { name: String, pid: i32 },
    /// A local system call failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    /// Writing our pid into a container cgroup failed.
    #[error("cannot move the attached process into cgroup {}: {source}", path.display())]
    Cgroup {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The attach could not be completed (details were printed by the child).
    #[error("container {name:?}: {what}")]
    Failed { name: String, what: String },
}

fn io_err(what: &str) -> impl FnOnce(io::Error) -> AttachError + '_ {
    move |source| AttachError::Io { what: what.to_string(), source }
}

/// The container's config as `attach()` sees it: `-f FILE` when given, else
/// `<lxcpath>/<name>/config` (LXC's attach reads the on-disk config, not the monitor's copy).
/// A config rlxc cannot read gives the defaults, with a warning.
pub fn load_container_config(name: &str, lxcpath: &str, rcfile: Option<&std::path::Path>) -> ContainerConfig {
    let path = rcfile.map(std::path::Path::to_path_buf).unwrap_or_else(|| crate::paths::config_path(lxcpath, name));
    if !path.exists() {
        return ContainerConfig::default();
    }
    match crate::container::load_config(&path) {
        Ok(c) => c,
        Err(e) => {
            warn!("cannot read {}: {e}; attaching with default settings", path.display());
            ContainerConfig::default()
        }
    }
}

/// A pty for the attached process: on the container's devpts when the mount namespace is
/// joined (the slave's name then exists in there), else on ours.
fn allocate_pty(ctx: &context::InitContext) -> io::Result<rlxc_sys::pty::PtyPair> {
    if ctx.joins_mntns() {
        match rlxc_sys::pty::open_pty_in(std::path::Path::new(&format!("/proc/{}/root", ctx.pid))) {
            Ok(p) => return Ok(p),
            Err(e) => debug!("no pty from the container's devpts ({e}); using the host's"),
        }
    }
    rlxc_sys::pty::open_pty()
}

/// Check the container is running and not frozen.
pub fn check_attachable(name: &str, lxcpath: &str) -> Result<(), AttachError> {
    let state = client::get_state(name, lxcpath).map_err(|e| match e {
        CmdError::NotRunning { .. } => AttachError::NotRunning { name: name.into() },
        e => AttachError::Monitor { name: name.into(), source: e },
    })?;
    match state {
        State::Stopped | State::Stopping | State::Aborting => Err(AttachError::NotRunning { name: name.into() }),
        State::Frozen | State::Freezing => Err(AttachError::Frozen { name: name.into() }),
        _ if cgroup::is_frozen(name, lxcpath, client::get_init_pid(name, lxcpath).ok()) => {
            Err(AttachError::Frozen { name: name.into() })
        }
        _ => Ok(()),
    }
}

/// Run `command` in container `name` and wait for it; returns its status as a shell reports it.
pub fn attach(name: &str, lxcpath: &str, opts: &AttachOptions, command: &AttachCommand) -> Result<i32, AttachError> {
    check_attachable(name, lxcpath)?;
    let ctx = context::gather(name, lxcpath, opts.namespaces)?;
    debug!(
        "attaching to {name:?}: init pid {}, namespaces {:?}",
        ctx.pid,
        ctx.namespaces.iter().map(|n| n.name).collect::<Vec<_>>()
    );
    let conf = load_container_config(name, lxcpath, opts.rcfile.as_deref());
    let confinement =
        confine::plan(&conf, &ctx, opts).map_err(|what| AttachError::Failed { name: name.into(), what })?;
    let personality = opts.personality.or(match conf.personality {
        Some(rlxc_config::Personality::Linux32) => Some(rlxc_sys::personality::PER_LINUX32),
        Some(rlxc_config::Personality::Linux64) => Some(rlxc_sys::personality::PER_LINUX),
        None => None,
    });

    // A pty for whichever standard fds are terminals; the others are passed through as they are.
    let tty_fds =
        if opts.terminal { [0, 1, 2].map(|n| rlxc_sys::pty::is_terminal(forkexec::stdio_fd(n))) } else { [false; 3] };
    let pty =
        if tty_fds.iter().any(|t| *t) { Some(allocate_pty(&ctx).map_err(io_err("allocating a pty"))?) } else { None };
    // The size first, before the command can ask for it (SIGWINCH keeps it in step later).
    if let (Some(p), Some(n)) = (&pty, tty_fds.iter().position(|t| *t)) {
        let _ = rlxc_sys::pty::copy_window_size(forkexec::stdio_fd(n as i32), &p.master);
    }
    let pty_log = match (&opts.pty_log, &pty) {
        (Some(p), Some(_)) => Some(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| AttachError::Io { what: format!("open pty log {}", p.display()), source: e })?,
        ),
        _ => None,
    };

    let mut sigs = SigSet::of(&[libc::SIGCHLD, libc::SIGWINCH]);
    for s in terminal::FORWARDED {
        sigs.add(*s);
    }
    let old_mask = forkexec::block_signals(&sigs).map_err(io_err("blocking signals"))?;
    let result = (|| {
        let sfd = SignalFd::new(&sigs).map_err(io_err("creating a signalfd"))?;
        let (mut parent_sock, child_sock) = UnixStream::pair().map_err(io_err("creating a socketpair"))?;
        let plan = child::ChildPlan {
            name,
            ctx: &ctx,
            opts,
            command,
            confine: &confinement,
            personality,
            config_env: conf.environment.clone(),
            pty_slave: pty.as_ref().map(|p| &p.slave),
            tty_fds,
            caller_cwd: std::env::current_dir().ok(),
            old_mask,
        };
        let intermediate = match forkexec::fork().map_err(io_err("fork"))? {
            Forked::Child => {
                drop(parent_sock);
                child::intermediate(&plan, child_sock)
            }
            Forked::Parent(pid) => pid,
        };
        drop(child_sock);
        let mut pidbuf = [0u8; 4];
        let got = parent_sock.read_exact(&mut pidbuf);
        let inter_exit = forkexec::wait_exit(intermediate).map_err(io_err("waiting for the intermediate process"))?;
        if got.is_err() {
            return Err(AttachError::Failed {
                name: name.into(),
                what: format!("could not enter the container's namespaces ({inter_exit:?})"),
            });
        }
        let attached_pid = i32::from_ne_bytes(pidbuf);
        let abort = |e: AttachError| {
            let _ = forkexec::kill(attached_pid, libc::SIGKILL);
            let _ = forkexec::wait_exit(attached_pid);
            e
        };
        if opts.flags & options::MOVE_TO_CGROUP != 0 {
            cgroup::move_into_container(name, lxcpath, ctx.pid, attached_pid).map_err(abort)?;
        }
        parent_sock
            .write_all(&[1])
            .map_err(|e| abort(AttachError::Io { what: "releasing the attached process".into(), source: e }))?;
        drop(parent_sock);

        let (master, slave) = match pty {
            Some(p) => (Some(p.master), Some(p.slave)),
            None => (None, None),
        };
        // Our copy of the slave must go, or the master would never see the hang-up.
        drop(slave);
        let stdin = forkexec::stdio_fd(0);
        let _raw = if tty_fds[0] { rlxc_sys::pty::RawMode::enter(stdin).ok() } else { None };
        let output = if tty_fds[1] {
            forkexec::stdio_fd(1)
        } else if tty_fds[2] {
            forkexec::stdio_fd(2)
        } else {
            forkexec::stdio_fd(1)
        };
        let mut proxy = Proxy::new(&sfd, output);
        proxy.child = Some(attached_pid);
        proxy.master = master.as_ref().map(|m| m.as_fd());
        proxy.input = if tty_fds[0] { Some(stdin) } else { None };
        proxy.winsize_from = tty_fds.iter().position(|t| *t).map(|n| forkexec::stdio_fd(n as i32));
        proxy.log = pty_log;
        match proxy.run().map_err(io_err("relaying the terminal"))? {
            ProxyEnd::ChildExited(k) => Ok(k.shell_status()),
            other => Err(AttachError::Failed { name: name.into(), what: format!("terminal session ended: {other:?}") }),
        }
    })();
    let _ = forkexec::set_sigmask(&old_mask);
    result
}
