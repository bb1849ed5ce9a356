//! Moving an attached process into the container's cgroups, through the paths the monitor
//! reports with GET_CGROUP (so it works the same against rlxc's and LXC's monitors):
//! the payload cgroup on each v1 hierarchy, and on the cgroup2 hierarchy a `.lxc` leaf inside
//! the payload cgroup (the payload itself is not a leaf once init made sub-cgroups, and the
//! leaf keeps attached processes apart from init's), falling back to the payload directory.
//!
//! Also answers "is the container frozen?", because a process moved into a frozen cgroup stops
//! at once and `lxc-attach` would hang.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use tracing::{debug, warn};

use super::AttachError;
use crate::commands::client;

/// Name of the leaf attached processes go to on cgroup2 (LXC 4.0.1+).
pub const ATTACH_LEAF: &str = ".lxc";

/// One mounted cgroup hierarchy of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    /// Where it is mounted.
    pub mount: PathBuf,
    /// `None` for cgroup2, else the v1 controllers (or `name=...`).
    pub controllers: Option<Vec<String>>,
}

impl Hierarchy {
    /// The controller name to ask GET_CGROUP about (`None` = the cgroup2 tree).
    pub fn query_name(&self) -> Option<&str> {
        self.controllers.as_ref().and_then(|c| c.first()).map(String::as_str)
    }
}

const NOT_CONTROLLERS: &[&str] =
    &["rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode", "none", "nsdelegate"];

/// Parse `/proc/self/mountinfo` text into hierarchies (one entry per hierarchy: the first mount
/// of its root).
pub fn parse_hierarchies(mountinfo: &str) -> Vec<Hierarchy> {
    let mut out: Vec<Hierarchy> = Vec::new();
    let mut seen_dev: Vec<String> = Vec::new();
    for line in mountinfo.lines() {
        let Some((pre, post)) = line.split_once(" - ") else { continue };
        let pre: Vec<&str> = pre.split_whitespace().collect();
        let post: Vec<&str> = post.split_whitespace().collect();
        if pre.len() < 5 || post.len() < 3 {
            continue;
        }
        let (dev, root, mount) = (pre[2], pre[3], pre[4]);
        let fstype = post[0];
        if root != "/" || (fstype != "cgroup" && fstype != "cgroup2") {
            continue;
        }
        if seen_dev.iter().any(|d| d == dev) {
            continue;
        }
        seen_dev.push(dev.to_string());
        let controllers = if fstype == "cgroup2" {
            None
        } else {
            let c: Vec<String> = post[2]
                .split(',')
                .filter(|o| !NOT_CONTROLLERS.contains(o) && !o.starts_with("release_agent="))
                .map(str::to_string)
                .collect();
            if c.is_empty() {
                continue;
            }
            Some(c)
        };
        out.push(Hierarchy { mount: PathBuf::from(unescape_octal(mount)), controllers });
    }
    out
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn host_hierarchies() -> Result<Vec<Hierarchy>, AttachError> {
    let mi = fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| AttachError::Io { what: "read /proc/self/mountinfo".into(), source: e })?;
    Ok(parse_hierarchies(&mi))
}

/// The cgroup of `pid` in hierarchy `h`, from `/proc/PID/cgroup`.
fn cgroup_of_pid(pid: i32, h: &Hierarchy) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (_, ctrls, path) = (f.next()?, f.next()?, f.next()?);
        let matches = match &h.controllers {
            None => ctrls.is_empty(),
            Some(c) => {
                let mut a: Vec<&str> = ctrls.split(',').collect();
                let mut b: Vec<&str> = c.iter().map(String::as_str).collect();
                a.sort_unstable();
                b.sort_unstable();
                a == b
            }
        };
        matches.then(|| path.to_string())
    })
}

/// The container's directory in hierarchy `h`: what the monitor says (GET_CGROUP), else —
/// for monitors that do not answer GET_CGROUP for this hierarchy, like LXC 5.0's for the
/// controller-less cgroup2 tree — where init is.
fn container_dir(name: &str, lxcpath: &str, init_pid: Option<i32>, h: &Hierarchy) -> Option<PathBuf> {
    let rel = match client::get_cgroup(name, lxcpath, h.query_name()) {
        Ok(rel) => rel,
        Err(e) => {
            debug!("monitor has no cgroup in {} ({:?}): {e}", h.mount.display(), h.query_name());
            cgroup_of_pid(init_pid?, h)?
        }
    };
    Some(h.mount.join(rel.trim_start_matches('/')))
}

