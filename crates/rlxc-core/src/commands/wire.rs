//! The bytes on the wire: LXC's native-layout structs (native endianness, pointer-sized `data`).
//!
//! ```text
//! struct lxc_cmd_req { lxc_cmd_t cmd; int datalen; const void *data; };   // 16 bytes on 64-bit
//! struct lxc_cmd_rsp { int ret; int datalen; void *data; };               // 16 bytes on 64-bit
//! ```
//! Small integers ride inside the `data` pointer (`INT_TO_PTR`: sign-extended to pointer width;
//! `PTR_TO_INT`: truncated back to `int`). Payloads of `datalen` bytes follow the header.

use std::fmt;
use std::mem::size_of;

/// `LXC_CMD_DATA_MAX`: 2 × PATH_MAX.
pub const DATA_MAX: usize = 8192;
/// Size of a request or response header on this architecture.
pub const HEADER_LEN: usize = {
    let raw = 8 + size_of::<usize>();
    let align = size_of::<usize>();
    raw.div_ceil(align) * align
};
/// `NAME_MAX + 1`, the name field of `struct lxc_msg`.
pub const MSG_NAME_LEN: usize = 256;
/// `sizeof(struct lxc_msg)`: type, name[256], value.
pub const LXC_MSG_LEN: usize = 4 + MSG_NAME_LEN + 4;

macro_rules! commands {
    ($($variant:ident = $num:literal, $text:literal;)*) => {
        /// `lxc_cmd_t`: the command numbers (append-only in LXC).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(i32)]
        pub enum Cmd { $($variant = $num,)* }

        impl Cmd {
            /// The command with this number, if rlxc knows it.
            pub fn from_i32(n: i32) -> Option<Cmd> {
                match n { $($num => Some(Cmd::$variant),)* _ => None }
            }
            /// LXC's name for the command (`lxc_cmd_str`).
            pub fn as_str(self) -> &'static str {
                match self { $(Cmd::$variant => $text,)* }
            }
        }
    };
}

commands! {
    Console = 0, "get_tty_fd";
    TerminalWinch = 1, "terminal_winch";
    Stop = 2, "stop";
    GetState = 3, "get_state";
    GetInitPid = 4, "get_init_pid";
    GetCloneFlags = 5, "get_clone_flags";
    GetCgroup = 6, "get_cgroup";
    GetConfigItem = 7, "get_config_item";
    GetName = 8, "get_name";
    GetLxcpath = 9, "get_lxcpath";
    AddStateClient = 10, "add_state_client";
    ConsoleLog = 11, "console_log";
    ServeStateClients = 12, "serve_state_clients";
    SeccompNotifyAddListener = 13, "seccomp_notify_add_listener";
    AddBpfDeviceCgroup = 14, "add_bpf_device_cgroup";
    Freeze = 15, "freeze";
    Unfreeze = 16, "unfreeze";
    GetCgroup2Fd = 17, "get_cgroup2_fd";
    GetInitPidfd = 18, "get_init_pidfd";
    GetLimitCgroup = 19, "get_limit_cgroup";
    GetLimitCgroup2Fd = 20, "get_limit_cgroup2_fd";
    GetDevptsFd = 21, "get_devpts_fd";
    GetSeccompNotifyFd = 22, "get_seccomp_notify_fd";
    GetCgroupCtx = 23, "get_cgroup_ctx";
    GetCgroupFd = 24, "get_cgroup_fd";
    GetLimitCgroupFd = 25, "get_limit_cgroup_fd";
    GetSystemdScope = 26, "get_systemd_scope";
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `INT_TO_PTR(i)`: the pointer-width value carrying an int.
pub fn int_to_ptr(i: i32) -> usize {
    i as isize as usize
}

/// `PTR_TO_INT(p)`: the int carried in a pointer-width value.
pub fn ptr_to_int(p: usize) -> i32 {
    p as i32
}

/// A request or response header: two ints and the pointer-sized `data` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Header {
    /// `cmd` in a request, `ret` in a response.
    pub first: i32,
    pub datalen: i32,
    pub data: usize,
}

