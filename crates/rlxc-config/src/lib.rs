//! The LXC 4.0 configuration language: key table, typed model, includes, the unexpanded store
//! that `save_config` writes back, and the system configuration (`lxc.conf`). No syscalls.
//!
//! Entry points: [`ContainerConfig::load`], [`ContainerConfig::set_item`] /
//! [`ContainerConfig::get_item`] / [`ContainerConfig::clear_item`] / [`ContainerConfig::save`],
//! [`ContainerConfig::apply_define`], [`SystemConfig::load`]; value parsers in [`values`],
//! [`mount`], [`device`] and [`net`].

mod apply;
pub mod device;
pub mod error;
pub mod file;
pub mod keys;
pub mod model;
pub mod mount;
pub mod net;
pub mod seccomp;
pub mod store;
pub mod system;
pub mod update;
pub mod values;

pub use device::{parse_device_rule, DeviceAccess, DeviceRule, DeviceType};
pub use error::{ConfigError, Location, ValueError};
pub use file::parse_define;
pub use model::*;
pub use mount::{parse_mount_entry, parse_mount_options, MountOptions};
pub use store::{ItemOrigin, Unexpanded};
pub use system::SystemConfig;
pub use values::{parse_byte_size, parse_cap, parse_idmap, parse_prlimit, parse_signal, Signal};
