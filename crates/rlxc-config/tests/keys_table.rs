//! Table test over every key: set, get (in LXC's `get_config_item` format, checked against
//! Debian's liblxc through python3-lxc where the formats were unclear), clear, and a round trip
//! through `save` and a fresh load.

use rlxc_config::keys::{resolve, KeyShape, Resolved, KEYS};
use rlxc_config::{ConfigError, ContainerConfig};

/// (setup items, key, value, expected get output)
type Row = (&'static [(&'static str, &'static str)], &'static str, &'static str, &'static str);

const VETH: &[(&str, &str)] = &[("lxc.net.0.type", "veth")];
const MACVLAN: &[(&str, &str)] = &[("lxc.net.0.type", "macvlan")];
const IPVLAN: &[(&str, &str)] = &[("lxc.net.0.type", "ipvlan")];
const VLAN: &[(&str, &str)] = &[("lxc.net.0.type", "vlan")];
const NONE: &[(&str, &str)] = &[];

const ROWS: &[Row] = &[
    (NONE, "lxc.arch", "x86_64", "x86_64"),
    (NONE, "lxc.arch", "amd64", "x86_64"),
    (NONE, "lxc.arch", "i686", "i686"),
    (NONE, "lxc.apparmor.profile", "unconfined", "unconfined"),
    (NONE, "lxc.apparmor.allow_incomplete", "1", "1"),
    (NONE, "lxc.apparmor.allow_nesting", "1", "1"),
    (NONE, "lxc.apparmor.raw", "mount,", "mount,\n"),
    (NONE, "lxc.autodev.tmpfs.size", "1000", "1000"),
    (NONE, "lxc.autodev.tmpfs.size", "abc", "500000"),
    (NONE, "lxc.autodev", "0", "0"),
    (NONE, "lxc.cap.drop", "sys_admin  mknod", "sys_admin\nmknod\n"),
    (NONE, "lxc.cap.keep", "sys_admin", "sys_admin\n"),
    (NONE, "lxc.cgroup2.memory.max", "1G", "1G\n"),
    (NONE, "lxc.cgroup2.devices.allow", "c 1:3 rwm", "c 1:3 rwm\n"),
    (NONE, "lxc.cgroup.dir", "a/b", "a/b"),
    (NONE, "lxc.cgroup.relative", "1", "1"),
    (NONE, "lxc.cgroup.memory.limit_in_bytes", "1G", "1G\n"),
    (NONE, "lxc.console.buffer.size", "5000", "8192"),
    (NONE, "lxc.console.buffer.size", "1 MB", "1048576"),
    (NONE, "lxc.console.logfile", "/tmp/console.log", "/tmp/console.log"),
    (NONE, "lxc.console.path", "none", "none"),
    (NONE, "lxc.console.rotate", "1", "1"),
    (NONE, "lxc.console.size", "auto", "131072"),
    (NONE, "lxc.environment", "A=1", "A=1\n"),
    (NONE, "lxc.ephemeral", "1", "1"),
    (NONE, "lxc.execute.cmd", "/bin/sh -c true", "/bin/sh -c true"),
    (NONE, "lxc.group", "a b", "a\nb\n"),
    (NONE, "lxc.hook.autodev", "/bin/h", "/bin/h\n"),
    (NONE, "lxc.hook.clone", "/bin/h", "/bin/h\n"),
    (NONE, "lxc.hook.destroy", "/bin/h", "/bin/h\n"),
    (NONE, "lxc.hook.mount", "/bin/h", "/bin/h\n"),
    (NONE, "lxc.hook.post-stop", "/bin/h", "/bin/h\n"),
    (NONE, "lxc.hook.pre-mount", "/bin/h", "/bin/h\n"),
    (NONE, "lxc.hook.pre-start", "/bin/h a b", "/bin/h a b\n"),
    (NONE, "lxc.hook.start", "/bin/h", "/bin/h\n"),
    (NONE, "lxc.hook.start-host", "/bin/h", "/bin/h\n"),
    (NONE, "lxc.hook.stop", "/bin/h", "/bin/h\n"),
    (NONE, "lxc.hook.version", "1", "1"),
    (NONE, "lxc.idmap", "u 0 100000 65536", "u 0 100000 65536"),
    (NONE, "lxc.init.cmd", "/sbin/init  -v", "/sbin/init  -v"),
    (NONE, "lxc.init.gid", "5", "5"),
    (NONE, "lxc.init.uid", "0x10", "16"),
    (NONE, "lxc.init.cwd", "/root", "/root"),
    (NONE, "lxc.keyring.session", "1", "1"),
    (NONE, "lxc.log.file", "/tmp/c.log", "/tmp/c.log"),
    (NONE, "lxc.log.level", "info", "INFO"),
    (NONE, "lxc.log.level", "3", "NOTICE"),
    (NONE, "lxc.log.syslog", "local3", "local3"),
    (NONE, "lxc.monitor.unshare", "1", "1"),
    (NONE, "lxc.monitor.signal.pdeath", "SIGTERM", "15"),
    (NONE, "lxc.mount.auto", "proc:rw sys", "proc:rw sys:mixed"),
    (NONE, "lxc.mount.auto", "cgroup-full:ro", "cgroup-full:ro"),
    (NONE, "lxc.mount.entry", "/a b none bind,create=dir 0 0", "/a b none bind,create=dir 0 0\n"),
    (NONE, "lxc.mount.fstab", "/x/fstab", "/x/fstab"),
    (NONE, "lxc.namespace.clone", "net pid", "pid\nnet\n"),
    (NONE, "lxc.namespace.keep", "user net", "user\nnet\n"),
    (NONE, "lxc.namespace.share.net", "123", "123"),
    (VETH, "lxc.net.0.flags", "up", "up"),
    (VETH, "lxc.net.0.hwaddr", "00:16:3e:00:00:01", "00:16:3e:00:00:01"),
    (VETH, "lxc.net.0.ipv4.address", "192.0.2.5/24", "192.0.2.5/24"),
    (VETH, "lxc.net.0.ipv4.address", "192.0.2.200", "192.0.2.200/24"),
    (VETH, "lxc.net.0.ipv4.address", "192.0.2.6", "192.0.2.6/8"),
    (VETH, "lxc.net.0.ipv4.gateway", "auto", "auto"),
    (VETH, "lxc.net.0.ipv4.gateway", "192.0.2.1", "192.0.2.1"),
    (VETH, "lxc.net.0.ipv6.address", "2001:db8::1", "2001:db8::1/64"),
    (VETH, "lxc.net.0.ipv6.gateway", "dev", "dev"),
    (VETH, "lxc.net.0.link", "br0", "br0"),
    (VETH, "lxc.net.0.l2proxy", "1", "1"),
    (MACVLAN, "lxc.net.0.macvlan.mode", "vepa", "vepa"),
    (IPVLAN, "lxc.net.0.ipvlan.mode", "l2", "l2"),
    (IPVLAN, "lxc.net.0.ipvlan.isolation", "vepa", "vepa"),
    (VETH, "lxc.net.0.mtu", "1400", "1400"),
    (VETH, "lxc.net.0.name", "eth0", "eth0"),
    (VETH, "lxc.net.0.script.down", "/bin/down", "/bin/down"),
    (VETH, "lxc.net.0.script.up", "/bin/up", "/bin/up"),
    (NONE, "lxc.net.0.type", "veth", "veth"),
    (NONE, "lxc.net.3.type", "empty", "empty"),
    (VLAN, "lxc.net.0.vlan.id", "10", "10"),
    (VETH, "lxc.net.0.veth.mode", "router", "router"),
    (VETH, "lxc.net.0.veth.pair", "vethtest0", "vethtest0"),
    (VETH, "lxc.net.0.veth.ipv4.route", "198.51.100.0/24", "198.51.100.0/24"),
    (VETH, "lxc.net.0.veth.ipv6.route", "2001:db8::/64", "2001:db8::/64"),
    (NONE, "lxc.no_new_privs", "1", "1"),
    (NONE, "lxc.prlimit.nofile", "10:20", "10:20"),
    (NONE, "lxc.prlimit.core", "unlimited", "unlimited"),
    (NONE, "lxc.pty.max", "1024", "1024"),
    (NONE, "lxc.rootfs.managed", "0", "0"),
    (NONE, "lxc.rootfs.mount", "/mnt", "/mnt"),
    (NONE, "lxc.rootfs.options", "idmap=container", "idmap=container"),
    (NONE, "lxc.rootfs.path", "dir:/x", "/x"),
    (NONE, "lxc.rootfs.path", "/var/lib/lxc/c/rootfs", "/var/lib/lxc/c/rootfs"),
    (NONE, "lxc.seccomp.allow_nesting", "1", "1"),
    (NONE, "lxc.seccomp.notify.cookie", "ck", "ck"),
    (NONE, "lxc.seccomp.notify.proxy", "unix:@x", "x"),
    (NONE, "lxc.seccomp.notify.proxy", "unix:/run/p", "/run/p"),
    (NONE, "lxc.seccomp.profile", "/x.seccomp", "/x.seccomp"),
    (NONE, "lxc.selinux.context.keyring", "k", "k"),
    (NONE, "lxc.selinux.context", "c", "c"),
    (NONE, "lxc.signal.halt", "SIGRTMIN+3", "37"),
    (NONE, "lxc.signal.reboot", "SIGINT", "2"),
    (NONE, "lxc.signal.stop", "9", "9"),
    (NONE, "lxc.start.auto", "1", "1"),
    (NONE, "lxc.start.delay", "5", "5"),
    (NONE, "lxc.start.order", "-5", "-5"),
    (NONE, "lxc.tty.dir", "lxc", "lxc"),
    (NONE, "lxc.tty.max", "4", "4"),
    (NONE, "lxc.uts.name", "h", "h"),
    (NONE, "lxc.sysctl.net.ipv4.ip_forward", "1", "1"),
    (NONE, "lxc.proc.oom_score_adj", "10", "10"),
];

