//! The child side of the start: runs in the new namespaces right after clone, sets the
//! container up in LXC's order (spec §5.3) and exec's init. Every failure is sent to the monitor
//! as [`Msg::Error`] with a reason the user can act on, then the child exits.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rlxc_config::{ContainerConfig, HookKind, Namespace};
use rlxc_sys::mount::{mount, umount2};
use rlxc_sys::process as sysproc;
use tracing::{debug, info, warn};

use super::channel::{Channel, Msg};
use crate::hooks;
use crate::mounts::{self, auto, autodev, resolve::Root};

/// Everything the child needs, prepared by the monitor before clone.
pub struct ChildSpec<'a> {
    /// The container's config.
    pub conf: &'a ContainerConfig,
    /// Container name.
    pub name: &'a str,
    /// The command to exec.
    pub argv: Vec<String>,
    /// Where the command came from, for the "not found" message (`lxc.init.cmd`, `command`).
    pub argv_origin: String,
    /// The console pty slave to bind onto `/dev/console`.
    pub console: Option<PathBuf>,
    /// Namespaces created by the clone.
    pub namespaces: Vec<Namespace>,
    /// Namespaces to join (setns) other than pid.
    pub shared: Vec<(Namespace, OwnedFd)>,
    /// Signal mask to restore.
    pub sigmask: Option<sysproc::SigMask>,
}

/// Run the child side; never returns.
pub fn run(spec: ChildSpec<'_>, chan: Channel) -> ! {
    match setup(&spec, &chan) {
        Ok(never) => match never {},
        Err(msg) => {
            let _ = chan.send(&Msg::Error(msg), &[]);
            sysproc::exit_now(1);
        }
    }
}

enum Never {}

type R<T> = Result<T, String>;

