//! The monitor: one process per running container, one poll loop over the signalfd, init's
//! pidfd, the command server, and the console. It answers commands (it is the
//! [`CommandHandler`]), serves state changes to state clients, copies console output to the log
//! and ring buffer, and notices init's exit.

// MS_*/CLONE_* constants are `c_ulong`/`c_int`: the `as u64` casts are needed on 32-bit targets.
#![allow(clippy::unnecessary_cast)]

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use rlxc_config::ContainerConfig;
use rustix::event::epoll;
use tracing::{debug, info, warn};

use crate::commands::server::{CommandHandler, CommandServer, Errno};
use crate::commands::wire::{hierarchy, CgroupCtxInfo, CgroupFdInfo, ConsoleLogRequest};
use crate::console::Console;
use crate::state::State;

/// What the monitor knows about the container it runs.
pub struct Monitor {
    /// Container name.
    pub name: String,
    /// lxcpath as given.
    pub lxcpath: String,
    /// Config file path.
    pub config_path: String,
    /// The loaded config.
    pub conf: ContainerConfig,
    /// Current state.
    pub state: State,
    /// Init's pid in our pid namespace.
    pub init_pid: Option<i32>,
    /// Init's pidfd.
    pub pidfd: Option<OwnedFd>,
    /// CLONE_NEW* flags init was created with.
    pub clone_flags: i32,
    /// The console.
    pub console: Option<Console>,
    /// `lxc.tty.max` pty masters and whether a client holds each (index 0 = tty1).
    pub ttys: Vec<(OwnedFd, bool)>,
    /// Set when STOP was requested (so a reboot-looking exit is a stop).
    pub stop_requested: bool,
    /// Payload cgroup paths per controller (GET_CGROUP).
    pub cgroup_paths: Vec<(Option<String>, String)>,
    /// The container's cgroups while it runs.
    pub cgroups: Option<crate::cgroups::ContainerCgroups>,
    /// Security decisions made before the clone (cleaned up after stop).
    pub security: Option<crate::security::SecurityPlan>,
    /// The seccomp notify handler when the policy has notify rules.
    pub notify: Option<crate::security::NotifyHandler>,
    /// State changes made while answering a command (FREEZE/UNFREEZE), served to state clients
    /// once the command is answered.
    pub pending_states: Vec<State>,
}

impl Monitor {
    /// A monitor for `name`, not started yet.
    pub fn new(name: &str, lxcpath: &str, config_path: &str, conf: ContainerConfig) -> Monitor {
        Monitor {
            name: name.into(),
            lxcpath: lxcpath.into(),
            config_path: config_path.into(),
            conf,
            state: State::Stopped,
            init_pid: None,
            pidfd: None,
            clone_flags: 0,
            console: None,
            ttys: Vec::new(),
            stop_requested: false,
            cgroup_paths: Vec::new(),
            cgroups: None,
            security: None,
            notify: None,
            pending_states: Vec::new(),
        }
    }

    /// Send a signal to init (pidfd when we have one).
    pub fn signal_init(&self, sig: i32) -> std::io::Result<()> {
        match (self.pidfd.as_ref(), self.init_pid) {
            (Some(fd), _) => rlxc_sys::pidfd::pidfd_send_signal(fd.as_fd(), sig),
            (None, Some(pid)) => rlxc_sys::pidfd::kill(pid, sig),
            (None, None) => Err(std::io::Error::from_raw_os_error(libc::ESRCH)),
        }
    }
}

