//! The client side: one function per command, each taking `(name, lxcpath, ...)`.
//!
//! Every call connects to the container's abstract socket, sends the 16-byte header with our
//! `SCM_CREDENTIALS` (plus the payload, if any), reads the response header (with any
//! `SCM_RIGHTS` fds) and its payload, and closes — except where LXC keeps the connection
//! (console slots, state clients, STOP waiting for the monitor to go away).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use rlxc_sys::socket;

use super::address::command_socket_name;
use super::wire::{
    self, int_to_ptr, ptr_to_int, CgroupCtxInfo, CgroupFdInfo, Cmd, ConsoleLogRequest, DeviceItem, Header, LxcMsg,
    DATA_MAX, HEADER_LEN, LXC_MSG_LEN,
};
use super::CmdError;
use crate::state::{State, MAX_STATE};

/// Largest payload accepted in a response (CONSOLE_LOG may exceed `DATA_MAX`).
const RESPONSE_MAX: usize = 64 << 20;

/// One decoded response.
#[derive(Debug, Default)]
pub struct Response {
    /// `ret`: 0 or a negative errno (or LXC's bare -1).
    pub ret: i32,
    /// `datalen` as sent.
    pub datalen: i32,
    /// The raw `data` field (an int via `PTR_TO_INT` when `datalen` is 0).
    pub data: usize,
    /// The payload when `datalen > 0`.
    pub payload: Vec<u8>,
    /// Descriptors that came with the header.
    pub fds: Vec<OwnedFd>,
}

impl Response {
    /// `PTR_TO_INT(rsp.data)`.
    pub fn data_int(&self) -> i32 {
        ptr_to_int(self.data)
    }
    /// The payload as a NUL-terminated string.
    pub fn payload_str(&self) -> String {
        wire::cstr(&self.payload)
    }
}

/// A request to send.
pub struct Request<'a> {
    pub cmd: Cmd,
    /// Carried in the `data` pointer when there is no payload (`INT_TO_PTR`).
    pub int_arg: i32,
    pub payload: &'a [u8],
    /// For SECCOMP_NOTIFY_ADD_LISTENER: an fd sent after the header.
    pub send_fd: Option<BorrowedFd<'a>>,
    /// How many fds we accept on the response.
    pub max_fds: usize,
}

impl<'a> Request<'a> {
    /// A request with no argument.
    pub fn new(cmd: Cmd) -> Request<'a> {
        Request { cmd, int_arg: 0, payload: &[], send_fd: None, max_fds: 0 }
    }
    pub fn int(mut self, v: i32) -> Self {
        self.int_arg = v;
        self
    }
    pub fn payload(mut self, p: &'a [u8]) -> Self {
        self.payload = p;
        self
    }
    pub fn fds(mut self, n: usize) -> Self {
        self.max_fds = n;
        self
    }
}

fn io_err(cmd: Cmd, name: &str, source: std::io::Error) -> CmdError {
    CmdError::Io { cmd, name: name.to_string(), source }
}

/// Connect to the raw abstract socket name `sock` (no leading NUL).
fn connect(sock: &[u8], cmd: Cmd, name: &str, lxcpath: &str) -> Result<OwnedFd, CmdError> {
    match socket::connect_abstract(sock) {
        Ok(fd) => Ok(fd),
        Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
            Err(CmdError::NotRunning { name: name.to_string(), lxcpath: lxcpath.to_string() })
        }
        Err(e) => Err(io_err(cmd, name, e)),
    }
}

