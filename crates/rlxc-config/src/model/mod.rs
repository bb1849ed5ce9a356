//! The typed model of one container's configuration: every LXC 4.0 setting as a pub field.
//!
//! Values are parsed when read (see `keys.rs`), so consumers never re-parse strings. Field
//! defaults are LXC 4.0's `lxc_conf_init()` defaults. Add fields, don't rename: other crates
//! compile against these names.

use std::collections::BTreeMap;

use crate::store::{ItemOrigin, Unexpanded};

mod netdev;
pub use netdev::*;

/// Default size of the `/dev` tmpfs with `lxc.autodev` (`lxc.autodev.tmpfs.size`), in bytes.
pub const DEFAULT_AUTODEV_TMPFS_SIZE: u64 = 500_000;
/// SIGKILL: default for `lxc.monitor.signal.pdeath` and the hard-stop signal.
pub const SIGKILL: i32 = 9;

/// Everything one container's configuration says (LXC's `struct lxc_conf`).
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerConfig {
    /// `lxc.rootfs.*`.
    pub rootfs: Rootfs,
    /// `lxc.uts.name`.
    pub uts_name: Option<String>,
    /// `lxc.arch`, as given (None = host personality).
    pub arch: Option<String>,
    /// The personality `lxc.arch` selects (None = unknown name or unset: keep the host's).
    pub personality: Option<Personality>,
    /// `lxc.mount.fstab`.
    pub mount_fstab: Option<String>,
    /// `lxc.mount.entry`, in order.
    pub mount_entries: Vec<MountEntry>,
    /// `lxc.mount.auto`.
    pub mount_auto: MountAuto,
    /// `lxc.autodev` (default true in LXC 4.0's code).
    pub autodev: bool,
    /// `lxc.autodev.tmpfs.size` in bytes; 0 = not set (the mount uses 500000, see
    /// [`ContainerConfig::autodev_tmpfs_bytes`]).
    pub autodev_tmpfs_size: u64,
    /// `lxc.tty.max`, `lxc.tty.dir`.
    pub tty: TtyConfig,
    /// `lxc.pty.max` (0 = no private devpts instance).
    pub pty_max: u64,
    /// `lxc.console.*`.
    pub console: ConsoleConfig,
    /// `lxc.cgroup.*`, `lxc.cgroup2.*`, `lxc.cgroup.dir`, `lxc.cgroup.relative`.
    pub cgroup: CgroupConfig,
    /// `lxc.idmap`, in order.
    pub idmaps: Vec<IdMap>,
    /// `lxc.cap.drop`: capability names (lower case, no `cap_`) or numbers, as given.
    pub cap_drop: Vec<String>,
    /// `lxc.cap.keep`: as `cap_drop`; `none` clears earlier entries and is kept as the only entry.
    pub cap_keep: Vec<String>,
    /// `lxc.apparmor.*`.
    pub apparmor: AppArmorConfig,
    /// `lxc.selinux.*`.
    pub selinux: SelinuxConfig,
    /// `lxc.keyring.session`.
    pub keyring: KeyringConfig,
    /// `lxc.seccomp.*`.
    pub seccomp: SeccompConfig,
    /// `lxc.hook.<kind>` commands, in order, per kind.
    pub hooks: BTreeMap<HookKind, Vec<String>>,
    /// `lxc.hook.version` (0 = positional arguments, 1 = environment variables).
    pub hook_version: u32,
    /// `lxc.log.*`.
    pub log: LogConfig,
    /// `lxc.start.*`.
    pub start: StartConfig,
    /// `lxc.group`, in order (LXC keeps duplicates).
    pub groups: Vec<String>,
    /// `lxc.monitor.*`.
    pub monitor: MonitorConfig,
    /// `lxc.signal.*`.
    pub signals: SignalConfig,
    /// `lxc.init.*`.
    pub init: InitConfig,
    /// `lxc.execute.cmd`.
    pub execute_cmd: Option<String>,
    /// `lxc.namespace.*`.
    pub namespaces: NamespaceConfig,
    /// `lxc.sysctl.<name>`: (name, value) in first-set order; setting a name again replaces it.
    pub sysctls: Vec<(String, String)>,
    /// `lxc.proc.<file>`: (file, value) in first-set order; setting a file again replaces it.
    pub procs: Vec<(String, String)>,
    /// `lxc.prlimit.<res>`, in first-set order; setting a resource again replaces it.
    pub prlimits: Vec<Prlimit>,
    /// `lxc.environment`: `NAME=VALUE` (bare `NAME` resolved from our environment when read).
    pub environment: Vec<String>,
    /// `lxc.ephemeral`.
    pub ephemeral: bool,
    /// `lxc.no_new_privs`.
    pub no_new_privs: bool,
    /// `lxc.net.N.*` by index N (gaps allowed).
    pub net: BTreeMap<u32, NetDev>,
    /// The top-level file's lines (what `save` writes back).
    pub unexpanded: Unexpanded,
    /// Every item read, in order, with the file and line that set it (`rlxc config show --origin`).
    pub origins: Vec<ItemOrigin>,
}