impl CommandHandler for Monitor {
    fn name(&self) -> &str {
        &self.name
    }
    fn lxcpath(&self) -> &str {
        &self.lxcpath
    }
    fn state(&self) -> State {
        self.state
    }
    fn set_state(&mut self, state: State) {
        self.state = state;
    }
    fn init_pid(&self) -> Option<i32> {
        self.init_pid
    }
    fn clone_flags(&self) -> i32 {
        self.clone_flags
    }
    fn get_config_item(&self, key: &str) -> Option<String> {
        crate::container::config_item(&self.conf, key)
    }
    fn stop(&mut self) -> Result<(), Errno> {
        let sig = if self.conf.signals.stop > 0 { self.conf.signals.stop } else { libc::SIGKILL };
        self.stop_requested = true;
        info!("stop requested: sending signal {sig} to init");
        self.signal_init(sig).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        // A frozen container cannot die: thaw it (LXC does the same after the signal).
        if let Some(cg) = self.cgroups.as_ref() {
            let _ = cg.unfreeze(-1);
        }
        Ok(())
    }
    fn freeze(&mut self, timeout: i32) -> Result<(), Errno> {
        let cg = self.cgroups.as_ref().ok_or(libc::ENOENT)?;
        if !cg.is_unified() {
            return Err(libc::ENOENT);
        }
        self.state = State::Freezing;
        self.pending_states.push(State::Freezing);
        let r = cg.freeze(timeout as i64);
        self.state = if r.is_ok() { State::Frozen } else { State::Running };
        self.pending_states.push(self.state);
        r.map_err(|e| {
            warn!("freeze: {e}");
            libc::EIO
        })
    }
    fn unfreeze(&mut self, timeout: i32) -> Result<(), Errno> {
        let cg = self.cgroups.as_ref().ok_or(libc::ENOENT)?;
        if !cg.is_unified() {
            return Err(libc::ENOENT);
        }
        match cg.unfreeze(timeout as i64) {
            Ok(()) => {
                // LXC serves THAWED and records RUNNING.
                self.state = State::Running;
                self.pending_states.push(State::Thawed);
                Ok(())
            }
            Err(e) => {
                warn!("unfreeze: {e}");
                Err(libc::EIO)
            }
        }
    }
    fn cgroup2_fd(&self, _limit: bool) -> Result<OwnedFd, Errno> {
        let cg = self.cgroups.as_ref().ok_or(libc::EINVAL)?;
        if !cg.is_unified() {
            return Err(libc::EINVAL);
        }
        let fd = cg.unified_fd().ok_or(libc::EINVAL)?;
        fd.try_clone_to_owned().map_err(|e| e.raw_os_error().unwrap_or(libc::EBADF))
    }
    fn cgroup_path(&self, controller: Option<&str>, _limit: bool) -> Result<String, Errno> {
        self.cgroup_paths.iter().find(|(c, _)| c.as_deref() == controller).map(|(_, p)| p.clone()).ok_or(libc::ENOENT)
    }
    fn cgroup_ctx(&self) -> Result<(CgroupCtxInfo, Vec<OwnedFd>), Errno> {
        let cg = self.cgroups.as_ref().ok_or(libc::ENOENT)?;
        let mut fds = Vec::new();
        for h in &cg.layout().hierarchies {
            let fd = if h.v2 { cg.unified_fd() } else { h.controllers.first().and_then(|c| cg.payload_fd(c)) };
            if let Some(fd) = fd {
                fds.push(fd.try_clone_to_owned().map_err(|e| e.raw_os_error().unwrap_or(libc::EBADF))?);
            }
        }
        if fds.is_empty() {
            return Err(libc::ENOENT);
        }
        Ok((CgroupCtxInfo { layout: layout_number(cg), utilities: utilities(cg), fd_len: fds.len() as u32 }, fds))
    }
    fn add_bpf_device(&mut self, device: &crate::commands::wire::DeviceItem) -> Result<(), Errno> {
        self.cgroups.as_mut().ok_or(libc::ENOENT)?.add_device_item(device)
    }
    fn cgroup_fd(&self, controller: &str, _limit: bool) -> Result<(CgroupFdInfo, OwnedFd), Errno> {
        let cg = self.cgroups.as_ref().ok_or(libc::ENOENT)?;
        let h = cg
            .layout()
            .hierarchies
            .iter()
            .find(|h| h.controllers.iter().any(|c| c == controller) || (h.v2 && controller.is_empty()))
            .ok_or(libc::ENOENT)?;
        let fd = if h.v2 { cg.unified_fd() } else { cg.payload_fd(controller) }.ok_or(libc::ENOENT)?;
        let owned = fd.try_clone_to_owned().map_err(|e| e.raw_os_error().unwrap_or(libc::EBADF))?;
        let info = CgroupFdInfo {
            layout: layout_number(cg),
            utilities: utilities(cg),
            kind: if h.v2 { hierarchy::UNIFIED } else { hierarchy::LEGACY },
            fd: -1,
            controller: controller.to_string(),
        };
        Ok((info, owned))
    }
    fn init_pidfd(&self) -> Result<OwnedFd, Errno> {
        match self.pidfd.as_ref() {
            Some(fd) => fd.try_clone().map_err(|e| e.raw_os_error().unwrap_or(libc::EBADF)),
            None => Err(libc::EBADF),
        }
    }
    fn console(&mut self, ttynum: i32) -> Option<(i32, OwnedFd)> {
        if ttynum == 0 {
            let c = self.console.as_mut()?;
            return match c.open_proxy() {
                Ok(Some(master)) => Some((0, master)),
                Ok(None) => {
                    info!("console client refused: the console is already in use");
                    None
                }
                Err(e) => {
                    warn!("console client: allocating its pty: {e}");
                    None
                }
            };
        }
        let idx = if ttynum < 0 {
            self.ttys.iter().position(|(_, busy)| !busy)?
        } else {
            let i = (ttynum - 1) as usize;
            if self.ttys.get(i).map(|(_, b)| *b).unwrap_or(true) {
                return None;
            }
            i
        };
        let fd = self.ttys[idx].0.try_clone().ok()?;
        self.ttys[idx].1 = true;
        Some((idx as i32 + 1, fd))
    }
    fn console_released(&mut self, ttynum: i32) {
        // tty 0's proxy is released by its own hang-up (the client's pty closed: the mainloop's
        // T_PROXY), not here: by the time this connection's hang-up is seen, a new client may
        // already hold a new proxy.
        if ttynum >= 1 {
            if let Some(t) = self.ttys.get_mut(ttynum as usize - 1) {
                t.1 = false;
            }
        }
    }
    fn console_log(&mut self, req: &ConsoleLogRequest) -> Result<Vec<u8>, Errno> {
        let c = self.console.as_mut().ok_or(libc::EFAULT)?;
        let ring = c.ring.as_mut().ok_or(libc::EFAULT)?;
        let mut out = Vec::new();
        if req.read {
            out = ring.contents();
            if req.read_max > 0 && (out.len() as u64) > req.read_max {
                out.truncate(req.read_max as usize);
            }
            if out.is_empty() && !req.clear {
                return Err(libc::ENODATA);
            }
        }
        if req.write_logfile {
            if let Some(l) = c.log.as_mut() {
                l.write_all_now(&ring.contents());
            }
        }
        if req.clear {
            ring.clear();
        }
        Ok(out)
    }
}

