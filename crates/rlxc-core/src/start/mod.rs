//! Starting a container (LXC's `do_lxcapi_start` / `__lxc_start`, spec §5): the daemonizing
//! steps and handshake, the monitor's reboot loop, and teardown. The clone and the parent side
//! of the setup protocol are in [`spawn`], the child side in [`child`].

// MS_*/CLONE_* constants are `c_ulong`/`c_int`: the `as u64` casts are needed on 32-bit targets.
#![allow(clippy::unnecessary_cast)]

pub mod channel;
pub mod child;
pub mod namespaces;
pub mod spawn;

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use rlxc_config::ContainerConfig;
use rlxc_sys::process as sysproc;
use tracing::{error, info, warn};

use crate::commands::server::{CommandServer, ServerError};
use crate::monitor::{self, Monitor};
use crate::state::State;

/// How to start (lxc-start's options).
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Run the monitor in the background and return once the container is RUNNING (`-d`).
    pub daemonize: bool,
    /// Command to run instead of init (trailing arguments of lxc-start).
    pub argv: Option<Vec<String>>,
    /// Write the monitor's pid here (`-p`).
    pub pidfile: Option<PathBuf>,
    /// Close inherited fds (`-C`, implied by `-d`).
    pub close_all_fds: bool,
    /// Attach our terminal to the console (`-F`).
    pub foreground_console: bool,
}

/// Why a start failed. The message is what the user reads.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The command socket is taken.
    #[error("{0}")]
    AlreadyRunning(String),
    /// Anything else, with the reason.
    #[error("{0}")]
    Failed(String),
}

impl From<ServerError> for StartError {
    fn from(e: ServerError) -> Self {
        match e {
            ServerError::AlreadyRunning { name, .. } => {
                StartError::AlreadyRunning(format!("container \"{name}\" is already running"))
            }
            e => StartError::Failed(e.to_string()),
        }
    }
}

/// What to start: identity and config.
pub struct Target {
    /// Container name.
    pub name: String,
    /// lxcpath as given.
    pub lxcpath: String,
    /// Config file path.
    pub config_path: String,
    /// The loaded config (with `-s` overrides applied).
    pub conf: ContainerConfig,
}

/// The argv to exec and where it came from (for messages): explicit command, else
/// `lxc.init.cmd`, else `/sbin/init`.
pub fn init_argv(conf: &ContainerConfig, explicit: Option<&[String]>) -> (Vec<String>, String) {
    if let Some(a) = explicit.filter(|a| !a.is_empty()) {
        return (a.to_vec(), "command".to_string());
    }
    if let Some(cmd) = conf.init.cmd.as_deref().filter(|c| !c.trim().is_empty()) {
        return (cmd.split_whitespace().map(str::to_string).collect(), "lxc.init.cmd".to_string());
    }
    (vec!["/sbin/init".to_string()], "init".to_string())
}