fn fresh(setup: &[(&str, &str)]) -> ContainerConfig {
    let mut c = ContainerConfig::default();
    for (k, v) in setup {
        c.set_item(k, v).unwrap_or_else(|e| panic!("setup {k}: {e}"));
    }
    c
}

fn reload(c: &ContainerConfig) -> ContainerConfig {
    let text = c.to_config_string();
    ContainerConfig::parse_str(&text, "saved").unwrap_or_else(|e| panic!("reload of\n{text}\nfailed: {e}"))
}

#[test]
fn every_key_set_get_clear_round_trip() {
    for (setup, key, value, want) in ROWS {
        let mut c = fresh(setup);
        // Reading a field of a NIC that doesn't exist fails (as in LXC): count it as empty.
        let before = c.get_item(key).unwrap_or_default();
        c.set_item(key, value).unwrap_or_else(|e| panic!("set {key} = {value}: {e}"));
        assert_eq!(c.get_item(key).expect("get"), *want, "get {key} after set {value:?}");
        // Through save and a fresh load: the same value, once.
        let r = reload(&c);
        assert_eq!(r.get_item(key).expect("get"), *want, "{key} after save+load");
        // Setting it again and saving gives one value for scalars, two entries for lists.
        c.set_item(key, value).expect("set again");
        let again = reload(&c);
        assert_eq!(again.get_item(key).expect("get"), c.get_item(key).expect("get"), "{key} set twice");
        if !resolve(key).expect("known").accumulates() {
            assert_eq!(c.get_item(key).expect("get"), *want, "{key}: scalar set twice is one value");
        }
        // Clear: back to the value before, also after save+load.
        c.clear_item(key).unwrap_or_else(|e| panic!("clear {key}: {e}"));
        assert_eq!(c.get_item(key).unwrap_or_default(), before, "{key} after clear");
        assert_eq!(reload(&c).get_item(key).unwrap_or_default(), before, "{key} after clear+save+load");
        // An empty value clears too.
        let mut e = fresh(setup);
        e.set_item(key, value).expect("set");
        e.set_item(key, "").expect("set empty");
        assert_eq!(e.get_item(key).unwrap_or_default(), before, "{key} after empty value");
    }
}