impl Header {
    /// Native-layout bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&self.first.to_ne_bytes());
        b[4..8].copy_from_slice(&self.datalen.to_ne_bytes());
        let p = self.data.to_ne_bytes();
        let off = HEADER_LEN - size_of::<usize>();
        b[off..off + size_of::<usize>()].copy_from_slice(&p);
        b
    }

    /// Parse native-layout bytes.
    pub fn decode(b: &[u8; HEADER_LEN]) -> Header {
        let first = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
        let datalen = i32::from_ne_bytes([b[4], b[5], b[6], b[7]]);
        let off = HEADER_LEN - size_of::<usize>();
        let mut p = [0u8; size_of::<usize>()];
        p.copy_from_slice(&b[off..off + size_of::<usize>()]);
        Header { first, datalen, data: usize::from_ne_bytes(p) }
    }
}

/// `lxc_msg_type_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum MsgType {
    State = 0,
    Priority = 1,
    ExitCode = 2,
}

/// `struct lxc_msg { lxc_msg_type_t type; char name[NAME_MAX+1]; int value; }` (264 bytes):
/// what state clients and the legacy monitor FIFO receive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LxcMsg {
    pub kind: i32,
    pub name: String,
    pub value: i32,
}

impl LxcMsg {
    /// A state message.
    pub fn state(name: &str, state: crate::state::State) -> LxcMsg {
        LxcMsg { kind: MsgType::State as i32, name: name.to_string(), value: state.as_i32() }
    }

    /// Native-layout bytes (name truncated to 255 bytes, NUL-padded).
    pub fn encode(&self) -> [u8; LXC_MSG_LEN] {
        let mut b = [0u8; LXC_MSG_LEN];
        b[0..4].copy_from_slice(&self.kind.to_ne_bytes());
        let n = self.name.as_bytes();
        let len = n.len().min(MSG_NAME_LEN - 1);
        b[4..4 + len].copy_from_slice(&n[..len]);
        b[4 + MSG_NAME_LEN..].copy_from_slice(&self.value.to_ne_bytes());
        b
    }

    /// Parse native-layout bytes.
    pub fn decode(b: &[u8; LXC_MSG_LEN]) -> LxcMsg {
        let kind = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
        let name = cstr(&b[4..4 + MSG_NAME_LEN]);
        let v = &b[4 + MSG_NAME_LEN..];
        LxcMsg { kind, name, value: i32::from_ne_bytes([v[0], v[1], v[2], v[3]]) }
    }
}

/// The text up to the first NUL (lossy UTF-8).
pub fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// A string payload as LXC sends it: the bytes plus a terminating NUL.
pub fn cstring_payload(s: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    v
}

/// `struct lxc_cmd_console_log { bool clear; bool read; uint64_t read_max; bool write_logfile; }`
/// (24 bytes on x86_64/aarch64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConsoleLogRequest {
    pub clear: bool,
    pub read: bool,
    pub read_max: u64,
    pub write_logfile: bool,
}

/// Wire size of [`ConsoleLogRequest`].
pub const CONSOLE_LOG_LEN: usize = 24;

impl ConsoleLogRequest {
    pub fn encode(&self) -> [u8; CONSOLE_LOG_LEN] {
        let mut b = [0u8; CONSOLE_LOG_LEN];
        b[0] = u8::from(self.clear);
        b[1] = u8::from(self.read);
        b[8..16].copy_from_slice(&self.read_max.to_ne_bytes());
        b[16] = u8::from(self.write_logfile);
        b
    }
    pub fn decode(b: &[u8]) -> Option<ConsoleLogRequest> {
        if b.len() < CONSOLE_LOG_LEN {
            return None;
        }
        let mut m = [0u8; 8];
        m.copy_from_slice(&b[8..16]);
        Some(ConsoleLogRequest {
            clear: b[0] != 0,
            read: b[1] != 0,
            read_max: u64::from_ne_bytes(m),
            write_logfile: b[16] != 0,
        })
    }
}

