//! cgroup v1, hybrid and cgroup2 management for containers: layout detection, monitor and
//! payload cgroups, limits, freezer, and eBPF device control.

pub mod attach;
pub mod automount;
pub mod delegate;
pub mod devices;
pub mod error;
pub mod freezer;
pub mod fsio;
pub mod layout;
pub mod limits;
pub mod manager;
pub mod spec;
pub mod stats;

pub use error::{CgroupError, Result};
pub use layout::{Hierarchy, Layout, LayoutKind};
pub use manager::Cgroups;
pub use spec::{CgroupSpec, Role};
