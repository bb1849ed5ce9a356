//! lxc-user-nic (setuid helper for unprivileged veth creation). Not implemented yet: this crate is
//! a placeholder so the workspace layout matches DESIGN.md; nothing here is presented as working.
