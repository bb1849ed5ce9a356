//! Careless network configs: each start fails with the `lxc.net.N.KEY` to fix, and leaves no link,
//! process, cgroup or socket behind. Every monitor runs in a netns this test makes
//! (`nsenter --net`, so the cgroup mounts stay visible); addresses from 192.0.2.0/24 and
//! 198.51.100.0/24 only.

use std::process::Output;

use rlxc_suite::*;

fn lxc_in(ns: &NetNs, lp: &Lxcpath, tool_name: &str, args: &[&str]) -> Output {
    let bin = tool(&format!("lxc-{tool_name}"));
    let bin = bin.to_str().unwrap_or("/nonexistent").to_string();
    let net = format!("--net=/run/netns/{}", ns.name);
    let mut full = vec![net.as_str(), bin.as_str(), "-P", lp.as_str()];
    full.extend_from_slice(args);
    run("nsenter", &full)
}

fn show(o: &Output) -> String {
    format!(
        "rc={:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn links(ns: &NetNs) -> Vec<String> {
    let o = run("ip", &["-n", &ns.name, "-o", "link", "show"]);
    let mut v: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1).map(|n| n.split('@').next().unwrap_or(n).to_string()))
        .collect();
    v.sort();
    v
}

#[test]
fn bad_network_settings_name_their_key_and_leave_nothing() {
    let test = "bad_network_settings_name_their_key_and_leave_nothing";
    if !require_root(test) || !require_tools(test) || !require_program(test, "nsenter") {
        return;
    }
    let ns = NetNs::new("rbnet");
    // A plain (non-bridge) device to point `link` at.
    run_ok("ip", &["-n", &ns.name, "link", "add", "rbh0", "type", "veth", "peer", "name", "rbh1"]);
    let lp = Lxcpath::new("rbnet");
    let name = format!("rbn{}", std::process::id());
    let before_links = links(&ns);
    let before = HostState::capture(lp.as_str());
    let cases: &[(&str, &str)] = &[
        (
            "lxc.net.1.type = veth\nlxc.net.1.veth.pair = lo",
            "lxc.net.1.veth.pair: a network device \"lo\" already exists",
        ),
        (
            "lxc.net.1.type = veth\nlxc.net.1.link = rbnobridge",
            "lxc.net.1.link: network device \"rbnobridge\" does not exist",
        ),
        ("lxc.net.1.type = veth\nlxc.net.1.link = rbh1", "lxc.net.1.link: \"rbh1\" is neither a Linux bridge"),
        (
            "lxc.net.1.type = phys\nlxc.net.1.link = rbnone0",
            "lxc.net.1.link: network device \"rbnone0\" does not exist",
        ),
        ("lxc.net.1.type = phys\nlxc.net.1.link = lo", "lxc.net.1.link: cannot move \"lo\" into the container"),
        (
            "lxc.net.1.type = macvlan\nlxc.net.1.link = rbnone0",
            "lxc.net.1.link: network device \"rbnone0\" does not exist",
        ),
        ("lxc.net.1.type = veth\nlxc.net.1.name = lo", "lxc.net.1.name:"),
        ("lxc.net.1.type = veth\nlxc.net.1.mtu = 10", "lxc.net.1.mtu:"),
        ("lxc.net.1.type = veth\nlxc.net.1.hwaddr = 01:00:00:00:00:01", "lxc.net.1.hwaddr:"),
        (
            "lxc.net.1.type = veth\nlxc.net.1.ipv4.address = 192.0.2.1/24\nlxc.net.1.ipv4.address = 192.0.2.1/24",
            "lxc.net.1.ipv4.address:",
        ),
        (
            "lxc.net.1.type = veth\nlxc.net.1.ipv4.address = 192.0.2.1/24\nlxc.net.1.ipv4.gateway = 198.51.100.1",
            "lxc.net.1.ipv4.gateway: cannot add a gateway",
        ),
        ("lxc.net.1.type = veth\nlxc.net.1.script.up = /bin/false", "lxc.net.1.script.up \"/bin/false\" failed"),
    ];
    // busybox_container writes `lxc.net.0.type = empty`; the bad device is lxc.net.1.
    let dir = busybox_container(&lp, &name, "");
    let base = std::fs::read_to_string(dir.join("config")).expect("read config");
    for (extra, want) in cases {
        std::fs::write(dir.join("config"), format!("{base}{extra}\n")).expect("write config");
        let o = lxc_in(&ns, &lp, "start", &["-n", &name]);
        assert!(!o.status.success(), "start with {extra:?} should fail: {}", show(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "panic with {extra:?}: {}", show(&o));
        assert!(err.contains(want), "with {extra:?} expected {want:?}: {}", show(&o));
        let st = lxc_in(&ns, &lp, "info", &["-n", &name, "-s"]);
        assert!(String::from_utf8_lossy(&st.stdout).contains("STOPPED"), "{extra:?}: {}", show(&st));
        assert_eq!(links(&ns), before_links, "links left in the netns after {extra:?}");
    }
    let needle = lp.as_str().to_string();
    drop(lp);
    let mut now = HostState::capture(&needle);
    // Only this test's cgroups (others' containers come and go in the same tree).
    now.cgroups.retain(|c| c.contains(&name) || before.cgroups.contains(c));
    assert_eq!(now.cgroups.difference(&before.cgroups).count(), 0, "cgroups left: {:?}", now.cgroups);
    assert_eq!(now.monitors, before.monitors, "monitors left");
    assert_eq!(now.mounts, before.mounts, "mounts left");
}