/// Send `req` on a connected socket and read the answer. `Ok(None)`: the peer closed without
/// answering (LXC's "0 bytes").
pub fn exchange(sock: BorrowedFd<'_>, name: &str, req: &Request<'_>) -> Result<Option<Response>, CmdError> {
    let cmd = req.cmd;
    if req.payload.len() > DATA_MAX {
        return Err(CmdError::Protocol { cmd, name: name.to_string(), what: "request payload too large".into() });
    }
    let header = Header {
        first: cmd as i32,
        datalen: req.payload.len() as i32,
        data: if req.payload.is_empty() { int_to_ptr(req.int_arg) } else { 0 },
    };
    let sent = socket::send_with_credentials(sock, &header.encode()).map_err(|e| io_err(cmd, name, e))?;
    if sent != HEADER_LEN {
        return Err(CmdError::Protocol { cmd, name: name.to_string(), what: format!("short header send ({sent})") });
    }
    if !req.payload.is_empty() {
        socket::send_all(sock, req.payload).map_err(|e| io_err(cmd, name, e))?;
    }
    if let Some(fd) = req.send_fd {
        // LXC sends the notify fd with a one-byte message after the header.
        socket::send_with_fds(sock, &[0u8], &[fd]).map_err(|e| io_err(cmd, name, e))?;
    }
    read_response(sock, cmd, name, req.max_fds)
}

fn read_response(sock: BorrowedFd<'_>, cmd: Cmd, name: &str, max_fds: usize) -> Result<Option<Response>, CmdError> {
    let mut hb = [0u8; HEADER_LEN];
    let got = match socket::recv_message(sock, &mut hb, max_fds) {
        Ok(r) => r,
        // A monitor that dies mid-answer resets the connection: treat as closed.
        Err(e) if e.raw_os_error() == Some(libc::ECONNRESET) => return Ok(None),
        Err(e) => return Err(io_err(cmd, name, e)),
    };
    if got.bytes == 0 {
        return Ok(None);
    }
    if got.bytes < HEADER_LEN {
        match socket::recv_exact(sock, &mut hb[got.bytes..]) {
            Ok(true) => {}
            Ok(false) => return Err(CmdError::Protocol { cmd, name: name.into(), what: "truncated header".into() }),
            Err(e) => return Err(io_err(cmd, name, e)),
        }
    }
    let h = Header::decode(&hb);
    let mut rsp = Response { ret: h.first, datalen: h.datalen, data: h.data, payload: Vec::new(), fds: got.fds };
    if h.datalen > 0 {
        let len = h.datalen as usize;
        if len > RESPONSE_MAX || (len > DATA_MAX && cmd != Cmd::ConsoleLog) {
            return Err(CmdError::Protocol { cmd, name: name.into(), what: format!("response data {len} too long") });
        }
        rsp.payload = vec![0u8; len];
        match socket::recv_exact(sock, &mut rsp.payload) {
            Ok(true) => {}
            Ok(false) => {
                return Err(CmdError::Protocol { cmd, name: name.into(), what: "missing response data".into() })
            }
            Err(e) => return Err(io_err(cmd, name, e)),
        }
    }
    Ok(Some(rsp))
}

/// Connect to container `name` in `lxcpath`, run one command, and return the answer together
/// with the still-open connection.
pub fn call_keep(name: &str, lxcpath: &str, req: &Request<'_>) -> Result<(Option<Response>, OwnedFd), CmdError> {
    let sock = command_socket_name(lxcpath, name);
    let fd = connect(&sock, req.cmd, name, lxcpath)?;
    let rsp = exchange(fd.as_fd(), name, req)?;
    Ok((rsp, fd))
}

/// Run one command; the connection is closed afterwards.
pub fn call(name: &str, lxcpath: &str, req: &Request<'_>) -> Result<Option<Response>, CmdError> {
    call_keep(name, lxcpath, req).map(|(r, _fd)| r)
}

/// Run one command and require an answer with `ret >= 0`.
pub fn call_ok(name: &str, lxcpath: &str, req: &Request<'_>) -> Result<Response, CmdError> {
    let rsp = call(name, lxcpath, req)?.ok_or_else(|| CmdError::NoAnswer { cmd: req.cmd, name: name.into() })?;
    check(rsp, req.cmd, name)
}

fn check(rsp: Response, cmd: Cmd, name: &str) -> Result<Response, CmdError> {
    if rsp.ret < 0 {
        // LXC sometimes answers a bare -1: report it as EPERM-free "operation failed" (EINVAL).
        let errno = if rsp.ret == -1 { libc::EINVAL } else { -rsp.ret };
        return Err(CmdError::Remote { cmd, name: name.into(), errno });
    }
    Ok(rsp)
}

