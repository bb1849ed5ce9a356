//! Cloning a container (LXC's `clone()` API, `lxc-copy`): a new container directory and config
//! (hostname and MAC addresses renewed unless asked to keep them, paths under the old container
//! directory moved to the new one), the rootfs copied or snapshotted through the storage
//! backend, the dependency files of an overlay snapshot (`lxc_snapshots` in the origin,
//! `lxc_rdepends` in the clone), then the clone hooks with the new rootfs mounted.

use std::path::{Path, PathBuf};

use rlxc_config::{ContainerConfig, HookKind};
use rlxc_storage::clone::NewRootfs;
use rlxc_storage::Storage;
use tracing::{info, warn};

use crate::container::Container;
use crate::paths;

pub use rlxc_storage::clone::parse_fssize;

/// A clone failure, naming the containers involved.
#[derive(Debug, thiserror::Error)]
pub enum CloneError {
    /// The origin has no config.
    #[error("container \"{0}\" is not defined")]
    NotDefined(String),
    /// The origin runs and `allow_running` was not given.
    #[error("container \"{0}\" is running")]
    Running(String),
    /// The new name is taken.
    #[error("container \"{0}\" already exists")]
    Exists(String),
    /// The new name is not usable.
    #[error("invalid container name \"{0}\"")]
    BadName(String),
    /// The origin has no rootfs to clone.
    #[error("container \"{0}\" has no rootfs (lxc.rootfs.path)")]
    NoRootfs(String),
    /// Storage backend failure.
    #[error("clone of \"{name}\": {source}")]
    Storage {
        /// The origin.
        name: String,
        /// What failed.
        #[source]
        source: rlxc_storage::StorageError,
    },
    /// Anything else, with its context.
    #[error("clone of \"{name}\": {msg}")]
    Other {
        /// The origin.
        name: String,
        /// What failed.
        msg: String,
    },
}

/// What `lxc-copy` / the clone API was asked for.
#[derive(Debug, Clone, Default)]
pub struct CloneOptions {
    /// New name.
    pub newname: String,
    /// New lxcpath (None: the origin's).
    pub newpath: Option<String>,
    /// Copy-on-write clone (`-s`, LXC_CLONE_SNAPSHOT).
    pub snapshot: bool,
    /// Keep the hostname (`-K`, LXC_CLONE_KEEPNAME).
    pub keepname: bool,
    /// Keep the MAC addresses (`-M`, LXC_CLONE_KEEPMACADDR).
    pub keepmac: bool,
    /// Clone a running container (`-a`).
    pub allow_running: bool,
    /// Backing store of the clone (`-B`).
    pub bdev: Option<String>,
    /// New filesystem size (`-L`, loop).
    pub fssize: Option<u64>,
    /// Extra arguments for the clone hooks.
    pub hook_args: Vec<String>,
    /// The new container's directory may exist (snapshot restore in place keeps `snaps`).
    pub into_existing_dir: bool,
}

fn other(name: &str, msg: impl Into<String>) -> CloneError {
    CloneError::Other { name: name.to_string(), msg: msg.into() }
}

/// Clone `src` as `o.newname`. On failure nothing of the new container remains.
pub fn clone_container(src: &Container, o: &CloneOptions) -> Result<Container, CloneError> {
    if !src.is_defined() {
        return Err(CloneError::NotDefined(src.name.clone()));
    }
    if !paths::valid_name(&o.newname) {
        return Err(CloneError::BadName(o.newname.clone()));
    }
    let newpath = o.newpath.clone().unwrap_or_else(|| src.lxcpath.clone());
    if src.is_running() && !o.allow_running {
        return Err(CloneError::Running(src.name.clone()));
    }
    let ndir = paths::container_dir(&newpath, &o.newname);
    let dir_existed = ndir.exists();
    if paths::config_path(&newpath, &o.newname).exists() || (dir_existed && !o.into_existing_dir) {
        return Err(CloneError::Exists(o.newname.clone()));
    }
    if src.conf.rootfs.path.as_deref().unwrap_or("").is_empty() {
        return Err(CloneError::NoRootfs(src.name.clone()));
    }
    std::fs::create_dir_all(&ndir).map_err(|e| other(&src.name, format!("create {}: {e}", ndir.display())))?;
    if !dir_existed {
        // LXC makes a clone's directory 0770.
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&ndir, std::fs::Permissions::from_mode(0o770));
    }
    let res = (|| {
        let _lock =
            crate::lock::ContainerLock::acquire(&newpath, &o.newname).map_err(|e| other(&src.name, e.to_string()))?;
        clone_inner(src, o, &newpath, &ndir)
    })();
    match res {
        Ok(c) => Ok(c),
        Err(e) => {
            if dir_existed {
                let _ = std::fs::remove_file(ndir.join("config"));
            } else {
                if crate::unpriv::is_unprivileged() && !src.conf.idmaps.is_empty() {
                    // Files the container's root made there go from a helper namespace.
                    if let Err(re) = crate::unpriv::remove_mapped(&src.conf.idmaps, &[ndir.as_path()]) {
                        warn!("{re}");
                    }
                }
                match std::fs::remove_dir_all(&ndir) {
                    Err(re) if re.kind() != std::io::ErrorKind::NotFound => warn!("remove {}: {re}", ndir.display()),
                    _ => {}
                }
            }
            Err(e)
        }
    }
}