/// LXC's `cgroup_layout_t` number: legacy 0, hybrid 1, unified 2.
fn layout_number(cg: &crate::cgroups::ContainerCgroups) -> i32 {
    use rlxc_cgroup::LayoutKind;
    match cg.layout().kind {
        LayoutKind::Legacy => 0,
        LayoutKind::Hybrid => 1,
        LayoutKind::Unified => 2,
    }
}

/// The cgroup2 utilities LXC reports: the eBPF device controller and the freezer on a unified
/// hierarchy with controllers.
fn utilities(cg: &crate::cgroups::ContainerCgroups) -> u32 {
    use crate::commands::wire::{DEVICES_CONTROLLER, FREEZER_CONTROLLER};
    if cg.is_unified() {
        DEVICES_CONTROLLER | FREEZER_CONTROLLER
    } else {
        0
    }
}

/// How init ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitExit {
    /// Raw wait status (LXC's `exit_code`).
    pub status: i32,
    /// The kernel's reboot request from inside a pid namespace (init killed by SIGHUP).
    pub reboot: bool,
    /// Exit code for `lxc-start -F` (code, or 128+signal).
    pub code: i32,
}

const T_SIGNAL: u64 = 1;
const T_PIDFD: u64 = 2;
const T_SERVER: u64 = 3;
const T_CONSOLE: u64 = 4;
const T_PEER: u64 = 5;
const T_NOTIFY: u64 = 6;
const T_PROXY: u64 = 7;