impl Default for ContainerConfig {
    fn default() -> Self {
        ContainerConfig {
            rootfs: Rootfs::default(),
            uts_name: None,
            arch: None,
            personality: None,
            mount_fstab: None,
            mount_entries: Vec::new(),
            mount_auto: MountAuto::default(),
            autodev: true,
            autodev_tmpfs_size: 0,
            tty: TtyConfig::default(),
            pty_max: 0,
            console: ConsoleConfig::default(),
            cgroup: CgroupConfig::default(),
            idmaps: Vec::new(),
            cap_drop: Vec::new(),
            cap_keep: Vec::new(),
            apparmor: AppArmorConfig::default(),
            selinux: SelinuxConfig::default(),
            keyring: KeyringConfig::default(),
            seccomp: SeccompConfig::default(),
            hooks: BTreeMap::new(),
            hook_version: 0,
            log: LogConfig::default(),
            start: StartConfig::default(),
            groups: Vec::new(),
            monitor: MonitorConfig::default(),
            signals: SignalConfig::default(),
            init: InitConfig::default(),
            execute_cmd: None,
            namespaces: NamespaceConfig::default(),
            sysctls: Vec::new(),
            procs: Vec::new(),
            prlimits: Vec::new(),
            environment: Vec::new(),
            ephemeral: false,
            no_new_privs: false,
            net: BTreeMap::new(),
            unexpanded: Unexpanded::default(),
            origins: Vec::new(),
        }
    }
}

impl ContainerConfig {
    /// The commands of one hook kind, in order (empty when none).
    pub fn hooks_for(&self, kind: HookKind) -> &[String] {
        self.hooks.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The size of the `/dev` tmpfs to mount with `lxc.autodev` (default 500000 bytes).
    pub fn autodev_tmpfs_bytes(&self) -> u64 {
        if self.autodev_tmpfs_size > 0 {
            self.autodev_tmpfs_size
        } else {
            DEFAULT_AUTODEV_TMPFS_SIZE
        }
    }

    /// Whether the config maps user ids (an unprivileged container).
    pub fn is_unprivileged(&self) -> bool {
        !self.idmaps.is_empty()
    }

    /// The mapping of id 0 inside the container (LXC's root mapping), if any.
    pub fn root_idmap(&self, kind: IdType) -> Option<&IdMap> {
        self.idmaps.iter().find(|m| m.kind == kind && m.nsid == 0)
    }

    /// The host id that container id `id` maps to (None: unmapped). Without any idmap the
    /// container shares the host's ids.
    pub fn host_id(&self, kind: IdType, id: u64) -> Option<u64> {
        if self.idmaps.is_empty() {
            return Some(id);
        }
        self.idmaps
            .iter()
            .filter(|m| m.kind == kind)
            .find(|m| id >= m.nsid && id - m.nsid < m.range)
            .and_then(|m| m.hostid.checked_add(id - m.nsid))
    }

    /// The entries of `lxc.mount.fstab` (read from disk now), then `lxc.mount.entry`, in the
    /// order LXC mounts them.
    pub fn all_mount_entries(&self) -> Result<Vec<MountEntry>, crate::error::ConfigError> {
        let mut out = Vec::new();
        if let Some(f) = &self.mount_fstab {
            let text = std::fs::read_to_string(f).map_err(|source| crate::error::ConfigError::Io {
                at: None,
                path: f.into(),
                source,
            })?;
            out = crate::mount::parse_fstab(&text).map_err(|e| crate::error::ConfigError::Value {
                at: None,
                key: "lxc.mount.fstab".into(),
                msg: format!("{f}: {e}"),
            })?;
        }
        out.extend(self.mount_entries.iter().cloned());
        Ok(out)
    }
}

/// `lxc.rootfs.*`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rootfs {
    /// `lxc.rootfs.path` verbatim (`[type:]location`); None = share the host root.
    pub path: Option<String>,
    /// The backing-store type named before the first `:` when it is a known type
    /// (`dir overlay overlayfs loop nbd lvm zfs btrfs rbd`); None = plain path (a directory).
    pub backend: Option<String>,
    /// `path` without the backend prefix (e.g. `/lower:/upper` for overlay).
    pub location: Option<String>,
    /// `lxc.rootfs.mount`: staging mount point (None = compile-time default).
    pub mount: Option<String>,
    /// `lxc.rootfs.options`: mount options, as given.
    pub options: Option<String>,
    /// `lxc.rootfs.managed` (default true).
    pub managed: bool,
}

