//! The LXC 4.0 configuration language: key table, typed model, includes, the unexpanded store
//! that `save_config` writes back, and the system configuration (`lxc.conf`). No syscalls.

pub mod model;
pub mod seccomp;
pub mod store;

pub use model::*;
pub use store::{ItemOrigin, Unexpanded};
