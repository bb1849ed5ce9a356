//! What the attaching side learns about the container's init before forking: its pid and
//! pidfd, the namespace fds to join, and the confinement to copy (bounding set, no_new_privs,
//! LSM label). Everything is read from the host's `/proc/<init>` while we still stand in the
//! host's namespaces, and the namespace fds are opened *before* checking through the pidfd that
//! init still lives, so a recycled pid can never hand us a stranger's namespaces.

use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use super::AttachError;
use crate::commands::client;

/// One namespace to join.
#[derive(Debug)]
pub struct NsToJoin {
    /// Name of the `/proc/PID/ns` entry (`user`, `mnt`, ...).
    pub name: &'static str,
    /// `CLONE_NEW*` flag.
    pub flag: i32,
    /// Open fd of init's namespace.
    pub fd: OwnedFd,
}

/// Facts about the container's init.
#[derive(Debug)]
pub struct InitContext {
    /// Host pid of init.
    pub pid: i32,
    /// pidfd of init (from GET_INIT_PIDFD, else pidfd_open), when the kernel has pidfds.
    pub pidfd: Option<OwnedFd>,
    /// The namespaces to join, in LXC's order (user first).
    pub namespaces: Vec<NsToJoin>,
    /// `CapBnd` of init.
    pub cap_bounding: Option<u64>,
    /// `NoNewPrivs` of init.
    pub no_new_privs: bool,
    /// Seccomp mode of init (0 none, 2 filter).
    pub seccomp_mode: u32,
    /// Real uid / gid of init as the host sees them.
    pub host_uid: u32,
    pub host_gid: u32,
    /// Init's uid/gid maps (`/proc/PID/uid_map`), to translate host ids into the container.
    pub uid_map: Vec<(u32, u32, u32)>,
    pub gid_map: Vec<(u32, u32, u32)>,
    /// The LSM label init runs under (AppArmor profile or SELinux context), if an LSM is active
    /// and init is confined.
    pub lsm_label: Option<String>,
}

impl InitContext {
    /// Whether the user namespace is among those joined.
    pub fn joins_userns(&self) -> bool {
        self.namespaces.iter().any(|n| n.flag == libc::CLONE_NEWUSER)
    }

    /// Whether the mount namespace is among those joined.
    pub fn joins_mntns(&self) -> bool {
        self.namespaces.iter().any(|n| n.flag == libc::CLONE_NEWNS)
    }

    /// Init's uid and gid as seen inside its user namespace (LXC's default for the attached
    /// process). Without a joined user namespace these are the host values.
    pub fn container_ids(&self) -> (u32, u32) {
        if !self.joins_userns() {
            return (self.host_uid, self.host_gid);
        }
        (map_to_ns(&self.uid_map, self.host_uid).unwrap_or(0), map_to_ns(&self.gid_map, self.host_gid).unwrap_or(0))
    }
}

/// Translate a host id into the namespace through `ns_first host_first count` lines.
fn map_to_ns(map: &[(u32, u32, u32)], host: u32) -> Option<u32> {
    map.iter().find(|(_, h, c)| host >= *h && host - *h < *c).map(|(n, h, _)| n + (host - h))
}

fn parse_id_map(text: &str) -> Vec<(u32, u32, u32)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace().map(|x| x.parse::<u32>().ok());
            Some((it.next()??, it.next()??, it.next()??))
        })
        .collect()
}

/// A field of `/proc/PID/status` (text after the colon, trimmed).
pub(crate) fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')).map(str::trim))
}

