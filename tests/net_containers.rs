//! Networking with real busybox containers. Every container's monitor runs inside a network
//! namespace the test makes (`nsenter --net=/run/netns/NS lxc-start ...`), so the bridge, the host ends
//! and the command sockets (abstract, hence per netns) all live there; every lxc tool for such
//! a container is run there too. Addresses: 192.0.2.0/24, 2001:db8::/32 only.

use std::process::Output;

use rlxc_suite::*;

/// Runs `lxc-<tool> -P <lxcpath> ARGS` inside the test netns. `nsenter --net` rather than
/// `ip netns exec`: the latter also mounts a fresh sysfs over /sys, which hides the cgroup
/// mounts below /sys/fs/cgroup from the monitor.
fn lxc_in(ns: &NetNs, lxcpath: &Lxcpath, tool_name: &str, args: &[&str]) -> Output {
    let bin = tool(&format!("lxc-{tool_name}"));
    let bin = bin.to_str().unwrap_or("/nonexistent").to_string();
    let net = format!("--net=/run/netns/{}", ns.name);
    let mut full = vec![net.as_str(), bin.as_str(), "-P", lxcpath.as_str()];
    full.extend_from_slice(args);
    run("nsenter", &full)
}

fn ok(o: Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stops (kill) every named container from inside the netns when dropped, before the netns
/// and the lxcpath guards go.
struct StopAll<'a> {
    ns: &'a NetNs,
    lxcpath: &'a Lxcpath,
    names: Vec<String>,
}

impl Drop for StopAll<'_> {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = lxc_in(self.ns, self.lxcpath, "stop", &["-n", n, "-k"]);
        }
    }
}

fn links(ns: &NetNs) -> Vec<String> {
    let o = run("ip", &["-n", &ns.name, "-o", "link", "show"]);
    let mut v: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or("").to_string())
        .collect();
    v.sort();
    v
}

fn start(ns: &NetNs, lp: &Lxcpath, name: &str) {
    ok(lxc_in(ns, lp, "start", &["-n", name]), "lxc-start");
    ok(lxc_in(ns, lp, "wait", &["-n", name, "-s", "RUNNING", "-t", "30"]), "lxc-wait RUNNING");
}

fn init_pid(ns: &NetNs, lp: &Lxcpath, name: &str) -> String {
    ok(lxc_in(ns, lp, "info", &["-n", name, "-p", "-H"]), "lxc-info -p").trim().to_string()
}

fn in_container_netns(pid: &str, args: &[&str]) -> Output {
    let mut full = vec!["-t", pid, "-n"];
    full.extend_from_slice(args);
    run("nsenter", &full)
}

fn ready(test: &str) -> bool {
    require_root(test) && require_tools(test) && require_program(test, "ping") && require_program(test, "nsenter")
}

fn veth_config(ip4: &str, ip6: &str) -> String {
    format!(
        "lxc.net =\nlxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.flags = up\nlxc.net.0.name = eth0\n\
         lxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\nlxc.net.0.ipv4.address = {ip4}/24\nlxc.net.0.ipv4.gateway = auto\n\
         lxc.net.0.ipv6.address = {ip6}/64\n"
    )
}