fn one_fd(mut rsp: Response, cmd: Cmd, name: &str) -> Result<OwnedFd, CmdError> {
    rsp.fds.drain(..).next().ok_or_else(|| CmdError::Protocol {
        cmd,
        name: name.into(),
        what: "no fd in answer".into(),
    })
}

// ---------------------------------------------------------------------------------------------
// One function per command.

/// GET_STATE (3). A refused connection means STOPPED, as in LXC; so does a connection the
/// monitor drops unanswered (reset, or closed): it only does that while it exits, e.g. right
/// after a failed `lxc-start -d` returned (LXC maps ECONNRESET to STOPPED the same way).
pub fn get_state(name: &str, lxcpath: &str) -> Result<State, CmdError> {
    match call(name, lxcpath, &Request::new(Cmd::GetState)) {
        Err(CmdError::NotRunning { .. }) => Ok(State::Stopped),
        Err(CmdError::Io { source, .. }) if source.raw_os_error() == Some(libc::ECONNRESET) => Ok(State::Stopped),
        Err(e) => Err(e),
        Ok(None) => Ok(State::Stopped),
        Ok(Some(r)) => {
            let r = check(r, Cmd::GetState, name)?;
            State::from_i32(r.data_int()).ok_or_else(|| CmdError::Protocol {
                cmd: Cmd::GetState,
                name: name.into(),
                what: format!("unknown state {}", r.data_int()),
            })
        }
    }
}

/// GET_INIT_PID (4): the container init's pid as the host sees it.
pub fn get_init_pid(name: &str, lxcpath: &str) -> Result<i32, CmdError> {
    let r = call_ok(name, lxcpath, &Request::new(Cmd::GetInitPid))?;
    let pid = r.data_int();
    if pid <= 0 {
        return Err(CmdError::Remote { cmd: Cmd::GetInitPid, name: name.into(), errno: libc::ESRCH });
    }
    Ok(pid)
}

/// GET_CLONE_FLAGS (5): the namespace clone flags init was created with.
pub fn get_clone_flags(name: &str, lxcpath: &str) -> Result<i32, CmdError> {
    Ok(call_ok(name, lxcpath, &Request::new(Cmd::GetCloneFlags))?.data_int())
}

fn cgroup_path(name: &str, lxcpath: &str, cmd: Cmd, controller: Option<&str>) -> Result<String, CmdError> {
    let payload = controller.map(wire::cstring_payload).unwrap_or_default();
    let r = call_ok(name, lxcpath, &Request::new(cmd).payload(&payload))?;
    if r.payload.is_empty() {
        return Err(CmdError::Protocol { cmd, name: name.into(), what: "empty cgroup path".into() });
    }
    Ok(r.payload_str())
}

/// GET_CGROUP (6): the payload cgroup path of `controller` (None: the cgroup2 hierarchy),
/// relative to that hierarchy's mount point.
pub fn get_cgroup(name: &str, lxcpath: &str, controller: Option<&str>) -> Result<String, CmdError> {
    cgroup_path(name, lxcpath, Cmd::GetCgroup, controller)
}

/// GET_LIMIT_CGROUP (19): like [`get_cgroup`] but the cgroup where limits are applied.
pub fn get_limit_cgroup(name: &str, lxcpath: &str, controller: Option<&str>) -> Result<String, CmdError> {
    cgroup_path(name, lxcpath, Cmd::GetLimitCgroup, controller)
}

/// The cgroup where limits and stats live: GET_LIMIT_CGROUP (19), falling back to GET_CGROUP
/// (6) for monitors that predate it. None when neither answers.
pub fn limit_cgroup_path(name: &str, lxcpath: &str, controller: Option<&str>) -> Option<String> {
    match get_limit_cgroup(name, lxcpath, controller) {
        Ok(p) => Some(p),
        Err(_) => get_cgroup(name, lxcpath, controller).ok(),
    }
}

/// The state as LXC's `lxc_getstate()` reports it (what `c->state()` shows): the monitor's
/// state, except that a v1 freezer cgroup reading FROZEN or FREEZING wins (a freeze done
/// behind the monitor's back). Not running: STOPPED.
pub fn lxc_getstate(name: &str, lxcpath: &str) -> Result<State, CmdError> {
    let st = get_state(name, lxcpath)?;
    if st != State::Running {
        return Ok(st);
    }
    Ok(v1_freezer_state(name, lxcpath).unwrap_or(st))
}