impl Default for Rootfs {
    fn default() -> Self {
        Rootfs { path: None, backend: None, location: None, mount: None, options: None, managed: true }
    }
}

/// Execution domain selected by `lxc.arch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Personality {
    /// PER_LINUX32 (`i386 i686 x86 linux32 armhf ...`).
    Linux32,
    /// PER_LINUX (`x86_64 amd64 arm64 linux64 ...`).
    Linux64,
}

/// One `lxc.mount.entry` (or fstab line): the fstab fields plus LXC's extra options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountEntry {
    /// fs_spec (source).
    pub source: String,
    /// fs_file (target): relative targets are relative to the container's rootfs.
    pub target: String,
    /// fs_vfstype.
    pub fstype: String,
    /// fs_mntops split on `,`, including LXC's own words (kept for round trips).
    pub options: Vec<String>,
    /// fs_freq (default 0).
    pub dump: i32,
    /// fs_passno (default 0).
    pub pass: i32,
    /// `create=dir`: create the target directory.
    pub create_dir: bool,
    /// `create=file`: create the target as a file.
    pub create_file: bool,
    /// `optional`: failure to mount is not an error.
    pub optional: bool,
    /// `relative`: source is relative to the container's rootfs.
    pub relative: bool,
    /// The line as given (for `get_config_item`).
    pub raw: String,
}

/// `lxc.mount.auto`: which pseudo filesystems LXC mounts itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MountAuto {
    /// `proc` / `proc:mixed` / `proc:rw`.
    pub proc: Option<ProcMount>,
    /// `sys` / `sys:mixed` / `sys:ro` / `sys:rw`.
    pub sys: Option<SysMount>,
    /// `cgroup*` / `cgroup-full*`.
    pub cgroup: Option<CgroupMount>,
    /// `shmounts:HOSTPATH[:CTPATH]`.
    pub shmounts: Option<ShMounts>,
}

/// `proc` mount mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcMount {
    /// `proc:mixed` (and plain `proc`): `/proc/sys` read-only except `/proc/sys/net`.
    Mixed,
    /// `proc:rw`.
    Rw,
}

/// `sys` mount mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SysMount {
    /// `sys:mixed` (and plain `sys`): read-only but `/sys/devices/virtual/net` writable.
    Mixed,
    /// `sys:ro`.
    Ro,
    /// `sys:rw`.
    Rw,
}

/// cgroup auto-mount mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgroupMountMode {
    /// Plain `cgroup`: rw when the container keeps CAP_SYS_ADMIN, else mixed.
    NoSpec,
    /// `:mixed`.
    Mixed,
    /// `:ro`.
    Ro,
    /// `:rw`.
    Rw,
}

