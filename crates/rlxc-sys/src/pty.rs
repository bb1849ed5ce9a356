//! pty allocation and terminal ioctls (owned by the attach/console work).