fn v1_freezer_state(name: &str, lxcpath: &str) -> Option<State> {
    let layout = rlxc_cgroup::Layout::detect().ok()?;
    let h = layout.v1_for("freezer")?;
    let rel = limit_cgroup_path(name, lxcpath, Some("freezer"))?;
    let text = std::fs::read_to_string(h.dir_of(&rel).join("freezer.state")).ok()?;
    match text.trim() {
        "FROZEN" => Some(State::Frozen),
        "FREEZING" => Some(State::Freezing),
        _ => None,
    }
}

/// GET_CONFIG_ITEM (7): a config value of the running container. `Ok(None)` when the monitor
/// has no value for the key (LXC answers -1 for unknown and empty keys alike).
pub fn get_config_item(name: &str, lxcpath: &str, key: &str) -> Result<Option<String>, CmdError> {
    let payload = wire::cstring_payload(key);
    let r = call(name, lxcpath, &Request::new(Cmd::GetConfigItem).payload(&payload))?
        .ok_or_else(|| CmdError::NoAnswer { cmd: Cmd::GetConfigItem, name: name.into() })?;
    if r.ret != 0 {
        return Ok(None);
    }
    Ok(Some(r.payload_str()))
}

/// GET_NAME (8).
pub fn get_name(name: &str, lxcpath: &str) -> Result<String, CmdError> {
    Ok(call_ok(name, lxcpath, &Request::new(Cmd::GetName))?.payload_str())
}

/// GET_LXCPATH (9).
pub fn get_lxcpath(name: &str, lxcpath: &str) -> Result<String, CmdError> {
    Ok(call_ok(name, lxcpath, &Request::new(Cmd::GetLxcpath))?.payload_str())
}

/// Send one command to a raw abstract socket name (e.g. a hashed `lxc/<hash>/command` found in
/// `/proc/net/unix`) and require success.
pub fn call_raw(sock_name: &[u8], req: &Request<'_>) -> Result<Response, CmdError> {
    let label = String::from_utf8_lossy(sock_name).into_owned();
    let fd = connect(sock_name, req.cmd, &label, "")?;
    let r =
        exchange(fd.as_fd(), &label, req)?.ok_or_else(|| CmdError::NoAnswer { cmd: req.cmd, name: label.clone() })?;
    check(r, req.cmd, &label)
}

/// STOP (2): ask the monitor to send the stop signal. Returns once the monitor closed the
/// connection (the container is gone); an answer means the stop failed. Not running: `Ok`.
pub fn stop(name: &str, lxcpath: &str) -> Result<(), CmdError> {
    match call(name, lxcpath, &Request::new(Cmd::Stop)) {
        Err(CmdError::NotRunning { .. }) => Ok(()),
        Err(e) => Err(e),
        Ok(None) => Ok(()),
        Ok(Some(r)) if r.ret == 0 => Ok(()),
        Ok(Some(r)) => Err(CmdError::Remote {
            cmd: Cmd::Stop,
            name: name.into(),
            errno: if r.ret == -1 { libc::EPERM } else { -r.ret },
        }),
    }
}

/// TERMINAL_WINCH (1): never used by LXC; kept for completeness.
pub fn terminal_winch(name: &str, lxcpath: &str) -> Result<(), CmdError> {
    call(name, lxcpath, &Request::new(Cmd::TerminalWinch)).map(|_| ())
}

/// A console slot from CONSOLE (0). Keep `conn` open as long as the slot is used: the monitor
/// frees the tty when it closes.
#[derive(Debug)]
pub struct ConsoleSlot {
    pub ttynum: i32,
    pub master: OwnedFd,
    pub conn: OwnedFd,
}

