//! Fuzz `-s KEY=VAL` defines and the item API: arbitrary define strings, then get, clear, save
//! and reload. Never a panic; a failed define leaves the config unchanged; whatever was set
//! survives a save and reload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rlxc_config::ContainerConfig;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut c = ContainerConfig::default();
    for define in text.split('\0').take(16) {
        if define.contains("lxc.include") {
            continue;
        }
        let before = c.clone();
        match c.apply_define(define) {
            Ok(()) => {
                if let Ok((k, _)) = rlxc_config::parse_define(define) {
                    let _ = c.get_item(&k);
                }
            }
            Err(_) => assert_eq!(c, before, "a failed define changed the config"),
        }
    }
    if c.validate().is_ok() {
        let saved = c.to_config_string();
        let again = ContainerConfig::parse_str(&saved, "saved").expect("saved defines reload");
        assert_eq!(again.net, c.net);
        assert_eq!(again.cgroup, c.cgroup);
        assert_eq!(again.mount_entries, c.mount_entries);
    }
    if let Some(o) = c.origins().first().cloned() {
        let _ = c.clear_item(&o.key);
        let _ = c.to_config_string();
    }
});