/// Run the loop until init exits. `sigfd` is the monitor's signalfd.
pub fn mainloop(m: &mut Monitor, server: &mut CommandServer, sigfd: BorrowedFd<'_>) -> std::io::Result<InitExit> {
    let ep = epoll::create(epoll::CreateFlags::CLOEXEC)?;
    let add = |fd: BorrowedFd<'_>, t: u64| epoll::add(&ep, fd, epoll::EventData::new_u64(t), epoll::EventFlags::IN);
    add(sigfd, T_SIGNAL)?;
    if let Some(p) = m.pidfd.as_ref() {
        add(p.as_fd(), T_PIDFD)?;
    }
    add(server.poll_fd(), T_SERVER)?;
    if let Some(c) = m.console.as_ref() {
        add(c.pty.master.as_fd(), T_CONSOLE)?;
        if let Some(p) = c.peer_in.as_ref() {
            add(p.as_fd(), T_PEER)?;
        }
    }
    if let Some(n) = m.notify.as_ref() {
        add(n.fd(), T_NOTIFY)?;
    }
    let Some(init_pid) = m.init_pid else {
        return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
    };
    let mut events: Vec<epoll::Event> = Vec::with_capacity(16);
    // Which console client's proxy is in the poll set (Console::proxy_serial).
    let mut proxy_polled = 0u64;
    loop {
        // A quick check first: init may already be gone (SIGCHLD consumed by a hook's wait).
        if let Some(exit) = reap_init(init_pid)? {
            drain_console(m);
            return Ok(exit);
        }
        events.clear();
        match epoll::wait(&ep, rustix::buffer::spare_capacity(&mut events), None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        for ev in events.iter() {
            match ev.data.u64() {
                T_SIGNAL => {
                    while let Some(si) = rlxc_sys::process::read_signalfd(sigfd)? {
                        match si.signo {
                            libc::SIGCHLD => {}
                            s => {
                                // LXC forwards other signals to init; a lost terminal means stop.
                                let fwd = if s == libc::SIGHUP { libc::SIGTERM } else { s };
                                debug!("forwarding signal {s} to init as {fwd}");
                                let _ = m.signal_init(fwd);
                            }
                        }
                    }
                }
                T_PIDFD => {}
                T_NOTIFY => {
                    let keep = m.notify.as_mut().map(|n| n.handle_ready()).unwrap_or(false);
                    if !keep {
                        if let Some(n) = m.notify.take() {
                            let _ = epoll::delete(&ep, n.fd());
                        }
                    }
                }
                T_SERVER => {
                    let raw = server.poll_fd().as_raw_fd();
                    if let Err(e) = server.handle_ready(raw, m) {
                        warn!("command server: {e}");
                    }
                    for st in std::mem::take(&mut m.pending_states) {
                        server.set_state(&m.lxcpath, &m.name, st);
                    }
                    // A new `lxc-console -t 0` client: poll its proxy (a closed one left the
                    // set when it was closed).
                    if let Some(c) = m.console.as_mut() {
                        if let Some(p) = c.proxy.as_ref().filter(|_| c.proxy_serial != proxy_polled) {
                            proxy_polled = c.proxy_serial;
                            if let Err(e) = add(p.as_fd(), T_PROXY) {
                                warn!("console client: polling its pty: {e}");
                                c.close_proxy();
                            }
                        }
                    }
                }
                T_PROXY => {
                    if let Some(c) = m.console.as_mut() {
                        if !c.pump_proxy() {
                            c.close_proxy();
                        }
                    }
                }
                T_CONSOLE => {
                    if let Some(c) = m.console.as_mut() {
                        if !c.pump_master() {
                            let _ = epoll::delete(&ep, c.pty.master.as_fd());
                        }
                    }
                }
                T_PEER => {
                    if let Some(c) = m.console.as_mut() {
                        if !c.pump_peer() {
                            if let Some(p) = c.peer_in.take() {
                                let _ = epoll::delete(&ep, p.as_fd());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Copy what is still buffered on the console after init exited.
fn drain_console(m: &mut Monitor) {
    if let Some(c) = m.console.as_mut() {
        for _ in 0..64 {
            let Ok(fd) = c.pty.master.try_clone() else { break };
            let mut pfd = [rustix::event::PollFd::new(&fd, rustix::event::PollFlags::IN)];
            let zero = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };
            match rustix::event::poll(&mut pfd, Some(&zero)) {
                Ok(n) if n > 0 && pfd[0].revents().contains(rustix::event::PollFlags::IN) => {}
                _ => break,
            }
            if !c.pump_master() {
                break;
            }
        }
    }
}

/// Reap init if it exited (and any other children of ours that did).
pub fn reap_init(init_pid: i32) -> std::io::Result<Option<InitExit>> {
    match rlxc_sys::process::waitpid(init_pid, true)? {
        Some((_, exit)) => {
            let (reboot, code) = match exit {
                rlxc_sys::process::Exit::Code(c) => (false, c),
                rlxc_sys::process::Exit::Signal(s) => (s == libc::SIGHUP, 128 + s),
            };
            info!("init {init_pid} exited: {exit:?}{}", if reboot { " (reboot requested)" } else { "" });
            Ok(Some(InitExit { status: exit.raw_status(), reboot, code }))
        }
        None => Ok(None),
    }
}