/// CONSOLE / GET_TTY_FD (0): the pty master of tty `ttynum` (-1: any free one, 0: the console).
/// `Ok(None)` when no tty is free.
pub fn console(name: &str, lxcpath: &str, ttynum: i32) -> Result<Option<ConsoleSlot>, CmdError> {
    let (rsp, conn) = call_keep(name, lxcpath, &Request::new(Cmd::Console).int(ttynum).fds(1))?;
    let Some(rsp) = rsp else { return Ok(None) };
    let rsp = check(rsp, Cmd::Console, name)?;
    let tty = rsp.data_int();
    let master = one_fd(rsp, Cmd::Console, name)?;
    Ok(Some(ConsoleSlot { ttynum: tty, master, conn }))
}

/// CONSOLE_LOG (11): read and/or clear the console ring buffer.
pub fn console_log(name: &str, lxcpath: &str, req: &ConsoleLogRequest) -> Result<Vec<u8>, CmdError> {
    let p = req.encode();
    Ok(call_ok(name, lxcpath, &Request::new(Cmd::ConsoleLog).payload(&p))?.payload)
}

/// SERVE_STATE_CLIENTS (12): make the monitor record `state` and tell its state clients (what
/// lxc-freeze does on v1 hosts).
pub fn serve_state_clients(name: &str, lxcpath: &str, state: State) -> Result<(), CmdError> {
    call_ok(name, lxcpath, &Request::new(Cmd::ServeStateClients).int(state.as_i32())).map(|_| ())
}

/// SECCOMP_NOTIFY_ADD_LISTENER (13): hand a seccomp notify fd to the monitor's proxy.
pub fn seccomp_notify_add_listener(
    name: &str,
    lxcpath: &str,
    notify_fd: BorrowedFd<'_>,
    command: i32,
    flags: i32,
) -> Result<(), CmdError> {
    let _ = (command, flags); // LXC passes them only to its own (unexported) proxy setup.
    let req =
        Request { cmd: Cmd::SeccompNotifyAddListener, int_arg: 0, payload: &[], send_fd: Some(notify_fd), max_fds: 0 };
    call_ok(name, lxcpath, &req).map(|_| ())
}

/// ADD_BPF_DEVICE_CGROUP (14): add one device rule to the live eBPF device program.
pub fn add_bpf_device_cgroup(name: &str, lxcpath: &str, device: &DeviceItem) -> Result<(), CmdError> {
    let p = device.encode();
    call_ok(name, lxcpath, &Request::new(Cmd::AddBpfDeviceCgroup).payload(&p)).map(|_| ())
}

/// FREEZE (15): freeze through the monitor (pure cgroup2 hosts; -ENOENT elsewhere).
/// `timeout` in seconds, -1 = wait forever, 0 = do not wait.
pub fn freeze(name: &str, lxcpath: &str, timeout: i32) -> Result<(), CmdError> {
    call_ok(name, lxcpath, &Request::new(Cmd::Freeze).int(timeout)).map(|_| ())
}

/// UNFREEZE (16).
pub fn unfreeze(name: &str, lxcpath: &str, timeout: i32) -> Result<(), CmdError> {
    call_ok(name, lxcpath, &Request::new(Cmd::Unfreeze).int(timeout)).map(|_| ())
}

fn fd_command(name: &str, lxcpath: &str, cmd: Cmd) -> Result<OwnedFd, CmdError> {
    let r = call_ok(name, lxcpath, &Request::new(cmd).fds(1))?;
    one_fd(r, cmd, name)
}

/// GET_CGROUP2_FD (17): the container's unified cgroup directory (pure cgroup2 only).
pub fn get_cgroup2_fd(name: &str, lxcpath: &str) -> Result<OwnedFd, CmdError> {
    fd_command(name, lxcpath, Cmd::GetCgroup2Fd)
}

/// GET_LIMIT_CGROUP2_FD (20).
pub fn get_limit_cgroup2_fd(name: &str, lxcpath: &str) -> Result<OwnedFd, CmdError> {
    fd_command(name, lxcpath, Cmd::GetLimitCgroup2Fd)
}

/// GET_INIT_PIDFD (18).
pub fn get_init_pidfd(name: &str, lxcpath: &str) -> Result<OwnedFd, CmdError> {
    fd_command(name, lxcpath, Cmd::GetInitPidfd)
}

