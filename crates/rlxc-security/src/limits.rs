//! `lxc.prlimit.*` (applied by the monitor on the container's init), `lxc.sysctl.*` (written by
//! the child inside its namespaces) and `lxc.proc.*` (written by the monitor to `/proc/<pid>/`).

use rustix::process::{Pid, Resource, Rlimit};
use tracing::debug;

use crate::error::{Result, SecurityError};

/// One resource limit to set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// `RLIMIT_*` number.
    pub resource: u32,
    /// Soft limit (`u64::MAX` = unlimited).
    pub soft: u64,
    /// Hard limit (`u64::MAX` = unlimited).
    pub hard: u64,
}

fn resource_of(id: u32) -> Option<Resource> {
    Some(match id {
        0 => Resource::Cpu,
        1 => Resource::Fsize,
        2 => Resource::Data,
        3 => Resource::Stack,
        4 => Resource::Core,
        5 => Resource::Rss,
        6 => Resource::Nproc,
        7 => Resource::Nofile,
        8 => Resource::Memlock,
        9 => Resource::As,
        10 => Resource::Locks,
        11 => Resource::Sigpending,
        12 => Resource::Msgqueue,
        13 => Resource::Nice,
        14 => Resource::Rtprio,
        15 => Resource::Rttime,
        _ => return None,
    })
}

/// Set `limits` on process `pid` with prlimit(2), in order (LXC's `setup_resource_limits`).
pub fn apply_prlimits(pid: i32, limits: &[(String, Limit)]) -> Result<()> {
    let Some(target) = Pid::from_raw(pid) else {
        return Err(SecurityError::config("lxc.prlimit", format!("invalid pid {pid}")));
    };
    for (name, l) in limits {
        let Some(res) = resource_of(l.resource) else {
            return Err(SecurityError::config(format!("lxc.prlimit.{name}"), "unknown resource"));
        };
        let to_opt = |v: u64| if v == u64::MAX { None } else { Some(v) };
        rustix::process::prlimit(Some(target), res, Rlimit { current: to_opt(l.soft), maximum: to_opt(l.hard) })
            .map_err(|e| SecurityError::io(format!("lxc.prlimit.{name}: prlimit on pid {pid}"), e.into()))?;
        debug!("lxc.prlimit.{name} set on pid {pid}");
    }
    Ok(())
}

/// Path under `/proc/sys` of a sysctl name (`net.ipv4.ip_forward` → `net/ipv4/ip_forward`).
/// Names with `..` or `/` are refused so a config can't write outside `/proc/sys`.
pub fn sysctl_path(name: &str) -> Result<String> {
    if name.is_empty() || name.contains('/') || name.split('.').any(|p| p.is_empty()) {
        return Err(SecurityError::config(format!("lxc.sysctl.{name}"), "not a valid sysctl name"));
    }
    Ok(format!("/proc/sys/{}", name.replace('.', "/")))
}

/// Write `lxc.sysctl.*` values (called inside the container, after pivot_root).
pub fn write_sysctls(sysctls: &[(String, String)]) -> Result<()> {
    for (name, value) in sysctls {
        let path = sysctl_path(name)?;
        std::fs::write(&path, value).map_err(|e| SecurityError::io(format!("lxc.sysctl.{name}: writing {path}"), e))?;
        debug!("lxc.sysctl.{name} = {value}");
    }
    Ok(())
}

/// Write `lxc.proc.*` values to `/proc/<pid>/<file>` (monitor side, LXC's `setup_proc_filesystem`).
pub fn write_procs(pid: i32, procs: &[(String, String)]) -> Result<()> {
    for (file, value) in procs {
        if file.is_empty() || file.split('/').any(|p| p.is_empty() || p == "..") {
            return Err(SecurityError::config(format!("lxc.proc.{file}"), "not a valid /proc file name"));
        }
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, value).map_err(|e| SecurityError::io(format!("lxc.proc.{file}: writing {path}"), e))?;
        debug!("lxc.proc.{file} = {value} for pid {pid}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_names_map_and_escape_is_refused() {
        assert_eq!(sysctl_path("net.ipv4.ip_forward").unwrap(), "/proc/sys/net/ipv4/ip_forward");
        assert!(sysctl_path("net..x").is_err());
        assert!(sysctl_path("../etc").is_err());
        assert!(sysctl_path("a/b").is_err());
    }

    #[test]
    fn prlimit_on_a_child_process() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id() as i32;
        let r = apply_prlimits(pid, &[("nofile".into(), Limit { resource: 7, soft: 100, hard: 200 })]);
        let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        r.unwrap();
        let line = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
        let nums: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&nums[3..5], &["100", "200"], "{line}");
    }
}
