//! The server side: [`CommandServer`] listens on the container's abstract command socket,
//! accepts clients, checks their credentials, decodes requests, hands them to the monitor's
//! [`CommandHandler`], and writes the answers exactly as LXC's monitor does.
//!
//! No threads: the server owns one epoll descriptor covering its listener and every client
//! connection. The monitor adds that single fd ([`CommandServer::fds`]) to its own poll loop
//! and calls [`CommandServer::handle_ready`] when it is readable.
//!
//! Connections kept open after a request, as in LXC:
//! - STOP: no answer on success; the connection stays open until the server is dropped (the
//!   monitor exits), which the client reads as "stopped";
//! - ADD_STATE_CLIENT: kept until a wanted state is served ([`CommandServer::set_state`]);
//! - CONSOLE: kept while the client holds the tty slot; its hang-up calls
//!   [`CommandHandler::console_released`].

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use rustix::event::epoll;
use tracing::{debug, trace, warn};

use rlxc_sys::socket;

use super::address::command_socket_name;
use super::wire::{
    self, int_to_ptr, ptr_to_int, CgroupCtxInfo, CgroupFdInfo, Cmd, ConsoleLogRequest, DeviceItem, Header, LxcMsg,
    DATA_MAX, HEADER_LEN,
};
use crate::state::{State, MAX_STATE};

/// An errno value (positive) a handler reports; the server sends it as `-errno`.
pub type Errno = i32;