fn clone_inner(src: &Container, o: &CloneOptions, newpath: &str, ndir: &Path) -> Result<Container, CloneError> {
    let sname = &src.name;
    let odir = paths::container_dir(&src.lxcpath, sname);
    let orig =
        rlxc_storage::open(&src.conf.rootfs).map_err(|e| CloneError::Storage { name: sname.clone(), source: e })?;
    let spec = NewRootfs {
        kind: o.bdev.clone(),
        fssize: o.fssize,
        vgname: crate::lxcpath::system_config_value("lxc.bdev.lvm.vg"),
        thinpool: crate::lxcpath::system_config_value("lxc.bdev.lvm.thin_pool"),
        ..NewRootfs::default()
    };
    let unpriv = crate::unpriv::is_unprivileged() && !src.conf.idmaps.is_empty();
    let snapshot_ok = o.snapshot && matches!(orig.kind(), "dir" | "overlay" | "overlayfs") && o.bdev.is_none();
    let copy_ok = !o.snapshot && orig.kind() == "dir" && matches!(o.bdev.as_deref(), None | Some("dir"));
    if unpriv && !snapshot_ok && !copy_ok {
        // The rootfs belongs to the container's ids: a user can copy a directory or layer an
        // overlay on it, nothing that needs mounting a block device.
        return Err(other(
            sname,
            "a user can clone an unprivileged container as a dir copy or an overlay snapshot (-s)",
        ));
    }
    if unpriv && copy_ok {
        let new = unpriv_copy_dir(src, orig.as_ref(), ndir)?;
        let r = crate::unpriv::chown_container_dir(&src.conf.idmaps, ndir)
            .map_err(|e| other(sname, e.to_string()))
            .and_then(|()| finish_clone(src, o, newpath, ndir, &odir, orig.as_ref(), new.as_ref()));
        if r.is_err() {
            let _ = crate::unpriv::remove_mapped(&src.conf.idmaps, &[new.path()]);
        }
        return r;
    }
    let new = rlxc_storage::clone::clone_rootfs(orig.as_ref(), ndir, o.snapshot, &spec)
        .map_err(|e| CloneError::Storage { name: sname.clone(), source: e })?;
    if unpriv {
        // The container's root mounts and writes the overlay: upper and work dirs are its.
        let work = ndir.join("overlay").join("work");
        let res = crate::unpriv::chown_mapped_root(&src.conf.idmaps, &[new.path(), &work])
            .and_then(|()| crate::unpriv::chown_container_dir(&src.conf.idmaps, ndir));
        if let Err(e) = res {
            let _ = new.destroy();
            return Err(other(sname, e.to_string()));
        }
    }
    let r = finish_clone(src, o, newpath, ndir, &odir, orig.as_ref(), new.as_ref());
    if r.is_err() {
        let _ = new.destroy();
    }
    r
}

