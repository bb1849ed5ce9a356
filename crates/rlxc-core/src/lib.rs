//! liblxc in Rust: the container handle, start sequence, monitor, command protocol, attach,
//! console, hooks, locks, states and logging.
pub mod commands;
pub mod lock;
pub mod lxcpath;
pub mod state;
