//! Fuzz every value parser other crates call on untrusted text (mount entries and options,
//! device rules, signals, sizes, capabilities, idmaps, rlimits, addresses, lxc.conf): never a
//! panic, and what parses formats back to something that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rlxc_config::{device, mount, net, system, values, MountAuto};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let s = s.as_ref();
    if let Ok(e) = mount::parse_mount_entry(s) {
        let _ = e.mount_options();
    }
    let _ = mount::parse_fstab(s);
    let mut auto = MountAuto::default();
    if mount::apply_mount_auto(&mut auto, s).is_ok() {
        let printed = mount::format_mount_auto(&auto);
        let mut again = MountAuto::default();
        mount::apply_mount_auto(&mut again, &printed).expect("printed mount.auto parses");
    }
    if let Ok(r) = device::parse_device_rule(s) {
        assert_eq!(device::parse_device_rule(&r.to_kernel_string()), Ok(r));
    }
    if let Ok(n) = values::parse_signal(s) {
        assert!((0..=values::SIGRTMAX).contains(&n));
        assert_eq!(values::parse_signal(&values::signal_name(n)).unwrap_or(n), n);
    }
    let _ = values::parse_byte_size(s);
    if let Ok(n) = values::parse_console_size(s) {
        assert!(n.is_power_of_two() && n >= values::PAGE_SIZE);
    }
    let _ = values::parse_cap(s);
    if let Ok(m) = values::parse_idmap(s) {
        assert_eq!(values::parse_idmap(&values::format_idmap(&m)), Ok(m));
    }
    if let Some((res, v)) = s.split_once('=') {
        if let Ok(p) = values::parse_prlimit(res, v) {
            let again = values::parse_prlimit(res, &values::format_prlimit(&p)).expect("printed prlimit parses");
            assert_eq!((again.soft, again.hard), (p.soft, p.hard));
        }
    }
    let _ = net::parse_ipv4_address(s);
    let _ = net::parse_ipv6_address(s);
    let _ = net::parse_route::<std::net::Ipv4Addr>(s, 32);
    let r = net::randomize_hwaddr(s);
    assert_eq!(r.chars().count(), s.chars().count());
    let _ = values::parse_u64(s);
    let _ = values::parse_i32(s);
    let mut sys = system::SystemConfig::defaults(&system::Identity::Root, &system::SystemPaths::default());
    sys.apply_text(s);
});