/// Start the container. Daemonized: returns Ok(0) once it is RUNNING (the monitor lives on in
/// the background) or the reason it failed. Foreground: returns when the container stopped,
/// with init's exit code.
pub fn start(t: Target, opts: &StartOptions) -> Result<i32, StartError> {
    if opts.daemonize || opts.close_all_fds {
        // LXC's lxc_check_inherited: nothing of the caller leaks into the monitor or container.
        let keep: Vec<i32> = crate::log::file_fd().into_iter().collect();
        sysproc::close_fds_from(3, &keep);
    }
    // Binding the command socket is what makes a second start fail.
    let server = CommandServer::bind(&t.lxcpath, &t.name)?;
    if !opts.daemonize {
        write_pidfile(opts.pidfile.as_ref());
        let saved = if opts.foreground_console { terminal_raw_mode() } else { None };
        let r = run_monitor(t, server, opts, None);
        if let Some(s) = saved {
            let _ = rustix::termios::tcsetattr(rustix::stdio::stdin(), rustix::termios::OptionalActions::Now, &s);
        }
        remove_pidfile(opts.pidfile.as_ref());
        return r;
    }
    let (mut rd, wr) = UnixStream::pair().map_err(|e| StartError::Failed(format!("socketpair: {e}")))?;
    match rlxc_sys::clone::fork().map_err(|e| StartError::Failed(format!("fork: {e}")))? {
        Some(pid) => {
            drop(wr);
            drop(server);
            let mut buf = Vec::new();
            let _ = rd.read_to_end(&mut buf);
            let _ = sysproc::waitpid(pid, false);
            let text = String::from_utf8_lossy(&buf).into_owned();
            if text == "RUNNING" {
                Ok(0)
            } else if let Some(reason) = text.strip_prefix("ERROR ") {
                Err(StartError::Failed(reason.to_string()))
            } else {
                Err(StartError::Failed(
                    "the monitor exited without reporting a state (run with -l DEBUG -o FILE for details)".into(),
                ))
            }
        }
        None => {
            drop(rd);
            match rlxc_sys::clone::fork() {
                Ok(Some(_)) => sysproc::exit_now(0),
                Err(_) => sysproc::exit_now(1),
                Ok(None) => {}
            }
            // The monitor: new session, no terminal, stdio on /dev/null, titled like LXC's.
            let _ = sysproc::setsid();
            let _ = std::env::set_current_dir("/");
            if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
                for n in 0..3 {
                    let _ = sysproc::dup2(null.as_raw_fd(), n);
                }
            }
            crate::log::disable_stderr();
            let title = format!("[lxc monitor] {} {}", t.lxcpath, t.name);
            if let Err(e) = sysproc::set_process_title(&title) {
                warn!("cannot set the process title: {e}");
            }
            let _ = sysproc::set_comm("lxc monitor");
            write_pidfile(opts.pidfile.as_ref());
            let code = match run_monitor(t, server, opts, Some(wr)) {
                Ok(_) => 0,
                Err(_) => 1,
            };
            remove_pidfile(opts.pidfile.as_ref());
            sysproc::exit_now(code)
        }
    }
}

fn write_pidfile(p: Option<&PathBuf>) {
    if let Some(p) = p {
        if let Err(e) = std::fs::write(p, format!("{}\n", sysproc::getpid())) {
            warn!("pid file {}: {e}", p.display());
        }
    }
}

fn remove_pidfile(p: Option<&PathBuf>) {
    if let Some(p) = p {
        let _ = std::fs::remove_file(p);
    }
}

fn terminal_raw_mode() -> Option<rustix::termios::Termios> {
    let stdin = rustix::stdio::stdin();
    if !sysproc::isatty(0) {
        return None;
    }
    let orig = rustix::termios::tcgetattr(stdin).ok()?;
    let mut raw = orig.clone();
    raw.make_raw();
    rustix::termios::tcsetattr(stdin, rustix::termios::OptionalActions::Now, &raw).ok()?;
    Some(orig)
}

/// Leave the command socket (and its client connections: STOP waiters, state clients) to be
/// closed by the kernel when this process exits. The kernel releases the process's memory
/// before its files, so a client that sees the socket close never finds this monitor still
/// listed with its title: "stopped" then really means gone.
fn close_at_exit(server: CommandServer) {
    std::mem::forget(server);
}

/// The daemonized caller waiting for the first real state.
struct Handshake(Option<UnixStream>);

impl Handshake {
    fn report(&mut self, r: Result<(), &str>) {
        if let Some(mut s) = self.0.take() {
            let msg = match r {
                Ok(()) => "RUNNING".to_string(),
                Err(reason) => format!("ERROR {reason}"),
            };
            let _ = s.write_all(msg.as_bytes());
            if r.is_err() {
                // Keep the socket open until this process exits: the caller returns at EOF, so
                // it sees the failure only once the monitor is really gone.
                std::mem::forget(s);
            }
        }
    }
}

/// Record and serve a state (state clients, legacy monitor FIFO).
pub fn set_state(m: &mut Monitor, server: &mut CommandServer, st: State) {
    m.state = st;
    info!("container \"{}\" is {st}", m.name);
    server.set_state(&m.lxcpath, &m.name, st);
}

