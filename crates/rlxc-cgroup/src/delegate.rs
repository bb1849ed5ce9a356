//! Delegation to unprivileged containers: the payload cgroups and the files listed in
//! `/sys/kernel/cgroup/delegate` are chowned to the container's root (its host uid/gid).

use crate::error::{io_err, Result};
use crate::manager::Cgroups;
use crate::spec::Role;
use rustix::fs::{chmodat, chownat, AtFlags, Gid, Mode, Uid};
use std::os::fd::AsFd;
use tracing::debug;

/// The cgroup2 files to delegate: `/sys/kernel/cgroup/delegate`, or LXC's fallback list.
pub fn delegate_files() -> Vec<String> {
    match std::fs::read_to_string("/sys/kernel/cgroup/delegate") {
        Ok(s) => s.split_whitespace().map(str::to_string).collect(),
        Err(_) => vec!["cgroup.procs".into(), "cgroup.subtree_control".into(), "cgroup.threads".into()],
    }
}

impl Cgroups {
    /// Chown the payload cgroups to `spec.root_ids` (no-op without an idmap): the directory
    /// (mode 0775), `cgroup.procs` (0664), `tasks` on v1, and on cgroup2 every delegate file.
    pub fn delegate_payload(&self) -> Result<()> {
        let Some((uid, gid)) = self.spec.root_ids else { return Ok(()) };
        let p = self.created(Role::Payload)?;
        let (u, g) = (Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
        let files = delegate_files();
        for (i, d) in p.dirs.iter().enumerate() {
            let v2 = self.layout.hierarchies[i].v2;
            rustix::fs::fchown(d.fd.as_fd(), u, g).map_err(|e| io_err("chown", &d.path)(e.into()))?;
            rustix::fs::fchmod(d.fd.as_fd(), Mode::from_raw_mode(0o775))
                .map_err(|e| io_err("chmod", &d.path)(e.into()))?;
            let mut names: Vec<&str> = vec!["cgroup.procs"];
            if v2 {
                names.extend(files.iter().map(String::as_str).filter(|f| *f != "cgroup.procs"));
            } else {
                names.push("tasks");
            }
            for f in names {
                match chownat(d.fd.as_fd(), f, u, g, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(()) => {}
                    Err(rustix::io::Errno::NOENT) => continue,
                    Err(e) => return Err(io_err("chown", d.path.join(f))(e.into())),
                }
                if f == "cgroup.procs" || f == "tasks" {
                    let _ = chmodat(d.fd.as_fd(), f, Mode::from_raw_mode(0o664), AtFlags::empty());
                }
            }
            debug!("delegated {} to {uid}:{gid}", d.path.display());
        }
        Ok(())
    }
}
