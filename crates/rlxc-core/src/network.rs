//! Container networking in the start sequence (LXC's `lxc_create_network`,
//! `lxc_network_move_created_netdev_priv`, `lxc_setup_network_in_child_namespaces`,
//! `lxc_delete_network`), on top of `rlxc-net`.
//!
//! How the start path uses it:
//! - before clone: [`shares_host_netns`] / [`wants_new_netns`] decide whether `CLONE_NEWNET`
//!   is set (all devices `none` → share ours; `lxc.namespace.share.net` → join that one);
//! - parent, after clone, while the child waits: [`create_host_side`] creates every device,
//!   runs `script.up`, moves the container ends into the child's netns and configures them
//!   there (name, MAC, MTU, addresses, up, gateways), and brings up its `lo`. Keep the returned
//!   [`HostNetGuard`] in the monitor for the container's lifetime; dropping it (or
//!   `teardown()`) after init exits runs `script.down`, deletes host devices and returns `phys`
//!   devices. On a failed start just drop it.
//! - child, after the parent signalled: [`configure_inside`] (brings up loopback; the
//!   devices are already configured by the parent through a socket in the child's netns);
//! - tools: [`container_ips`] / [`container_interfaces`] by init pid, [`host_link_stats`].

use rlxc_config::{ContainerConfig, Namespace};
use tracing::info;

pub use rlxc_net::host::RuntimeNic;
/// Single-interface moves for `lxc-device` (`attach_interface`, `detach_interface`, `is_interface`).
pub use rlxc_net::iface;
pub use rlxc_net::{container_interfaces, container_ips, host_link_stats, IpFamily, Link, LinkStats, NetError};

/// What the monitor holds for a running container's network (see [`rlxc_net::HostNet`]).
pub type HostNetGuard = rlxc_net::HostNet;

/// True when the container joins another namespace through `lxc.namespace.share.net`.
pub fn joins_other_netns(conf: &ContainerConfig) -> bool {
    conf.namespaces.share.contains_key(&Namespace::Net)
}

/// True when every configured device is `none`: the container uses the host's network
/// namespace and `CLONE_NEWNET` must not be set.
pub fn shares_host_netns(conf: &ContainerConfig) -> bool {
    !conf.net.is_empty() && conf.net.values().all(|d| d.net_type == Some(rlxc_config::NetType::None))
}

/// Whether the start path should clone a new network namespace for this container.
pub fn wants_new_netns(conf: &ContainerConfig) -> bool {
    !shares_host_netns(conf) && !joins_other_netns(conf)
}

/// Parent side: create, move and configure every device of `conf` for the child `child_pid`.
/// The container name for `script.up`/`down` comes from `LXC_NAME` in our environment (set
/// by the start path like LXC does), else `lxc.uts.name`; use [`create_host_side_named`] to
/// pass it explicitly.
pub fn create_host_side(conf: &ContainerConfig, child_pid: i32) -> Result<HostNetGuard, NetError> {
    let name = std::env::var("LXC_NAME").ok().or_else(|| conf.uts_name.clone()).unwrap_or_default();
    create_host_side_named(conf, &name, child_pid)
}

/// [`create_host_side`] with the container name given.
pub fn create_host_side_named(conf: &ContainerConfig, name: &str, child_pid: i32) -> Result<HostNetGuard, NetError> {
    let ctx = rlxc_net::NetContext { name: name.to_string(), hook_version: conf.hook_version };
    if joins_other_netns(conf) {
        info!("lxc.namespace.share.net is set: not creating network devices");
        return rlxc_net::create_host_side(ctx, &[none_nic()], child_pid);
    }
    let nics = rlxc_net::convert::nics_from_config(&conf.net)?;
    rlxc_net::create_host_side(ctx, &nics, child_pid)
}

fn none_nic() -> rlxc_net::NicSpec {
    rlxc_net::NicSpec { ty: rlxc_net::NicType::None, ..rlxc_net::NicSpec::default() }
}

/// Child side, in the container's new network namespace: bring up loopback. (The parent
/// already renamed and configured the moved devices; doing it from the parent keeps the
/// device identities — ifindex — out of the parent/child protocol.)
pub fn configure_inside(conf: &ContainerConfig) -> Result<(), NetError> {
    if !wants_new_netns(conf) {
        return Ok(());
    }
    rlxc_net::configure_loopback()
}

/// The running value of a network key that only exists once devices were made: the generated
/// host-side name for `lxc.net.N.veth.pair` (LXC's monitor answers GET_CONFIG_ITEM with it, and
/// `lxc-info -S` reads it to find the host end). None for every other key, so the monitor's
/// GET_CONFIG_ITEM handler can do
/// `network::running_config_item(self.net.as_ref(), key).or_else(|| container::config_item(..))`.
pub fn running_config_item(net: Option<&HostNetGuard>, key: &str) -> Option<String> {
    let rest = key.strip_prefix("lxc.net.")?;
    let (n, sub) = rest.split_once('.')?;
    let n: usize = n.parse().ok()?;
    if sub != "veth.pair" {
        return None;
    }
    net?.runtime_nics().into_iter().find(|r| r.index == n).and_then(|r| r.host_name)
}

/// Write the names chosen at start back into the monitor's copy of the configuration, like
/// LXC stores the generated `vethXXXXXX` in its netdev: afterwards GET_CONFIG_ITEM for
/// `lxc.net.N.veth.pair` answers the real host-side name without further wiring. Call once
/// after [`create_host_side`] on the configuration the monitor answers from.
pub fn record_runtime_names(conf: &mut ContainerConfig, net: &HostNetGuard) {
    for r in net.runtime_nics() {
        if let (Some(host), Some(dev)) = (r.host_name, conf.net.get_mut(&(r.index as u32))) {
            dev.veth.pair = Some(host);
        }
    }
}