/// GET_DEVPTS_FD (21).
pub fn get_devpts_fd(name: &str, lxcpath: &str) -> Result<OwnedFd, CmdError> {
    fd_command(name, lxcpath, Cmd::GetDevptsFd)
}

/// GET_SECCOMP_NOTIFY_FD (22).
pub fn get_seccomp_notify_fd(name: &str, lxcpath: &str) -> Result<OwnedFd, CmdError> {
    fd_command(name, lxcpath, Cmd::GetSeccompNotifyFd)
}

/// GET_CGROUP_FD (24) / GET_LIMIT_CGROUP_FD (25): an fd of the container's cgroup directory in
/// the hierarchy of `controller`, and what kind of hierarchy it is.
pub fn get_cgroup_fd(
    name: &str,
    lxcpath: &str,
    controller: &str,
    limit: bool,
) -> Result<(CgroupFdInfo, OwnedFd), CmdError> {
    let cmd = if limit { Cmd::GetLimitCgroupFd } else { Cmd::GetCgroupFd };
    let req_info = CgroupFdInfo { fd: -libc::EBADF, controller: controller.to_string(), ..CgroupFdInfo::default() };
    let p = req_info.encode();
    let r = call_ok(name, lxcpath, &Request::new(cmd).payload(&p).fds(1))?;
    let info = CgroupFdInfo::decode(&r.payload);
    let fd = one_fd(r, cmd, name)?;
    Ok((info, fd))
}

/// GET_CGROUP_CTX (23): fds of every hierarchy's container cgroup (what attach uses).
pub fn get_cgroup_ctx(name: &str, lxcpath: &str) -> Result<(CgroupCtxInfo, Vec<OwnedFd>), CmdError> {
    let p = CgroupCtxInfo::default().encode(&[]);
    let r = call_ok(name, lxcpath, &Request::new(Cmd::GetCgroupCtx).payload(&p).fds(wire::CGROUP_CTX_MAX_FD))?;
    let info = CgroupCtxInfo::decode(&r.payload);
    Ok((info, r.fds))
}

// ---------------------------------------------------------------------------------------------
// State clients and waiting.

/// The answer to ADD_STATE_CLIENT.
#[derive(Debug)]
pub enum StateClient {
    /// The container already is in one of the wanted states (or is not running and STOPPED
    /// was wanted).
    Reached(State),
    /// Registered: one `lxc_msg` will arrive on this socket when a wanted state is reached.
    Waiting(OwnedFd),
}

/// ADD_STATE_CLIENT (10). `states[i] != 0` marks state `i` as wanted (2 in the RUNNING slot
/// asks to survive a reboot).
pub fn add_state_client(name: &str, lxcpath: &str, states: &[i32; 8]) -> Result<StateClient, CmdError> {
    let mut p = Vec::with_capacity(32);
    for s in states {
        p.extend_from_slice(&s.to_ne_bytes());
    }
    match call_keep(name, lxcpath, &Request::new(Cmd::AddStateClient).payload(&p)) {
        Err(CmdError::NotRunning { .. }) if states[State::Stopped as usize] != 0 => {
            Ok(StateClient::Reached(State::Stopped))
        }
        Err(e) => Err(e),
        Ok((None, _)) => Err(CmdError::NoAnswer { cmd: Cmd::AddStateClient, name: name.into() }),
        Ok((Some(r), fd)) => {
            let r = check(r, Cmd::AddStateClient, name)?;
            let st = r.data_int();
            if st < MAX_STATE {
                let st = State::from_i32(st).ok_or_else(|| CmdError::Protocol {
                    cmd: Cmd::AddStateClient,
                    name: name.into(),
                    what: format!("unknown state {st}"),
                })?;
                Ok(StateClient::Reached(st))
            } else {
                Ok(StateClient::Waiting(fd))
            }
        }
    }
}