fn write_pid(dir: &Path, pid: i32) -> io::Result<()> {
    fs::write(dir.join("cgroup.procs"), pid.to_string())
}

/// Move `pid` into container `name`'s cgroups on every hierarchy the monitor knows.
pub fn move_into_container(name: &str, lxcpath: &str, init_pid: i32, pid: i32) -> Result<(), AttachError> {
    let hierarchies = host_hierarchies()?;
    let mut moved = 0;
    for h in &hierarchies {
        let Some(dir) = container_dir(name, lxcpath, Some(init_pid), h) else { continue };
        if !dir.is_dir() {
            debug!("container cgroup {} does not exist; skipped", dir.display());
            continue;
        }
        let res = if h.controllers.is_none() {
            let leaf = dir.join(ATTACH_LEAF);
            match fs::create_dir(&leaf) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => debug!("cannot create {}: {e}", leaf.display()),
            }
            match write_pid(&leaf, pid) {
                Ok(()) => Ok(()),
                Err(e) => {
                    debug!("cannot enter {}: {e}; using the payload cgroup", leaf.display());
                    write_pid(&dir, pid)
                }
            }
        } else {
            write_pid(&dir, pid)
        };
        match res {
            Ok(()) => moved += 1,
            // A user's container has no cgroup in hierarchies not delegated to the user (the
            // monitor skipped them): as LXC, the attached process stays where it is there.
            Err(e)
                if crate::unpriv::is_unprivileged()
                    && matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM)) =>
            {
                debug!("cannot enter {} as a user ({e}); skipped", dir.display());
            }
            Err(e) => return Err(AttachError::Cgroup { path: dir.clone(), source: e }),
        }
    }
    if moved == 0 {
        warn!("container {name:?}: the monitor reported no cgroup; the attached process stays in ours");
    }
    Ok(())
}

/// Whether the container's freezer says FROZEN/FREEZING (v1 `freezer.state`, cgroup2
/// `cgroup.events` "frozen 1").
pub fn is_frozen(name: &str, lxcpath: &str, init_pid: Option<i32>) -> bool {
    let Ok(hs) = host_hierarchies() else { return false };
    for h in &hs {
        let is_freezer = h.controllers.as_ref().map(|c| c.iter().any(|x| x == "freezer"));
        match is_freezer {
            Some(true) => {
                if let Some(dir) = container_dir(name, lxcpath, init_pid, h) {
                    let s = fs::read_to_string(dir.join("freezer.state")).unwrap_or_default();
                    if s.trim() == "FROZEN" || s.trim() == "FREEZING" {
                        return true;
                    }
                }
            }
            None => {
                if let Some(dir) = container_dir(name, lxcpath, init_pid, h) {
                    let s = fs::read_to_string(dir.join("cgroup.events")).unwrap_or_default();
                    if s.lines().any(|l| l.trim() == "frozen 1") {
                        return true;
                    }
                }
            }
            Some(false) => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
30 24 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct
36 30 0:32 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,freezer
90 30 0:32 /sub /mnt/freezer2 rw - cgroup cgroup rw,freezer
91 30 0:32 / /mnt/freezer3 rw - cgroup cgroup rw,freezer
";

    #[test]
    fn hierarchies_of_a_hybrid_host() {
        let hs = parse_hierarchies(HYBRID);
        assert_eq!(hs.len(), 4);
        assert_eq!(hs[0], Hierarchy { mount: "/sys/fs/cgroup/unified".into(), controllers: None });
        assert_eq!(hs[1].query_name(), Some("name=systemd"));
        assert_eq!(hs[2].query_name(), Some("cpu"));
        assert_eq!(hs[3].mount, PathBuf::from("/sys/fs/cgroup/freezer"));
    }

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(unescape_octal("/a\\040b"), "/a b");
        assert_eq!(unescape_octal("/plain"), "/plain");
    }
}
