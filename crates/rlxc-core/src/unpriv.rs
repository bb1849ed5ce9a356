//! Unprivileged (non-root) callers: what LXC does through `userns_exec_1` / `chown_mapped_root`.
//!
//! A user cannot chown files to the container's ids nor remove files owned by them. LXC runs
//! those steps in a throwaway user namespace whose maps are the container's `lxc.idmap` plus
//! the caller's own uid and gid (mapped to a namespace id the container leaves free), written by
//! the setuid `newuidmap`/`newgidmap` helpers, which check them against `/etc/subuid` and
//! `/etc/subgid`. Inside, namespace root owns both the caller's files and the container's.

use std::ffi::OsString;
use std::path::Path;

use rlxc_config::{IdMap, IdType};
use tracing::debug;

/// Why a step in a helper user namespace failed.
#[derive(Debug, thiserror::Error)]
pub enum UnprivError {
    /// The container has no `lxc.idmap` (an unprivileged container needs one).
    #[error("no lxc.idmap: an unprivileged container needs uid and gid maps")]
    NoIdmap,
    /// Setting up the helper namespace failed.
    #[error("{what}: {source}")]
    Userns {
        /// What we tried.
        what: String,
        /// Why.
        #[source]
        source: crate::usernsexec::UsernsError,
    },
    /// The command run in the helper namespace failed.
    #[error("{what}: exit status {status}")]
    Failed {
        /// What we tried.
        what: String,
        /// Its shell-style exit status.
        status: i32,
    },
}

/// Whether the caller is not root (LXC's `am_host_unpriv`).
pub fn is_unprivileged() -> bool {
    !rustix::process::geteuid().is_root()
}

/// The namespace id that host id `hostid` has under `maps`, if mapped.
pub fn ns_id(maps: &[IdMap], kind: IdType, hostid: u64) -> Option<u64> {
    maps.iter()
        .filter(|m| m.kind == kind)
        .find(|m| hostid >= m.hostid && hostid < m.hostid + m.range)
        .map(|m| m.nsid + (hostid - m.hostid))
}

/// The lowest namespace id of `kind` not covered by `maps` (LXC's `find_unmapped_nsid`).
fn unmapped_nsid(maps: &[IdMap], kind: IdType) -> u64 {
    let mut id = 0u64;
    loop {
        match maps.iter().filter(|m| m.kind == kind).find(|m| id >= m.nsid && id < m.nsid + m.range) {
            Some(m) => id = m.nsid + m.range,
            None => return id,
        }
    }
}

/// The container's maps plus the caller's uid and gid (when not already mapped), and the
/// namespace ids the caller has in them.
pub fn helper_maps(idmaps: &[IdMap]) -> Result<(Vec<IdMap>, u64, u64), UnprivError> {
    if !idmaps.iter().any(|m| m.kind == IdType::Uid) || !idmaps.iter().any(|m| m.kind == IdType::Gid) {
        return Err(UnprivError::NoIdmap);
    }
    let mut maps = idmaps.to_vec();
    let me = [
        (IdType::Uid, u64::from(rustix::process::geteuid().as_raw())),
        (IdType::Gid, u64::from(rustix::process::getegid().as_raw())),
    ];
    let mut ids = [0u64; 2];
    for (i, (kind, host)) in me.into_iter().enumerate() {
        ids[i] = match ns_id(&maps, kind, host) {
            Some(n) => n,
            None => {
                let nsid = unmapped_nsid(&maps, kind);
                maps.push(IdMap { kind, nsid, hostid: host, range: 1 });
                nsid
            }
        };
    }
    Ok((maps, ids[0], ids[1]))
}

/// Run `argv` as root of a helper user namespace (container maps + the caller); `what` names
/// the step in errors.
pub fn run_mapped(idmaps: &[IdMap], argv: &[OsString], what: &str) -> Result<(), UnprivError> {
    let (maps, _, _) = helper_maps(idmaps)?;
    debug!("{what}: running {argv:?} in a helper user namespace");
    let status =
        crate::usernsexec::run(&maps, argv).map_err(|source| UnprivError::Userns { what: what.to_string(), source })?;
    if status != 0 {
        return Err(UnprivError::Failed { what: what.to_string(), status });
    }
    Ok(())
}