#[test]
fn two_containers_on_one_bridge_ping_and_show_ips() {
    let t = "two_containers_on_one_bridge";
    if !ready(t) {
        return;
    }
    let lp = Lxcpath::new("netbr");
    let host = HostState::capture(lp.as_str());
    let ns = NetNs::new("br");
    run_ok("ip", &["-n", &ns.name, "link", "add", "br0", "type", "bridge"]);
    run_ok("ip", &["-n", &ns.name, "addr", "add", "192.0.2.1/24", "dev", "br0"]);
    run_ok("ip", &["-n", &ns.name, "link", "set", "br0", "up"]);
    let before = links(&ns);
    busybox_container(&lp, "n1", &veth_config("192.0.2.11", "2001:db8::11"));
    let pair2 = format!("vp{}", std::process::id() % 1_000_000);
    busybox_container(
        &lp,
        "n2",
        &format!("{}lxc.net.0.veth.pair = {pair2}\n", veth_config("192.0.2.12", "2001:db8::12")),
    );
    {
        let _stop = StopAll { ns: &ns, lxcpath: &lp, names: vec!["n1".into(), "n2".into()] };
        start(&ns, &lp, "n1");
        start(&ns, &lp, "n2");
        let p1 = init_pid(&ns, &lp, "n1");
        // Test netns -> container, container -> container, container -> gateway.
        assert!(ns.exec(&["ping", "-c", "1", "-W", "5", "192.0.2.11"]).status.success(), "ns -> n1");
        assert!(in_container_netns(&p1, &["ping", "-c", "1", "-W", "5", "192.0.2.12"]).status.success(), "n1 -> n2");
        let link = String::from_utf8_lossy(&in_container_netns(&p1, &["ip", "-o", "link", "show", "eth0"]).stdout)
            .into_owned();
        assert!(link.contains("link/ether 00:16:3e:"), "{link}");
        let route =
            String::from_utf8_lossy(&in_container_netns(&p1, &["ip", "route", "show", "default"]).stdout).into_owned();
        assert!(route.contains("via 192.0.2.1 dev eth0"), "{route}");
        // lxc-info -i / -S and lxc-ls -f.
        let info = ok(lxc_in(&ns, &lp, "info", &["-n", "n1", "-i"]), "lxc-info -i");
        assert!(info.contains("192.0.2.11") && info.contains("2001:db8::11"), "{info}");
        // n2 names its host end (veth.pair); n1's is generated, which the monitor must report
        // back (network::record_runtime_names) for lxc-info -S to find it.
        // (`ip netns exec` here so that /sys/class/net shows the test netns, as LXC's lxc-info
        // reads the counters from sysfs.)
        let info = tool("lxc-info");
        let info = info.to_str().unwrap_or("/nonexistent");
        let stats = ok(ns.exec(&[info, "-P", lp.as_str(), "-n", "n2", "-S"]), "lxc-info -S");
        assert!(stats.contains(&format!("Link:           {pair2}")) && stats.contains("TX bytes:"), "{stats}");
        let stats = ok(ns.exec(&[info, "-P", lp.as_str(), "-n", "n1", "-S"]), "lxc-info -S");
        assert!(stats.contains("Link:           veth") && stats.contains("TX bytes:"), "generated veth.pair: {stats}");
        let ls = ok(lxc_in(&ns, &lp, "ls", &["-f"]), "lxc-ls -f");
        assert!(ls.contains("IPV4") && ls.contains("192.0.2.12") && ls.contains("2001:db8::12"), "{ls}");
        // Stop one: its host end disappears, the other keeps working.
        ok(lxc_in(&ns, &lp, "stop", &["-n", "n1", "-k"]), "lxc-stop");
        assert!(ns.exec(&["ping", "-c", "1", "-W", "5", "192.0.2.12"]).status.success(), "ns -> n2");
    }
    assert_eq!(links(&ns), before, "devices left in the test netns");
    drop(ns);
    drop(lp);
    host.assert_nothing_left("/tmp/rlxc-test-netbr");
}

#[test]
fn failed_start_removes_devices_made_so_far() {
    let t = "failed_start_removes_devices";
    if !ready(t) {
        return;
    }
    let lp = Lxcpath::new("netfail");
    let ns = NetNs::new("fail");
    run_ok("ip", &["-n", &ns.name, "link", "add", "br0", "type", "bridge"]);
    let before = links(&ns);
    let cfg = "lxc.net =\nlxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.1.type = macvlan\nlxc.net.1.link = nosuchdev0\n";
    busybox_container(&lp, "f1", cfg);
    let _stop = StopAll { ns: &ns, lxcpath: &lp, names: vec!["f1".into()] };
    let o = lxc_in(&ns, &lp, "start", &["-n", "f1", "-F"]);
    assert!(!o.status.success(), "start with a missing link must fail");
    assert_eq!(links(&ns), before, "failed start left devices");
}

