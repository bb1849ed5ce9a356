//! The only crate of rlxc with `unsafe`: small, commented wrappers around system calls that
//! neither `rustix` nor `std` offer safely. Every other crate calls these.
//!
//! Each module is one kernel interface. Rules for every wrapper here:
//! - one `unsafe` block per syscall, with a `// SAFETY:` comment saying why it is sound;
//! - return `std::io::Result` (or a typed error) — never panic on what the kernel answers;
//! - syscall numbers come from `libc` or from our own per-arch table when libc lacks them.

pub mod bpf;
pub mod caps;
pub mod clone;
pub mod forkexec;
pub mod keyctl;
pub mod loopdev;
pub mod memfd;
pub mod mount;
pub mod netlink;
pub mod ns;
pub mod ofd;
pub mod personality;
pub mod pidfd;
pub mod process;
pub mod pty;
pub mod sealed_exe;
pub mod seccomp;
pub mod socket;