/// What the monitor provides so the server can answer. Methods with a default answer ENOSYS
/// (or "none"), so a monitor implements what it supports and the rest is reported honestly.
pub trait CommandHandler {
    /// The container's name (GET_NAME, and the name in state messages).
    fn name(&self) -> &str;
    /// The lxcpath the container was started from (GET_LXCPATH).
    fn lxcpath(&self) -> &str;
    /// The current state (GET_STATE; ADD_STATE_CLIENT compares against it).
    fn state(&self) -> State;
    /// Record a state that another process served (SERVE_STATE_CLIENTS from lxc-freeze on
    /// cgroup v1). The server already maps THAWED to RUNNING, as LXC records it.
    fn set_state(&mut self, state: State);
    /// The init pid as the host sees it (GET_INIT_PID); None before init exists.
    fn init_pid(&self) -> Option<i32>;
    /// Clone flags init was created with (GET_CLONE_FLAGS).
    fn clone_flags(&self) -> i32 {
        0
    }
    /// A config value, formatted as `lxc-info -c` / `get_config_item` prints it (GET_CONFIG_ITEM).
    /// None for unknown or empty keys (LXC answers -1 for both).
    fn get_config_item(&self, key: &str) -> Option<String>;
    /// STOP: send the stop signal (`lxc.signal.stop`, default SIGKILL) to init and unfreeze the
    /// cgroup. Ok: the client waits until the monitor exits.
    fn stop(&mut self) -> Result<(), Errno>;
    /// GET_CGROUP / GET_LIMIT_CGROUP: the payload cgroup path of `controller` (None = cgroup2)
    /// relative to the hierarchy's mount point; `limit` asks for the limiting cgroup.
    fn cgroup_path(&self, controller: Option<&str>, limit: bool) -> Result<String, Errno> {
        let _ = (controller, limit);
        Err(libc::ENOSYS)
    }
    /// GET_CGROUP2_FD / GET_LIMIT_CGROUP2_FD: a dup of the unified cgroup directory fd (pure
    /// cgroup2 hosts only; LXC answers EINVAL otherwise).
    fn cgroup2_fd(&self, limit: bool) -> Result<OwnedFd, Errno> {
        let _ = limit;
        Err(libc::EINVAL)
    }
    /// GET_CGROUP_FD / GET_LIMIT_CGROUP_FD: the cgroup dir fd in the hierarchy holding
    /// `controller`; fill `layout`, `utilities`, `kind` of the returned info.
    fn cgroup_fd(&self, controller: &str, limit: bool) -> Result<(CgroupFdInfo, OwnedFd), Errno> {
        let _ = (controller, limit);
        Err(libc::ENOSYS)
    }
    /// GET_CGROUP_CTX: fds of every hierarchy's container cgroup, for attach.
    fn cgroup_ctx(&self) -> Result<(CgroupCtxInfo, Vec<OwnedFd>), Errno> {
        Err(libc::ENOSYS)
    }
    /// FREEZE (timeout in seconds, -1 forever). LXC answers ENOENT unless pure cgroup2.
    fn freeze(&mut self, timeout: i32) -> Result<(), Errno> {
        let _ = timeout;
        Err(libc::ENOENT)
    }
    /// UNFREEZE.
    fn unfreeze(&mut self, timeout: i32) -> Result<(), Errno> {
        let _ = timeout;
        Err(libc::ENOENT)
    }
    /// GET_INIT_PIDFD: a dup of init's pidfd (LXC answers EBADF when there is none).
    fn init_pidfd(&self) -> Result<OwnedFd, Errno> {
        Err(libc::EBADF)
    }
    /// GET_DEVPTS_FD: a dup of the container's devpts mount fd.
    fn devpts_fd(&self) -> Result<OwnedFd, Errno> {
        Err(libc::EBADF)
    }
    /// GET_SECCOMP_NOTIFY_FD.
    fn seccomp_notify_fd(&self) -> Result<OwnedFd, Errno> {
        Err(libc::EBADF)
    }
    /// SECCOMP_NOTIFY_ADD_LISTENER.
    fn seccomp_notify_add_listener(&mut self, fd: OwnedFd) -> Result<(), Errno> {
        drop(fd);
        Err(libc::ENOSYS)
    }
    /// ADD_BPF_DEVICE_CGROUP: merge one rule and replace the device program.
    fn add_bpf_device(&mut self, device: &DeviceItem) -> Result<(), Errno> {
        let _ = device;
        Err(libc::ENOSYS)
    }
    /// CONSOLE: allocate tty `ttynum` (-1 any free, 0 the console). Returns the allocated
    /// number and a dup of its pty master; None when no tty is free.
    fn console(&mut self, ttynum: i32) -> Option<(i32, OwnedFd)> {
        let _ = ttynum;
        None
    }
    /// The client holding tty `ttynum` went away: free the slot.
    fn console_released(&mut self, ttynum: i32) {
        let _ = ttynum;
    }
    /// CONSOLE_LOG: read and/or clear the console ring buffer. Err(EFAULT) when there is no
    /// buffer, Err(ENODATA) when reading an empty one.
    fn console_log(&mut self, req: &ConsoleLogRequest) -> Result<Vec<u8>, Errno> {
        let _ = req;
        Err(libc::EFAULT)
    }
}

/// Errors of the server itself (per-client errors are only logged).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("container {name:?} in {lxcpath} is already running (command socket @{socket} is in use)")]
    AlreadyRunning { name: String, lxcpath: String, socket: String },
    #[error("cannot create command socket @{socket} for container {name:?}: {source}")]
    Bind { name: String, socket: String, source: io::Error },
    #[error("command socket event loop: {0}")]
    Poll(io::Error),
}

/// Why we keep a connection open.
#[derive(Debug)]
enum Kind {
    /// Accepted, request not read yet.
    Fresh,
    /// STOP succeeded: closed when the server goes away.
    StopWaiter,
    /// A registered state client.
    StateClient([i32; 8]),
    /// Holds tty slot N.
    Console(i32),
}

struct Conn {
    fd: OwnedFd,
    kind: Kind,
}

/// What to do with a connection after its request.
enum After {
    Close,
    Keep(Kind),
}

/// Listener plus connections, in one epoll set.
pub struct CommandServer {
    listener: OwnedFd,
    epoll: OwnedFd,
    conns: HashMap<RawFd, Conn>,
    socket_name: String,
    uid: u32,
    gid: u32,
}

const LISTENER_TOKEN: u64 = u64::MAX;
/// A client that sends a partial request gets this long before we drop it.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