/// `lxc.mount.auto` cgroup word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CgroupMount {
    /// The mode suffix.
    pub mode: CgroupMountMode,
    /// `cgroup-full` (whole hierarchy) instead of `cgroup`.
    pub full: bool,
    /// `:force`: mount even with cgroup namespaces.
    pub force: bool,
}

/// `shmounts:HOSTPATH[:CTPATH]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShMounts {
    /// Host directory.
    pub host_path: String,
    /// Path inside the container (default `/dev/.lxc-mounts`).
    pub container_path: String,
}

/// `lxc.tty.*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TtyConfig {
    /// `lxc.tty.max`.
    pub max: u64,
    /// `lxc.tty.dir` (under `/dev`).
    pub dir: Option<String>,
}

/// `lxc.console.*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// `lxc.console.path` (`none` disables the console; None = allocate one).
    pub path: Option<String>,
    /// `lxc.console.logfile`.
    pub logfile: Option<String>,
    /// `lxc.console.rotate`.
    pub rotate: bool,
    /// `lxc.console.size`: log file size limit in bytes (power of two, ≥ page; 0 = none).
    pub log_size: u64,
    /// `lxc.console.buffer.size`: ring buffer bytes (power of two, ≥ page; 0 = none).
    pub buffer_size: u64,
}

impl ConsoleConfig {
    /// True when `lxc.console.path = none`.
    pub fn disabled(&self) -> bool {
        self.path.as_deref() == Some("none")
    }
}

/// Which cgroup hierarchy a setting targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CgroupVersion {
    /// `lxc.cgroup.X` (legacy hierarchies).
    V1,
    /// `lxc.cgroup2.X` (unified hierarchy).
    V2,
}

/// One `lxc.cgroup.X = V` / `lxc.cgroup2.X = V`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupSetting {
    /// v1 or v2.
    pub version: CgroupVersion,
    /// The file name (`memory.limit_in_bytes`, `devices.allow`, ...).
    pub key: String,
    /// The value written.
    pub value: String,
}

/// `lxc.cgroup.*` and `lxc.cgroup2.*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CgroupConfig {
    /// Settings in the order given (v1 and v2 interleaved as in the file).
    pub settings: Vec<CgroupSetting>,
    /// `lxc.cgroup.dir`.
    pub dir: Option<String>,
    /// `lxc.cgroup.relative`.
    pub relative: bool,
}

impl CgroupConfig {
    /// The settings of one version, in order.
    pub fn of(&self, version: CgroupVersion) -> impl Iterator<Item = &CgroupSetting> {
        self.settings.iter().filter(move |s| s.version == version)
    }
}

/// Uid or gid mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdType {
    /// `u`.
    Uid,
    /// `g`.
    Gid,
}

/// One `lxc.idmap = u|g NSID HOSTID RANGE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdMap {
    /// u or g.
    pub kind: IdType,
    /// First id inside the namespace.
    pub nsid: u64,
    /// First id on the host.
    pub hostid: u64,
    /// Number of ids.
    pub range: u64,
}

/// `lxc.apparmor.*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppArmorConfig {
    /// `lxc.apparmor.profile` (`unconfined`, `unchanged`, `generated`, or a name).
    pub profile: Option<String>,
    /// `lxc.apparmor.allow_incomplete`.
    pub allow_incomplete: bool,
    /// `lxc.apparmor.allow_nesting`.
    pub allow_nesting: bool,
    /// `lxc.apparmor.raw` lines.
    pub raw: Vec<String>,
}

/// `lxc.selinux.*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelinuxConfig {
    /// `lxc.selinux.context`.
    pub context: Option<String>,
    /// `lxc.selinux.context.keyring`.
    pub context_keyring: Option<String>,
}

/// `lxc.keyring.session`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyringConfig {
    /// The value LXC 4.0 stores in `keyring_disable_session` (its quirk: `lxc.keyring.session = 1`
    /// *disables* the fresh session keyring). False (default) = create a new session keyring.
    pub disable_session: bool,
}

