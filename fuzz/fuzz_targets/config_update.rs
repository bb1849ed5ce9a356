//! Fuzz `lxc-update-config`'s rewrite: never a panic, and a second run changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rlxc_config::update::update_config_text;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let once = update_config_text(&text);
    assert_eq!(update_config_text(&once), once, "not idempotent");
});
