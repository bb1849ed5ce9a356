//! Fuzz config reading: any bytes as a config file must load or fail with an error naming a
//! line of the input, never panic; a loaded config survives save + reload unchanged, and every
//! key reads back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rlxc_config::{ConfigError, ContainerConfig};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Includes would read the host's files; the fuzzer explores the syntax, not the host.
    if text.contains("lxc.include") {
        return;
    }
    match ContainerConfig::parse_str(&text, "fuzz") {
        Ok(c) => {
            let saved = c.to_config_string();
            let again = ContainerConfig::parse_str(&saved, "fuzz").expect("a saved config reloads");
            assert_eq!(again.net, c.net);
            assert_eq!(again.to_config_string(), saved);
            for k in rlxc_config::keys::list_keys() {
                let _ = c.get_item(k);
            }
            for o in c.origins() {
                let _ = c.get_item(&o.key);
            }
        }
        Err(e) => {
            let lines = text.split('\n').count();
            if let Some(at) = e.location() {
                assert!(at.line >= 1 && at.line <= lines, "{e}");
            }
            assert!(!matches!(e, ConfigError::Io { .. }), "{e}");
            let _ = e.to_string();
        }
    }
});
