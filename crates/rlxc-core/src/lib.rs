//! liblxc in Rust: the container handle, start sequence, monitor, command protocol, attach,
//! console, hooks, locks, states and logging.

pub mod log;
pub mod cgroups;
pub mod console;
pub mod container;
pub mod hooks;
pub mod idmap;
pub mod monitor;
pub mod mounts;
pub mod network;
pub mod paths;
pub mod security;
pub mod start;
pub mod commands;
pub mod lock;
pub mod lxcpath;
pub mod state;
pub mod attach;
pub mod terminal;
pub mod execute;
pub mod autostart;
pub mod usernsexec;
pub mod clone;
pub mod snapshot;