fn setup(spec: &ChildSpec<'_>, chan: &Channel) -> R<Never> {
    let conf = spec.conf;
    // Die with the monitor (LXC: PR_SET_PDEATHSIG(SIGKILL) before anything else).
    sysproc::set_pdeathsig(libc::SIGKILL).map_err(|e| format!("prctl(PR_SET_PDEATHSIG): {e}"))?;
    if let Some(m) = spec.sigmask.as_ref() {
        m.restore().map_err(|e| format!("restore signal mask: {e}"))?;
    }
    if let Err(e) = crate::security::raise_ambient_caps() {
        debug!("raise ambient capabilities: {e}");
    }
    for (ns, fd) in &spec.shared {
        rlxc_sys::ns::setns(fd.as_fd(), 0).map_err(|e| format!("lxc.namespace.share.{}: setns: {e}", ns.name()))?;
    }
    // Open the console now, while our ids still own the host pty (after switching to the
    // container's root in a user namespace the host's devpts may refuse us).
    let open_console = |p: &Path| {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags_noctty()
            .open(p)
            .map_err(|e| format!("open console {}: {e}", p.display()))
    };
    // With an idmap the monitor hands the pty to the container's root before clone (a user's
    // monitor, and root's as LXC does): then only the namespace root can open it, below.
    let mut console_file = match spec.console.as_deref() {
        Some(p) => match open_console(p) {
            Ok(f) => Some(f),
            Err(_) if spec.namespaces.contains(&Namespace::User) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    // Wait until the monitor mapped ids, entered cgroups and moved NICs in.
    let user_nics = match chan.expect("Configure").map_err(|e| e.to_string())? {
        (Msg::Configure { nics }, _) => nics,
        _ => Vec::new(),
    };
    if spec.namespaces.contains(&Namespace::User) {
        // Become root of the new user namespace (LXC: setgroups(0), ns uid/gid 0, or the init
        // ids when 0 is not mapped), and stay dumpable for the monitor's /proc access.
        let root_mapped = |k| crate::idmap::host_id(&conf.idmaps, k, 0).is_some();
        let uid = if root_mapped(rlxc_config::IdType::Uid) { 0 } else { conf.init.uid };
        let gid = if root_mapped(rlxc_config::IdType::Gid) { 0 } else { conf.init.gid };
        sysproc::set_ids(uid, gid, true).map_err(|e| format!("switch to the container's root {uid}:{gid}: {e}"))?;
        let _ = sysproc::set_dumpable(true);
        sysproc::set_pdeathsig(libc::SIGKILL).map_err(|e| format!("prctl(PR_SET_PDEATHSIG): {e}"))?;
        if console_file.is_none() {
            if let Some(p) = spec.console.as_deref() {
                console_file = Some(open_console(p)?);
            }
        }
    }
    if spec.namespaces.contains(&Namespace::Cgroup) {
        // After the cgroup move, so the namespace root is the payload cgroup.
        rlxc_sys::ns::unshare(libc::CLONE_NEWCGROUP).map_err(|e| format!("unshare(CLONE_NEWCGROUP): {e}"))?;
    }
    // lxc.environment is visible to the hooks that run in here.
    for kv in &conf.environment {
        if let Some((k, v)) = kv.split_once('=') {
            std::env::set_var(k, v);
        }
    }

    // 1. rslave, pre-mount hooks, rootfs.
    mount(None, Path::new("/"), None, (libc::MS_SLAVE | libc::MS_REC) as u64, None)
        .map_err(|e| format!("make / rslave: {e}"))?;
    hooks::run_hooks(conf, spec.name, HookKind::PreMount, &[], &[]).map_err(|e| e.to_string())?;
    let rootfs_target = mount_rootfs(conf)?;
    let root = match rootfs_target.as_deref() {
        Some(t) => Some(Root::open(t).map_err(|e| format!("open rootfs \"{}\": {e}", t.display()))?),
        None => None,
    };

    // 2. hostname.
    if spec.namespaces.contains(&Namespace::Uts) {
        if let Some(h) = conf.uts_name.as_deref() {
            rustix::system::sethostname(h.as_bytes()).map_err(|e| format!("lxc.uts.name \"{h}\": sethostname: {e}"))?;
        }
    }
    // 3. session keyring.
    crate::security::join_session_keyring(conf).map_err(|e| format!("lxc.keyring.session: {e}"))?;
    // 4. network inside.
    crate::network::configure_inside(conf).map_err(|e| format!("network setup inside the container: {e}"))?;
    // A user's container: the devices lxc-user-nic moved in are configured from in here.
    crate::usernic::configure_inside(conf, &user_nics)
        .map_err(|e| format!("network setup inside the container: {e}"))?;

    if let Some(root) = root.as_ref() {
        // 5. autodev tmpfs.
        if conf.autodev {
            autodev::mount_dev_tmpfs(root, conf.autodev_tmpfs_size).map_err(|e| e.to_string())?;
        }
        // 6. mount.auto (proc, sys), fstab, entries.
        auto::mount_auto_proc_sys(root, &conf.mount_auto).map_err(|e| e.to_string())?;
    }
    if let Some(f) = conf.mount_fstab.as_deref() {
        for e in mounts::read_fstab(f).map_err(|e| e.to_string())? {
            mounts::mount_entry(root.as_ref(), &e).map_err(|e| e.to_string())?;
        }
    }
    for e in &conf.mount_entries {
        mounts::mount_entry(root.as_ref(), e).map_err(|e| e.to_string())?;
    }
    if conf.apparmor.allow_nesting {
        mount_nesting_proc_sys(root.as_ref(), conf)?;
    }
    // 7. cgroup auto-mounts (now /sys exists).
    if let Some(t) = rootfs_target.as_deref() {
        crate::cgroups::mount_auto(conf, t).map_err(|e| format!("lxc.mount.auto cgroup: {e}"))?;
    }
    // 8. mount and autodev hooks, then /dev nodes.
    hooks::run_hooks(conf, spec.name, HookKind::Mount, &[], &[]).map_err(|e| e.to_string())?;
    if let Some(root) = root.as_ref() {
        if conf.autodev {
            hooks::run_hooks(conf, spec.name, HookKind::Autodev, &[], &[]).map_err(|e| e.to_string())?;
            autodev::populate_dev(root).map_err(|e| e.to_string())?;
        }
        // 10. console.
        if let Some(pts) = spec.console.as_deref() {
            bind_console(root, pts, conf.tty.dir.as_deref())?;
        }
    }
    // 9. start hooks run inside the container: their programs must be there.
    if let Some(t) = rootfs_target.as_deref() {
        for h in conf.hooks_for(HookKind::Start) {
            let prog = h.split_whitespace().next().unwrap_or("");
            if prog.starts_with('/') {
                let inside = t.join(prog.trim_start_matches('/'));
                if std::fs::symlink_metadata(&inside).is_err() {
                    return Err(format!("lxc.hook.start: \"{prog}\" not found in the container's rootfs"));
                }
            }
        }
    }
    // Without lxc.pty.max the container gets no devpts of its own (and no /dev/ptmx after the
    // pivot): as LXC, its ttys come from the devpts reachable now (the host's), bound into the
    // rootfs before the pivot.
    let mut ttys = Vec::new();
    if let Some(t) = rootfs_target.as_deref().filter(|_| conf.pty_max == 0) {
        ttys = setup_ttys(t, conf.tty.max, conf.tty.dir.as_deref())?;
    }
    // 11. pivot_root.
    if let Some(t) = rootfs_target.as_deref() {
        drop(root);
        pivot_root(t)?;
    }
    // 12. devpts, ttys, personality, sysctls.
    if conf.pty_max > 0 {
        setup_devpts(conf.pty_max)?;
    }
    if rootfs_target.is_none() || conf.pty_max > 0 {
        ttys = setup_ttys(Path::new("/"), conf.tty.max, conf.tty.dir.as_deref())?;
    }
    if let Some(p) = conf.personality {
        let persona = match p {
            rlxc_config::Personality::Linux32 => 0x0008,
            rlxc_config::Personality::Linux64 => 0x0000,
        };
        if let Err(e) = rlxc_sys::personality::set(persona) {
            return Err(format!("lxc.arch: personality: {e}"));
        }
    }
    crate::security::write_sysctls(conf).map_err(|e| format!("lxc.sysctl: {e}"))?;
    // 13. capabilities; then LSM label, no_new_privs and seccomp.
    crate::security::drop_capabilities(conf).map_err(|e| format!("capabilities: {e}"))?;
    let notify = crate::security::apply_lsm_and_seccomp(conf).map_err(|e| format!("security: {e}"))?;

    // Init must exist inside the container: say so now, not as a bare exec failure.
    let exe = find_in_container(&spec.argv).ok_or_else(|| {
        format!("{} \"{}\" not found in rootfs", spec.argv_origin, spec.argv.first().map(String::as_str).unwrap_or(""))
    })?;

    // stdio onto the console, start hooks, new session with the console as controlling tty.
    let console_fd = console_file;
    if let Some(f) = console_fd.as_ref() {
        for n in 0..3 {
            sysproc::dup2(f.as_raw_fd(), n).map_err(|e| format!("dup2 console: {e}"))?;
        }
    }
    hooks::run_hooks(conf, spec.name, HookKind::Start, &[], &[]).map_err(|e| e.to_string())?;
    sysproc::setsid().map_err(|e| format!("setsid: {e}"))?;
    if console_fd.is_some() {
        if let Err(e) = sysproc::set_controlling_tty(0) {
            warn!("console as controlling terminal: {e}");
        }
    }
    drop(console_fd);
    let cwd = conf.init.cwd.as_deref().unwrap_or("/");
    std::env::set_current_dir(cwd).map_err(|e| format!("lxc.init.cwd \"{cwd}\": {e}"))?;

    let mut fds: Vec<_> = ttys.iter().map(|(m, _)| m.as_fd()).collect();
    if let Some(n) = notify.as_ref() {
        fds.push(n.as_fd());
    }
    chan.send(&Msg::SetupDone { notify: notify.is_some() }, &fds).map_err(|e| e.to_string())?;
    drop(notify);
    chan.expect("Start").map_err(|e| e.to_string())?;
    drop(ttys);

    // Environment: cleared, then lxc.environment, container=lxc, container_ttys.
    let mut env: Vec<CString> = Vec::new();
    for kv in &conf.environment {
        if kv.contains('=') {
            env.push(cstring(kv)?);
        }
    }
    env.push(cstring("container=lxc")?);
    if conf.tty.max > 0 {
        let names: Vec<String> = (1..=conf.tty.max).map(|i| format!("tty{i}")).collect();
        env.push(cstring(&format!("container_ttys={}", names.join(" ")))?);
    }
    let (uid, gid) = (conf.init.uid, conf.init.gid);
    if conf.idmaps.is_empty() {
        sysproc::set_ids(uid, gid, true).map_err(|e| format!("lxc.init.uid/gid {uid}/{gid}: {e}"))?;
    } else if uid != 0 || gid != 0 {
        sysproc::set_ids(uid, gid, false).map_err(|e| format!("lxc.init.uid/gid {uid}/{gid}: {e}"))?;
    }
    if let Err(e) = crate::security::clear_ambient_caps() {
        debug!("clear ambient capabilities: {e}");
    }
    let signal_pdeath = conf.monitor.signal_pdeath;
    if signal_pdeath != libc::SIGKILL {
        let _ = sysproc::set_pdeathsig(signal_pdeath);
    }
    sysproc::reset_signals();
    let argv: Vec<CString> = spec.argv.iter().map(|a| cstring(a)).collect::<R<_>>()?;
    let path = CString::new(exe.as_os_str().as_bytes()).map_err(|_| "NUL in init path".to_string())?;
    info!("exec'ing {:?}", spec.argv);
    let e = sysproc::execve(&path, &argv, &env);
    Err(format!("{} \"{}\": exec failed: {e}", spec.argv_origin, spec.argv[0]))
}

/// `lxc.apparmor.allow_nesting = 1`: a procfs and a sysfs without the container's overmounts at
/// `/dev/.lxc/proc` and `/dev/.lxc/sys` (the nesting profiles deny using them directly; a nested
/// runtime's kernel check for a "fully visible" proc passes thanks to them). Debian's nesting.conf
/// asks for the same with mount entries: those win when present.
fn mount_nesting_proc_sys(root: Option<&Root>, conf: &ContainerConfig) -> R<()> {
    for line in ["proc dev/.lxc/proc proc create=dir,optional 0 0", "sys dev/.lxc/sys sysfs create=dir,optional 0 0"] {
        let Some(Ok(entry)) = mounts::parse_fstab_line(line) else {
            return Err(format!("lxc.apparmor.allow_nesting: bad built-in mount entry {line:?}"));
        };
        let target = entry.target.trim_start_matches('/');
        if conf.mount_entries.iter().any(|e| e.target.trim_start_matches('/').trim_end_matches('/') == target) {
            continue;
        }
        mounts::mount_entry(root, &entry).map_err(|e| format!("lxc.apparmor.allow_nesting: {e}"))?;
    }
    Ok(())
}

fn cstring(s: &str) -> R<CString> {
    CString::new(s).map_err(|_| format!("NUL byte in \"{}\"", s.escape_debug()))
}

trait NoCtty {
    fn custom_flags_noctty(&mut self) -> &mut Self;
}
impl NoCtty for std::fs::OpenOptions {
    fn custom_flags_noctty(&mut self) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::custom_flags(self, libc::O_NOCTTY)
    }
}

/// Mount the rootfs through its storage backend at `lxc.rootfs.mount` (default: onto itself).
/// Returns the staged path, or None when no rootfs is configured (the container shares the
/// host's root).
fn mount_rootfs(conf: &ContainerConfig) -> R<Option<PathBuf>> {
    if conf.rootfs.path.as_deref().map(str::is_empty).unwrap_or(true) {
        return Ok(None);
    }
    let storage = rlxc_storage::open(&conf.rootfs).map_err(|e| e.to_string())?;
    let target = match conf.rootfs.mount.as_deref() {
        Some(m) if !m.is_empty() => PathBuf::from(m),
        _ => storage.mount_target(),
    };
    if !storage.path().exists() {
        return Err(format!("lxc.rootfs.path: rootfs \"{}\" does not exist", storage.path().display()));
    }
    let explicit = conf.rootfs.mount.as_deref().is_some_and(|m| !m.is_empty());
    if !explicit && storage.mount_target_is_runtime() {
        // /run is emptied at boot: the backend's mount point is made again when needed.
        std::fs::create_dir_all(&target)
            .map_err(|e| format!("lxc.rootfs.path: creating the mount point \"{}\": {e}", target.display()))?;
    }
    if !target.is_dir() {
        // Without lxc.rootfs.mount the target is derived from lxc.rootfs.path: name that key.
        if !explicit && storage.is_directory() {
            return Err(format!("lxc.rootfs.path: \"{}\" is not a directory", storage.path().display()));
        }
        if !explicit {
            return Err(format!(
                "lxc.rootfs.path: the mount point \"{}\" of \"{}\" does not exist (create it, or set lxc.rootfs.mount)",
                target.display(),
                storage.path().display()
            ));
        }
        return Err(format!(
            "lxc.rootfs.mount: \"{}\" does not exist (create it or unset lxc.rootfs.mount)",
            target.display()
        ));
    }
    storage.mount(&target, conf.rootfs.options.as_deref()).map_err(|e| e.to_string())?;
    debug!("mounted rootfs \"{}\" onto \"{}\"", storage.path().display(), target.display());
    Ok(Some(target))
}

/// Bind the console pty slave onto `dev/console` (or `dev/<tty.dir>/console` plus a symlink).
fn bind_console(root: &Root, pts: &Path, tty_dir: Option<&str>) -> R<()> {
    let rel = match tty_dir {
        Some(d) if !d.is_empty() => format!("dev/{d}/console"),
        _ => "dev/console".to_string(),
    };
    let fd = root.create_file(Path::new(&rel), 0o600).map_err(|e| format!("create /{rel}: {e}"))?;
    let target = rlxc_sys::mount::fd_path(fd.as_fd());
    mount(pts.to_str(), &target, None, libc::MS_BIND as u64, None)
        .map_err(|e| format!("bind console {} onto /{rel}: {e}", pts.display()))?;
    if let Some(d) = tty_dir.filter(|d| !d.is_empty()) {
        let dev = root.resolve(Path::new("dev")).map_err(|e| format!("resolve /dev: {e}"))?;
        let link = rlxc_sys::mount::fd_path(dev.as_fd()).join("console");
        // A real file/node there would hide the symlink: only replace what autodev made.
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(format!("{d}/console"), &link).map_err(|e| format!("symlink /dev/console: {e}"))?;
    }
    Ok(())
}

/// pivot_root into `new_root`, then detach the old root (LXC's `lxc_pivot_root`).
fn pivot_root(new_root: &Path) -> R<()> {
    let old = File::open("/").map_err(|e| format!("open /: {e}"))?;
    let new = File::open(new_root).map_err(|e| format!("open rootfs {}: {e}", new_root.display()))?;
    rustix::process::fchdir(&new).map_err(|e| format!("chdir rootfs: {e}"))?;
    rlxc_sys::mount::pivot_root(Path::new("."), Path::new("."))
        .map_err(|e| format!("pivot_root into {}: {e}", new_root.display()))?;
    rustix::process::fchdir(&old).map_err(|e| format!("chdir old root: {e}"))?;
    // The old root must not propagate the detach to the host.
    mount(None, Path::new("."), None, (libc::MS_SLAVE | libc::MS_REC) as u64, None)
        .map_err(|e| format!("make old root rslave: {e}"))?;
    umount2(Path::new("."), libc::MNT_DETACH).map_err(|e| format!("detach old root: {e}"))?;
    rustix::process::fchdir(&new).map_err(|e| format!("chdir new root: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| format!("chdir /: {e}"))?;
    Ok(())
}

/// A private devpts instance with `max=N` and `/dev/ptmx` pointing at it.
fn setup_devpts(max: u64) -> R<()> {
    let _ = umount2(Path::new("/dev/pts"), libc::MNT_DETACH);
    std::fs::create_dir_all("/dev/pts").map_err(|e| format!("mkdir /dev/pts: {e}"))?;
    let flags = (libc::MS_NOSUID | libc::MS_NOEXEC) as u64;
    let tries = [
        format!("gid=5,newinstance,ptmxmode=0666,mode=0620,max={max}"),
        format!("newinstance,ptmxmode=0666,mode=0620,max={max}"),
        "gid=5,newinstance,ptmxmode=0666,mode=0620".to_string(),
        "newinstance,ptmxmode=0666,mode=0620".to_string(),
    ];
    let mut last = None;
    for t in &tries {
        match mount(Some("devpts"), Path::new("/dev/pts"), Some("devpts"), flags, Some(t)) {
            Ok(()) => {
                last = None;
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    if let Some(e) = last {
        return Err(format!("lxc.pty.max: mount devpts on /dev/pts: {e}"));
    }
    let ptmx = Path::new("/dev/ptmx");
    let md = std::fs::symlink_metadata(ptmx);
    if md.as_ref().map(|m| m.file_type().is_symlink()).unwrap_or(false) {
        return Ok(());
    }
    if md.is_err() {
        File::create(ptmx).map_err(|e| format!("create /dev/ptmx: {e}"))?;
    }
    if let Err(e) = mount(Some("/dev/pts/ptmx"), ptmx, None, libc::MS_BIND as u64, None) {
        debug!("bind /dev/pts/ptmx onto /dev/ptmx failed ({e}); using a symlink");
        let _ = std::fs::remove_file(ptmx);
        std::os::unix::fs::symlink("pts/ptmx", ptmx).map_err(|e| format!("symlink /dev/ptmx: {e}"))?;
    }
    Ok(())
}

/// Allocate `lxc.tty.max` ptys and bind each slave over `/dev/ttyN` (or `/dev/<dir>/ttyN` with a
/// symlink), under `root` (`/` once pivoted, else the rootfs mount). Returns (master, slave path)
/// pairs; the masters go to the monitor.
fn setup_ttys(root: &Path, max: u64, dir: Option<&str>) -> R<Vec<(OwnedFd, PathBuf)>> {
    let mut out = Vec::new();
    // Before the pivot a symlinked /dev of the rootfs would lead the binds out of it.
    if max > 0 && std::fs::symlink_metadata(root.join("dev")).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!("lxc.tty.max: {} is a symlink", root.join("dev").display()));
    }
    for i in 1..=max {
        let pty = crate::console::open_pty().map_err(|e| format!("lxc.tty.max: allocate tty{i}: {e}"))?;
        let path = match dir {
            Some(d) if !d.is_empty() => root.join(format!("dev/{d}/tty{i}")),
            _ => root.join(format!("dev/tty{i}")),
        };
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|e| format!("mkdir {}: {e}", p.display()))?;
        }
        if std::fs::symlink_metadata(&path).is_err() {
            File::create(&path).map_err(|e| format!("create {}: {e}", path.display()))?;
        }
        mount(pty.slave_path.to_str(), &path, None, libc::MS_BIND as u64, None)
            .map_err(|e| format!("bind {} onto {}: {e}", pty.slave_path.display(), path.display()))?;
        if let Some(d) = dir.filter(|d| !d.is_empty()) {
            let link = root.join(format!("dev/tty{i}"));
            let _ = std::fs::remove_file(&link);
            let _ = std::os::unix::fs::symlink(format!("{d}/tty{i}"), &link);
        }
        out.push((pty.master, pty.slave_path));
    }
    Ok(out)
}

/// Resolve argv[0] inside the (pivoted) container like execvp with the default PATH.
fn find_in_container(argv: &[String]) -> Option<PathBuf> {
    let a0 = argv.first()?;
    let ok = |p: &Path| rustix::fs::access(p, rustix::fs::Access::EXEC_OK).is_ok() && p.is_file();
    if a0.contains('/') {
        let p = PathBuf::from(a0);
        return ok(&p).then_some(p);
    }
    for d in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let p = Path::new(d).join(a0);
        if ok(&p) {
            return Some(p);
        }
    }
    None
}