/// A user's full copy of a directory rootfs: `cp -a` by the container's root in a helper user
/// namespace (LXC runs rsync the same way), into `<new dir>/rootfs`.
fn unpriv_copy_dir(src: &Container, orig: &dyn Storage, ndir: &Path) -> Result<Box<dyn Storage>, CloneError> {
    let dst = ndir.join("rootfs");
    std::fs::create_dir_all(&dst).map_err(|e| other(&src.name, format!("create {}: {e}", dst.display())))?;
    let argv: Vec<std::ffi::OsString> = vec![
        "sh".into(),
        "-c".into(),
        "set -e; chown 0:0 \"$2\"; cp -a --one-file-system -- \"$1\"/. \"$2\"/".into(),
        "sh".into(),
        orig.path().as_os_str().to_owned(),
        dst.as_os_str().to_owned(),
    ];
    if let Err(e) = crate::unpriv::run_mapped(&src.conf.idmaps, &argv, "copy the rootfs") {
        let _ = crate::unpriv::remove_mapped(&src.conf.idmaps, &[dst.as_path()]);
        return Err(other(&src.name, e.to_string()));
    }
    Ok(Box::new(rlxc_storage::dir::Dir::new(dst)))
}

fn finish_clone(
    src: &Container,
    o: &CloneOptions,
    newpath: &str,
    ndir: &Path,
    odir: &Path,
    _orig: &dyn Storage,
    new: &dyn Storage,
) -> Result<Container, CloneError> {
    let sname = &src.name;
    let set = |c: &mut ContainerConfig, k: &str, v: &str| c.set_item(k, v).map_err(|e| other(sname, e.to_string()));
    // LXC clears then sets these, so they move to the end of the saved config.
    let reset = |c: &mut ContainerConfig, k: &str, v: &str| {
        c.clear_item(k).map_err(|e| other(sname, e.to_string()))?;
        c.set_item(k, v).map_err(|e| other(sname, e.to_string()))
    };
    let mut conf = src.conf.clone();
    if !o.keepmac {
        let idx: Vec<u32> = conf.net.iter().filter(|(_, n)| n.hwaddr.is_some()).map(|(i, _)| *i).collect();
        for i in idx {
            set(&mut conf, &format!("lxc.net.{i}.hwaddr"), "00:16:3e:xx:xx:xx")?;
        }
    }
    reset(&mut conf, "lxc.rootfs.path", &new.config_value())?;
    if !o.keepname {
        reset(&mut conf, "lxc.uts.name", &o.newname)?;
    }
    // An fstab and hook scripts inside the old container directory are copied and their keys
    // point into the new one (LXC's copy_fstab / copyhooks); other paths stay as they are.
    let old_prefix = odir.to_string_lossy().into_owned();
    let new_prefix = ndir.to_string_lossy().into_owned();
    let fstab = conf.get_item("lxc.mount.fstab").unwrap_or_default();
    if let Some(rest) = fstab.strip_prefix(&old_prefix).filter(|r| r.starts_with('/')) {
        let moved = format!("{new_prefix}{rest}");
        copy_referenced_files(&format!("x = {fstab}"), &old_prefix, &new_prefix);
        reset(&mut conf, "lxc.mount.fstab", &moved)?;
    }
    let mut text = String::new();
    for line in conf.to_config_string().lines() {
        let key = line.split('=').next().unwrap_or("").trim();
        if key.starts_with("lxc.hook.") && line.contains(&format!("{old_prefix}/")) {
            copy_referenced_files(line, &old_prefix, &new_prefix);
            text.push_str(&line.replace(&format!("{old_prefix}/"), &format!("{new_prefix}/")));
        } else {
            text.push_str(line);
        }
        text.push('\n');
    }
    let cfg = paths::config_path(newpath, &o.newname);
    write_config(&cfg, &text).map_err(|e| other(sname, format!("write {}: {e}", cfg.display())))?;
    // LXC's dest dir: overlay clones get an empty `rootfs` too.
    if new.kind().starts_with("overlay") {
        let _ = std::fs::create_dir_all(ndir.join("rootfs"));
    }
    let newc = Container::new(&o.newname, newpath, None).map_err(|e| other(sname, e.to_string()))?;

    // An overlay snapshot reads through its origin (and the origin's own origins): LXC's
    // add_rdepends + mod_all_rdeps.
    let depends = o.snapshot && new.kind().starts_with("overlay");
    if depends {
        add_dependency(&src.lxcpath, sname, newpath, &o.newname).map_err(|e| other(sname, e))?;
    }
    update_rootfs(src, o, &newc, new).inspect_err(|_| {
        if depends {
            forget_origin(newpath, &o.newname, origin(newpath, &o.newname));
        }
    })?;
    info!("cloned \"{}\" to \"{}\" ({})", sname, o.newname, new.config_value());
    Ok(newc)
}

