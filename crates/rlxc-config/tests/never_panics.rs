//! Property: no input makes the crate panic, a config that loads survives save and reload, and a
//! failed `set_item` changes nothing (the fuzz targets explore the same deeper; this runs in
//! every `cargo test`).

use proptest::prelude::*;
use rlxc_config::keys::list_keys;
use rlxc_config::ContainerConfig;

/// Lines that look like config lines: known keys (plus `lxc.net.N.` forms) with odd values.
fn line() -> impl Strategy<Value = String> {
    let keys: Vec<String> = list_keys()
        .map(|k| k.replace("lxc.net.", "lxc.net.1."))
        .chain(
            ["lxc.cgroup.memory.max", "lxc.sysctl.a.b", "lxc.prlimit.nofile", "lxc.bogus", "lxc.net.0"]
                .map(String::from),
        )
        .filter(|k| k != "lxc.include")
        .collect();
    let values = prop_oneof![
        Just(String::new()),
        Just("1".to_string()),
        Just("veth".to_string()),
        Just("'quoted'".to_string()),
        Just("00:16:3e:xx:xx:xx".to_string()),
        Just("192.0.2.1/24".to_string()),
        Just("c 1:3 rwm".to_string()),
        Just("SIGRTMIN+3".to_string()),
        "[ -~]{0,12}",
    ];
    (proptest::sample::select(keys), values, proptest::bool::ANY)
        .prop_map(|(k, v, crlf)| format!("{k} = {v}{}", if crlf { "\r" } else { "" }))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn loading_never_panics_and_round_trips(lines in proptest::collection::vec(prop_oneof![line(), "[ -~]{0,20}"], 0..12)) {
        let text = lines.join("\n");
        if let Ok(c) = ContainerConfig::parse_str(&text, "p") {
            let saved = c.to_config_string();
            let again = ContainerConfig::parse_str(&saved, "p").map_err(|e| TestCaseError::fail(format!("{e}\n{saved}")))?;
            prop_assert_eq!(&again.net, &c.net);
            prop_assert_eq!(&again.cgroup, &c.cgroup);
            prop_assert_eq!(again.to_config_string(), saved);
            for k in list_keys() {
                let _ = c.get_item(k);
            }
        }
    }

    #[test]
    fn set_item_is_all_or_nothing(items in proptest::collection::vec(line(), 0..10)) {
        let mut c = ContainerConfig::default();
        for l in items {
            let (k, v) = l.split_once(" = ").unwrap_or((l.as_str(), ""));
            let before = c.clone();
            if c.set_item(k, v).is_err() {
                prop_assert_eq!(&c, &before);
            }
        }
        if c.validate().is_ok() {
            let again = ContainerConfig::parse_str(&c.to_config_string(), "p").map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&again.net, &c.net);
            prop_assert_eq!(&again.sysctls, &c.sysctls);
        }
    }
}
