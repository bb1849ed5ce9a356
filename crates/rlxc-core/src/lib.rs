//! liblxc in Rust: the container handle, start sequence, monitor, command protocol, attach,
//! console, hooks, locks, states and logging.

pub mod attach;
pub mod autostart;
pub mod cgroups;
pub mod clone;
pub mod commands;
pub mod console;
pub mod container;
pub mod execute;
pub mod hooks;
pub mod idmap;
pub mod lock;
pub mod log;
pub mod lxcpath;
pub mod monitor;
pub mod mounts;
pub mod network;
pub mod paths;
pub mod security;
pub mod snapshot;
pub mod start;
pub mod state;
pub mod terminal;
pub mod unpriv;
pub mod usernic;
pub mod usernsexec;
