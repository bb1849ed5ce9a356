//! Fuzz the LXC seccomp policy parser: any bytes must give a policy or an error naming a line
//! of the input, never a panic; a parsed policy's rules are within the documented limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rlxc_config::seccomp::{parse_policy, MAX_ARG_CMPS};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse_policy(&text) {
        Ok(p) => {
            assert!(p.version == 1 || p.version == 2);
            let lines = text.lines().count();
            for r in &p.rules {
                assert!(r.args.len() <= MAX_ARG_CMPS);
                assert!(r.line >= 1 && r.line <= lines);
                assert!(r.args.iter().all(|a| a.index < 6));
            }
        }
        Err(e) => assert!(e.line >= 1 && e.line <= text.lines().count() + 1),
    }
});