#[test]
fn phys_device_returns_when_the_container_dies() {
    let t = "phys_returns";
    if !ready(t) {
        return;
    }
    let lp = Lxcpath::new("netphys");
    let ns = NetNs::new("phys");
    run_ok("ip", &["-n", &ns.name, "link", "add", "ph0", "mtu", "1450", "type", "veth", "peer", "name", "ph1"]);
    let before = links(&ns);
    let cfg = "lxc.net =\nlxc.net.0.type = phys\nlxc.net.0.link = ph0\nlxc.net.0.name = eth1\nlxc.net.0.mtu = 1300\nlxc.net.0.flags = up\n";
    busybox_container(&lp, "p1", cfg);
    let _stop = StopAll { ns: &ns, lxcpath: &lp, names: vec!["p1".into()] };
    start(&ns, &lp, "p1");
    assert!(!links(&ns).contains(&"ph0".to_string()), "ph0 still in the test netns");
    let pid = init_pid(&ns, &lp, "p1");
    let l =
        String::from_utf8_lossy(&in_container_netns(&pid, &["ip", "-o", "link", "show", "eth1"]).stdout).into_owned();
    assert!(l.contains("mtu 1300"), "{l}");
    // Kill init behind the monitor's back: the device must still come home.
    run_ok("kill", &["-9", &pid]);
    // Wait for the monitor to notice and clean up (bounded; the assertion below is what counts).
    for _ in 0..120 {
        let st = lxc_in(&ns, &lp, "info", &["-n", "p1", "-s"]);
        if !String::from_utf8_lossy(&st.stdout).contains("RUNNING") && links(&ns) == before {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert_eq!(links(&ns), before);
    let l = run_ok("ip", &["-n", &ns.name, "-o", "link", "show", "ph0"]);
    assert!(l.contains("mtu 1450"), "{l}");
}

#[test]
fn lxc_device_adds_and_removes_interfaces_and_nodes() {
    let t = "lxc_device";
    if !ready(t) {
        return;
    }
    let lp = Lxcpath::new("netdev");
    let ns = NetNs::new("dev");
    run_ok("ip", &["-n", &ns.name, "link", "add", "dv0", "type", "veth", "peer", "name", "dv1"]);
    busybox_container(&lp, "d1", "");
    let _stop = StopAll { ns: &ns, lxcpath: &lp, names: vec!["d1".into()] };
    start(&ns, &lp, "d1");
    let pid = init_pid(&ns, &lp, "d1");
    ok(lxc_in(&ns, &lp, "device", &["-n", "d1", "add", "dv0", "eth3"]), "lxc-device add dv0 eth3");
    assert!(!links(&ns).contains(&"dv0".to_string()));
    assert!(in_container_netns(&pid, &["ip", "link", "show", "eth3"]).status.success());
    ok(lxc_in(&ns, &lp, "device", &["-n", "d1", "del", "eth3", "dv0"]), "lxc-device del eth3 dv0");
    assert!(links(&ns).contains(&"dv0".to_string()));
    // Device nodes (lxc-test-device-add-remove).
    ok(lxc_in(&ns, &lp, "device", &["-n", "d1", "add", "/dev/zero", "/dev/rlxc-zero"]), "lxc-device add node");
    let node = format!("/proc/{pid}/root/dev/rlxc-zero");
    let st = run_ok("stat", &["-c", "%F %t:%T", &node]);
    assert_eq!(st.trim(), "character special file 1:5");
    ok(lxc_in(&ns, &lp, "device", &["-n", "d1", "del", "/dev/zero", "/dev/rlxc-zero"]), "lxc-device del node");
    assert!(!std::path::Path::new(&node).exists());
    // Same path inside as outside (what lxc-test-device-add-remove does).
    ok(lxc_in(&ns, &lp, "device", &["-n", "d1", "add", "/dev/full", "/dev/full"]), "lxc-device add /dev/full");
    let full = format!("/proc/{pid}/root/dev/full");
    assert_eq!(run_ok("stat", &["-c", "%F %t:%T", &full]).trim(), "character special file 1:7");
    ok(lxc_in(&ns, &lp, "device", &["-n", "d1", "del", "/dev/full", "/dev/full"]), "lxc-device del /dev/full");
    assert!(!std::path::Path::new(&full).exists());
    // Not running: clear error.
    let o = lxc_in(&ns, &lp, "device", &["-n", "nosuch", "add", "dv0"]);
    assert!(!o.status.success());
}

#[test]
fn type_none_shares_the_monitor_netns() {
    let t = "type_none";
    if !ready(t) {
        return;
    }
    let lp = Lxcpath::new("netnone");
    let ns = NetNs::new("none");
    busybox_container(&lp, "s1", "lxc.net =\nlxc.net.0.type = none\n");
    let _stop = StopAll { ns: &ns, lxcpath: &lp, names: vec!["s1".into()] };
    start(&ns, &lp, "s1");
    let pid = init_pid(&ns, &lp, "s1");
    let want = run_ok("stat", &["-L", "-c", "%i", &format!("/run/netns/{}", ns.name)]);
    let got = run_ok("stat", &["-L", "-c", "%i", &format!("/proc/{pid}/ns/net")]);
    assert_eq!(got, want);
}

#[test]
fn net_clearing_index_gaps_and_shared_netns() {
    let t = "net_clearing_index_gaps_and_shared_netns";
    if !ready(t) {
        return;
    }
    let lp = Lxcpath::new("netgap");
    let ns = NetNs::new("gap");
    run_ok("ip", &["-n", &ns.name, "link", "add", "br0", "type", "bridge"]);
    run_ok("ip", &["-n", &ns.name, "addr", "add", "192.0.2.1/24", "dev", "br0"]);
    run_ok("ip", &["-n", &ns.name, "link", "set", "br0", "up"]);
    let before = links(&ns);
    // `lxc.net =` drops what came before; index 3 alone is fine.
    let cfg = "lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net =\nlxc.net.3.type = veth\nlxc.net.3.link = br0\n\
               lxc.net.3.name = eth3\nlxc.net.3.flags = up\nlxc.net.3.ipv4.address = 192.0.2.33/24\n";
    busybox_container(&lp, "g1", cfg);
    busybox_container(&lp, "g2", "lxc.net =\nlxc.namespace.share.net = g1\n");
    {
        let _stop = StopAll { ns: &ns, lxcpath: &lp, names: vec!["g2".into(), "g1".into()] };
        start(&ns, &lp, "g1");
        let p1 = init_pid(&ns, &lp, "g1");
        let l = String::from_utf8_lossy(&in_container_netns(&p1, &["ip", "-o", "link", "show"]).stdout).into_owned();
        let names: Vec<&str> =
            l.lines().filter_map(|x| x.split(": ").nth(1)).map(|n| n.split('@').next().unwrap_or("")).collect();
        assert_eq!(names, vec!["lo", "eth3"], "{l}");
        assert!(ns.exec(&["ping", "-c", "1", "-W", "5", "192.0.2.33"]).status.success());
        // A second container joins the first one's network namespace.
        start(&ns, &lp, "g2");
        let p2 = init_pid(&ns, &lp, "g2");
        let n1 = run_ok("stat", &["-L", "-c", "%i", &format!("/proc/{p1}/ns/net")]);
        let n2 = run_ok("stat", &["-L", "-c", "%i", &format!("/proc/{p2}/ns/net")]);
        assert_eq!(n1, n2);
    }
    assert_eq!(links(&ns), before);
}
