//! Root filesystem storage backends (dir first; overlay, loop, btrfs, lvm, zfs later).