/// Which namespace identity a `/proc/.../ns/X` link names.
fn ns_id(path: &str) -> Option<(u64, u64)> {
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The LSM label of a process, when an LSM that labels processes is active.
pub(crate) fn lsm_label_of(pid: i32) -> Option<String> {
    // AppArmor has its own attr subdirectory on newer kernels; SELinux uses attr/current.
    for p in [format!("/proc/{pid}/attr/apparmor/current"), format!("/proc/{pid}/attr/current")] {
        if let Ok(s) = fs::read_to_string(&p) {
            let s = s.trim_end_matches(['\n', '\0']).trim();
            if s.is_empty() || s == "unconfined" {
                return None;
            }
            // AppArmor prints "profile (mode)".
            let label = s.strip_suffix(" (enforce)").or_else(|| s.strip_suffix(" (complain)")).unwrap_or(s);
            return Some(label.to_string());
        }
    }
    None
}

/// Gather the context of container `name`'s init. `wanted` limits the namespaces (clone
/// flags); `None` joins every namespace init does not share with us.
pub fn gather(name: &str, lxcpath: &str, wanted: Option<i32>) -> Result<InitContext, AttachError> {
    let pid = client::get_init_pid(name, lxcpath).map_err(|e| AttachError::Monitor { name: name.into(), source: e })?;

    let pidfd = match client::get_init_pidfd(name, lxcpath) {
        Ok(fd) => Some(fd),
        Err(_) => rustix::process::Pid::from_raw(pid)
            .and_then(|p| rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok()),
    };

    let mut namespaces = Vec::new();
    for &(_, file, flag, _) in rlxc_sys::ns::NAMESPACES {
        if let Some(w) = wanted {
            if w & flag == 0 {
                continue;
            }
        }
        let theirs = format!("/proc/{pid}/ns/{file}");
        let ours = format!("/proc/self/ns/{file}");
        let Some(their_id) = ns_id(&theirs) else { continue };
        if Some(their_id) == ns_id(&ours) {
            // Joining our own namespace is pointless, and for the user namespace an error.
            continue;
        }
        let fd = fs::File::open(&theirs).map_err(|e| AttachError::Io { what: format!("open {theirs}"), source: e })?;
        namespaces.push(NsToJoin { name: file, flag, fd: fd.into() });
    }

    let status_path = PathBuf::from(format!("/proc/{pid}/status"));
    let status = fs::read_to_string(&status_path)
        .map_err(|e| AttachError::Io { what: format!("read {}", status_path.display()), source: e })?;
    let cap_bounding = status_field(&status, "CapBnd").and_then(|v| u64::from_str_radix(v, 16).ok());
    let no_new_privs = status_field(&status, "NoNewPrivs") == Some("1");
    let seccomp_mode = status_field(&status, "Seccomp").and_then(|v| v.parse().ok()).unwrap_or(0);
    let first_id =
        |key: &str| status_field(&status, key).and_then(|v| v.split_whitespace().next()?.parse::<u32>().ok());
    let host_uid = first_id("Uid").unwrap_or(0);
    let host_gid = first_id("Gid").unwrap_or(0);
    let uid_map = parse_id_map(&fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap_or_default());
    let gid_map = parse_id_map(&fs::read_to_string(format!("/proc/{pid}/gid_map")).unwrap_or_default());
    let lsm_label = lsm_label_of(pid);

    // Everything above was read through the pid; make sure it still named init.
    if let Some(fd) = &pidfd {
        // Signal 0: only checks that the process exists.
        if let Err(e) = rlxc_sys::forkexec::pidfd_kill(fd.as_fd(), 0) {
            if e.raw_os_error() == Some(libc::ESRCH) {
                return Err(AttachError::InitGone { name: name.into(), pid });
            }
        }
    } else if !PathBuf::from(format!("/proc/{pid}")).exists() {
        return Err(AttachError::InitGone { name: name.into(), pid });
    }

    Ok(InitContext {
        pid,
        pidfd,
        namespaces,
        cap_bounding,
        no_new_privs,
        seccomp_mode,
        host_uid,
        host_gid,
        uid_map,
        gid_map,
        lsm_label,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_maps_translate_host_ids() {
        let m = parse_id_map("         0     100000      65536\n");
        assert_eq!(m, vec![(0, 100000, 65536)]);
        assert_eq!(map_to_ns(&m, 100000), Some(0));
        assert_eq!(map_to_ns(&m, 100033), Some(33));
        assert_eq!(map_to_ns(&m, 5), None);
    }

    #[test]
    fn status_fields_are_found() {
        let s = "Name:\tinit\nCapBnd:\t000001fcfcfeffff\nNoNewPrivs:\t1\nUid:\t0\t0\t0\t0\n";
        assert_eq!(status_field(s, "CapBnd"), Some("000001fcfcfeffff"));
        assert_eq!(status_field(s, "NoNewPrivs"), Some("1"));
        assert_eq!(status_field(s, "Cap"), None);
    }
}
