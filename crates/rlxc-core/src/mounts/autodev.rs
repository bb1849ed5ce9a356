//! `lxc.autodev`: a tmpfs on the container's `/dev` with the standard device nodes, and the
//! `/dev` symlinks LXC makes.

use std::os::fd::AsFd;
use std::path::Path;

use rlxc_sys::mount::{fd_path, mknod, mount};
use tracing::{debug, warn};

use super::resolve::Root;
use super::MountError;

/// The nodes LXC creates: (name, major, minor), all mode 0666 character devices.
pub const DEVICES: &[(&str, u32, u32)] =
    &[("full", 1, 7), ("null", 1, 3), ("random", 1, 8), ("tty", 5, 0), ("urandom", 1, 9), ("zero", 1, 5)];

fn step(root: &Root, target: &str) -> impl FnOnce(std::io::Error) -> MountError + use<> {
    let path = root.path().join(target);
    let what = format!("autodev: {target}");
    move |source| MountError::Step { what, path, source }
}

/// Mount the `/dev` tmpfs (`size=<bytes>,mode=755`) and create `dev/pts`, `dev/shm`,
/// `dev/mqueue` (LXC's `mount_autodev`).
pub fn mount_dev_tmpfs(root: &Root, size: u64) -> Result<(), MountError> {
    let fd = root.mkdir_p(Path::new("dev"), 0o755).map_err(step(root, "dev"))?;
    // LXC: 0 (unset or unparsable) means the default 500000 bytes.
    let size = if size == 0 { rlxc_config::DEFAULT_AUTODEV_TMPFS_SIZE } else { size };
    let opts = format!("size={size},mode=755");
    mount(
        Some("none"),
        &fd_path(fd.as_fd()),
        Some("tmpfs"),
        libc::MS_NOSUID as u64 | libc::MS_NOEXEC as u64 | libc::MS_STRICTATIME as u64,
        Some(&opts),
    )
    .map_err(step(root, "mount tmpfs on dev"))?;
    for d in ["dev/pts", "dev/shm", "dev/mqueue"] {
        root.mkdir_p(Path::new(d), 0o755).map_err(step(root, d))?;
    }
    Ok(())
}

/// Create the device nodes in `dev` (mknod, falling back to a bind mount of the host's node when
/// mknod is not allowed, e.g. in a user namespace), and the `/dev/fd`, `stdin`, `stdout`,
/// `stderr` symlinks.
pub fn populate_dev(root: &Root) -> Result<(), MountError> {
    let dev = root.resolve(Path::new("dev")).map_err(step(root, "dev"))?;
    let devp = fd_path(dev.as_fd());
    let old = rustix::process::umask(rustix::fs::Mode::empty());
    let mut result = Ok(());
    for (name, major, minor) in DEVICES {
        let p = devp.join(name);
        if std::fs::symlink_metadata(&p).is_ok() {
            continue;
        }
        match mknod(&p, libc::S_IFCHR | 0o666, *major, *minor) {
            Ok(()) => {}
            Err(e) => {
                debug!("autodev: mknod {name} failed ({e}); bind-mounting the host's /dev/{name}");
                let made = std::fs::File::create(&p);
                let host = format!("/dev/{name}");
                if let Err(e) = made.and_then(|_| mount(Some(&host), &p, None, libc::MS_BIND as u64, None)) {
                    result = Err(MountError::Step {
                        what: format!("autodev: create /dev/{name}"),
                        path: root.path().join("dev").join(name),
                        source: e,
                    });
                    break;
                }
            }
        }
    }
    rustix::process::umask(old);
    result?;
    for (link, to) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        let p = devp.join(link);
        if std::fs::symlink_metadata(&p).is_err() {
            if let Err(e) = std::os::unix::fs::symlink(to, &p) {
                warn!("autodev: symlink /dev/{link}: {e}");
            }
        }
    }
    Ok(())
}
