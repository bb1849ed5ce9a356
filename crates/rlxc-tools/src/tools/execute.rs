//! `lxc-execute`: not implemented in rlxc yet.

/// Entry point; `args` excludes the program name.
pub fn main(_args: &[String]) -> i32 {
    crate::not_implemented("lxc-execute")
}
