//! Which namespaces the container gets (LXC's clone-flag resolution, spec §5.4), and opening
//! the ones to share (`lxc.namespace.share.*`).

use std::fs::File;
use std::os::fd::OwnedFd;

use rlxc_config::{ContainerConfig, Namespace, NetType};

/// Resolve the namespaces to create: `lxc.namespace.clone` exactly, else all minus
/// `lxc.namespace.keep`, else all except user (no idmap), net (every NIC is `none`) and cgroup
/// (kernel lacks it). Any shared namespace is removed.
pub fn clone_namespaces(conf: &ContainerConfig) -> Vec<Namespace> {
    let mut v: Vec<Namespace> = if !conf.namespaces.clone.is_empty() {
        conf.namespaces.clone.clone()
    } else if !conf.namespaces.keep.is_empty() {
        Namespace::ALL.into_iter().filter(|n| !conf.namespaces.keep.contains(n)).collect()
    } else {
        Namespace::ALL
            .into_iter()
            .filter(|n| match n {
                Namespace::User => !conf.idmaps.is_empty(),
                Namespace::Net => !shares_host_net(conf),
                Namespace::Cgroup => std::path::Path::new("/proc/self/ns/cgroup").exists(),
                _ => true,
            })
            .collect()
    };
    v.retain(|n| !conf.namespaces.share.contains_key(n));
    v
}

/// True when every configured NIC is of type `none` (and there is at least one).
pub fn shares_host_net(conf: &ContainerConfig) -> bool {
    !conf.net.is_empty() && conf.net.values().all(|d| d.net_type == Some(NetType::None))
}

/// The CLONE_NEW* flags for a set of namespaces.
pub fn flags(ns: &[Namespace]) -> u64 {
    ns.iter().map(|n| n.clone_flag()).fold(0, |a, b| a | b)
}

/// Open the namespaces to share: `lxc.namespace.share.<ns>` names a pid, a container in the same
/// lxcpath, or `lxcpath/name`. Container names are resolved to their init pid by `pid_of`.
pub fn open_shared(
    conf: &ContainerConfig,
    pid_of: &dyn Fn(&str) -> Option<i32>,
) -> Result<Vec<(Namespace, OwnedFd)>, String> {
    let mut out = Vec::new();
    for (ns, who) in &conf.namespaces.share {
        let pid = match who.parse::<i32>() {
            Ok(p) => p,
            Err(_) => pid_of(who)
                .ok_or_else(|| format!("lxc.namespace.share.{}: container \"{who}\" is not running", ns.name()))?,
        };
        let path = format!("/proc/{pid}/ns/{}", ns.name());
        let f = File::open(&path).map_err(|e| format!("lxc.namespace.share.{}: open {path}: {e}", ns.name()))?;
        out.push((*ns, OwnedFd::from(f)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rlxc_config::NetDev;

    #[test]
    fn default_set_and_overrides() {
        let mut c = ContainerConfig::default();
        let d = clone_namespaces(&c);
        assert!(d.contains(&Namespace::Mnt) && d.contains(&Namespace::Net) && !d.contains(&Namespace::User));
        c.net.insert(0, NetDev { net_type: Some(NetType::None), ..NetDev::new(0) });
        assert!(!clone_namespaces(&c).contains(&Namespace::Net));
        c.namespaces.clone = vec![Namespace::Mnt, Namespace::Pid];
        assert_eq!(clone_namespaces(&c), vec![Namespace::Mnt, Namespace::Pid]);
        c.namespaces.clone.clear();
        c.namespaces.keep = vec![Namespace::Net, Namespace::Uts];
        let k = clone_namespaces(&c);
        assert!(!k.contains(&Namespace::Net) && !k.contains(&Namespace::Uts) && k.contains(&Namespace::User));
        c.namespaces.share.insert(Namespace::Pid, "1".into());
        assert!(!clone_namespaces(&c).contains(&Namespace::Pid));
    }
}