/// chown `paths` to the container's root (namespace 0:0), LXC's `chown_mapped_root`.
pub fn chown_mapped_root(idmaps: &[IdMap], paths: &[&Path]) -> Result<(), UnprivError> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut argv: Vec<OsString> = vec!["chown".into(), "-h".into(), "0:0".into(), "--".into()];
    argv.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
    run_mapped(idmaps, &argv, &format!("chown {} to the container's root", paths[0].display()))
}

/// chown a container directory to the container's root and the caller's group (LXC's
/// `do_create_container_dir` + `chown_mapped_root`): with mode 0770 the container's root can
/// reach its rootfs and the caller keeps group access.
pub fn chown_container_dir(idmaps: &[IdMap], dir: &Path) -> Result<(), UnprivError> {
    let (_, _, nsgid) = helper_maps(idmaps)?;
    let argv: Vec<OsString> =
        vec!["chown".into(), "-h".into(), format!("0:{nsgid}").into(), "--".into(), dir.as_os_str().to_owned()];
    run_mapped(idmaps, &argv, &format!("chown {} to the container's root", dir.display()))
}

/// Hand a starting container its console and cgroups, in one helper namespace: `console`
/// goes to the container's root (0:0), the cgroup `shared` paths to the caller's uid and the
/// container root's group (LXC's `chown_cgroup_wrapper`), so both the monitor (owner) and the
/// container's root (group; the caller makes them group-writable) can use them.
pub fn chown_for_container(idmaps: &[IdMap], console: Option<&Path>, shared: &[&Path]) -> Result<(), UnprivError> {
    if console.is_none() && shared.is_empty() {
        return Ok(());
    }
    let (_, nsuid, _) = helper_maps(idmaps)?;
    // $1 is the console ("" for none), the rest the cgroup paths.
    let script = format!(
        "set -e; c=\"$1\"; shift; if [ -n \"$c\" ]; then chown 0:0 -- \"$c\"; fi; \
         if [ $# -gt 0 ]; then chown -h {nsuid}:0 -- \"$@\"; fi"
    );
    let mut argv: Vec<OsString> = vec!["sh".into(), "-c".into(), script.into(), "sh".into()];
    argv.push(console.map(|c| c.as_os_str().to_owned()).unwrap_or_default());
    argv.extend(shared.iter().map(|p| p.as_os_str().to_owned()));
    run_mapped(idmaps, &argv, "hand the console and cgroups to the container's root")
}

/// Remove `paths` recursively from inside the helper namespace (files owned by the container's
/// ids, which the caller cannot remove itself).
pub fn remove_mapped(idmaps: &[IdMap], paths: &[&Path]) -> Result<(), UnprivError> {
    let paths: Vec<&Path> = paths.iter().copied().filter(|p| std::fs::symlink_metadata(p).is_ok()).collect();
    if paths.is_empty() {
        return Ok(());
    }
    let mut argv: Vec<OsString> = vec!["rm".into(), "-rf".into(), "--one-file-system".into(), "--".into()];
    argv.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
    run_mapped(idmaps, &argv, &format!("remove {}", paths[0].display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kind: IdType, nsid: u64, hostid: u64, range: u64) -> IdMap {
        IdMap { kind, nsid, hostid, range }
    }

    #[test]
    fn unmapped_nsid_skips_ranges() {
        let maps = vec![m(IdType::Uid, 0, 910000, 9999), m(IdType::Uid, 9999, 5000, 1)];
        assert_eq!(unmapped_nsid(&maps, IdType::Uid), 10000);
        assert_eq!(unmapped_nsid(&maps, IdType::Gid), 0);
        assert_eq!(ns_id(&maps, IdType::Uid, 910005), Some(5));
        assert_eq!(ns_id(&maps, IdType::Uid, 919999), None);
    }

    #[test]
    fn helper_maps_need_both_kinds() {
        assert!(matches!(helper_maps(&[m(IdType::Uid, 0, 1, 1)]), Err(UnprivError::NoIdmap)));
    }
}
