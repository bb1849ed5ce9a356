//! The container handle (LXC's `struct lxc_container`): name, lxcpath, loaded config, and the
//! lifecycle operations create / start / shutdown / stop / reboot / destroy.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rlxc_config::{ContainerConfig, HookKind};
use tracing::{info, warn};

use crate::commands::client;
use crate::commands::CmdError;
use crate::paths;
use crate::start::{self, StartError, StartOptions, Target};
use crate::state::State;

/// A lifecycle error with the container it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// No `<lxcpath>/<name>/config`.
    #[error("container \"{0}\" is not defined")]
    NotDefined(String),
    /// The name is not usable.
    #[error("invalid container name \"{0}\"")]
    BadName(String),
    /// Already exists (create).
    #[error("container \"{0}\" already exists")]
    Exists(String),
    /// Must be stopped first.
    #[error("container \"{0}\" is running")]
    Running(String),
    /// Not running (stop, shutdown).
    #[error("container \"{0}\" is not running")]
    NotRunning(String),
    /// The config could not be read or a key was rejected.
    #[error("{0}")]
    Config(String),
    /// A start failure.
    #[error(transparent)]
    Start(#[from] StartError),
    /// Talking to the monitor failed.
    #[error(transparent)]
    Command(#[from] CmdError),
    /// Create failed.
    #[error("{0}")]
    Create(String),
    /// A file operation failed.
    #[error("{what} \"{}\": {source}", path.display())]
    Io {
        /// What we tried.
        what: &'static str,
        /// On what.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Load a config file into the typed model.
pub fn load_config(path: &Path) -> Result<ContainerConfig, String> {
    ContainerConfig::load(path).map_err(|e| e.to_string())
}

/// Set one item (`-s KEY=VAL`, create's merged settings).
pub fn set_config_item(conf: &mut ContainerConfig, key: &str, value: &str) -> Result<(), String> {
    conf.set_item(key, value).map_err(|e| e.to_string())
}

/// One item as `get_config_item` prints it (GET_CONFIG_ITEM, `lxc-info -c`).
pub fn config_item(conf: &ContainerConfig, key: &str) -> Option<String> {
    conf.get_item(key).ok()
}

/// A container in an lxcpath.
pub struct Container {
    /// Name.
    pub name: String,
    /// lxcpath as given.
    pub lxcpath: String,
    /// The loaded config (default when not defined).
    pub conf: ContainerConfig,
    /// `lxc-start -f FILE`: the config came from FILE, so `<lxcpath>/<name>/config` need not exist.
    pub rcfile: Option<PathBuf>,
}

impl Container {
    /// A handle; loads `<lxcpath>/<name>/config` when it exists (`rcfile` overrides the file).
    pub fn new(name: &str, lxcpath: &str, rcfile: Option<&Path>) -> Result<Container, ContainerError> {
        if !paths::valid_name(name) {
            return Err(ContainerError::BadName(name.to_string()));
        }
        let mut c = Container {
            name: name.into(),
            lxcpath: lxcpath.into(),
            conf: ContainerConfig::default(),
            rcfile: rcfile.map(Path::to_path_buf),
        };
        let file = rcfile.map(Path::to_path_buf).unwrap_or_else(|| c.config_path());
        if file.exists() {
            c.conf = load_config(&file).map_err(ContainerError::Config)?;
        } else if rcfile.is_some() {
            return Err(ContainerError::Config(format!("cannot read config file \"{}\"", file.display())));
        }
        Ok(c)
    }

    /// `<lxcpath>/<name>/config`.
    pub fn config_path(&self) -> PathBuf {
        paths::config_path(&self.lxcpath, &self.name)
    }

    /// Whether the container's config file exists.
    pub fn is_defined(&self) -> bool {
        self.config_path().exists()
    }

    /// The state from the monitor (STOPPED when nobody answers); FROZEN when the v1 freezer was
    /// frozen behind the monitor's back, as LXC reports it.
    pub fn state(&self) -> State {
        client::lxc_getstate(&self.name, &self.lxcpath).unwrap_or(State::Stopped)
    }

    /// True once nobody listens on the command socket (the monitor exited): the client reads a
    /// refused connection as STOPPED; a monitor busy tearing down does not answer (an error).
    fn monitor_gone(&self) -> bool {
        matches!(client::get_state(&self.name, &self.lxcpath), Ok(State::Stopped))
    }

    /// Whether a monitor serves this container.
    pub fn is_running(&self) -> bool {
        self.state() != State::Stopped
    }

    /// Start (see [`start::start`]). A stale `partial` marker means an interrupted create: the
    /// half-made container is destroyed and the start refused, as LXC does.
    pub fn start(&self, opts: &StartOptions) -> Result<i32, ContainerError> {
        if !self.is_defined() && self.rcfile.is_none() {
            return Err(ContainerError::NotDefined(self.name.clone()));
        }
        let partial = paths::partial_path(&self.lxcpath, &self.name);
        if partial.exists() {
            if let Ok(lock) = crate::lock::ContainerLock::try_acquire(&self.lxcpath, &self.name) {
                warn!("container \"{}\" was left half-created: destroying it", self.name);
                destroy_files(&self.lxcpath, &self.name, &self.conf);
                drop(lock);
            }
            return Err(ContainerError::Create(format!(
                "container \"{}\" is being created or its creation failed",
                self.name
            )));
        }
        let t = Target {
            name: self.name.clone(),
            lxcpath: self.lxcpath.clone(),
            config_path: self.rcfile.clone().unwrap_or_else(|| self.config_path()).to_string_lossy().into_owned(),
            conf: self.conf.clone(),
        };
        Ok(start::start(t, opts)?)
    }

    /// The halt signal: `lxc.signal.halt`, else SIGPWR, or SIGRTMIN+3 when init is systemd
    /// (which halts on SIGRTMIN+3, as LXC's default picks for it).
    fn halt_signal(&self, pid: i32) -> i32 {
        if self.conf.signals.halt > 0 {
            return self.conf.signals.halt;
        }
        if is_systemd(pid) {
            libc::SIGRTMIN() + 3
        } else {
            libc::SIGPWR
        }
    }

    /// Ask init to halt (halt signal), wait up to `timeout` seconds for STOPPED (-1 forever,
    /// 0 don't wait). Ok(true) when it stopped.
    pub fn shutdown(&self, timeout: i32) -> Result<bool, ContainerError> {
        let pidfd = client::get_init_pidfd(&self.name, &self.lxcpath).ok();
        let pid = client::get_init_pid(&self.name, &self.lxcpath).map_err(|e| self.not_running(e))?;
        let sig = self.halt_signal(pid);
        // Register for STOPPED before signalling, so the transition is not missed.
        let waiter =
            if timeout != 0 { client::add_state_client(&self.name, &self.lxcpath, &stopped_mask()).ok() } else { None };
        info!("sending halt signal {sig} to init {pid}");
        send_signal(pidfd.as_ref().map(|f| f.as_fd()), pid, sig).map_err(|e| ContainerError::Io {
            what: "send the halt signal to init",
            path: PathBuf::from(format!("/proc/{pid}")),
            source: e,
        })?;
        if timeout == 0 {
            return Ok(false);
        }
        let limit = (timeout > 0).then(|| Duration::from_secs(timeout as u64));
        Ok(self.wait_stopped(waiter, pidfd, limit))
    }

    fn wait_stopped(
        &self,
        waiter: Option<client::StateClient>,
        pidfd: Option<std::os::fd::OwnedFd>,
        limit: Option<Duration>,
    ) -> bool {
        let start = Instant::now();
        if let Some(client::StateClient::Waiting(fd)) = waiter {
            let _ = client::receive_state(fd.as_fd(), &self.name, limit);
        }
        // STOPPED is served before the monitor finishes (post-stop hooks, exit): wait until its
        // command socket is gone, so the caller sees a fully stopped container.
        let _ = pidfd;
        // The monitor is usually gone already or within a millisecond (its STOP connection and
        // its listening socket close in the same exit, in fd order, so a connect can still land
        // in the dying socket's backlog and get ECONNRESET). Poll with a short, growing interval
        // instead of a fixed 100 ms: a fixed interval cost every `lxc-stop -k` that lost this
        // race a full 100 ms (seen with strace -T on stop-all-50).
        let mut pause = Duration::from_millis(1);
        loop {
            if self.monitor_gone() {
                return true;
            }
            if let Some(l) = limit {
                if start.elapsed() >= l {
                    return false;
                }
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    /// Hard stop: LXC_CMD_STOP (the monitor sends `lxc.signal.stop`, default SIGKILL); waits
    /// until the monitor is gone.
    pub fn stop(&self) -> Result<(), ContainerError> {
        client::stop(&self.name, &self.lxcpath).map_err(|e| self.not_running(e))?;
        // STOP answers when the monitor closes the connection (it exited).
        let _ = self.wait_stopped(None, None, Some(Duration::from_secs(30)));
        Ok(())
    }

    /// Send the reboot signal (`lxc.signal.reboot`, default SIGINT) to init. With `timeout` != 0
    /// wait for the container to be RUNNING again after going down.
    pub fn reboot(&self, timeout: i32) -> Result<bool, ContainerError> {
        let pidfd = client::get_init_pidfd(&self.name, &self.lxcpath).ok();
        let pid = client::get_init_pid(&self.name, &self.lxcpath).map_err(|e| self.not_running(e))?;
        let sig = if self.conf.signals.reboot > 0 { self.conf.signals.reboot } else { libc::SIGINT };
        info!("sending reboot signal {sig} to init {pid}");
        send_signal(pidfd.as_ref().map(|f| f.as_fd()), pid, sig).map_err(|e| ContainerError::Io {
            what: "send the reboot signal to init",
            path: PathBuf::from(format!("/proc/{pid}")),
            source: e,
        })?;
        if timeout == 0 {
            return Ok(true);
        }
        let start = Instant::now();
        let limit = (timeout > 0).then(|| Duration::from_secs(timeout as u64));
        loop {
            match client::get_init_pid(&self.name, &self.lxcpath) {
                Ok(p) if p != pid && p > 0 && self.state() == State::Running => return Ok(true),
                Err(_) => return Ok(false),
                _ => {}
            }
            if limit.map(|l| start.elapsed() >= l).unwrap_or(false) {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn not_running(&self, e: CmdError) -> ContainerError {
        match e {
            CmdError::NotRunning { .. } => ContainerError::NotRunning(self.name.clone()),
            e => ContainerError::Command(e),
        }
    }

    /// Destroy: refuses a running container unless `force` (then stops it first); runs destroy
    /// hooks; removes the rootfs (managed storage) and the container directory.
    pub fn destroy(&self, force: bool) -> Result<(), ContainerError> {
        if !self.is_defined() && !paths::container_dir(&self.lxcpath, &self.name).exists() {
            return Err(ContainerError::NotDefined(self.name.clone()));
        }
        // An overlay snapshot clone uses this rootfs as its lower dir (lxc_snapshots).
        if crate::clone::has_dependents(&self.lxcpath, &self.name) {
            return Err(ContainerError::Config(format!(
                "container \"{}\" has snapshot clones depending on it (lxc_snapshots): destroy them first",
                self.name
            )));
        }
        if self.is_running() {
            if !force {
                return Err(ContainerError::Running(self.name.clone()));
            }
            self.stop()?;
        }
        let _lock = crate::lock::ContainerLock::acquire(&self.lxcpath, &self.name)
            .map_err(|e| ContainerError::Config(e.to_string()))?;
        if !self.conf.hooks_for(HookKind::Destroy).is_empty() {
            std::env::set_var("LXC_NAME", &self.name);
            std::env::set_var("LXC_CONFIG_FILE", self.config_path());
            if let Some(p) = self.conf.rootfs.path.as_deref() {
                std::env::set_var("LXC_ROOTFS_PATH", p);
            }
            crate::hooks::run_hooks(&self.conf, &self.name, HookKind::Destroy, &[], &[])
                .map_err(|e| ContainerError::Config(e.to_string()))?;
        }
        destroy_files(&self.lxcpath, &self.name, &self.conf);
        if paths::container_dir(&self.lxcpath, &self.name).exists() {
            return Err(ContainerError::Io {
                what: "remove container directory",
                path: paths::container_dir(&self.lxcpath, &self.name),
                source: std::io::Error::from_raw_os_error(libc::ENOTEMPTY),
            });
        }
        Ok(())
    }
}

fn stopped_mask() -> [i32; 8] {
    let mut m = [0; 8];
    m[State::Stopped as usize] = 1;
    m
}

fn send_signal(pidfd: Option<std::os::fd::BorrowedFd<'_>>, pid: i32, sig: i32) -> std::io::Result<()> {
    match pidfd {
        Some(fd) => rlxc_sys::pidfd::pidfd_send_signal(fd, sig),
        None => rlxc_sys::pidfd::kill(pid, sig),
    }
}

/// Whether init of `pid` is systemd (its halt signal is SIGRTMIN+3, as LXC picks it).
fn is_systemd(pid: i32) -> bool {
    std::fs::read_link(format!("/proc/{pid}/exe")).map(|p| p.to_string_lossy().contains("systemd")).unwrap_or(false)
}

/// Remove a container's rootfs (when managed and inside the container dir or a dir backend)
/// and its directory. Used by destroy, ephemeral stop and stale `partial` cleanup.
pub fn destroy_files(lxcpath: &str, name: &str, conf: &ContainerConfig) {
    let dir = paths::container_dir(lxcpath, name);
    let origin = crate::clone::origin(lxcpath, name);
    if crate::unpriv::is_unprivileged() && !conf.idmaps.is_empty() {
        // The rootfs belongs to the container's ids: a user removes it (and whatever else the
        // container made in its directory) from a helper user namespace, as LXC does.
        let mut victims = vec![dir.clone()];
        if let Ok(s) = rlxc_storage::open(&conf.rootfs) {
            if conf.rootfs.managed && s.is_directory() && !s.path().starts_with(&dir) {
                victims.push(s.path().to_path_buf());
            }
        }
        let refs: Vec<&Path> = victims.iter().map(PathBuf::as_path).collect();
        if let Err(e) = crate::unpriv::remove_mapped(&conf.idmaps, &refs) {
            warn!("destroy \"{name}\": {e}");
        }
    }
    if conf.rootfs.managed && conf.rootfs.path.is_some() {
        match rlxc_storage::open(&conf.rootfs) {
            Ok(s) => {
                if let Err(e) = s.destroy() {
                    warn!("destroy rootfs of \"{name}\": {e}");
                }
            }
            Err(e) => warn!("destroy rootfs of \"{name}\": {e}"),
        }
    }
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            warn!("remove {}: {e}", dir.display());
        }
    }
    // A snapshot clone no longer holds its origin (lxc_rdepends -> origin's lxc_snapshots).
    crate::clone::forget_origin(lxcpath, name, origin);
}

/// What `lxc-create` was asked for.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// `-t TEMPLATE` (name under the templates dir, or an absolute path).
    pub template: Option<String>,
    /// `-f CONFIG` merged into the new config.
    pub config_file: Option<PathBuf>,
    /// `-B TYPE` (`dir`, `best`, `overlay`, `overlayfs`, `loop`, `btrfs`, `lvm`).
    pub bdev: Option<String>,
    /// `--fssize` in bytes (loop).
    pub fssize: Option<u64>,
    /// `--fstype` (loop, lvm).
    pub fstype: Option<String>,
    /// `--vgname` (lvm).
    pub vgname: Option<String>,
    /// `--lvname` (lvm).
    pub lvname: Option<String>,
    /// `--thinpool` (lvm).
    pub thinpool: Option<String>,
    /// `--dir DIR`: rootfs location.
    pub dir: Option<PathBuf>,
    /// `-- ARGS` for the template.
    pub template_args: Vec<String>,
}

impl Container {
    /// Create the container: directory, config (defaults from the system's `lxc.default_config`,
    /// then `-f`), rootfs via the storage backend, then the template. A `partial` marker (held
    /// locked) exists while this runs; any failure removes everything made.
    pub fn create(&mut self, o: &CreateOptions) -> Result<(), ContainerError> {
        if self.is_defined() {
            return Err(ContainerError::Exists(self.name.clone()));
        }
        match o.bdev.as_deref() {
            None | Some("dir" | "best" | "overlay" | "overlayfs" | "loop" | "btrfs" | "lvm") => {}
            Some(b) => {
                return Err(ContainerError::Create(format!(
                    "-B {b}: backing store not supported by rlxc (dir, best, overlay, overlayfs, loop, btrfs, lvm)"
                )))
            }
        }
        let dir = paths::container_dir(&self.lxcpath, &self.name);
        let dir_existed = dir.exists();
        std::fs::create_dir_all(&dir).map_err(|e| ContainerError::Io {
            what: "create container directory",
            path: dir.clone(),
            source: e,
        })?;
        let _lock = crate::lock::ContainerLock::acquire(&self.lxcpath, &self.name)
            .map_err(|e| ContainerError::Config(e.to_string()))?;
        let partial = paths::partial_path(&self.lxcpath, &self.name);
        let res = std::fs::File::create(&partial)
            .map_err(|e| ContainerError::Io { what: "create partial marker", path: partial.clone(), source: e })
            .and_then(|_| self.create_inner(o, &dir));
        match res {
            Ok(()) => {
                let _ = std::fs::remove_file(&partial);
                Ok(())
            }
            Err(e) => {
                // Nothing of a half-made container stays behind.
                if let Ok(s) = rlxc_storage::open(&self.conf.rootfs) {
                    if s.path().starts_with(&dir) || o.dir.is_some() {
                        let _ = s.destroy();
                    }
                }
                if dir_existed {
                    let _ = std::fs::remove_file(dir.join("config"));
                    let _ = std::fs::remove_dir_all(dir.join("rootfs"));
                    let _ = std::fs::remove_file(&partial);
                } else {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                Err(e)
            }
        }
    }

    fn create_inner(&mut self, o: &CreateOptions, dir: &Path) -> Result<(), ContainerError> {
        let rootfs = o.dir.clone().unwrap_or_else(|| dir.join("rootfs"));
        // The config file: template header, the -f file's lines, then the rootfs path.
        let mut text = String::new();
        if let Some(t) = o.template.as_deref() {
            text.push_str(&format!("# Template used to create this container: {}\n", template_path(t).display()));
            if !o.template_args.is_empty() {
                text.push_str(&format!("# Parameters passed to the template: {}\n", o.template_args.join(" ")));
            }
            text.push_str("# For additional config options, please look at lxc.container.conf(5)\n\n");
        }
        let mut merged = String::new();
        if let Some(def) = crate::lxcpath::system_config_value("lxc.default_config")
            .or_else(user_default_config)
            .or_else(default_config_file)
        {
            if let Ok(s) = std::fs::read_to_string(&def) {
                merged.push_str(&s);
            }
        }
        if let Some(f) = o.config_file.as_deref() {
            let s = std::fs::read_to_string(f).map_err(|e| ContainerError::Io {
                what: "read config file",
                path: f.to_path_buf(),
                source: e,
            })?;
            merged.push_str(&s);
            if !s.ends_with('\n') {
                merged.push('\n');
            }
        }
        text.push_str(&merged);
        let has_rootfs = merged.lines().any(|l| l.trim_start().starts_with("lxc.rootfs.path"));
        // -B TYPE: the storage backend picks the rootfs path (overlay:LOWER:UPPER, loop:IMAGE).
        let planned = match o.bdev.as_deref() {
            Some(b) if !has_rootfs && b != "dir" => {
                let spec = rlxc_storage::clone::NewRootfs {
                    kind: Some(b.to_string()),
                    dir: o.dir.clone(),
                    fssize: o.fssize,
                    fstype: o.fstype.clone(),
                    // LXC's defaults for lvm come from the system config.
                    vgname: o.vgname.clone().or_else(|| crate::lxcpath::system_config_value("lxc.bdev.lvm.vg")),
                    lvname: o.lvname.clone(),
                    thinpool: o
                        .thinpool
                        .clone()
                        .or_else(|| crate::lxcpath::system_config_value("lxc.bdev.lvm.thin_pool")),
                };
                Some(rlxc_storage::clone::plan_for(dir, &spec).map_err(|e| ContainerError::Create(e.to_string()))?)
            }
            _ => None,
        };
        if let Some(p) = &planned {
            text.push_str(&format!("lxc.rootfs.path = {}\n", p.config_value()));
        } else if !has_rootfs {
            text.push_str(&format!("lxc.rootfs.path = dir:{}\n", rootfs.display()));
        }
        let cfg = dir.join("config");
        std::fs::write(&cfg, &text).map_err(|e| ContainerError::Io {
            what: "write config",
            path: cfg.clone(),
            source: e,
        })?;
        self.conf = load_config(&cfg).map_err(ContainerError::Config)?;
        // As LXC, which appends the -f lines to the unexpanded config with the `x`s of
        // `lxc.net.N.hwaddr` already replaced: write back the randomized lines.
        if self.conf.to_config_string() != text {
            self.conf.save(&cfg).map_err(|e| ContainerError::Config(e.to_string()))?;
        }
        let storage = match planned {
            Some(p) => p,
            None => rlxc_storage::open(&self.conf.rootfs).map_err(|e| ContainerError::Create(e.to_string()))?,
        };
        storage.create().map_err(|e| ContainerError::Create(e.to_string()))?;
        if let Some(t) = o.template.as_deref() {
            let tp = template_path(t);
            if !tp.exists() {
                return Err(ContainerError::Create(format!("template \"{t}\" not found ({})", tp.display())));
            }
            let unpriv = crate::unpriv::is_unprivileged() && !self.conf.idmaps.is_empty();
            let run = |rootfs: &Path| -> Result<(), String> {
                let mut args: Vec<std::ffi::OsString> = vec![
                    format!("--path={}", dir.display()).into(),
                    format!("--name={}", self.name).into(),
                    format!("--rootfs={}", rootfs.display()).into(),
                ];
                args.extend(o.template_args.iter().map(Into::into));
                std::env::set_var("LXC_NAME", &self.name);
                std::env::set_var("LXC_PATH", dir);
                std::env::set_var("LXC_ROOTFS_PATH", rootfs);
                if unpriv {
                    // As LXC for a user with an idmap: the template runs as root of a user
                    // namespace with the container's maps plus the caller's ids, and is told
                    // which namespace ids the caller has (`--mapped-uid/--mapped-gid`) so it
                    // can hand the rootfs to the container's root and the config to the caller.
                    let (_, nsuid, nsgid) = crate::unpriv::helper_maps(&self.conf.idmaps).map_err(|e| e.to_string())?;
                    let mut argv: Vec<std::ffi::OsString> = vec![tp.clone().into_os_string()];
                    argv.extend(args);
                    argv.extend(["--mapped-uid".into(), nsuid.to_string().into()]);
                    argv.extend(["--mapped-gid".into(), nsgid.to_string().into()]);
                    return crate::unpriv::run_mapped(&self.conf.idmaps, &argv, &format!("template \"{t}\""))
                        .map_err(|e| e.to_string());
                }
                let status = Command::new(&tp)
                    .args(&args)
                    .status()
                    .map_err(|e| format!("run template \"{}\": {e}", tp.display()))?;
                if !status.success() {
                    return Err(format!("template \"{t}\" failed ({status})"));
                }
                Ok(())
            };
            if unpriv && storage.is_directory() {
                // The template (namespace root) must be able to write the rootfs directory.
                crate::unpriv::chown_mapped_root(&self.conf.idmaps, &[storage.path()])
                    .map_err(|e| ContainerError::Create(e.to_string()))?;
            }
            if storage.is_directory() {
                run(storage.path()).map_err(ContainerError::Create)?;
            } else {
                // overlay, loop: the template fills the mounted rootfs, in a private mount
                // namespace so nothing stays mounted (LXC mounts it in the template's child too).
                rlxc_storage::clone::with_mounted(&[storage.as_ref()], |p| run(&p[0]))
                    .map_err(|e| ContainerError::Create(e.to_string()))?;
            }
            self.conf = load_config(&cfg).map_err(ContainerError::Config)?;
        }
        let _ = std::io::stdout().flush();
        Ok(())
    }
}

/// `<datadir>/templates/lxc-<t>`, or `t` itself when it is a path.
pub fn template_path(t: &str) -> PathBuf {
    if t.contains('/') {
        PathBuf::from(t)
    } else {
        paths::templates_dir().join(format!("lxc-{t}"))
    }
}

/// A user's own default config, `~/.config/lxc/default.conf` (LXC's default for non-root
/// callers), when it exists.
fn user_default_config() -> Option<String> {
    if !crate::unpriv::is_unprivileged() {
        return None;
    }
    let p = PathBuf::from(std::env::var_os("HOME")?).join(".config/lxc/default.conf");
    p.exists().then(|| p.to_string_lossy().into_owned())
}

/// rlxc's shipped `default.conf`, when installed.
fn default_config_file() -> Option<String> {
    let p = paths::config_dir().join("default.conf");
    p.exists().then(|| p.to_string_lossy().into_owned())
}
