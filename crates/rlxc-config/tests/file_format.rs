//! File syntax, includes, error messages and golden save round trips.

use std::path::{Path, PathBuf};

use rlxc_config::{ConfigError, ContainerConfig};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).expect("readable")
}

fn err(text: &str) -> String {
    ContainerConfig::parse_str(text, "config").expect_err("must fail").to_string()
}

#[test]
fn unchanged_config_saves_byte_for_byte() {
    for name in ["user.conf", "crlf.conf"] {
        let p = golden(name);
        let c = ContainerConfig::load(&p).expect("loads");
        assert_eq!(c.to_config_string(), read(&p), "{name}");
    }
    let c = ContainerConfig::parse_str("lxc.tty.max = 1", "x").expect("loads");
    assert_eq!(c.to_config_string(), "lxc.tty.max = 1", "no newline added to a last line without one");
}

#[test]
fn save_changes_only_the_changed_keys() {
    let mut c = ContainerConfig::load(golden("user.conf")).expect("loads");
    c.set_item("lxc.uts.name", "c2").expect("set");
    c.set_item("lxc.net.0.link", "lxcbr1").expect("set");
    c.clear_item("lxc.pty.max").expect("clear");
    c.set_item("lxc.cap.drop", "sys_time").expect("set list");
    c.set_item("lxc.start.auto", "1").expect("set new");
    assert_eq!(c.to_config_string(), read(&golden("user.set.conf")));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("config");
    c.save(&out).expect("save");
    let r = ContainerConfig::load(&out).expect("reload");
    assert_eq!(r.uts_name.as_deref(), Some("c2"));
    assert_eq!(r.cap_drop, ["sys_module", "mac_admin", "mac_override", "sys_time"]);
    assert_eq!(r.pty_max, 0);
    assert_eq!(r.get_item("lxc.environment").expect("get"), "TERM=xterm # not a comment\n");
}

#[test]
fn clear_of_unknown_key_is_an_error_and_changes_nothing() {
    let mut c = ContainerConfig::load(golden("user.conf")).expect("loads");
    let before = c.clone();
    let e = c.clear_item("lxc.tty.maxx").expect_err("unknown");
    assert_eq!(e.to_string(), "lxc.tty.maxx: unknown key (did you mean lxc.tty.max?)");
    assert_eq!(c, before);
}

#[test]
fn hwaddr_placeholders_are_randomised_and_persisted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("config");
    std::fs::write(&p, "lxc.net.0.type = veth\nlxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n").expect("write");
    let c = ContainerConfig::load(&p).expect("loads");
    let mac = c.net[&0].hwaddr.clone().expect("mac");
    assert!(mac.starts_with("00:16:3e:") && !mac.contains('x'), "{mac}");
    assert_eq!(c.to_config_string(), format!("lxc.net.0.type = veth\nlxc.net.0.hwaddr = {mac}\n"));
    c.save(&p).expect("save");
    assert_eq!(ContainerConfig::load(&p).expect("reload").net[&0].hwaddr.as_deref(), Some(mac.as_str()));
    let mut c = ContainerConfig::default();
    c.set_item("lxc.net.0.type", "veth").expect("set");
    c.set_item("lxc.net.0.hwaddr", "xx:xx:xx:xx:xx:xx").expect("set");
    let mac = c.get_item("lxc.net.0.hwaddr").expect("get");
    assert!(c.to_config_string().contains(&mac));
    assert_eq!(u8::from_str_radix(&mac[..2], 16).expect("hex") & 1, 0, "unicast");
}

#[test]
fn syntax_rules() {
    let c = ContainerConfig::parse_str(
        "  lxc.uts.name = 'quoted'\n#lxc.tty.max = x\nfoo.bar = baz\n\nlxc.init.cmd = \"/sbin/init 'a'\"\r\nlxc.tty.max =\t7 \t\n",
        "x",
    )
    .expect("valid");
    assert_eq!(c.uts_name.as_deref(), Some("quoted"));
    assert_eq!(c.init.cmd.as_deref(), Some("/sbin/init 'a'"));
    assert_eq!(c.tty.max, 7);
    let c = ContainerConfig::parse_str("lxc.cap.drop = a_cap_that_is\nlxc.cap.drop =\n", "x");
    assert!(c.is_err(), "bad cap");
    let c = ContainerConfig::parse_str("lxc.cap.drop = mknod\nlxc.cap.drop =\n", "x").expect("valid");
    assert!(c.cap_drop.is_empty(), "empty value clears a list");
    let c = ContainerConfig::parse_str("lxc.tty.max = 3\nlxc.tty.max =\n", "x").expect("valid");
    assert_eq!(c.tty.max, 0, "empty value resets a scalar");
}

