//! Confinement: capabilities, seccomp, AppArmor, SELinux, session keyring, no_new_privs, and the
//! resource-limit/sysctl helpers. Every function here is a building block; the order LXC applies
//! them in lives in `rlxc_core::security`.

pub mod aa_rules;
pub mod apparmor;
pub mod bpf_check;
pub mod caps;
pub mod error;
pub mod keyring;
pub mod limits;
pub mod notify;
pub mod seccomp;
pub mod selinux;

pub use error::{Result, SecurityError};