/// `lxc.seccomp.*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeccompConfig {
    /// `lxc.seccomp.profile` (policy file path).
    pub profile: Option<String>,
    /// `lxc.seccomp.allow_nesting`.
    pub allow_nesting: bool,
    /// `lxc.seccomp.notify.proxy` (`unix:/path` or `unix:@abstract`).
    pub notify_proxy: Option<String>,
    /// `lxc.seccomp.notify.cookie`.
    pub notify_cookie: Option<String>,
}

/// The hook points (`lxc.hook.<kind>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HookKind {
    /// `pre-start`.
    PreStart,
    /// `pre-mount`.
    PreMount,
    /// `mount`.
    Mount,
    /// `autodev`.
    Autodev,
    /// `start`.
    Start,
    /// `stop`.
    Stop,
    /// `post-stop`.
    PostStop,
    /// `clone`.
    Clone,
    /// `destroy`.
    Destroy,
    /// `start-host`.
    StartHost,
}

impl HookKind {
    /// Every kind, in LXC's `lxchook_names` order.
    pub const ALL: [HookKind; 10] = [
        HookKind::PreStart,
        HookKind::PreMount,
        HookKind::Mount,
        HookKind::Autodev,
        HookKind::Start,
        HookKind::Stop,
        HookKind::PostStop,
        HookKind::Clone,
        HookKind::Destroy,
        HookKind::StartHost,
    ];

    /// The name used in the key and passed to the hook (`pre-start`, ...).
    pub fn name(self) -> &'static str {
        match self {
            HookKind::PreStart => "pre-start",
            HookKind::PreMount => "pre-mount",
            HookKind::Mount => "mount",
            HookKind::Autodev => "autodev",
            HookKind::Start => "start",
            HookKind::Stop => "stop",
            HookKind::PostStop => "post-stop",
            HookKind::Clone => "clone",
            HookKind::Destroy => "destroy",
            HookKind::StartHost => "start-host",
        }
    }

    /// Parse a hook name.
    pub fn from_name(s: &str) -> Option<HookKind> {
        HookKind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// One hook command (for consumers that want a flat list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hook {
    /// Where it runs.
    pub kind: HookKind,
    /// Command line, run via `sh -c "exec ..."`.
    pub command: String,
}

/// LXC log priorities (`lxc.log.level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// 0.
    Trace,
    /// 1.
    Debug,
    /// 2.
    Info,
    /// 3.
    Notice,
    /// 4.
    Warn,
    /// 5 (default).
    Error,
    /// 6.
    Crit,
    /// 7.
    Alert,
    /// 8.
    Fatal,
}

impl LogLevel {
    /// Every level, by number.
    pub const ALL: [LogLevel; 9] = [
        LogLevel::Trace,
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Notice,
        LogLevel::Warn,
        LogLevel::Error,
        LogLevel::Crit,
        LogLevel::Alert,
        LogLevel::Fatal,
    ];

    /// LXC's upper-case name.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Trace => "TRACE",
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Notice => "NOTICE",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
            LogLevel::Crit => "CRIT",
            LogLevel::Alert => "ALERT",
            LogLevel::Fatal => "FATAL",
        }
    }

    /// Parse `0..8` or a name (case-insensitive, as LXC's `lxc_log_priority_to_int`).
    pub fn parse(s: &str) -> Option<LogLevel> {
        let s = s.trim();
        if let Ok(n) = s.parse::<usize>() {
            return LogLevel::ALL.get(n).copied();
        }
        let up = s.to_ascii_uppercase();
        LogLevel::ALL.into_iter().find(|l| l.name() == up)
    }
}

/// `lxc.log.*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogConfig {
    /// `lxc.log.file`.
    pub file: Option<String>,
    /// `lxc.log.level` (None = not set: ERROR, or what the command line says).
    pub level: Option<LogLevel>,
    /// `lxc.log.syslog` facility name.
    pub syslog: Option<String>,
}

/// `lxc.start.*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StartConfig {
    /// `lxc.start.auto`.
    pub auto: bool,
    /// `lxc.start.delay` seconds.
    pub delay: u32,
    /// `lxc.start.order`.
    pub order: i32,
}