#[test]
fn errors_name_file_line_key_and_problem() {
    let text = format!("{}lxc.tty.max = 1 # x\n", "# comment\n".repeat(11));
    assert_eq!(err(&text), "config:12: lxc.tty.max: \"1 # x\" is not a number");
    assert_eq!(err("lxc.tty.maxx = 1\n"), "config:1: lxc.tty.maxx: unknown key (did you mean lxc.tty.max?)");
    assert_eq!(err("\nlxc.utsname = x\n"), "config:2: lxc.utsname: unknown key (did you mean lxc.uts.name?)");
    assert_eq!(err("lxc.tty.max\n"), "config:1: invalid line \"lxc.tty.max\": expected \"key = value\"");
    assert_eq!(
        err("lxc.net.0.type = veth\nlxc.net.0.ipv4.adress = 1.2.3.4\n"),
        "config:2: lxc.net.0.ipv4.adress: unknown key (did you mean lxc.net.0.ipv4.address?)"
    );
    assert_eq!(
        err("lxc.net.1.link = br0\n"),
        "config:1: lxc.net.1.type: the NIC has settings but no type (set lxc.net.N.type)"
    );
    assert_eq!(
        err("lxc.net.0.type = veth\nlxc.net.0.vlan.id = 3\n"),
        "config:2: lxc.net.0.vlan.id: is only for vlan NICs, this one is veth"
    );
    let e = ContainerConfig::load("/nonexistent/rlxc/config").expect_err("missing");
    assert!(matches!(e, ConfigError::Io { .. }));
    assert!(e.to_string().starts_with("/nonexistent/rlxc/config: "), "{e}");
}

#[test]
fn net_indices_may_have_gaps_and_any_order() {
    let c = ContainerConfig::parse_str(
        "lxc.net.2.link = br0\nlxc.net.1.type = empty\nlxc.net.2.macvlan.mode = bridge\nlxc.net.2.type = macvlan\n",
        "x",
    )
    .expect("valid");
    assert_eq!(c.net.keys().copied().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(c.get_item("lxc.net.2.macvlan.mode").expect("get"), "bridge");
    assert_eq!(c.net_keys(2).expect("nic").last(), Some(&"macvlan.mode"));
}

#[test]
fn includes_of_files_and_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let confd = d.join("conf.d");
    std::fs::create_dir(&confd).expect("mkdir");
    std::fs::write(confd.join("20-b.conf"), "lxc.cap.drop = mknod\n").expect("write");
    std::fs::write(confd.join("10-a.conf"), "lxc.cap.drop = sys_time\n").expect("write");
    std::fs::write(confd.join("30-c.txt"), "lxc.bogus = 1\n").expect("write");
    let common = d.join("common.conf");
    std::fs::write(&common, format!("lxc.tty.max = 2\nlxc.include = {}\n", confd.display())).expect("write");
    let top = d.join("config");
    let text =
        format!("lxc.include = {}\nlxc.include = {}/missing-dir/\nlxc.uts.name = t\n", common.display(), d.display());
    std::fs::write(&top, &text).expect("write");
    let c = ContainerConfig::load(&top).expect("loads");
    assert_eq!(c.tty.max, 2);
    assert_eq!(c.cap_drop, ["sys_time", "mknod"], "directory entries in sorted order, *.conf only");
    assert_eq!(c.to_config_string(), text, "included lines are not copied into the saved config");
    let o = c.origins().iter().find(|o| o.key == "lxc.tty.max").expect("origin");
    assert_eq!((o.file.as_deref(), o.line), (Some(common.as_path()), 1));

    // Clearing a value an include sets must survive save + load.
    let mut c2 = c.clone();
    c2.set_item("lxc.tty.max", "").expect("clear");
    c2.save(&top).expect("save");
    assert_eq!(ContainerConfig::load(&top).expect("reload").tty.max, 0);

    // A missing file is an error naming the including line; cycles are errors.
    std::fs::write(&top, "lxc.include = /nonexistent/rlxc.conf\n").expect("write");
    let e = ContainerConfig::load(&top).expect_err("missing include");
    assert!(e.to_string().starts_with(&format!("{}:1: /nonexistent/rlxc.conf:", top.display())), "{e}");
    std::fs::write(&top, format!("lxc.include = {}\n", top.display())).expect("write");
    assert!(matches!(ContainerConfig::load(&top), Err(ConfigError::IncludeCycle { .. })));
    std::fs::write(&common, format!("lxc.include = {}\n", top.display())).expect("write");
    std::fs::write(&top, format!("lxc.include = {}\n", common.display())).expect("write");
    assert!(matches!(ContainerConfig::load(&top), Err(ConfigError::IncludeCycle { .. })));
}