#[test]
fn every_table_entry_is_covered_by_the_rows() {
    for def in KEYS {
        let covered = ROWS.iter().any(|(_, k, _, _)| match resolve(k) {
            Some(Resolved::Key(d)) | Some(Resolved::Sub(d, _)) | Some(Resolved::Net(_, d)) => d.name == def.name,
            _ => false,
        });
        let special =
            matches!(def.shape, KeyShape::NetIndexed | KeyShape::NetAll | KeyShape::HookAll | KeyShape::Include);
        assert!(covered || special, "{} has no row", def.name);
    }
}

#[test]
fn families_read_as_key_value_lines() {
    let mut c = ContainerConfig::default();
    for (k, v) in [
        ("lxc.cgroup.a.b", "1"),
        ("lxc.cgroup.c.d", "2"),
        ("lxc.cgroup.a.b", "3"),
        ("lxc.cgroup2.memory.max", "1G"),
        ("lxc.sysctl.a", "1"),
        ("lxc.sysctl.b", "2"),
        ("lxc.sysctl.a", "3"),
        ("lxc.proc.oom_score_adj", "10"),
        ("lxc.prlimit.nofile", ":5"),
        ("lxc.prlimit.core", "unlimited"),
    ] {
        c.set_item(k, v).expect("set");
    }
    assert_eq!(c.get_item("lxc.cgroup").expect("get"), "lxc.cgroup.a.b = 1\nlxc.cgroup.c.d = 2\nlxc.cgroup.a.b = 3\n");
    assert_eq!(c.get_item("lxc.cgroup.a.b").expect("get"), "1\n3\n");
    assert_eq!(c.get_item("lxc.cgroup2").expect("get"), "lxc.cgroup2.memory.max = 1G\n");
    assert_eq!(c.get_item("lxc.sysctl").expect("get"), "lxc.sysctl.a = 3\nlxc.sysctl.b = 2\n");
    assert_eq!(c.get_item("lxc.proc").expect("get"), "lxc.proc.oom_score_adj = 10\n");
    assert_eq!(c.get_item("lxc.prlimit").expect("get"), "lxc.prlimit.nofile = 0:5\nlxc.prlimit.core = unlimited\n");
    c.set_item("lxc.cgroup.a.b", "").expect("clear one sub-key");
    assert_eq!(c.get_item("lxc.cgroup").expect("get"), "lxc.cgroup.c.d = 2\n");
    c.clear_item("lxc.sysctl").expect("clear family");
    assert_eq!(c.get_item("lxc.sysctl").expect("get"), "");
    assert_eq!(reload(&c).get_item("lxc.cgroup").expect("get"), "lxc.cgroup.c.d = 2\n");
}