/// Read the one state message of a registered state client. A closed connection reads as
/// STOPPED (the monitor exited), as in LXC. `timeout` None = forever.
pub fn receive_state(fd: BorrowedFd<'_>, name: &str, timeout: Option<Duration>) -> Result<State, CmdError> {
    if let Some(t) = timeout {
        socket::set_recv_timeout(fd, Some(t.max(Duration::from_millis(1))))
            .map_err(|e| io_err(Cmd::AddStateClient, name, e))?;
    }
    let mut b = [0u8; LXC_MSG_LEN];
    match socket::recv_exact(fd, &mut b) {
        Ok(true) => {
            let m = LxcMsg::decode(&b);
            State::from_i32(m.value).ok_or_else(|| CmdError::Protocol {
                cmd: Cmd::AddStateClient,
                name: name.into(),
                what: format!("unknown state {}", m.value),
            })
        }
        Ok(false) => Ok(State::Stopped),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
            Err(CmdError::Timeout { name: name.into(), wanted: String::new() })
        }
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(State::Stopped),
        Err(e) => Err(io_err(Cmd::AddStateClient, name, e)),
    }
}

/// LXC's `lxc_wait()`: wait until the container is in one of `states`. While nobody listens
/// (container not started yet) retry once a second. `timeout` None = forever. Returns the
/// state reached; a reached state that was not wanted (e.g. the monitor exited) is an error.
pub fn wait_state(name: &str, lxcpath: &str, states: &[i32; 8], timeout: Option<Duration>) -> Result<State, CmdError> {
    let wanted = states
        .iter()
        .enumerate()
        .filter(|(_, v)| **v != 0)
        .filter_map(|(i, _)| State::from_i32(i as i32).map(|s| s.as_str()))
        .collect::<Vec<_>>()
        .join("|");
    let deadline = timeout.map(|t| Instant::now() + t);
    let timed_out = || CmdError::Timeout { name: name.into(), wanted: wanted.clone() };
    let state = loop {
        match add_state_client(name, lxcpath, states) {
            Ok(StateClient::Reached(s)) => break s,
            Ok(StateClient::Waiting(fd)) => {
                let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                if left == Some(Duration::ZERO) {
                    return Err(timed_out());
                }
                break receive_state(fd.as_fd(), name, left).map_err(|e| match e {
                    CmdError::Timeout { .. } => timed_out(),
                    e => e,
                })?;
            }
            // No monitor (or one closing its socket while it tears down) means STOPPED, which
            // ends the wait when STOPPED is wanted (LXC's lxc_cmd_add_state_client).
            Err(CmdError::NotRunning { .. } | CmdError::NoAnswer { .. }) if states[State::Stopped as usize] != 0 => {
                break State::Stopped;
            }
            Err(CmdError::NotRunning { .. }) => {
                let now = Instant::now();
                if let Some(d) = deadline {
                    if now >= d {
                        return Err(timed_out());
                    }
                    std::thread::sleep(Duration::from_secs(1).min(d - now));
                } else {
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
            Err(e) => return Err(e),
        }
    };
    if states[state as usize] == 0 {
        return Err(CmdError::OtherState { name: name.into(), reached: state, wanted });
    }
    Ok(state)
}

/// The names of the containers of `lxcpath` whose monitors listen now, from `/proc/net/unix`
/// (LXC's `list_active_containers`, including hashed socket names resolved via GET_LXCPATH and
/// GET_NAME). Sorted, without duplicates.
pub fn active_containers(lxcpath: &str) -> Vec<String> {
    let text = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for line in text.lines().skip(1) {
        let Some(path) = line.split_whitespace().nth(7) else { continue };
        let Some(sock) = path.strip_prefix('@') else { continue };
        let found = if let Some(rest) = sock.strip_prefix(lxcpath) {
            let rest = rest.trim_start_matches('/');
            match rest.split_once('/') {
                Some((n, "command")) if !n.is_empty() => Some(n.to_string()),
                _ => None,
            }
        } else if super::address::is_hashed_command_name(sock) {
            let raw = sock.as_bytes();
            match call_raw(raw, &Request::new(Cmd::GetLxcpath)) {
                Ok(p) if p.payload_str() == lxcpath => {
                    call_raw(raw, &Request::new(Cmd::GetName)).ok().map(|r| r.payload_str())
                }
                _ => None,
            }
        } else {
            None
        };
        if let Some(n) = found {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out.sort();
    out
}
