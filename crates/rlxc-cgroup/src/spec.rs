//! What the cgroup code needs to know about one container, independent of the config crate's
//! model (rlxc-core fills it from `ContainerConfig` and the system config).

/// The cgroup-relevant settings of one container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupSpec {
    /// container name
    pub name: String,
    /// `lxc.cgroup.dir`
    pub dir: Option<String>,
    /// `lxc.cgroup.relative`
    pub relative: bool,
    /// system `lxc.cgroup.pattern` (`%n` = name); used when `dir` is unset
    pub pattern: Option<String>,
    /// system `lxc.cgroup.use` (empty = all)
    pub use_controllers: Vec<String>,
    /// `lxc.cgroup.<file> = value` in config order (file without the `lxc.cgroup.` prefix)
    pub v1: Vec<(String, String)>,
    /// `lxc.cgroup2.<file> = value` in config order
    pub v2: Vec<(String, String)>,
    /// host uid/gid of the container's root when an idmap is set (delegation chown)
    pub root_ids: Option<(u32, u32)>,
}

/// Which of the two sibling cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `lxc.monitor.NAME`
    Monitor,
    /// `lxc.payload.NAME`
    Payload,
}

impl Role {
    /// `monitor` / `payload`
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Monitor => "monitor",
            Role::Payload => "payload",
        }
    }
}

impl CgroupSpec {
    /// The cgroup path below the base for `role` with collision suffix `n` (0 = none):
    /// `lxc.<role>.<name>[-n]`, `D/lxc.<role>.<name>[-n]` with `lxc.cgroup.dir`, or
    /// `P'/<role>[-n]` with a system pattern.
    pub fn relative_path(&self, role: Role, n: u32) -> String {
        let sfx = if n == 0 { String::new() } else { format!("-{n}") };
        if let Some(d) = self.dir.as_deref().map(|d| d.trim_matches('/')).filter(|d| !d.is_empty()) {
            return format!("{d}/lxc.{}.{}{sfx}", role.as_str(), self.name);
        }
        if let Some(p) = self.pattern.as_deref().map(|p| p.trim_matches('/')).filter(|p| !p.is_empty()) {
            return format!("{}/{}{sfx}", p.replace("%n", &self.name), role.as_str());
        }
        format!("lxc.{}.{}{sfx}", role.as_str(), self.name)
    }

    /// The directory holding the leaves (`lxc.cgroup.dir` or the pattern's directory), where the
    /// monitor's pivot cgroup lives.
    pub fn leaf_parent(&self) -> String {
        let p = self.relative_path(Role::Monitor, 0);
        match p.rsplit_once('/') {
            Some((d, _)) => d.to_string(),
            None => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let mut s = CgroupSpec { name: "c1".into(), ..Default::default() };
        assert_eq!(s.relative_path(Role::Monitor, 0), "lxc.monitor.c1");
        assert_eq!(s.relative_path(Role::Payload, 2), "lxc.payload.c1-2");
        assert_eq!(s.leaf_parent(), "");
        s.pattern = Some("lxc/%n".into());
        assert_eq!(s.relative_path(Role::Payload, 0), "lxc/c1/payload");
        assert_eq!(s.relative_path(Role::Monitor, 1), "lxc/c1/monitor-1");
        s.dir = Some("/a/b/".into());
        assert_eq!(s.relative_path(Role::Payload, 0), "a/b/lxc.payload.c1");
        assert_eq!(s.leaf_parent(), "a/b");
    }
}