/// `lxc.monitor.*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorConfig {
    /// `lxc.monitor.unshare`.
    pub unshare: bool,
    /// `lxc.monitor.signal.pdeath` (default SIGKILL; 0 = container survives the monitor).
    pub signal_pdeath: i32,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig { unshare: false, signal_pdeath: SIGKILL }
    }
}

/// `lxc.signal.*` as signal numbers (0 = not set: LXC's runtime default applies).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignalConfig {
    /// `lxc.signal.halt` (default SIGPWR, SIGRTMIN+3 for systemd).
    pub halt: i32,
    /// `lxc.signal.reboot` (default SIGINT).
    pub reboot: i32,
    /// `lxc.signal.stop` (default SIGKILL).
    pub stop: i32,
}

/// `lxc.init.*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InitConfig {
    /// `lxc.init.cmd` (None = `/sbin/init`).
    pub cmd: Option<String>,
    /// `lxc.init.cwd`.
    pub cwd: Option<String>,
    /// `lxc.init.uid` (0 default).
    pub uid: u32,
    /// `lxc.init.gid` (0 default).
    pub gid: u32,
}

/// A namespace type, by LXC's config name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Namespace {
    /// `mnt` (CLONE_NEWNS).
    Mnt,
    /// `pid`.
    Pid,
    /// `uts`.
    Uts,
    /// `ipc`.
    Ipc,
    /// `user`.
    User,
    /// `net`.
    Net,
    /// `cgroup`.
    Cgroup,
}

impl Namespace {
    /// In LXC's `ns_info` order (`user mnt pid uts ipc net cgroup`).
    pub const ALL: [Namespace; 7] = [
        Namespace::User,
        Namespace::Mnt,
        Namespace::Pid,
        Namespace::Uts,
        Namespace::Ipc,
        Namespace::Net,
        Namespace::Cgroup,
    ];

    /// The config name (`mnt`, `pid`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Namespace::Mnt => "mnt",
            Namespace::Pid => "pid",
            Namespace::Uts => "uts",
            Namespace::Ipc => "ipc",
            Namespace::User => "user",
            Namespace::Net => "net",
            Namespace::Cgroup => "cgroup",
        }
    }

    /// The CLONE_NEW* flag.
    pub fn clone_flag(self) -> u64 {
        match self {
            Namespace::Mnt => 0x0002_0000,
            Namespace::Pid => 0x2000_0000,
            Namespace::Uts => 0x0400_0000,
            Namespace::Ipc => 0x0800_0000,
            Namespace::User => 0x1000_0000,
            Namespace::Net => 0x4000_0000,
            Namespace::Cgroup => 0x0200_0000,
        }
    }

    /// Parse a config name.
    pub fn from_name(s: &str) -> Option<Namespace> {
        Namespace::ALL.into_iter().find(|n| n.name() == s)
    }
}

/// `lxc.namespace.*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamespaceConfig {
    /// `lxc.namespace.clone`: exactly these are created (empty = LXC's default set).
    pub clone: Vec<Namespace>,
    /// `lxc.namespace.keep`: these are inherited, the rest created.
    pub keep: Vec<Namespace>,
    /// `lxc.namespace.share.<ns>`: pid, container name, or `lxcpath/name`.
    pub share: BTreeMap<Namespace, String>,
}

/// One rlimit value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RlimitValue {
    /// `unlimited` (RLIM_INFINITY).
    Unlimited,
    /// A number.
    Value(u64),
}

impl RlimitValue {
    /// As an `rlim_t` (RLIM_INFINITY = u64::MAX).
    pub fn as_raw(self) -> u64 {
        match self {
            RlimitValue::Unlimited => u64::MAX,
            RlimitValue::Value(v) => v,
        }
    }
}

/// One `lxc.prlimit.<res> = SOFT[:HARD]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prlimit {
    /// Lower-case resource name (`nofile`, ...).
    pub resource: String,
    /// The RLIMIT_* number of `resource`.
    pub resource_id: u32,
    /// Soft limit.
    pub soft: RlimitValue,
    /// Hard limit.
    pub hard: RlimitValue,
    /// The value as given (for `get_config_item`).
    pub raw: String,
}
