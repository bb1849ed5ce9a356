//! start
pub mod channel;