/// The monitor proper: boot, serve until init exits, tear down; again on reboot.
fn run_monitor(
    t: Target,
    mut server: CommandServer,
    opts: &StartOptions,
    hs: Option<UnixStream>,
) -> Result<i32, StartError> {
    let mut hs = Handshake(hs);
    let (argv, origin) = init_argv(&t.conf, opts.argv.as_deref());
    let mut m = Monitor::new(&t.name, &t.lxcpath, &t.config_path, t.conf);
    sysproc::ignore_signal(libc::SIGPIPE);
    if m.conf.monitor.unshare {
        // lxc.monitor.unshare: the monitor (and so the pre-start hooks) get their own mount
        // namespace, slave to the host's.
        let r = rlxc_sys::ns::unshare(libc::CLONE_NEWNS).and_then(|_| {
            rlxc_sys::mount::mount(None, std::path::Path::new("/"), None, (libc::MS_SLAVE | libc::MS_REC) as u64, None)
        });
        if let Err(e) = r {
            let r = format!("lxc.monitor.unshare: unshare the mount namespace: {e}");
            close_at_exit(server);
            hs.report(Err(&r));
            return Err(StartError::Failed(r));
        }
    }
    let sigmask = match sysproc::block_signals_for_signalfd() {
        Ok(s) => s,
        Err(e) => {
            let r = format!("block signals: {e}");
            hs.report(Err(&r));
            return Err(StartError::Failed(r));
        }
    };
    let sigfd = match sigmask.signalfd() {
        Ok(f) => f,
        Err(e) => {
            let r = format!("signalfd: {e}");
            hs.report(Err(&r));
            return Err(StartError::Failed(r));
        }
    };
    loop {
        let mut boot = match spawn::boot(&mut m, &mut server, &argv, &origin, sigmask, opts) {
            Ok(b) => b,
            Err(reason) => {
                error!("{reason}");
                set_state(&mut m, &mut server, State::Aborting);
                spawn::teardown(&mut m, &mut server, None, false);
                // The command socket goes with the process: nothing is left once the caller is
                // released.
                close_at_exit(server);
                hs.report(Err(&reason));
                return Err(StartError::Failed(reason));
            }
        };
        set_state(&mut m, &mut server, State::Running);
        hs.report(Ok(()));
        let exit = match monitor::mainloop(&mut m, &mut server, sigfd.as_fd()) {
            Ok(e) => e,
            Err(e) => {
                error!("monitor loop: {e}");
                let _ = m.signal_init(libc::SIGKILL);
                let pid = m.init_pid.unwrap_or(-1);
                let st = sysproc::waitpid(pid, false).ok().flatten().map(|(_, e)| e.raw_status()).unwrap_or(0);
                monitor::InitExit { status: st, reboot: false, code: 1 }
            }
        };
        crate::commands::monitor_fifo::send_exit_code(&m.lxcpath, &m.name, exit.status);
        let reboot = exit.reboot && !m.stop_requested;
        let post_stop_ok = spawn::teardown(&mut m, &mut server, Some(&mut boot), reboot);
        drop(boot);
        if reboot && post_stop_ok {
            info!("container \"{}\" requested a reboot: starting it again", m.name);
            server.prepare_reboot();
            m.stop_requested = false;
            continue;
        }
        if m.conf.ephemeral {
            crate::container::destroy_files(&m.lxcpath, &m.name, &m.conf);
        }
        close_at_exit(server);
        return Ok(exit.code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_argv_prefers_the_command_then_init_cmd_then_sbin_init() {
        let mut c = ContainerConfig::default();
        assert_eq!(init_argv(&c, None), (vec!["/sbin/init".to_string()], "init".to_string()));
        c.init.cmd = Some("/bin/sh -c true".into());
        assert_eq!(init_argv(&c, None).0, ["/bin/sh", "-c", "true"]);
        assert_eq!(init_argv(&c, None).1, "lxc.init.cmd");
        let cmd = vec!["/bin/echo".to_string(), "hi".to_string()];
        assert_eq!(init_argv(&c, Some(&cmd)), (cmd.clone(), "command".to_string()));
        assert_eq!(init_argv(&c, Some(&[])).1, "lxc.init.cmd");
    }
}