impl CommandServer {
    /// Bind `@<lxcpath>/<name>/command` (hashed if long). Fails with
    /// [`ServerError::AlreadyRunning`] if another monitor serves the container.
    pub fn bind(lxcpath: &str, name: &str) -> Result<CommandServer, ServerError> {
        let raw = command_socket_name(lxcpath, name);
        let socket_name = String::from_utf8_lossy(&raw).into_owned();
        let listener = match socket::listen_abstract(&raw, 128) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => {
                return Err(ServerError::AlreadyRunning {
                    name: name.into(),
                    lxcpath: lxcpath.into(),
                    socket: socket_name,
                })
            }
            Err(source) => return Err(ServerError::Bind { name: name.into(), socket: socket_name, source }),
        };
        // Inherited by accepted sockets: the kernel attaches credentials to every message.
        socket::set_passcred(listener.as_fd()).map_err(|source| ServerError::Bind {
            name: name.into(),
            socket: socket_name.clone(),
            source,
        })?;
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC).map_err(|e| ServerError::Poll(e.into()))?;
        epoll::add(&epoll, &listener, epoll::EventData::new_u64(LISTENER_TOKEN), epoll::EventFlags::IN)
            .map_err(|e| ServerError::Poll(e.into()))?;
        debug!("command socket @{socket_name} listening");
        Ok(CommandServer {
            listener,
            epoll,
            conns: HashMap::new(),
            socket_name,
            uid: rustix::process::getuid().as_raw(),
            gid: rustix::process::getgid().as_raw(),
        })
    }

    /// The abstract socket name (without the leading NUL).
    pub fn socket_name(&self) -> &str {
        &self.socket_name
    }

    /// The fds to poll for readability: one epoll fd covering the listener and all clients.
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        vec![self.epoll.as_fd()]
    }

    /// The epoll fd (same as `fds()[0]`).
    pub fn poll_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }

    /// Process everything that is ready now (never blocks on the listener). `fd` is the fd the
    /// monitor saw ready (one of [`fds`](Self::fds)); any value works.
    pub fn handle_ready(&mut self, fd: RawFd, handler: &mut dyn CommandHandler) -> Result<(), ServerError> {
        let _ = fd;
        let mut events: Vec<epoll::Event> = Vec::with_capacity(32);
        let zero = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };
        loop {
            events.clear();
            match epoll::wait(&self.epoll, rustix::buffer::spare_capacity(&mut events), Some(&zero)) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(ServerError::Poll(e.into())),
            }
            if events.is_empty() {
                return Ok(());
            }
            for ev in events.iter() {
                let token = ev.data.u64();
                if token == LISTENER_TOKEN {
                    self.accept_all();
                } else {
                    self.handle_conn(token as RawFd, handler);
                }
            }
        }
    }

    /// Block up to `timeout` (None: forever) for activity, then handle it. For monitors or
    /// test harnesses without their own loop.
    pub fn serve_once(
        &mut self,
        handler: &mut dyn CommandHandler,
        timeout: Option<Duration>,
    ) -> Result<(), ServerError> {
        let mut fds = [rustix::event::PollFd::new(&self.epoll, rustix::event::PollFlags::IN)];
        let ts =
            timeout.map(|t| rustix::event::Timespec { tv_sec: t.as_secs() as i64, tv_nsec: t.subsec_nanos() as i64 });
        match rustix::event::poll(&mut fds, ts.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(ServerError::Poll(e.into())),
        }
        let raw = self.epoll.as_raw_fd();
        self.handle_ready(raw, handler)
    }

    fn accept_all(&mut self) {
        loop {
            match socket::accept(self.listener.as_fd()) {
                Ok(Some(fd)) => {
                    let raw = fd.as_raw_fd();
                    if let Err(e) = socket::set_passcred(fd.as_fd()) {
                        warn!("command socket: SO_PASSCRED on client: {e}");
                        continue;
                    }
                    let _ = socket::set_recv_timeout(fd.as_fd(), Some(CLIENT_TIMEOUT));
                    let flags = epoll::EventFlags::IN | epoll::EventFlags::RDHUP;
                    if let Err(e) = epoll::add(&self.epoll, &fd, epoll::EventData::new_u64(raw as u64), flags) {
                        warn!("command socket: cannot watch client: {e}");
                        continue;
                    }
                    self.conns.insert(raw, Conn { fd, kind: Kind::Fresh });
                }
                Ok(None) => return,
                Err(e) => {
                    warn!("command socket: accept: {e}");
                    return;
                }
            }
        }
    }

    fn handle_conn(&mut self, raw: RawFd, handler: &mut dyn CommandHandler) {
        // Take the connection out of the map while serving it, so the request handling may
        // use `&mut self` (SERVE_STATE_CLIENTS broadcasts to the other connections).
        let Some(conn) = self.conns.remove(&raw) else { return };
        if !matches!(conn.kind, Kind::Fresh) {
            // A kept connection became readable: the client hung up (or misbehaves). Either
            // way it is done; a console slot is freed.
            trace!("command client {raw} closed");
            let _ = epoll::delete(&self.epoll, &conn.fd);
            if let Kind::Console(tty) = conn.kind {
                handler.console_released(tty);
            }
            return;
        }
        let after = match self.serve_request(conn.fd.as_fd(), handler) {
            Ok(a) => a,
            Err(e) => {
                debug!("command client {raw}: {e}");
                After::Close
            }
        };
        match after {
            After::Close => {
                let _ = epoll::delete(&self.epoll, &conn.fd);
            }
            After::Keep(kind) => {
                self.conns.insert(raw, Conn { fd: conn.fd, kind });
            }
        }
    }

    /// Read one request, dispatch, answer.
    fn serve_request(&mut self, fd: BorrowedFd<'_>, handler: &mut dyn CommandHandler) -> io::Result<After> {
        let mut hb = [0u8; HEADER_LEN];
        let got = socket::recv_message(fd, &mut hb, 0)?;
        if got.bytes == 0 {
            return Ok(After::Close);
        }
        if got.bytes < HEADER_LEN && !socket::recv_exact(fd, &mut hb[got.bytes..])? {
            return Ok(After::Close);
        }
        let creds = got.credentials;
        let allowed = match creds {
            Some(c) => c.uid == 0 || (c.uid == self.uid && c.gid == self.gid),
            None => false,
        };
        let h = Header::decode(&hb);
        if !allowed {
            warn!("command {} refused for peer {:?}", h.first, creds);
            send_rsp(fd, -libc::EACCES, 0, &[], &[])?;
            return Ok(After::Close);
        }
        if h.datalen < 0 || h.datalen as usize > DATA_MAX {
            debug!("command {}: bad datalen {}", h.first, h.datalen);
            return Ok(After::Close);
        }
        let mut data = vec![0u8; h.datalen as usize];
        if !data.is_empty() && !socket::recv_exact(fd, &mut data)? {
            return Ok(After::Close);
        }
        let Some(cmd) = Cmd::from_i32(h.first) else {
            debug!("unknown command {}", h.first);
            send_rsp(fd, -libc::ENOSYS, 0, &[], &[])?;
            return Ok(After::Close);
        };
        trace!("command {cmd} from {:?}", creds);
        let arg = ptr_to_int(h.data);
        self.dispatch(fd, cmd, arg, &data, handler)
    }

    fn dispatch(
        &mut self,
        fd: BorrowedFd<'_>,
        cmd: Cmd,
        arg: i32,
        data: &[u8],
        handler: &mut dyn CommandHandler,
    ) -> io::Result<After> {
        let int_reply = |v: i32| send_rsp(fd, 0, v, &[], &[]).map(|_| After::Close);
        let err_reply = |e: Errno| send_rsp(fd, -e.abs(), 0, &[], &[]).map(|_| After::Close);
        let str_reply = |s: &str| send_rsp(fd, 0, 0, &wire::cstring_payload(s), &[]).map(|_| After::Close);
        let fd_reply = |r: Result<OwnedFd, Errno>| match r {
            Ok(f) => send_rsp(fd, 0, 0, &[], &[f.as_fd()]).map(|_| After::Close),
            Err(e) => send_rsp(fd, -e.abs(), 0, &[], &[]).map(|_| After::Close),
        };
        let unit_reply = |r: Result<(), Errno>| match r {
            Ok(()) => send_rsp(fd, 0, 0, &[], &[]).map(|_| After::Close),
            Err(e) => send_rsp(fd, -e.abs(), 0, &[], &[]).map(|_| After::Close),
        };
        let controller = || if data.is_empty() { None } else { Some(wire::cstr(data)).filter(|s| !s.is_empty()) };
        match cmd {
            Cmd::Console => match handler.console(arg) {
                Some((tty, master)) => match send_rsp(fd, 0, tty, &[], &[master.as_fd()]) {
                    Ok(()) => Ok(After::Keep(Kind::Console(tty))),
                    Err(e) => {
                        // The client never got the tty: give the slot back.
                        handler.console_released(tty);
                        Err(e)
                    }
                },
                // LXC closes without an answer when no tty is free.
                None => Ok(After::Close),
            },
            Cmd::TerminalWinch => int_reply(0),
            Cmd::Stop => match handler.stop() {
                Ok(()) => Ok(After::Keep(Kind::StopWaiter)),
                Err(e) => err_reply(e),
            },
            Cmd::GetState => int_reply(handler.state().as_i32()),
            Cmd::GetInitPid => int_reply(handler.init_pid().unwrap_or(-1)),
            Cmd::GetCloneFlags => int_reply(handler.clone_flags()),
            Cmd::GetCgroup | Cmd::GetLimitCgroup => {
                match handler.cgroup_path(controller().as_deref(), cmd == Cmd::GetLimitCgroup) {
                    Ok(p) => str_reply(&p),
                    Err(e) => err_reply(e),
                }
            }
            Cmd::GetConfigItem => match handler.get_config_item(&wire::cstr(data)) {
                Some(v) if !v.is_empty() => str_reply(&v),
                _ => send_rsp(fd, -1, 0, &[], &[]).map(|_| After::Close),
            },
            Cmd::GetName => str_reply(handler.name()),
            Cmd::GetLxcpath => str_reply(handler.lxcpath()),
            Cmd::AddStateClient => {
                if data.len() != 4 * MAX_STATE as usize {
                    return err_reply(libc::EINVAL);
                }
                let mut states = [0i32; 8];
                for (i, s) in states.iter_mut().enumerate() {
                    *s = i32::from_ne_bytes([data[4 * i], data[4 * i + 1], data[4 * i + 2], data[4 * i + 3]]);
                }
                let now = handler.state();
                if states[now as usize] == 1 {
                    int_reply(now.as_i32())
                } else {
                    send_rsp(fd, 0, MAX_STATE, &[], &[])?;
                    Ok(After::Keep(Kind::StateClient(states)))
                }
            }
            Cmd::ConsoleLog => match ConsoleLogRequest::decode(data) {
                None => err_reply(libc::EINVAL),
                Some(req) => match handler.console_log(&req) {
                    Ok(bytes) => send_rsp_large(fd, &bytes).map(|_| After::Close),
                    Err(e) => err_reply(e),
                },
            },
            Cmd::ServeStateClients => {
                let Some(st) = State::from_i32(arg) else { return err_reply(libc::EINVAL) };
                handler.set_state(st.recorded());
                let name = handler.name().to_string();
                self.serve_state_clients(&name, st);
                int_reply(0)
            }
            Cmd::SeccompNotifyAddListener => {
                let mut b = [0u8; 1];
                let got = socket::recv_message(fd, &mut b, 1)?;
                match got.fds.into_iter().next() {
                    Some(nfd) => unit_reply(handler.seccomp_notify_add_listener(nfd)),
                    None => err_reply(libc::EBADF),
                }
            }
            Cmd::AddBpfDeviceCgroup => match DeviceItem::decode(data) {
                Some(d) => unit_reply(handler.add_bpf_device(&d)),
                None => err_reply(libc::EINVAL),
            },
            Cmd::Freeze => unit_reply(handler.freeze(arg)),
            Cmd::Unfreeze => unit_reply(handler.unfreeze(arg)),
            Cmd::GetCgroup2Fd => fd_reply(handler.cgroup2_fd(false)),
            Cmd::GetLimitCgroup2Fd => fd_reply(handler.cgroup2_fd(true)),
            Cmd::GetInitPidfd => fd_reply(handler.init_pidfd()),
            Cmd::GetDevptsFd => fd_reply(handler.devpts_fd()),
            Cmd::GetSeccompNotifyFd => fd_reply(handler.seccomp_notify_fd()),
            Cmd::GetCgroupFd | Cmd::GetLimitCgroupFd => {
                let req = CgroupFdInfo::decode(data);
                if req.controller.is_empty() {
                    return err_reply(libc::EINVAL);
                }
                match handler.cgroup_fd(&req.controller, cmd == Cmd::GetLimitCgroupFd) {
                    Ok((mut info, cfd)) => {
                        info.fd = cfd.as_raw_fd();
                        info.controller = req.controller.clone();
                        let bytes = info.encode();
                        let n = data.len().min(bytes.len());
                        send_rsp(fd, 0, 0, &bytes[..n], &[cfd.as_fd()]).map(|_| After::Close)
                    }
                    Err(e) => err_reply(e),
                }
            }
            Cmd::GetCgroupCtx => match handler.cgroup_ctx() {
                Ok((mut info, fds)) => {
                    let fds: Vec<OwnedFd> = fds.into_iter().take(wire::CGROUP_CTX_MAX_FD).collect();
                    info.fd_len = fds.len() as u32;
                    let raws: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
                    let bytes = info.encode(&raws);
                    let n = data.len().min(bytes.len());
                    let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(|f| f.as_fd()).collect();
                    send_rsp(fd, 0, 0, &bytes[..n], &borrowed).map(|_| After::Close)
                }
                Err(e) => err_reply(e),
            },
            Cmd::GetSystemdScope => err_reply(libc::ENOSYS),
        }
    }

    /// Serve a state: record nothing (the monitor records its own state), send `lxc_msg` to every
    /// state client that wanted `state`, and close those connections. Also writes the legacy
    /// monitor FIFO (LXC's `lxc_set_state`). Call on every transition.
    pub fn set_state(&mut self, lxcpath: &str, name: &str, state: State) {
        self.serve_state_clients(name, state);
        super::monitor_fifo::send_state(lxcpath, name, state);
    }

    /// Send `state` to the state clients that asked for it (without the FIFO).
    pub fn serve_state_clients(&mut self, name: &str, state: State) {
        let msg = LxcMsg::state(name, state).encode();
        let idx = state as usize;
        let targets: Vec<RawFd> = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(c.kind, Kind::StateClient(ref s) if s[idx] != 0))
            .map(|(r, _)| *r)
            .collect();
        for raw in targets {
            if let Some(c) = self.conns.remove(&raw) {
                if let Err(e) = socket::send_all(c.fd.as_fd(), &msg) {
                    debug!("state client {raw}: {e}");
                }
                let _ = epoll::delete(&self.epoll, &c.fd);
            }
        }
    }

    /// Drop the registered state clients except those that asked to survive a reboot (2 in the
    /// RUNNING slot), as LXC does before restarting a rebooting container.
    pub fn prepare_reboot(&mut self) {
        let drop_list: Vec<RawFd> = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(c.kind, Kind::StateClient(ref s) if s[State::Running as usize] != 2))
            .map(|(r, _)| *r)
            .collect();
        for raw in drop_list {
            if let Some(c) = self.conns.remove(&raw) {
                let _ = epoll::delete(&self.epoll, &c.fd);
            }
        }
    }

    /// How many connections are open (tests, diagnostics).
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }
}