/// Write a config 0640 as LXC's save_config does.
fn write_config(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o640).open(path)?;
    f.write_all(text.as_bytes())
}

/// Copy a file named in a config line (`lxc.mount.fstab = /old/dir/fstab`) that lives in the old
/// container directory to the same place in the new one (LXC's copy_fstab / copyhooks).
fn copy_referenced_files(line: &str, old_prefix: &str, new_prefix: &str) {
    let value = line.split_once('=').map(|(_, v)| v).unwrap_or("");
    for word in value.split_whitespace() {
        if let Some(rest) = word.strip_prefix(old_prefix) {
            let from = PathBuf::from(word);
            if from.is_file() {
                let to = PathBuf::from(format!("{new_prefix}{rest}"));
                if let Some(p) = to.parent() {
                    let _ = std::fs::create_dir_all(p);
                }
                if let Err(e) = std::fs::copy(&from, &to) {
                    warn!("copy {} to {}: {e}", from.display(), to.display());
                }
            }
        }
    }
}

/// With the new rootfs mounted: write the new hostname into `/etc/hostname` (unless `-K`), then
/// run the clone hooks (LXC's clone_update_rootfs).
fn update_rootfs(src: &Container, o: &CloneOptions, newc: &Container, new: &dyn Storage) -> Result<(), CloneError> {
    let has_hooks = !newc.conf.hooks_for(HookKind::Clone).is_empty();
    if o.keepname && !has_hooks {
        return Ok(());
    }
    let name = newc.name.clone();
    if crate::unpriv::is_unprivileged() && !newc.conf.idmaps.is_empty() {
        return update_rootfs_unpriv(src, o, newc, new, has_hooks);
    }
    let cfg = newc.config_path();
    let rootfs_path = newc.conf.rootfs.path.clone().unwrap_or_default();
    rlxc_storage::clone::with_mounted(&[new], |p| {
        let root = &p[0];
        if !o.keepname {
            let hn = root.join("etc/hostname");
            // Only a regular file: a symlink could point anywhere on the host.
            if std::fs::symlink_metadata(&hn).map(|m| m.is_file()).unwrap_or(false) {
                // As LXC: the bare name, no newline.
                std::fs::write(&hn, &name).map_err(|e| format!("write {}: {e}", hn.display()))?;
            }
        }
        if has_hooks {
            let env = vec![
                ("LXC_SRC_NAME".to_string(), src.name.clone()),
                ("LXC_NAME".to_string(), name.clone()),
                ("LXC_CONFIG_FILE".to_string(), cfg.to_string_lossy().into_owned()),
                ("LXC_ROOTFS_MOUNT".to_string(), root.to_string_lossy().into_owned()),
                ("LXC_ROOTFS_PATH".to_string(), rootfs_path.clone()),
            ];
            crate::hooks::run_hooks(&newc.conf, &name, HookKind::Clone, &env, &o.hook_args)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
    .map_err(|e| other(&src.name, format!("update the clone's rootfs: {e}")))
}

/// [`update_rootfs`] for a user's overlay snapshot: the user cannot mount the overlay, so the
/// new hostname is written into the upper dir (what overlayfs would copy up) by the container's
/// root in a helper user namespace. Clone hooks need the mounted rootfs: refused.
fn update_rootfs_unpriv(
    src: &Container,
    o: &CloneOptions,
    newc: &Container,
    new: &dyn Storage,
    has_hooks: bool,
) -> Result<(), CloneError> {
    if has_hooks {
        return Err(other(&src.name, "lxc.hook.clone is not supported when a user clones a container"));
    }
    if o.keepname {
        return Ok(());
    }
    let Some(lower) = src.conf.rootfs.path.as_deref().and_then(|_| rlxc_storage::open(&src.conf.rootfs).ok()) else {
        return Ok(());
    };
    // Only when the origin has a regular /etc/hostname (as the mounted path: a symlink could
    // point anywhere).
    let hn = lower.path().join("etc/hostname");
    if !std::fs::symlink_metadata(&hn).map(|m| m.is_file()).unwrap_or(false) {
        return Ok(());
    }
    let argv: Vec<std::ffi::OsString> = vec![
        "sh".into(),
        "-c".into(),
        "set -e; mkdir -p \"$1/etc\"; rm -f \"$1/etc/hostname\"; printf %s \"$2\" > \"$1/etc/hostname\"".into(),
        "sh".into(),
        new.path().as_os_str().to_owned(),
        newc.name.clone().into(),
    ];
    crate::unpriv::run_mapped(&newc.conf.idmaps, &argv, "write the clone's /etc/hostname")
        .map_err(|e| other(&src.name, format!("update the clone's rootfs: {e}")))
}

/// `<lxcpath>/<name>/lxc_snapshots` / `lxc_rdepends`.
fn dep_file(lxcpath: &str, name: &str, file: &str) -> PathBuf {
    paths::container_dir(lxcpath, name).join(file)
}

/// Read `lxc_snapshots`: pairs of lines `lxcpath`, `name`.
pub fn dependents(lxcpath: &str, name: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dep_file(lxcpath, name, "lxc_snapshots")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines.chunks(2).filter(|c| c.len() == 2).map(|c| (c[0].to_string(), c[1].to_string())).collect()
}

/// The containers a clone depends on (`lxc_rdepends`: pairs of lines `lxcpath`, `name`; the
/// origin's own origins first, then the origin).
pub fn origins(lxcpath: &str, name: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dep_file(lxcpath, name, "lxc_rdepends")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines.chunks(2).filter(|c| c.len() == 2).map(|c| (c[0].to_string(), c[1].to_string())).collect()
}

/// [`origins`], None when there are none (read before a destroy, for [`forget_origin`]).
pub fn origin(lxcpath: &str, name: &str) -> Option<Vec<(String, String)>> {
    let v = origins(lxcpath, name);
    (!v.is_empty()).then_some(v)
}

fn write_dependents(lxcpath: &str, name: &str, deps: &[(String, String)]) -> Result<(), String> {
    let f = dep_file(lxcpath, name, "lxc_snapshots");
    if deps.is_empty() {
        return match std::fs::remove_file(&f) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("remove {}: {e}", f.display())),
            _ => Ok(()),
        };
    }
    let text: String = deps.iter().map(|(p, n)| format!("{p}\n{n}\n")).collect();
    std::fs::write(&f, text).map_err(|e| format!("write {}: {e}", f.display()))
}

/// Record that `newpath/newname` depends on `lxcpath/name` and on everything that one depends
/// on: the clone's `lxc_rdepends` lists them all, each of them lists the clone in its
/// `lxc_snapshots`.
pub fn add_dependency(lxcpath: &str, name: &str, newpath: &str, newname: &str) -> Result<(), String> {
    let mut deps = origins(lxcpath, name);
    deps.push((lxcpath.to_string(), name.to_string()));
    let f = dep_file(newpath, newname, "lxc_rdepends");
    let text: String = deps.iter().map(|(p, n)| format!("{p}\n{n}\n")).collect();
    std::fs::write(&f, text).map_err(|e| format!("write {}: {e}", f.display()))?;
    for (p, n) in &deps {
        if !paths::container_dir(p, n).is_dir() {
            warn!("origin \"{n}\" in {p} is gone: not recording \"{newname}\" in it");
            continue;
        }
        let mut list = dependents(p, n);
        list.push((newpath.to_string(), newname.to_string()));
        write_dependents(p, n, &list)?;
    }
    Ok(())
}

/// Forget that `newpath/newname` depends on `lxcpath/name` (destroy of the clone).
pub fn remove_dependency(lxcpath: &str, name: &str, newpath: &str, newname: &str) -> Result<(), String> {
    let deps: Vec<_> = dependents(lxcpath, name).into_iter().filter(|(p, n)| !(p == newpath && n == newname)).collect();
    write_dependents(lxcpath, name, &deps)
}

/// Before destroying `lxcpath/name`: refuse when snapshot clones depend on it (LXC: "Destroying
/// this container would destroy its snapshots"); afterwards call [`forget_origin`].
pub fn has_dependents(lxcpath: &str, name: &str) -> bool {
    !dependents(lxcpath, name).is_empty()
}

/// After destroying a clone: drop it from the `lxc_snapshots` of everything it depended on.
pub fn forget_origin(lxcpath: &str, name: &str, origin: Option<Vec<(String, String)>>) {
    for (op, on) in origin.into_iter().flatten() {
        if !paths::container_dir(&op, &on).is_dir() {
            continue;
        }
        if let Err(e) = remove_dependency(&op, &on, lxcpath, name) {
            warn!("update dependencies of \"{on}\": {e}");
        }
    }
}
