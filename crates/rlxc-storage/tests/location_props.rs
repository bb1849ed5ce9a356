//! `lxc.rootfs.path` locations of the block backends come from config files: any text must give
//! a value or an error naming the key, never a panic, and what parses must print back the same.

use proptest::prelude::*;
use rlxc_config::Rootfs;
use rlxc_storage::lvm::Lvm;
use rlxc_storage::nbd::Nbd;
use rlxc_storage::{open, Storage};

proptest! {
    #[test]
    fn any_rootfs_path_opens_or_fails_cleanly(path in "\\PC{0,60}") {
        let r = Rootfs { path: Some(path.clone()), ..Rootfs::default() };
        match open(&r) {
            Ok(s) => prop_assert!(!s.kind().is_empty()),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn lvm_locations_round_trip(vg in "[a-zA-Z0-9+_.-]{1,12}", lv in "[a-zA-Z0-9+_.-]{1,12}", junk in "\\PC{0,30}") {
        let loc = format!("/dev/{vg}/{lv}");
        match Lvm::parse(&loc) {
            Ok(l) => {
                prop_assert_eq!(l.config_value(), format!("lvm:{loc}"));
                prop_assert!(!vg.starts_with('-') && !lv.starts_with('-'));
            }
            Err(e) => prop_assert!(e.to_string().contains("lxc.rootfs.path")),
        }
        if let Err(e) = Lvm::parse(&junk) {
            prop_assert!(e.to_string().contains("lxc.rootfs.path"));
        }
    }

    #[test]
    fn nbd_locations_round_trip(image in "/[a-zA-Z0-9/_.:-]{1,30}", part in proptest::option::of(1u32..64)) {
        let loc = match part { Some(p) => format!("{image}:{p}"), None => image.clone() };
        if let Ok(n) = Nbd::parse(&loc) {
            let printed = n.config_value();
            let back = Nbd::parse(&printed["nbd:".len()..]).map(|n| n.config_value());
            prop_assert_eq!(back.ok(), Some(printed));
        }
    }
}