#[test]
fn defaults_read_as_lxc_prints_them() {
    let c = ContainerConfig::default();
    for (k, want) in [
        ("lxc.autodev", "1"),
        ("lxc.autodev.tmpfs.size", "0"),
        ("lxc.tty.max", "0"),
        ("lxc.pty.max", "0"),
        ("lxc.signal.halt", "0"),
        ("lxc.monitor.signal.pdeath", "9"),
        ("lxc.rootfs.managed", "1"),
        ("lxc.log.level", "NOTSET"),
        ("lxc.hook.version", "0"),
        ("lxc.keyring.session", "0"),
        ("lxc.cgroup.dir", ""),
        ("lxc.mount.auto", ""),
        ("lxc.net", ""),
        ("lxc.cap.drop", ""),
        ("lxc.idmap", ""),
    ] {
        assert_eq!(c.get_item(k).expect("get"), want, "{k}");
    }
}

#[test]
fn special_keys() {
    let mut c = ContainerConfig::default();
    for k in ["lxc.include", "lxc.hook", "lxc.net.0", "lxc.namespace.share"] {
        assert!(matches!(c.get_item(k), Err(ConfigError::NotReadable { .. }) | Err(ConfigError::Value { .. })), "{k}");
    }
    assert!(c.set_item("lxc.hook", "x").is_err());
    c.set_item("lxc.hook.start", "/a").expect("set");
    c.set_item("lxc.hook.stop", "/b").expect("set");
    c.set_item("lxc.hook.version", "1").expect("set");
    c.set_item("lxc.hook", "").expect("empty clears every hook");
    assert!(c.hooks.is_empty());
    assert_eq!(c.hook_version, 1);
    assert!(c.set_item("lxc.net", "x").is_err());
    assert!(c.set_item("lxc.net.0", "x").is_err());
    c.set_item("lxc.net.0.type", "veth").expect("set");
    c.set_item("lxc.net.1.type", "macvlan").expect("set");
    assert_eq!(c.get_item("lxc.net").expect("get"), "veth\nmacvlan\n");
    c.set_item("lxc.net.0", "").expect("remove NIC 0");
    assert_eq!(c.get_item("lxc.net").expect("get"), "macvlan\n");
    c.clear_item("lxc.net").expect("clear all NICs");
    assert!(c.net.is_empty());
    assert!(c.set_item("lxc.net.type", "veth").is_err(), "internal names need an index");
    assert!(c.get_item("lxc.net.0.macvlan.mode").is_err(), "no NIC");
    c.set_item("lxc.net.0.type", "veth").expect("set");
    assert!(c.get_item("lxc.net.0.macvlan.mode").is_err(), "type-specific key on another type");
    // cap.keep = none is kept as LXC 4.0 keeps it (drop everything).
    c.set_item("lxc.cap.keep", "sys_admin").expect("set");
    c.set_item("lxc.cap.keep", "none").expect("set");
    assert_eq!(c.get_item("lxc.cap.keep").expect("get"), "none\n");
}