#[test]
fn defines() {
    let mut c = ContainerConfig::default();
    c.apply_define("lxc.uts.name = 'x y'").expect("define");
    assert_eq!(c.uts_name.as_deref(), Some("x y"));
    assert!(matches!(c.apply_define("lxc.uts.name"), Err(ConfigError::BadDefine(_))));
    assert!(matches!(c.apply_define("=1"), Err(ConfigError::BadDefine(_))));
    assert!(matches!(c.apply_define("lxc.nope=1"), Err(ConfigError::UnknownKey { at: None, .. })));
}

#[test]
fn values_that_need_quotes_survive_save() {
    for v in ["'a'", "\"a\"", " a", "a ", "'", "\"x'"] {
        let mut c = ContainerConfig::default();
        c.set_item("lxc.uts.name", v).expect("set");
        let r = ContainerConfig::parse_str(&c.to_config_string(), "x").expect("reload");
        assert_eq!(r.uts_name.as_deref(), Some(v), "{v:?} in {:?}", c.to_config_string());
    }
    let mut c = ContainerConfig::default();
    assert!(c.set_item("lxc.cgroup.a\nlxc.tty.max", "1").is_err());
}

#[test]
fn idmap_helpers_and_fstab() {
    let c = ContainerConfig::parse_str(
        "lxc.idmap = u 0 100000 1000\nlxc.idmap = u 1000 1000 1\nlxc.idmap = g 0 100000 65536\n",
        "x",
    )
    .expect("valid");
    assert_eq!(c.root_idmap(rlxc_config::IdType::Uid).map(|m| m.hostid), Some(100000));
    assert_eq!(c.host_id(rlxc_config::IdType::Uid, 5), Some(100005));
    assert_eq!(c.host_id(rlxc_config::IdType::Uid, 1000), Some(1000));
    assert_eq!(c.host_id(rlxc_config::IdType::Uid, 1001), None);
    assert_eq!(ContainerConfig::default().host_id(rlxc_config::IdType::Gid, 7), Some(7));
    let dir = tempfile::tempdir().expect("tempdir");
    let fstab = dir.path().join("fstab");
    std::fs::write(&fstab, "# c\nproc proc proc nodev 0 0\n\n").expect("write");
    let c = ContainerConfig::parse_str(
        &format!("lxc.mount.fstab = {}\nlxc.mount.entry = /a b none bind 0 0\n", fstab.display()),
        "x",
    )
    .expect("valid");
    let all = c.all_mount_entries().expect("fstab readable");
    assert_eq!(all.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(), ["proc", "b"]);
    assert!(ContainerConfig::parse_str("lxc.cgroup.dir.container = x\n", "x").is_err());
}

#[test]
fn default_config_for_new_containers() {
    use rlxc_config::system::{Identity, SystemConfig, SystemPaths};
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = SystemPaths { sysconf_lxc: dir.path().to_path_buf(), lxcpath: dir.path().join("lib") };
    let sys = SystemConfig::load(&Identity::Root, &paths).expect("no lxc.conf is fine");
    assert_eq!(ContainerConfig::load_default(&sys).expect("missing default.conf"), ContainerConfig::default());
    std::fs::write(dir.path().join("default.conf"), "lxc.net.0.type = veth\nlxc.net.0.link = lxcbr0\n").expect("write");
    let c = ContainerConfig::load_default(&sys).expect("loads");
    assert_eq!(c.to_config_string(), "lxc.net.0.type = veth\nlxc.net.0.link = lxcbr0\n");
    std::fs::write(dir.path().join("lxc.conf"), "lxc.default_config = /nonexistent/rlxc.conf\n").expect("write");
    let sys = SystemConfig::load(&Identity::Root, &paths).expect("reads lxc.conf");
    assert_eq!(sys.default_config, "/nonexistent/rlxc.conf");
    assert!(ContainerConfig::load_default(&sys).expect("missing").net.is_empty());
}
