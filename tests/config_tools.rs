//! The config tools as installed: `lxc-config`, `lxc-update-config`, `rlxc config ...`, compared
//! with Debian's LXC where it is installed.

use std::path::Path;

use rlxc_suite::{require_tools, run, run_ok, skip, tool};

fn text(o: &std::process::Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn lxc_config_lists_and_prints_items_like_lxc() {
    if !require_tools("lxc_config_lists_and_prints_items_like_lxc") {
        return;
    }
    let ours = run_ok(tool("lxc-config"), &["-l"]);
    assert_eq!(
        ours.lines().collect::<Vec<_>>(),
        [
            "lxc.default_config",
            "lxc.lxcpath",
            "lxc.bdev.lvm.vg",
            "lxc.bdev.lvm.thin_pool",
            "lxc.bdev.zfs.root",
            "lxc.cgroup.use",
            "lxc.cgroup.pattern"
        ]
    );
    let o = run(tool("lxc-config"), &["bogus"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(text(&o).0, "Unknown configuration item: bogus\n");
    assert!(run_ok(tool("lxc-config"), &[]).starts_with("Usage: lxc-config -l"));
    let debian = Path::new("/usr/bin/lxc-config");
    if !debian.exists() {
        skip("lxc_config_lists_and_prints_items_like_lxc", "Debian's lxc-config is not installed (package lxc)");
        return;
    }
    assert_eq!(ours, run_ok(debian, &["-l"]));
    for item in ours.lines() {
        let a = run(tool("lxc-config"), &[item]);
        let b = run(debian, &[item]);
        assert_eq!((text(&a), a.status.code()), (text(&b), b.status.code()), "lxc-config {item}");
    }
}

#[test]
fn rlxc_config_check_get_keys_show() {
    if !require_tools("rlxc_config_check_get_keys_show") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.conf");
    let bad = dir.path().join("bad.conf");
    std::fs::write(&good, "lxc.uts.name = c1\nlxc.cap.drop = sys_time mknod\nlxc.net.0.type = empty\n").expect("write");
    std::fs::write(&bad, "# x\nlxc.uts.name = c1\nlxc.tty.max = 1 # x\n").expect("write");
    let (g, b) = (good.to_string_lossy().into_owned(), bad.to_string_lossy().into_owned());

    let o = run(tool("rlxc"), &["config", "check", &g]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = run(tool("rlxc"), &["config", "check", &g, &b]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(text(&o).1, format!("{b}:3: lxc.tty.max: \"1 # x\" is not a number\n"));

    assert_eq!(run_ok(tool("rlxc"), &["config", "get", &g, "lxc.cap.drop"]), "sys_time\nmknod\n");
    assert_eq!(run_ok(tool("rlxc"), &["config", "get", &g, "lxc.uts.name"]), "c1\n");
    assert_eq!(run_ok(tool("rlxc"), &["config", "get", "-s", "lxc.uts.name=c2", &g, "lxc.uts.name"]), "c2\n");
    let o = run(tool("rlxc"), &["config", "get", &g, "lxc.uts.nam"]);
    assert_eq!(text(&o).1, "lxc.uts.nam: unknown key (did you mean lxc.uts.name?)\n");

    let keys = run_ok(tool("rlxc"), &["config", "keys"]);
    assert_eq!(keys.lines().count(), 98);
    assert!(keys.lines().any(|k| k == "lxc.autodev.tmpfs.size"));

    // -n NAME -P LXCPATH names LXCPATH/NAME/config.
    let ct = dir.path().join("c1");
    std::fs::create_dir(&ct).expect("mkdir");
    std::fs::copy(&good, ct.join("config")).expect("copy");
    let lp = dir.path().to_string_lossy().into_owned();
    assert_eq!(run_ok(tool("rlxc"), &["config", "get", "-n", "c1", "-P", &lp, "lxc.uts.name"]), "c1\n");
    run_ok(tool("rlxc"), &["config", "check", "-n", "c1", "-P", &lp]);

    let show = run_ok(tool("rlxc"), &["config", "show", &g, "--origin"]);
    assert_eq!(show.lines().next(), Some(format!("{g}:1\tlxc.uts.name = c1").as_str()));
    assert_eq!(run_ok(tool("rlxc"), &["config", "show", &g]).lines().count(), 3);
}

#[test]
fn lxc_update_config_rewrites_old_keys_in_place_with_backup() {
    if !require_tools("lxc_update_config_rewrites_old_keys_in_place_with_backup") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("config");
    let old = "lxc.utsname = c1\nlxc.rootfs = /var/lib/lxc/c1/rootfs\nlxc.network.type = veth\nlxc.network.link = lxcbr0\nlxc.network.ipv4 = 192.0.2.2/24\nlxc.tty = 4\nlxc.aa_profile = unconfined\n";
    std::fs::write(&f, old).expect("write");
    let p = f.to_string_lossy().into_owned();
    run_ok(tool("lxc-update-config"), &["-c", &p]);
    let new = std::fs::read_to_string(&f).expect("read");
    assert_eq!(
        new,
        "lxc.uts.name = c1\nlxc.rootfs.path = dir:/var/lib/lxc/c1/rootfs\nlxc.net.0.type = veth\nlxc.net.0.link = lxcbr0\nlxc.net.0.ipv4.address = 192.0.2.2/24\nlxc.tty.max = 4\nlxc.apparmor.profile = unconfined\n"
    );
    assert_eq!(std::fs::read_to_string(dir.path().join("config.backup")).expect("backup"), old);
    run_ok(tool("lxc-update-config"), &["--config", &p]);
    assert_eq!(std::fs::read_to_string(&f).expect("read"), new, "idempotent");
    run_ok(tool("rlxc"), &["config", "check", &p]);
    let o = run(tool("lxc-update-config"), &["-c", "/nonexistent/rlxc/config"]);
    assert_eq!(o.status.code(), Some(1));
}

/// `get_config_item` formats against Debian's liblxc through python3-lxc.
#[test]
fn get_matches_liblxc_for_a_rich_config() {
    let test = "get_matches_liblxc_for_a_rich_config";
    if !require_tools(test) {
        return;
    }
    let probe = run("/usr/bin/python3", &["-c", "import _lxc"]);
    if !probe.status.success() {
        skip(test, "python3-lxc is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("config");
    std::fs::write(
        &f,
        "lxc.rootfs.path = dir:/var/lib/lxc/c1/rootfs\nlxc.uts.name = c1\nlxc.arch = amd64\n\
         lxc.net.0.type = veth\nlxc.net.0.link = lxcbr0\nlxc.net.0.flags = up\nlxc.net.0.hwaddr = 00:16:3e:12:34:56\n\
         lxc.net.0.ipv4.address = 192.0.2.5/24 192.0.2.255\nlxc.net.0.ipv4.address = 192.0.2.140\n\
         lxc.net.0.ipv6.address = 2001:db8::5/48\nlxc.net.0.ipv4.gateway = 192.0.2.1\n\
         lxc.net.2.type = macvlan\nlxc.net.2.macvlan.mode = passthru\n\
         lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\nlxc.signal.halt = SIGRTMIN+3\n\
         lxc.prlimit.nofile = 1024:4096\nlxc.sysctl.net.ipv4.ip_forward = 1\nlxc.namespace.clone = uts ipc net\n\
         lxc.group = onboot web\nlxc.console.size = 1MB\nlxc.console.buffer.size = auto\nlxc.log.level = debug\n\
         lxc.mount.auto = proc:rw sys:ro cgroup-full:mixed\nlxc.mount.entry = tmpfs tmp tmpfs size=10M,create=dir 0 0\n\
         lxc.hook.pre-start = /bin/true a\nlxc.hook.pre-start = /bin/true b\nlxc.cap.drop = sys_time mknod\n",
    )
    .expect("write");
    let p = f.to_string_lossy().into_owned();
    let keys = [
        "lxc.rootfs.path",
        "lxc.uts.name",
        "lxc.arch",
        "lxc.net",
        "lxc.net.0.type",
        "lxc.net.0.flags",
        "lxc.net.0.hwaddr",
        "lxc.net.0.ipv4.address",
        "lxc.net.0.ipv6.address",
        "lxc.net.0.ipv4.gateway",
        "lxc.net.2.macvlan.mode",
        "lxc.idmap",
        "lxc.signal.halt",
        "lxc.prlimit",
        "lxc.prlimit.nofile",
        "lxc.sysctl",
        "lxc.namespace.clone",
        "lxc.group",
        "lxc.console.size",
        "lxc.console.buffer.size",
        "lxc.log.level",
        "lxc.mount.auto",
        "lxc.mount.entry",
        "lxc.hook.pre-start",
        "lxc.cap.drop",
        "lxc.autodev",
        "lxc.tty.max",
    ];
    let script = format!(
        "import _lxc, sys\nc = _lxc.Container('rlxc-cmp', '{}')\nassert c.load_config('{p}')\n\
         for k in sys.argv[1:]:\n    sys.stdout.write(repr(_lxc.Container.get_config_item(c, k)) + '\\n')\n",
        dir.path().display()
    );
    let mut args = vec!["-c", script.as_str()];
    args.extend(keys);
    let theirs = run_ok("/usr/bin/python3", &args);
    for (k, t) in keys.iter().zip(theirs.lines()) {
        let ours = run_ok(tool("rlxc"), &["config", "get", &p, k]);
        // `rlxc config get` ends its output with a newline; liblxc's single values have none.
        let t = t.trim_matches('\'').replace("\\n", "\n");
        assert!(ours == t || ours == format!("{t}\n"), "{k}: liblxc {t:?}, rlxc {ours:?}");
    }
}
