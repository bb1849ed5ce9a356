//! Networking of a container started by a user (LXC's `lxc_create_network_unpriv`): the monitor
//! has no privilege in the container's network namespace, so `veth` devices come from the setuid
//! helper `lxc-user-nic create LXCPATH NAME PID veth BRIDGE NICNAME`, which checks the user's
//! quota in `/etc/lxc/lxc-usernet`, creates the pair, attaches the host end to the bridge, moves
//! the other end into the container and prints `NAME:IFINDEX:HOSTNAME:HOSTIFINDEX`. `empty`
//! needs nothing from the host; every other type is refused, as in LXC.

use std::path::PathBuf;
use std::process::Command;

use rlxc_config::{ContainerConfig, NetType};
use tracing::{debug, info};

/// Where the helper is: `RLXC_USER_NIC`, else next to this install
/// (`<prefix>/libexec/rlxc/lxc-user-nic`), else LXC's `/usr/libexec/lxc/lxc-user-nic`.
pub fn helper_path() -> PathBuf {
    if let Some(p) = std::env::var_os("RLXC_USER_NIC") {
        return PathBuf::from(p);
    }
    let ours = crate::paths::prefix().join("libexec/rlxc/lxc-user-nic");
    if ours.exists() {
        return ours;
    }
    PathBuf::from("/usr/libexec/lxc/lxc-user-nic")
}

/// One device made by the helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserNic {
    /// `lxc.net.N` index.
    pub index: u32,
    /// Name inside the container.
    pub name: String,
    /// Its ifindex inside the container.
    pub ifindex: u32,
    /// Host-side veth name (what `lxc.net.N.veth.pair` answers while running).
    pub host_name: String,
    /// Host-side ifindex.
    pub host_ifindex: u32,
}

/// Parse the helper's `NAME:IFINDEX:HOSTNAME:HOSTIFINDEX` line.
pub fn parse_output(index: u32, out: &str) -> Result<UserNic, String> {
    let line = out.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let f: Vec<&str> = line.split(':').collect();
    let bad =
        || format!("lxc-user-nic printed \"{}\", expected NAME:IFINDEX:HOSTNAME:HOSTIFINDEX", line.escape_debug());
    let [name, idx, host, hidx] = f.as_slice() else { return Err(bad()) };
    if name.is_empty() || host.is_empty() {
        return Err(bad());
    }
    Ok(UserNic {
        index,
        name: name.to_string(),
        ifindex: idx.parse().map_err(|_| bad())?,
        host_name: host.to_string(),
        host_ifindex: hidx.parse().map_err(|_| bad())?,
    })
}

/// Create the container's devices for `pid` through the helper. Errors name the `lxc.net.N`.
pub fn create(conf: &ContainerConfig, name: &str, lxcpath: &str, pid: i32) -> Result<Vec<UserNic>, String> {
    let mut out = Vec::new();
    for (&i, d) in &conf.net {
        match d.net_type {
            None | Some(NetType::Empty) | Some(NetType::None) => continue,
            Some(NetType::Veth) => {}
            Some(t) => {
                return Err(format!(
                    "lxc.net.{i}.type: networks of type {} are not supported by unprivileged containers",
                    t.name()
                ))
            }
        }
        let link = d.link.as_deref().filter(|l| !l.is_empty()).ok_or_else(|| {
            format!("lxc.net.{i}.link: an unprivileged veth needs a bridge allowed in /etc/lxc/lxc-usernet")
        })?;
        let nicname = d.name.as_deref().filter(|n| !n.is_empty()).unwrap_or("unset");
        let helper = helper_path();
        debug!("running {} create {lxcpath} {name} {pid} veth {link} {nicname}", helper.display());
        let res = Command::new(&helper)
            .args(["create", lxcpath, name, &pid.to_string(), "veth", link, nicname])
            .output()
            .map_err(|e| format!("lxc.net.{i}: run {}: {e}", helper.display()))?;
        if !res.status.success() {
            return Err(format!(
                "lxc.net.{i}: {} failed ({}): {}",
                helper.display(),
                res.status,
                String::from_utf8_lossy(&res.stderr).trim()
            ));
        }
        let nic = parse_output(i, &String::from_utf8_lossy(&res.stdout)).map_err(|e| format!("lxc.net.{i}: {e}"))?;
        info!("lxc.net.{i}: lxc-user-nic made {} (host side {} on {link})", nic.name, nic.host_name);
        out.push(nic);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_helper_output() {
        let n = parse_output(0, "eth0:731:veth9MT2L4:730\n").expect("parses");
        assert_eq!(
            (n.name.as_str(), n.ifindex, n.host_name.as_str(), n.host_ifindex),
            ("eth0", 731, "veth9MT2L4", 730)
        );
        for bad in ["", "eth0:x:veth:1", "eth0:1:veth", ":1:v:2", "a:1:b:2:3"] {
            assert!(parse_output(0, bad).is_err(), "{bad:?}");
        }
    }
}
