//! Container networking over rtnetlink: veth, macvlan, ipvlan, vlan, phys, empty, none.
//!
//! Everything goes through one synchronous netlink socket per namespace ([`rtnl::Rtnl`]); no
//! `ip` command runs. The parent (monitor) side creates the host end of each device, moves the
//! container end into the child's network namespace and configures it there through a socket
//! opened in that namespace ([`host::create_host_side`]); the returned [`host::HostNet`] removes
//! everything again (and returns `phys` devices) on failure or stop.

pub mod convert;
pub mod host;
pub mod iface;
pub mod msg;
pub mod query;
pub mod rtnl;
pub mod script;
pub mod spec;
pub mod sysctl;
pub mod wireless;

pub use host::{configure_loopback, create_host_side, HostNet, NetContext};
pub use query::{container_interfaces, container_ips, host_link_stats, IpFamily};
pub use rtnl::{Link, LinkStats, Rtnl};
pub use spec::{NicSpec, NicType};

/// Errors of the networking code, with the device, key or object they concern.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A netlink request failed.
    #[error("netlink: cannot {op} {what}: {source}")]
    Netlink {
        op: &'static str,
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A file or namespace operation failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A configuration value is wrong or incomplete.
    #[error("lxc.net.{index}.{key}: {msg}")]
    Config { index: usize, key: String, msg: String },
    /// A device the configuration names does not exist.
    #[error("network device \"{0}\" does not exist")]
    NoSuchDevice(String),
    /// A `script.up` / `script.down` failed.
    #[error("lxc.net.{index}.{key} \"{script}\" failed: {msg}")]
    Script { index: usize, key: &'static str, script: String, msg: String },
    /// Anything else, already worded.
    #[error("{0}")]
    Other(String),
}

impl NetError {
    /// Wrap an I/O error with what we were doing.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> NetError {
        NetError::Io { what: what.into(), source }
    }

    /// The errno of the underlying system error, if any.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetError::Netlink { source, .. } | NetError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}