fn send_rsp(fd: BorrowedFd<'_>, ret: i32, data_int: i32, payload: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    let h = Header {
        first: ret,
        datalen: payload.len() as i32,
        data: if payload.is_empty() { int_to_ptr(data_int) } else { 0 },
    };
    let sent = socket::send_with_fds(fd, &h.encode(), fds)?;
    if sent != HEADER_LEN {
        socket::send_all(fd, &h.encode()[sent..])?;
    }
    if !payload.is_empty() {
        socket::send_all(fd, payload)?;
    }
    Ok(())
}

fn send_rsp_large(fd: BorrowedFd<'_>, payload: &[u8]) -> io::Result<()> {
    // CONSOLE_LOG may exceed DATA_MAX; the client reads `datalen` bytes whatever the size.
    let len = payload.len().min(i32::MAX as usize);
    send_rsp(fd, 0, 0, &payload[..len], &[])
}

#[cfg(test)]
mod tests {
    use super::super::client;
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    struct Fake {
        state: State,
    }

    impl CommandHandler for Fake {
        fn name(&self) -> &str {
            "c1"
        }
        fn lxcpath(&self) -> &str {
            "/nonexistent/rlxc-unit"
        }
        fn state(&self) -> State {
            self.state
        }
        fn set_state(&mut self, state: State) {
            self.state = state;
        }
        fn init_pid(&self) -> Option<i32> {
            Some(4242)
        }
        fn get_config_item(&self, key: &str) -> Option<String> {
            (key == "lxc.uts.name").then(|| "host1".to_string())
        }
        fn stop(&mut self) -> Result<(), Errno> {
            Err(libc::EPERM)
        }
        fn cgroup_path(&self, controller: Option<&str>, _limit: bool) -> Result<String, Errno> {
            Ok(format!("lxc.payload.c1/{}", controller.unwrap_or("unified")))
        }
    }