/// `struct device_item { char type; int major; int minor; char access[4]; int allow;
/// int global_rule; }` (24 bytes): one device rule for ADD_BPF_DEVICE_CGROUP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceItem {
    /// `'a'`, `'b'` or `'c'`.
    pub kind: u8,
    /// -1 = any.
    pub major: i32,
    /// -1 = any.
    pub minor: i32,
    /// Up to three of `r w m`, NUL-padded.
    pub access: [u8; 4],
    /// 1 allow, 0 deny.
    pub allow: i32,
    /// For `a` rules: which global default this sets (LXC's `LXC_BPF_DEVICE_CGROUP_*`), else -1.
    pub global_rule: i32,
}

/// Wire size of [`DeviceItem`].
pub const DEVICE_ITEM_LEN: usize = 24;

impl DeviceItem {
    pub fn encode(&self) -> [u8; DEVICE_ITEM_LEN] {
        let mut b = [0u8; DEVICE_ITEM_LEN];
        b[0] = self.kind;
        b[4..8].copy_from_slice(&self.major.to_ne_bytes());
        b[8..12].copy_from_slice(&self.minor.to_ne_bytes());
        b[12..16].copy_from_slice(&self.access);
        b[16..20].copy_from_slice(&self.allow.to_ne_bytes());
        b[20..24].copy_from_slice(&self.global_rule.to_ne_bytes());
        b
    }
    pub fn decode(b: &[u8]) -> Option<DeviceItem> {
        if b.len() < DEVICE_ITEM_LEN {
            return None;
        }
        let i = |o: usize| i32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        Some(DeviceItem {
            kind: b[0],
            major: i(4),
            minor: i(8),
            access: [b[12], b[13], b[14], b[15]],
            allow: i(16),
            global_rule: i(20),
        })
    }
    /// The access letters as text.
    pub fn access_str(&self) -> String {
        cstr(&self.access)
    }
}

/// `MAX_CGROUP_ROOT_NAMELEN`.
pub const CGROUP_CONTROLLER_LEN: usize = 64;
/// `CGROUP_CTX_MAX_FD`.
pub const CGROUP_CTX_MAX_FD: usize = 20;

/// `cgroup_layout_t`.
pub mod layout {
    pub const UNKNOWN: i32 = -1;
    pub const LEGACY: i32 = 0;
    pub const HYBRID: i32 = 1;
    pub const UNIFIED: i32 = 2;
}
/// `cgroupfs_type_magic_t`: what kind of hierarchy an fd points into.
pub mod hierarchy {
    pub const LEGACY: i32 = 0x0027_e0eb;
    pub const UNIFIED: i32 = 0x6367_7270;
}
/// `utilities` bits.
pub const DEVICES_CONTROLLER: u32 = 1;
pub const FREEZER_CONTROLLER: u32 = 2;

/// `struct cgroup_fd { __s32 layout; __u32 utilities; __s32 type; __s32 fd;
/// char controller[64]; } __attribute__((aligned(8)))` (80 bytes): GET_CGROUP_FD (24) and
/// GET_LIMIT_CGROUP_FD (25) send it with `controller` set and get it back filled in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CgroupFdInfo {
    pub layout: i32,
    pub utilities: u32,
    /// [`hierarchy::LEGACY`] or [`hierarchy::UNIFIED`].
    pub kind: i32,
    /// The fd number as the server saw it (meaningless to the client; the real fd comes via
    /// SCM_RIGHTS).
    pub fd: i32,
    pub controller: String,
}

/// Wire size of [`CgroupFdInfo`].
pub const CGROUP_FD_LEN: usize = 80;

