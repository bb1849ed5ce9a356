//! rlxc-net against real kernels, with plain processes as "containers".
//!
//! Every test makes its own network namespace (`ip netns add`) and switches its thread into it,
//! so the "host" side of every device lives there; the "container" is an `unshare --net sleep`
//! child. Addresses only from 192.0.2.0/24, 198.51.100.0/24 and 2001:db8::/32. Each test removes
//! its namespace and kills its children (by PID) also on failure.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};

use rlxc_net::spec::{parse_ipv4, parse_ipv6, Gateway, NicSpec, NicType, VethMode};
use rlxc_net::{container_ips, create_host_side, NetContext, NetError};

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn skip(test: &str, why: &str) {
    eprintln!("\n*** SKIPPED: {test}: {why} ***\n");
    assert!(std::env::var("CI").map(|v| v != "true" && v != "1").unwrap_or(true), "{test}: {why} (CI)");
}

fn sh(args: &[&str]) -> std::process::Output {
    Command::new(args[0]).args(&args[1..]).stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn sh_ok(args: &[&str]) -> String {
    let o = sh(args);
    assert!(
        o.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A test network namespace, deleted on drop.
struct TestNs {
    name: String,
}

impl TestNs {
    fn new(tag: &str) -> TestNs {
        let name = format!("rlxcn-{tag}-{}", std::process::id());
        let _ = sh(&["ip", "netns", "delete", &name]);
        sh_ok(&["ip", "netns", "add", &name]);
        sh_ok(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        TestNs { name }
    }

    fn ip(&self, args: &str) -> String {
        let mut v = vec!["ip", "-n", &self.name];
        v.extend(args.split_whitespace());
        sh_ok(&v)
    }

    fn exec(&self, args: &[&str]) -> std::process::Output {
        let mut v = vec!["ip", "netns", "exec", &self.name];
        v.extend_from_slice(args);
        sh(&v)
    }

    fn exec_ok(&self, args: &[&str]) -> String {
        let mut v = vec!["ip", "netns", "exec", &self.name];
        v.extend_from_slice(args);
        sh_ok(&v)
    }

    /// Run `f` with this thread in the namespace.
    fn within<T>(&self, f: impl FnOnce() -> T) -> T {
        let ns = rlxc_sys::netlink::open_netns(&format!("/run/netns/{}", self.name))
            .unwrap_or_else(|e| panic!("open netns {}: {e}", self.name));
        rlxc_sys::netlink::with_netns(ns.as_fd(), f).unwrap_or_else(|e| panic!("setns: {e}"))
    }

    fn links(&self) -> Vec<String> {
        self.ip("-o link show")
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap_or("").to_string())
            .collect()
    }
}

impl Drop for TestNs {
    fn drop(&mut self) {
        let _ = sh(&["ip", "netns", "delete", &self.name]);
    }
}

/// A process in a new network namespace; killed (by PID) and reaped on drop.
struct Contained {
    child: Child,
}

impl Contained {
    fn new() -> Contained {
        let child = Command::new("unshare")
            .args(["--net", "sleep", "600"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("unshare: {e}"));
        let c = Contained { child };
        // Wait until unshare has exec'd sleep in the new namespace.
        let own = std::fs::read_link("/proc/self/ns/net").ok();
        for _ in 0..500 {
            let comm = std::fs::read_to_string(format!("/proc/{}/comm", c.pid())).unwrap_or_default();
            let ns = std::fs::read_link(format!("/proc/{}/ns/net", c.pid())).ok();
            if comm.trim() == "sleep" && ns != own {
                return c;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("unshare --net sleep did not start");
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn ip(&self, args: &str) -> String {
        let pid = self.pid().to_string();
        let mut v = vec!["nsenter", "-t", &pid, "-n", "ip"];
        v.extend(args.split_whitespace());
        sh_ok(&v)
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let pid = self.pid().to_string();
        let mut v = vec!["nsenter", "-t", &pid, "-n"];
        v.extend_from_slice(args);
        sh(&v)
    }

    fn kill(&mut self) {
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_raw(self.pid()).unwrap_or(rustix::process::Pid::INIT),
            rustix::process::Signal::KILL,
        );
        let _ = self.child.wait();
    }
}

impl Drop for Contained {
    fn drop(&mut self) {
        self.kill();
    }
}

fn ctx() -> NetContext {
    NetContext { name: "ct0".into(), hook_version: 0 }
}

fn veth(index: usize, link: Option<&str>) -> NicSpec {
    NicSpec { index, ty: NicType::Veth, link: link.map(str::to_string), up: true, ..NicSpec::default() }
}

fn ping(ns: &TestNs, addr: &str) -> bool {
    ns.exec(&["ping", "-c", "1", "-W", "5", addr]).status.success()
}

#[test]
fn veth_on_bridge_with_addresses_gateway_and_teardown() {
    let t = "veth_on_bridge";
    if !is_root() {
        return skip(t, "needs root");
    }
    let ns = TestNs::new("vb");
    ns.ip("link add br0 type bridge");
    ns.ip("link set br0 mtu 1400 up");
    ns.ip("addr add 192.0.2.1/24 dev br0");
    ns.ip("addr add 2001:db8::1/64 dev br0 nodad");
    let before = ns.links();
    let mut ct = Contained::new();
    let mut nic = veth(0, Some("br0"));
    nic.name = Some("eth0".into());
    nic.hwaddr = Some("00:16:3e:xx:xx:xx".into());
    nic.ipv4 = vec![parse_ipv4(0, "192.0.2.2/24").unwrap_or_else(|e| panic!("{e}"))];
    nic.ipv4_gateway = Some(Gateway::Auto);
    nic.ipv6 = vec![parse_ipv6(0, "2001:db8::2/64").unwrap_or_else(|e| panic!("{e}"))];
    nic.ipv6_gateway = Some(Gateway::Auto);
    let mut g = ns.within(|| create_host_side(ctx(), &[nic], ct.pid())).unwrap_or_else(|e| panic!("create: {e}"));
    let rt = g.runtime_nics();
    let host = rt[0].host_name.clone().unwrap_or_default();
    assert!(host.starts_with("veth") && host.len() == 10, "host name {host}");
    assert_eq!(rt[0].name.as_deref(), Some("eth0"));
    // Host end: on the bridge, up, inherits the bridge's MTU, 0xfe MAC.
    let hl = ns.ip(&format!("-o link show {host}"));
    assert!(hl.contains("master br0") && hl.contains("mtu 1400") && hl.contains(",UP"), "{hl}");
    assert!(ns.ip(&format!("-o link show {host}")).contains("link/ether fe:"), "{hl}");
    // Container end.
    let cl = ct.ip("-o link show eth0");
    assert!(cl.contains("mtu 1400") && cl.contains("link/ether 00:16:3e:"), "{cl}");
    let ca = ct.ip("-o addr show eth0");
    assert!(ca.contains("inet 192.0.2.2/24 brd 192.0.2.255") && ca.contains("inet6 2001:db8::2/64"), "{ca}");
    assert!(ct.ip("link show lo").contains("UP"));
    let r = ct.ip("route show default");
    assert!(r.contains("default via 192.0.2.1 dev eth0"), "{r}");
    let r = ct.ip("-6 route show default");
    assert!(r.contains("default via 2001:db8::1 dev eth0"), "{r}");
    assert!(ping(&ns, "192.0.2.2"), "ping 192.0.2.2 from the test netns");
    let ips = ns.within(|| container_ips(ct.pid(), None, None)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ips,
        vec![
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
            IpAddr::V6("2001:db8::2".parse::<Ipv6Addr>().unwrap_or(Ipv6Addr::UNSPECIFIED))
        ]
    );
    g.teardown().unwrap_or_else(|e| panic!("teardown: {e}"));
    assert_eq!(ns.links(), before, "host side left behind");
    ct.kill();
}

#[test]
fn veth_router_mode_pair_name_and_routes() {
    let t = "veth_router";
    if !is_root() {
        return skip(t, "needs root");
    }
    let ns = TestNs::new("vr");
    ns.ip("addr add 192.0.2.1/32 dev lo");
    let before = ns.links();
    let ct = Contained::new();
    let mut nic = veth(0, None);
    nic.veth_mode = VethMode::Router;
    nic.veth_pair = Some(format!("rv{}", std::process::id() % 100000));
    nic.ipv4 = vec![parse_ipv4(0, "198.51.100.10/24").unwrap_or_else(|e| panic!("{e}"))];
    // A gateway outside the container's subnet, as router mode is used: reached through a
    // device route, answered by the host (proxy entry on the host end).
    nic.ipv4_gateway = Some(Gateway::Addr(Ipv4Addr::new(192, 0, 2, 1)));
    nic.veth_ipv4_routes = vec![(Ipv4Addr::new(198, 51, 100, 128), 25)];
    nic.veth_ipv6_routes = vec![("2001:db8:1::".parse().unwrap_or(Ipv6Addr::UNSPECIFIED), 48)];
    let pair = nic.veth_pair.clone().unwrap_or_default();
    let g = ns.within(|| create_host_side(ctx(), &[nic], ct.pid())).unwrap_or_else(|e| panic!("create: {e}"));
    let routes = ns.ip("route show");
    assert!(routes.contains(&format!("198.51.100.10 dev {pair}")), "{routes}");
    assert!(routes.contains(&format!("198.51.100.128/25 dev {pair}")), "{routes}");
    let routes6 = ns.ip("-6 route show");
    assert!(routes6.contains(&format!("2001:db8:1::/48 dev {pair}")), "{routes6}");
    let pa = ns.exec(&["cat", &format!("/proc/sys/net/ipv4/conf/{pair}/forwarding")]);
    assert_eq!(String::from_utf8_lossy(&pa.stdout).trim(), "1");
    let p = ns.ip("neigh show proxy");
    assert!(p.contains(&format!("192.0.2.1 dev {pair}")), "{p}");
    let r = ct.ip("route show");
    assert!(r.contains("default via 192.0.2.1 dev eth0") && r.contains("192.0.2.1 dev eth0"), "{r}");
    assert!(ping(&ns, "198.51.100.10"), "ping through router-mode veth");
    drop(g);
    assert_eq!(ns.links(), before);
}

#[test]
fn macvlan_and_failed_start_cleanup() {
    let t = "macvlan";
    if !is_root() {
        return skip(t, "needs root");
    }
    let ns = TestNs::new("mv");
    ns.ip("link add up0 type veth peer name up1");
    ns.ip("link set up0 up");
    let before = ns.links();
    let ct = Contained::new();
    let mut a = veth(0, None);
    a.name = Some("eth0".into());
    let mut b = NicSpec { index: 1, ty: NicType::Macvlan, link: Some("up0".into()), up: true, ..NicSpec::default() };
    b.macvlan_mode = rlxc_net::spec::macvlan_mode::BRIDGE;
    b.mtu = Some(1280);
    b.name = Some("mv0".into());
    let g = ns.within(|| create_host_side(ctx(), &[a.clone(), b.clone()], ct.pid())).unwrap_or_else(|e| panic!("{e}"));
    let l = ct.ip("-d -o link show mv0");
    assert!(l.contains("macvlan mode bridge") && l.contains("mtu 1280"), "{l}");
    drop(g);
    assert_eq!(ns.links(), before);
    // A start that fails at the third device removes the first two.
    let c = NicSpec { index: 2, ty: NicType::Macvlan, link: Some("nosuchdev0".into()), ..NicSpec::default() };
    let err = ns.within(|| create_host_side(ctx(), &[a, b, c], ct.pid())).err();
    // Named with the key to fix: `lxc.net.2.link: network device "nosuchdev0" does not exist`.
    assert!(
        matches!(err, Some(NetError::Config { index: 2, ref key, ref msg }) if key == "link" && msg.contains("\"nosuchdev0\" does not exist")),
        "{err:?}"
    );
    assert_eq!(ns.links(), before, "failed start left host devices");
    let inside = ct.ip("-o link show");
    assert!(!inside.contains("eth0") && !inside.contains("mv0"), "{inside}");
    // A "container" that shares our netns gets nothing (and nothing of ours is touched): a
    // plain child spawned from within the test netns.
    let mut inner = ns.within(|| Command::new("sleep").arg("600").stdin(Stdio::null()).spawn());
    let err = ns.within(|| match &inner {
        Ok(c) => create_host_side(ctx(), &[veth(0, None)], c.id() as i32).err(),
        Err(_) => None,
    });
    if let Ok(c) = inner.as_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
    assert!(matches!(err, Some(NetError::Other(_))), "{err:?}");
    assert_eq!(ns.links(), before);
    // A gateway on a device that is not brought up is refused (as LXC does), and cleaned up.
    let mut down = veth(0, None);
    down.up = false;
    down.ipv4_gateway = Some(Gateway::Dev);
    let err = ns.within(|| create_host_side(ctx(), &[down], ct.pid())).err();
    assert!(matches!(err, Some(NetError::Config { ref key, .. }) if key == "ipv4.gateway"), "{err:?}");
    assert_eq!(ns.links(), before);
    assert!(!ct.ip("-o link show").contains("eth0"));
}

#[test]
fn phys_moves_in_and_returns_with_name_and_mtu_even_after_death() {
    let t = "phys";
    if !is_root() {
        return skip(t, "needs root");
    }
    let ns = TestNs::new("ph");
    ns.ip("link add ph0 type veth peer name ph1");
    ns.ip("link set ph0 mtu 1450");
    let before = ns.links();
    let mut ct = Contained::new();
    let nic = NicSpec {
        index: 0,
        ty: NicType::Phys,
        link: Some("ph0".into()),
        name: Some("eth7".into()),
        mtu: Some(1300),
        up: true,
        ipv4: vec![parse_ipv4(0, "192.0.2.77/24").unwrap_or_else(|e| panic!("{e}"))],
        ..NicSpec::default()
    };
    let mut g = ns.within(|| create_host_side(ctx(), &[nic], ct.pid())).unwrap_or_else(|e| panic!("{e}"));
    assert!(!ns.links().contains(&"ph0".to_string()));
    let l = ct.ip("-o link show eth7");
    assert!(l.contains("mtu 1300"), "{l}");
    // The container dies before stop: the device still comes back.
    ct.kill();
    ns.within(|| g.teardown()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ns.links(), before);
    let l = ns.ip("-o link show ph0");
    assert!(l.contains("mtu 1450"), "{l}");
}

#[test]
fn scripts_get_lxc_arguments_and_environment() {
    let t = "scripts";
    if !is_root() {
        return skip(t, "needs root");
    }
    let ns = TestNs::new("sc");
    ns.ip("link add br1 type bridge");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let log = dir.path().join("log");
    let script = dir.path().join("s.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$* T=$LXC_HOOK_TYPE S=$LXC_HOOK_SECTION N=$LXC_NET_TYPE P=$LXC_NET_PARENT E=$LXC_NET_PEER\" >> {}\n",
            log.display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    sh_ok(&["chmod", "+x", script.to_str().unwrap_or("")]);
    let ct = Contained::new();
    let mut nic = veth(0, Some("br1"));
    nic.script_up = Some(script.display().to_string());
    nic.script_down = Some(script.display().to_string());
    let mut empty = NicSpec { index: 1, ty: NicType::Empty, ..NicSpec::default() };
    empty.script_up = Some(script.display().to_string());
    // Hook version 0: positional NAME net up|down TYPE LINK [VETH], no net variables.
    let g = ns
        .within(|| create_host_side(ctx(), &[nic.clone(), empty.clone()], ct.pid()))
        .unwrap_or_else(|e| panic!("{e}"));
    let host = g.runtime_nics()[0].host_name.clone().unwrap_or_default();
    drop(g);
    let got = std::fs::read_to_string(&log).unwrap_or_default();
    let want = format!(
        "ct0 net up veth br1 {host} T= S= N= P= E=\nct0 net up empty T= S= N= P= E=\nct0 net down veth br1 {host} T= S= N= P= E=\n"
    );
    assert_eq!(got, want);
    // Hook version 1: TYPE LINK [VETH] plus the LXC_HOOK_* / LXC_NET_* variables.
    let _ = std::fs::remove_file(&log);
    let v1 = NetContext { name: "ct0".into(), hook_version: 1 };
    let g = ns.within(|| create_host_side(v1, &[nic, empty], ct.pid())).unwrap_or_else(|e| panic!("{e}"));
    let host = g.runtime_nics()[0].host_name.clone().unwrap_or_default();
    drop(g);
    let got = std::fs::read_to_string(&log).unwrap_or_default();
    let want = format!(
        "veth br1 {host} T=up S=net N=veth P=br1 E={host}\nempty T=up S=net N=empty P= E=\nveth br1 {host} T=down S=net N=veth P=br1 E={host}\n"
    );
    assert_eq!(got, want);
    // A failing script.up aborts and cleans up.
    let before = ns.links();
    let mut bad = veth(0, Some("br1"));
    bad.script_up = Some("/bin/false".into());
    let err = ns.within(|| create_host_side(ctx(), &[bad], ct.pid())).err();
    assert!(matches!(err, Some(NetError::Script { .. })), "{err:?}");
    assert_eq!(ns.links(), before);
}

#[test]
fn l2proxy_and_empty() {
    let t = "l2proxy";
    if !is_root() {
        return skip(t, "needs root");
    }
    let ns = TestNs::new("l2");
    ns.ip("link add up0 type veth peer name up1");
    ns.ip("link set up0 up");
    let ct = Contained::new();
    let nic = NicSpec {
        index: 0,
        ty: NicType::Macvlan,
        link: Some("up0".into()),
        l2proxy: true,
        ipv4: vec![parse_ipv4(0, "192.0.2.50/24").unwrap_or_else(|e| panic!("{e}"))],
        ..NicSpec::default()
    };
    // LXC refuses l2proxy without forwarding on the link.
    let err = ns.within(|| create_host_side(ctx(), std::slice::from_ref(&nic), ct.pid())).err();
    assert!(matches!(err, Some(NetError::Config { ref key, .. }) if key == "l2proxy"), "{err:?}");
    ns.exec(&["sysctl", "-qw", "net.ipv4.conf.up0.forwarding=1"]);
    let mut g = ns.within(|| create_host_side(ctx(), &[nic], ct.pid())).unwrap_or_else(|e| panic!("{e}"));
    let p = ns.ip("neigh show proxy");
    assert!(p.contains("192.0.2.50 dev up0"), "{p}");
    g.teardown().unwrap_or_else(|e| panic!("teardown: {e}"));
    assert!(!ns.ip("neigh show proxy").contains("192.0.2.50"));
    // empty: nothing but an up loopback.
    let ct2 = Contained::new();
    let g = ns
        .within(|| create_host_side(ctx(), &[NicSpec { ty: NicType::Empty, ..NicSpec::default() }], ct2.pid()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(ct2.ip("link show lo").contains("UP"));
    assert!(ct2.run(&["ping", "-c", "1", "-W", "2", "127.0.0.1"]).status.success());
    drop(g);
}

/// ipvlan and vlan: only where the kernel has them (the VM, see tests/vm/net.sh).
#[test]
#[ignore = "needs ipvlan and vlan (absent from this host's kernel): tests/vm/net.sh runs it in the VM"]
fn ipvlan_and_vlan() {
    let t = "ipvlan_vlan";
    if !is_root() {
        return skip(t, "needs root");
    }
    let ns = TestNs::new("iv");
    ns.ip("link add up0 type veth peer name up1");
    ns.ip("link set up0 up");
    let probe = ns.exec(&["ip", "link", "add", "probe0", "link", "up0", "type", "ipvlan"]);
    let probe2 = ns.exec(&["ip", "link", "add", "probe1", "link", "up0", "type", "vlan", "id", "5"]);
    if !probe.status.success() || !probe2.status.success() {
        return skip(t, "kernel lacks ipvlan or vlan (run tests/vm/net.sh)");
    }
    ns.ip("link del probe0");
    ns.ip("link del probe1");
    let ct = Contained::new();
    let iv = NicSpec {
        index: 0,
        ty: NicType::Ipvlan,
        link: Some("up0".into()),
        name: Some("iv0".into()),
        ipvlan_mode: 0,
        ipvlan_isolation: 1,
        up: true,
        ipv4: vec![parse_ipv4(0, "192.0.2.60/24").unwrap_or_else(|e| panic!("{e}"))],
        ..NicSpec::default()
    };
    let vl = NicSpec {
        index: 1,
        ty: NicType::Vlan,
        link: Some("up0".into()),
        name: Some("vl0".into()),
        vlan_id: 42,
        up: true,
        ..NicSpec::default()
    };
    // l2proxy with ipvlan: only l3s, plus a route to lo per address on the host. (The ipvlan
    // mode belongs to the parent device, hence another parent.)
    ns.ip("link add up2 type veth peer name up3");
    ns.ip("link set up2 up");
    let before = ns.links();
    ns.exec(&["sysctl", "-qw", "net.ipv4.conf.up2.forwarding=1"]);
    let l3s = NicSpec {
        index: 2,
        ty: NicType::Ipvlan,
        link: Some("up2".into()),
        name: Some("iv1".into()),
        ipvlan_mode: 2,
        l2proxy: true,
        ipv4: vec![parse_ipv4(2, "192.0.2.61/24").unwrap_or_else(|e| panic!("{e}"))],
        ..NicSpec::default()
    };
    let bad = NicSpec { ipvlan_mode: 1, ..l3s.clone() };
    let err = ns.within(|| create_host_side(ctx(), &[bad], ct.pid())).err();
    assert!(matches!(err, Some(NetError::Config { ref key, .. }) if key == "l2proxy"), "{err:?}");
    let g = ns.within(|| create_host_side(ctx(), &[iv, vl, l3s], ct.pid())).unwrap_or_else(|e| panic!("{e}"));
    let l = ct.ip("-d -o link show iv0");
    assert!(l.contains("ipvlan") && l.contains("mode l2") && l.contains("private"), "{l}");
    let l = ct.ip("-d -o link show iv1");
    assert!(l.contains("mode l3s"), "{l}");
    let l = ct.ip("-d -o link show vl0");
    assert!(l.contains("vlan protocol 802.1Q id 42"), "{l}");
    assert!(ns.ip("route show").contains("192.0.2.61 dev lo"));
    assert!(ns.ip("neigh show proxy").contains("192.0.2.61 dev up2"));
    drop(g);
    assert_eq!(ns.links(), before);
    assert!(!ns.ip("route show").contains("192.0.2.61"));
    assert!(!ns.ip("neigh show proxy").contains("192.0.2.61"));
}

/// Wireless phys: the wiphy moves through nl80211 and comes back (mac80211_hwsim, in the VM).
#[test]
#[ignore = "needs mac80211_hwsim: tests/vm/net.sh runs it in the VM"]
fn wireless_phys_moves_wiphy_and_returns() {
    let t = "wireless_phys";
    if !is_root() {
        return skip(t, "needs root");
    }
    // Find a hwsim interface in our namespace; its phy moves into the test netns first.
    let wlan = std::fs::read_dir("/sys/class/net")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|n| std::path::Path::new(&format!("/sys/class/net/{n}/phy80211/name")).exists())
        })
        .ok()
        .flatten();
    let Some(wlan) = wlan else {
        return skip(t, "no wireless device (load mac80211_hwsim; run tests/vm/net.sh)");
    };
    let phy = std::fs::read_to_string(format!("/sys/class/net/{wlan}/phy80211/name")).unwrap_or_default();
    let ns = TestNs::new("wl");
    sh_ok(&["iw", "phy", phy.trim(), "set", "netns", "name", &ns.name]);
    assert!(ns.links().contains(&wlan), "{wlan} not in the test netns");
    let before = ns.links();
    let ct = Contained::new();
    let nic = NicSpec {
        index: 0,
        ty: NicType::Phys,
        link: Some(wlan.clone()),
        name: Some("wl7".into()),
        ..NicSpec::default()
    };
    let mut g = ns.within(|| create_host_side(ctx(), &[nic], ct.pid())).unwrap_or_else(|e| panic!("{e}"));
    assert!(!ns.links().contains(&wlan));
    assert!(ct.ip("-o link show").contains("wl7"));
    g.teardown().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ns.links(), before);
    // Deleting the test netns hands the wiphy back to the initial namespace.
}

/// A phys link ending in `+` takes every matching host interface, and gives each back.
#[test]
fn phys_plus_pattern_moves_every_match() {
    let t = "phys_plus";
    if !is_root() {
        return skip(t, "needs root");
    }
    let ns = TestNs::new("pp");
    ns.ip("link add px0 type veth peer name qx0");
    ns.ip("link add px1 type veth peer name qx1");
    let before = ns.links();
    let ct = Contained::new();
    let nic = NicSpec { index: 0, ty: NicType::Phys, link: Some("px+".into()), ..NicSpec::default() };
    let mut g = ns.within(|| create_host_side(ctx(), &[nic], ct.pid())).unwrap_or_else(|e| panic!("{e}"));
    let inside = ct.ip("-o link show");
    assert!(inside.contains("px0") && inside.contains("px1"), "{inside}");
    assert!(!ns.links().iter().any(|l| l.starts_with("px")));
    g.teardown().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ns.links(), before);
}

/// A private Open vSwitch (ovsdb-server + ovs-vswitchd) running in a test network namespace,
/// with its database, sockets and logs in its own directory; both daemons are killed by PID on
/// drop. `ovs-vsctl` (ours and rlxc's) reaches it through `OVS_RUNDIR`.
struct PrivateOvs {
    dir: std::path::PathBuf,
}

impl PrivateOvs {
    fn start(ns: &TestNs) -> PrivateOvs {
        let dir = std::env::temp_dir().join(format!("rlxc-ovs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        let ovs = PrivateOvs { dir };
        let d = |f: &str| ovs.dir.join(f).to_string_lossy().into_owned();
        sh_ok(&["ovsdb-tool", "create", &d("conf.db"), "/usr/share/openvswitch/vswitch.ovsschema"]);
        let remote = format!("--remote=punix:{}", d("db.sock"));
        let db = format!("unix:{}", d("db.sock"));
        let common = |ctl: &str, pid: &str, log: &str| {
            vec![
                format!("--unixctl={}", d(ctl)),
                format!("--pidfile={}", d(pid)),
                format!("--log-file={}", d(log)),
                "--detach".to_string(),
                "--no-chdir".to_string(),
            ]
        };
        let mut a: Vec<String> = vec![d("conf.db"), remote];
        a.extend(common("ovsdb.ctl", "ovsdb.pid", "ovsdb.log"));
        let mut v = vec!["ovsdb-server"];
        v.extend(a.iter().map(String::as_str));
        ns.exec_ok(&v);
        sh_ok(&["ovs-vsctl", &format!("--db={db}"), "--no-wait", "init"]);
        let mut a: Vec<String> = vec![db];
        a.extend(common("vswitchd.ctl", "vswitchd.pid", "vswitchd.log"));
        let mut v = vec!["ovs-vswitchd"];
        v.extend(a.iter().map(String::as_str));
        ns.exec_ok(&v);
        // rlxc runs `ovs-vsctl` without arguments naming the database: OVS_RUNDIR points it here.
        std::env::set_var("OVS_RUNDIR", &ovs.dir);
        ovs
    }

    fn vsctl(&self, args: &[&str]) -> String {
        let mut v = vec!["ovs-vsctl"];
        v.extend_from_slice(args);
        sh_ok(&v)
    }
}

impl Drop for PrivateOvs {
    fn drop(&mut self) {
        for pidfile in ["vswitchd.pid", "ovsdb.pid"] {
            let pid = std::fs::read_to_string(self.dir.join(pidfile)).unwrap_or_default();
            if let Some(p) = pid.trim().parse::<i32>().ok().and_then(rustix::process::Pid::from_raw) {
                let _ = rustix::process::kill_process(p, rustix::process::Signal::TERM);
                for _ in 0..200 {
                    if rustix::process::test_kill_process(p).is_err() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            }
        }
        std::env::remove_var("OVS_RUNDIR");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// veth on an Open vSwitch bridge: the host end becomes a port of the bridge (`ovs-vsctl
/// add-port`, enslaved to the kernel datapath) and teardown removes the port again. OVS runs
/// privately inside the test's network namespace (tests/vm/ovs.sh runs this in the VM, which has
/// the openvswitch module and package; this host's kernel has no openvswitch module). Traffic is
/// not checked: in the emulated VM ovs-vswitchd starts no upcall handler threads ("Overriding
/// n-handler-threads to 0"), so its datapath forwards nothing, with rlxc or without.
#[test]
#[ignore = "needs Open vSwitch and its kernel module: tests/vm/ovs.sh runs it in the VM"]
fn veth_on_an_openvswitch_bridge() {
    let t = "veth_on_ovs";
    if !is_root() {
        return skip(t, "needs root");
    }
    let have =
        |p: &str| ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].iter().any(|d| std::path::Path::new(d).join(p).is_file());
    if !["ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovsdb-tool"].iter().all(|p| have(p)) {
        return skip(t, "Open vSwitch is not installed (run tests/vm/ovs.sh)");
    }
    if !std::path::Path::new("/sys/module/openvswitch").exists()
        && !Command::new("modprobe").arg("openvswitch").status().map(|s| s.success()).unwrap_or(false)
    {
        return skip(t, "no openvswitch kernel module (run tests/vm/ovs.sh)");
    }
    let ns = TestNs::new("ovs");
    let ovs = PrivateOvs::start(&ns);
    ovs.vsctl(&["add-br", "rovs0"]);
    ns.ip("link set rovs0 up");
    ns.ip("addr add 192.0.2.1/24 dev rovs0");
    let before_ports = ovs.vsctl(&["list-ports", "rovs0"]);
    assert_eq!(before_ports.trim(), "", "a fresh bridge has no ports");
    let before = ns.links();
    let mut ct = Contained::new();
    let mut nic = veth(0, Some("rovs0"));
    nic.name = Some("eth0".into());
    nic.ipv4 = vec![parse_ipv4(0, "192.0.2.2/24").unwrap_or_else(|e| panic!("{e}"))];
    let mut g = ns.within(|| create_host_side(ctx(), &[nic], ct.pid())).unwrap_or_else(|e| panic!("create: {e}"));
    let host = g.runtime_nics()[0].host_name.clone().unwrap_or_default();
    let ports = ovs.vsctl(&["list-ports", "rovs0"]);
    assert_eq!(ports.trim(), host, "the host end is the bridge's port");
    assert!(ns.ip(&format!("-o link show {host}")).contains("master ovs-system"), "enslaved to the OVS datapath");
    assert!(ct.ip("-o addr show eth0").contains("inet 192.0.2.2/24"));
    g.teardown().unwrap_or_else(|e| panic!("teardown: {e}"));
    assert_eq!(ovs.vsctl(&["list-ports", "rovs0"]).trim(), "", "teardown removes the port");
    assert_eq!(ns.links(), before, "host side left behind");
    ct.kill();
    ovs.vsctl(&["del-br", "rovs0"]);
}