    #[test]
    fn client_and_server_agree() {
        let lxcpath = format!("/nonexistent/rlxc-unit-{}", std::process::id());
        let mut server = CommandServer::bind(&lxcpath, "c1").expect("bind");
        assert!(matches!(CommandServer::bind(&lxcpath, "c1"), Err(ServerError::AlreadyRunning { .. })));
        let done = Arc::new(AtomicBool::new(false));
        let d2 = done.clone();
        let t = std::thread::spawn(move || {
            let mut h = Fake { state: State::Running };
            while !d2.load(Ordering::SeqCst) {
                server.serve_once(&mut h, Some(Duration::from_millis(50))).expect("serve");
            }
        });
        assert_eq!(client::get_state("c1", &lxcpath).expect("state"), State::Running);
        assert_eq!(client::get_init_pid("c1", &lxcpath).expect("pid"), 4242);
        assert_eq!(client::get_name("c1", &lxcpath).expect("name"), "c1");
        assert_eq!(client::get_config_item("c1", &lxcpath, "lxc.uts.name").expect("item").as_deref(), Some("host1"));
        assert_eq!(client::get_config_item("c1", &lxcpath, "lxc.nope").expect("item"), None);
        assert_eq!(client::get_cgroup("c1", &lxcpath, Some("memory")).expect("cg"), "lxc.payload.c1/memory");
        let e = client::stop("c1", &lxcpath).expect_err("stop refused");
        assert_eq!(e.errno(), Some(libc::EPERM));
        assert!(client::get_init_pidfd("c1", &lxcpath).is_err());
        assert_eq!(client::freeze("c1", &lxcpath, 1).expect_err("enoent").errno(), Some(libc::ENOENT));
        // A state client registered for FROZEN gets the state served by another "process".
        let states = crate::state::parse_state_list("FROZEN").expect("list");
        let c = client::add_state_client("c1", &lxcpath, &states).expect("add");
        let client::StateClient::Waiting(fd) = c else { panic!("expected to wait") };
        client::serve_state_clients("c1", &lxcpath, State::Frozen).expect("serve");
        assert_eq!(client::receive_state(fd.as_fd(), "c1", None).expect("msg"), State::Frozen);
        assert_eq!(client::get_state("c1", &lxcpath).expect("state"), State::Frozen);
        // A wanted state that never comes: the wait ends at its timeout.
        let frozen_only = crate::state::parse_state_list("STOPPING").expect("list");
        let e =
            client::wait_state("c1", &lxcpath, &frozen_only, Some(Duration::from_millis(200))).expect_err("timeout");
        assert!(matches!(e, crate::commands::CmdError::Timeout { .. }), "{e}");
        // Already there: answered at once.
        let running = crate::state::parse_state_list("RUNNING|FROZEN").expect("list");
        assert_eq!(client::wait_state("c1", &lxcpath, &running, None).expect("now"), State::Frozen);
        // Unknown command numbers get -ENOSYS (LXC 5.0 clients then fall back).
        let r = client::call(
            "c1",
            &lxcpath,
            &client::Request { cmd: Cmd::GetSystemdScope, ..client::Request::new(Cmd::GetState) },
        )
        .expect("call")
        .expect("answer");
        assert_eq!(r.ret, -libc::ENOSYS);
        let sock = crate::commands::address::command_socket_name(&lxcpath, "c1");
        let raw = rlxc_sys::socket::connect_abstract(&sock).expect("connect");
        let h = wire::Header { first: 99, datalen: 0, data: 0 };
        rlxc_sys::socket::send_with_credentials(raw.as_fd(), &h.encode()).expect("send");
        let mut b = [0u8; HEADER_LEN];
        assert!(rlxc_sys::socket::recv_exact(raw.as_fd(), &mut b).expect("recv"));
        assert_eq!(Header::decode(&b).first, -libc::ENOSYS);
        // Root may claim other credentials: the server must refuse a foreign uid.
        if rustix::process::geteuid().is_root() {
            let raw = rlxc_sys::socket::connect_abstract(&sock).expect("connect");
            let creds = rlxc_sys::socket::Credentials { pid: std::process::id() as i32, uid: 4321, gid: 4321 };
            let h = wire::Header { first: Cmd::GetState as i32, datalen: 0, data: 0 };
            rlxc_sys::socket::send_with_given_credentials(raw.as_fd(), &h.encode(), creds).expect("send");
            assert!(rlxc_sys::socket::recv_exact(raw.as_fd(), &mut b).expect("recv"));
            assert_eq!(Header::decode(&b).first, -libc::EACCES);
        }
        done.store(true, Ordering::SeqCst);
        t.join().expect("server thread");
        assert_eq!(client::get_state("c1", &lxcpath).expect("stopped"), State::Stopped);
        // Not running: STOPPED is reached at once, anything else waits for the socket to appear.
        let stopped = crate::state::parse_state_list("STOPPED").expect("list");
        assert_eq!(
            client::wait_state("c1", &lxcpath, &stopped, Some(Duration::ZERO)).expect("stopped"),
            State::Stopped
        );
        let e = client::wait_state("c1", &lxcpath, &running, Some(Duration::ZERO)).expect_err("not running");
        assert!(matches!(e, crate::commands::CmdError::Timeout { .. }), "{e}");
    }

    /// A monitor that accepts and drops the connection unanswered (it is exiting, e.g. right
    /// after a failed daemonized start) means STOPPED to GET_STATE, as in LXC.
    #[test]
    fn dropped_connection_reads_as_stopped() {
        let lxcpath = format!("/nonexistent/rlxc-unit-drop-{}", std::process::id());
        let sock = command_socket_name(&lxcpath, "c2");
        let listener = rlxc_sys::socket::listen_abstract(&sock, 4).expect("listen");
        let t = std::thread::spawn(move || {
            // Wait for the request to arrive, then close without reading it (a reset) or after
            // reading it (an orderly close): both mean the monitor is going away.
            for read_first in [false, true] {
                let fd = loop {
                    if let Some(fd) = rlxc_sys::socket::accept(listener.as_fd()).expect("accept") {
                        break fd;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                };
                std::thread::sleep(Duration::from_millis(20));
                if read_first {
                    let mut b = [0u8; 16];
                    let _ = rustix::io::read(&fd, &mut b);
                }
                drop(fd);
            }
        });
        for _ in 0..2 {
            assert_eq!(client::get_state("c2", &lxcpath).expect("dropped means stopped"), State::Stopped);
        }
        t.join().expect("listener thread");
    }
}