impl CgroupFdInfo {
    pub fn encode(&self) -> [u8; CGROUP_FD_LEN] {
        let mut b = [0u8; CGROUP_FD_LEN];
        b[0..4].copy_from_slice(&self.layout.to_ne_bytes());
        b[4..8].copy_from_slice(&self.utilities.to_ne_bytes());
        b[8..12].copy_from_slice(&self.kind.to_ne_bytes());
        b[12..16].copy_from_slice(&self.fd.to_ne_bytes());
        let c = self.controller.as_bytes();
        let len = c.len().min(CGROUP_CONTROLLER_LEN - 1);
        b[16..16 + len].copy_from_slice(&c[..len]);
        b
    }
    /// Parse; shorter input is zero-extended (LXC's `copy_struct_from_client`).
    pub fn decode(input: &[u8]) -> CgroupFdInfo {
        let mut b = [0u8; CGROUP_FD_LEN];
        let n = input.len().min(CGROUP_FD_LEN);
        b[..n].copy_from_slice(&input[..n]);
        let i = |o: usize| i32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        CgroupFdInfo {
            layout: i(0),
            utilities: i(4) as u32,
            kind: i(8),
            fd: i(12),
            controller: cstr(&b[16..16 + CGROUP_CONTROLLER_LEN]),
        }
    }
}

/// `struct cgroup_ctx { __s32 layout; __u32 utilities; __u32 fd_len; __s32 fd[20]; }
/// __attribute__((aligned(8)))` (96 bytes): GET_CGROUP_CTX (23).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CgroupCtxInfo {
    pub layout: i32,
    pub utilities: u32,
    pub fd_len: u32,
}

/// Wire size of [`CgroupCtxInfo`].
pub const CGROUP_CTX_LEN: usize = 96;

impl CgroupCtxInfo {
    pub fn encode(&self, fds: &[i32]) -> [u8; CGROUP_CTX_LEN] {
        let mut b = [0u8; CGROUP_CTX_LEN];
        b[0..4].copy_from_slice(&self.layout.to_ne_bytes());
        b[4..8].copy_from_slice(&self.utilities.to_ne_bytes());
        b[8..12].copy_from_slice(&self.fd_len.to_ne_bytes());
        for (i, fd) in fds.iter().take(CGROUP_CTX_MAX_FD).enumerate() {
            b[12 + 4 * i..16 + 4 * i].copy_from_slice(&fd.to_ne_bytes());
        }
        b
    }
    pub fn decode(input: &[u8]) -> CgroupCtxInfo {
        let mut b = [0u8; 12];
        let n = input.len().min(12);
        b[..n].copy_from_slice(&input[..n]);
        CgroupCtxInfo {
            layout: i32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
            utilities: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
            fd_len: u32::from_ne_bytes([b[8], b[9], b[10], b[11]]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_is_native_struct() {
        assert_eq!(HEADER_LEN, if cfg!(target_pointer_width = "64") { 16 } else { 12 });
        let h = Header { first: 3, datalen: 0, data: int_to_ptr(-1) };
        let b = h.encode();
        assert_eq!(Header::decode(&b), h);
        assert_eq!(ptr_to_int(h.data), -1);
        assert_eq!(&b[0..4], &3i32.to_ne_bytes());
    }

    #[test]
    fn struct_sizes_match_lxc() {
        assert_eq!(LXC_MSG_LEN, 264);
        let m = LxcMsg { kind: 0, name: "c1".into(), value: 2 };
        assert_eq!(LxcMsg::decode(&m.encode()), m);
        let d = DeviceItem { kind: b'c', major: 1, minor: 3, access: *b"rwm\0", allow: 1, global_rule: -1 };
        assert_eq!(DeviceItem::decode(&d.encode()), Some(d));
        let c = ConsoleLogRequest { clear: true, read: true, read_max: 77, write_logfile: false };
        assert_eq!(ConsoleLogRequest::decode(&c.encode()), Some(c));
        let f = CgroupFdInfo { layout: 1, utilities: 2, kind: hierarchy::LEGACY, fd: 5, controller: "memory".into() };
        assert_eq!(CgroupFdInfo::decode(&f.encode()), f);
    }

    #[test]
    fn command_numbers() {
        assert_eq!(Cmd::from_i32(15), Some(Cmd::Freeze));
        assert_eq!(Cmd::GetLimitCgroupFd as i32, 25);
        assert_eq!(Cmd::from_i32(27), None);
    }
}