#[test]
fn bad_values_are_rejected_and_change_nothing() {
    let bad: &[(&str, &str)] = &[
        ("lxc.tty.max", "1 # x"),
        ("lxc.tty.max", "-1"),
        ("lxc.ephemeral", "2"),
        ("lxc.ephemeral", "true"),
        ("lxc.signal.stop", "TERM"),
        ("lxc.signal.stop", "SIGRTMIN"),
        ("lxc.log.level", "9"),
        ("lxc.log.level", "bogus"),
        ("lxc.log.syslog", "bogus"),
        ("lxc.hook.version", "2"),
        ("lxc.start.delay", "-1"),
        ("lxc.namespace.clone", "bogus"),
        ("lxc.namespace.share.bogus", "1"),
        ("lxc.idmap", "u 0 1000"),
        ("lxc.idmap", "u 0 1 2 junk"),
        ("lxc.seccomp.notify.proxy", "tcp:x"),
        ("lxc.mount.auto", "bogus"),
        ("lxc.mount.entry", "a"),
        ("lxc.arch", "bogus"),
        ("lxc.uts.name", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("lxc.prlimit.nofile", "a"),
        ("lxc.prlimit.bogus", "1"),
        ("lxc.cap.drop", "sys_admn"),
        ("lxc.cap.drop", "none"),
        ("lxc.cgroup2", "x"),
        ("lxc.cgroup.devices.allow", "x 1:3 r"),
        ("lxc.console.buffer.size", "1TB"),
        ("lxc.environment", "RLXC_SURELY_UNSET_VARIABLE"),
        ("lxc.net.0.type", "bogus"),
        ("lxc.net.0.ipv4.address", "192.0.2.5/33"),
        ("lxc.net.0.ipv4.address", "300.1.1.1"),
        ("lxc.net.0.ipv4.gateway", "bogus"),
        ("lxc.net.0.vlan.id", "70000"),
        ("lxc.net.0.veth.ipv4.route", "198.51.100.1"),
        ("lxc.net.0.hwaddr", "zz"),
        ("lxc.net.0.flags", "down"),
        ("lxc.net.0.mtu", "abc"),
        ("lxc.net.0.name", "a-name-longer-than-15"),
        ("lxc.tty.max", "1\n2"),
    ];
    for (k, v) in bad {
        let mut c = ContainerConfig::default();
        let before = c.clone();
        let e = c.set_item(k, v).expect_err(&format!("{k} = {v:?} must fail"));
        assert_eq!(e.key(), Some(*k), "{e}");
        assert_eq!(c, before, "{k}: failed set changed the config");
    }
}
