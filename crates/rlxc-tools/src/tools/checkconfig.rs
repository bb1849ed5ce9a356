//! `lxc-checkconfig`: report the kernel features containers need, in the layout of LXC's
//! script: namespaces, cgroups (with the v1 and v2 mount points of this host), network device
//! types, netfilter, checkpoint/restore, plus a security section (seccomp, AppArmor,
//! SELinux) that LXC's script lacks.
//!
//! The kernel config comes from `$CONFIG` (default `/proc/config.gz`), else
//! `/lib/modules/$(uname -r)/build/.config` or `/boot/config-$(uname -r)`, gzip or plain. Where
//! LXC's script gives up without a config, this one probes the running kernel (`/proc/self/ns`,
//! `/proc/cgroups`, `/proc/filesystems`, `/sys/module`, ...) and says so; what probing cannot
//! tell is reported as `unknown`.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the answers come from.
pub enum Source {
    /// `NAME=y|m` lines of a kernel config.
    Config(BTreeMap<String, String>),
    /// Nothing to read: ask the running kernel.
    Probe,
}

/// A feature's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    Yes,
    No,
    Unknown,
}

/// Parse a kernel config's text into its set options.
pub fn parse_config(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| l.starts_with("CONFIG_") || l.starts_with("DEVPTS_"))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `(major, minor)` from the `# Linux/x86 6.18.44 Kernel Configuration` line.
pub fn config_version(text: &str) -> Option<(u32, u32)> {
    let l = text.lines().find(|l| l.starts_with("# Linux") && l.contains("Kernel Configuration"))?;
    version_of(l.split_whitespace().nth(2)?)
}

fn version_of(release: &str) -> Option<(u32, u32)> {
    let mut it = release.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// Read a config file, gzip-compressed (as `/proc/config.gz`) or not.
fn read_config(path: &Path) -> Option<String> {
    let mut head = [0u8; 2];
    let mut f = std::fs::File::open(path).ok()?;
    let n = f.read(&mut head).ok()?;
    if n == 2 && head == [0x1f, 0x8b] {
        let out = Command::new("gzip").arg("-dc").arg(path).output().ok()?;
        return out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned());
    }
    std::fs::read_to_string(path).ok()
}

fn exists(p: &str) -> bool {
    Path::new(p).exists()
}

fn proc_cgroups_has(ctrl: &str) -> bool {
    std::fs::read_to_string("/proc/cgroups")
        .map(|t| t.lines().any(|l| l.split_whitespace().next() == Some(ctrl)))
        .unwrap_or(false)
        || cgroup2_controllers().iter().any(|c| c == ctrl)
}

fn cgroup2_controllers() -> Vec<String> {
    mounts_of("cgroup2")
        .iter()
        .filter_map(|m| std::fs::read_to_string(Path::new(m).join("cgroup.controllers")).ok())
        .flat_map(|t| t.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

fn module_present(name: &str) -> bool {
    Path::new("/sys/module").join(name).exists()
}

fn filesystem(name: &str) -> bool {
    std::fs::read_to_string("/proc/filesystems")
        .map(|t| t.lines().any(|l| l.split_whitespace().last() == Some(name)))
        .unwrap_or(false)
}

/// What probing the running kernel says about a config option.
fn probe(opt: &str) -> Found {
    let yes = |b: bool| if b { Found::Yes } else { Found::No };
    let maybe = |b: bool| if b { Found::Yes } else { Found::Unknown };
    match opt {
        "CONFIG_NAMESPACES" => yes(exists("/proc/self/ns")),
        "CONFIG_UTS_NS" => yes(exists("/proc/self/ns/uts")),
        "CONFIG_IPC_NS" => yes(exists("/proc/self/ns/ipc")),
        "CONFIG_PID_NS" => yes(exists("/proc/self/ns/pid")),
        "CONFIG_USER_NS" => yes(exists("/proc/self/ns/user")),
        "CONFIG_NET_NS" => yes(exists("/proc/self/ns/net")),
        "CONFIG_CGROUPS" => yes(filesystem("cgroup") || filesystem("cgroup2")),
        "CONFIG_CGROUP_DEVICE" => maybe(proc_cgroups_has("devices")),
        "CONFIG_CGROUP_SCHED" => yes(proc_cgroups_has("cpu")),
        "CONFIG_CGROUP_CPUACCT" => maybe(proc_cgroups_has("cpuacct")),
        "CONFIG_MEMCG" | "CONFIG_CGROUP_MEM_RES_CTLR" => yes(proc_cgroups_has("memory")),
        "CONFIG_CPUSETS" => yes(proc_cgroups_has("cpuset")),
        "CONFIG_SMP" => yes(std::thread::available_parallelism().map(|n| n.get() > 1).unwrap_or(false)),
        "CONFIG_VETH" => maybe(module_present("veth")),
        "CONFIG_MACVLAN" => maybe(module_present("macvlan")),
        "CONFIG_VLAN_8021Q" => maybe(module_present("8021q") || exists("/proc/net/vlan")),
        "CONFIG_BRIDGE" => maybe(module_present("bridge")),
        "CONFIG_FUSE_FS" => yes(filesystem("fuse") || exists("/dev/fuse")),
        "CONFIG_CHECKPOINT_RESTORE" => maybe(exists("/proc/self/map_files")),
        "CONFIG_FHANDLE" | "CONFIG_EVENTFD" | "CONFIG_EPOLL" => Found::Yes,
        "CONFIG_UNIX_DIAG" => maybe(module_present("unix_diag")),
        "CONFIG_INET_DIAG" => maybe(module_present("inet_diag")),
        "CONFIG_PACKET_DIAG" => maybe(module_present("packet_diag")),
        "CONFIG_NETLINK_DIAG" => maybe(module_present("netlink_diag")),
        "CONFIG_SECCOMP" => yes(std::fs::read_to_string("/proc/self/status")
            .map(|s| s.lines().any(|l| l.starts_with("Seccomp:")))
            .unwrap_or(false)),
        "CONFIG_SECCOMP_FILTER" => yes(exists("/proc/sys/kernel/seccomp/actions_avail")),
        "CONFIG_SECURITY_APPARMOR" => maybe(module_present("apparmor") || exists("/sys/kernel/security/apparmor")),
        "CONFIG_SECURITY_SELINUX" => maybe(exists("/sys/fs/selinux")),
        _ => Found::Unknown,
    }
}

impl Source {
    fn get(&self, opt: &str) -> Found {
        match self {
            Source::Config(m) => match m.get(opt).map(String::as_str) {
                Some("y") | Some("m") => Found::Yes,
                _ => Found::No,
            },
            Source::Probe => probe(opt),
        }
    }
}

/// Mount points of a filesystem type from `/proc/self/mounts`.
fn mounts_of(fstype: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 2 && f[2] == fstype).then(|| f[1].to_string())
        })
        .collect()
}

/// The report writer: LXC's colours on a terminal, plain otherwise.
struct Report {
    out: String,
    color: bool,
    src: Source,
}

impl Report {
    fn paint(&mut self, code: &str, word: &str) {
        if self.color {
            self.out.push_str(&format!("\x1b[{code}m{word}\x1b[0;39m"));
        } else {
            self.out.push_str(word);
        }
    }

    fn say(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// `is_enabled OPT [yes]`: prints enabled / required / missing (unknown when probing
    /// cannot tell); true when enabled.
    fn enabled(&mut self, opt: &str, mandatory: bool) -> bool {
        match self.src.get(opt) {
            Found::Yes => {
                self.paint("1;32", "enabled");
                true
            }
            Found::Unknown => {
                self.paint("1;33", "unknown");
                false
            }
            Found::No if mandatory => {
                self.paint("1;31", "required");
                false
            }
            Found::No => {
                self.paint("1;33", "missing");
                false
            }
        }
    }

    fn line(&mut self, label: &str, opt: &str, mandatory: bool) {
        self.say(label);
        self.enabled(opt, mandatory);
        self.say("\n");
    }

    /// `is_enabled OPT && is_probed MODULE`: the loaded/not loaded note only on kernels with
    /// loadable modules.
    fn with_module(&mut self, label: &str, opt: &str, module: &str) {
        self.say(label);
        if self.enabled(opt, false) {
            if let Ok(mods) = std::fs::read_to_string("/proc/modules") {
                let loaded = mods.lines().any(|l| l.contains(module));
                self.say(if loaded { ", loaded" } else { ", not loaded" });
            }
        }
        self.say("\n");
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Build the whole report; `version` is the kernel's (major, minor).
fn report(src: Source, version: (u32, u32), color: bool) -> String {
    let (major, minor) = version;
    let mut r = Report { out: String::new(), color, src };
    r.say("\n--- Namespaces ---\n");
    r.line("Namespaces: ", "CONFIG_NAMESPACES", true);
    r.line("Utsname namespace: ", "CONFIG_UTS_NS", false);
    r.line("Ipc namespace: ", "CONFIG_IPC_NS", true);
    r.line("Pid namespace: ", "CONFIG_PID_NS", true);
    r.line("User namespace: ", "CONFIG_USER_NS", false);
    if r.src.get("CONFIG_USER_NS") == Found::Yes {
        for tool in ["newuidmap", "newgidmap"] {
            match on_path(tool) {
                Some(p) => {
                    let setuid = p.metadata().map(|m| m.permissions().mode() & 0o4000 != 0).unwrap_or(false);
                    if !setuid {
                        r.say(&format!("Warning: {tool} is not setuid-root\n"));
                    }
                }
                None => r.say(&format!("{tool} is not installed\n")),
            }
        }
    }
    r.line("Network namespace: ", "CONFIG_NET_NS", false);
    if major < 4 || (major == 4 && minor < 7) {
        r.line("Multiple /dev/pts instances: ", "DEVPTS_MULTIPLE_INSTANCES", false);
    }
    r.say("\n--- Control groups ---\n");
    r.line("Cgroups: ", "CONFIG_CGROUPS", false);
    r.say("Cgroup namespace: ");
    if exists("/proc/self/ns/cgroup") {
        r.paint("1;32", "enabled");
    } else {
        r.paint("1;33", "missing");
    }
    r.say("\n");
    let v1 = mounts_of("cgroup");
    let v2 = mounts_of("cgroup2");
    r.say("Cgroup v1 mount points: \n");
    for m in &v1 {
        r.say(&format!(" - {m}\n"));
    }
    r.say("Cgroup v2 mount points: \n");
    for m in &v2 {
        r.say(&format!(" - {m}\n"));
    }
    if v2.join("\n") != "/sys/fs/cgroup" {
        for (ctrl, label) in
            [("/systemd", "Cgroup v1 systemd controller: "), ("/freezer", "Cgroup v1 freezer controller: ")]
        {
            if !v1.iter().any(|m| m.contains(ctrl)) {
                r.say(label);
                r.paint("1;31", "missing");
                r.say("\n");
            }
        }
        if v1.first().is_some_and(|m| Path::new(m).join("cgroup.clone_children").is_file()) {
            r.say("Cgroup v1 clone_children flag: ");
            r.paint("1;32", "enabled\n");
        }
    }
    r.line("Cgroup device: ", "CONFIG_CGROUP_DEVICE", false);
    r.line("Cgroup sched: ", "CONFIG_CGROUP_SCHED", false);
    r.line("Cgroup cpu account: ", "CONFIG_CGROUP_CPUACCT", false);
    if (major >= 3 && minor >= 6) || major > 3 {
        r.line("Cgroup memory controller: ", "CONFIG_MEMCG", false);
    } else {
        r.line("Cgroup memory controller: ", "CONFIG_CGROUP_MEM_RES_CTLR", false);
    }
    if r.src.get("CONFIG_SMP") == Found::Yes {
        r.say("Cgroup cpuset: ");
        if r.enabled("CONFIG_CPUSETS", false) {
            r.say("\n");
        }
    }
    r.say("\n--- Misc ---\n");
    r.with_module("Veth pair device: ", "CONFIG_VETH", "veth");
    r.with_module("Macvlan: ", "CONFIG_MACVLAN", "macvlan");
    r.with_module("Vlan: ", "CONFIG_VLAN_8021Q", "8021q");
    r.with_module("Bridges: ", "CONFIG_BRIDGE", "bridge");
    r.with_module("Advanced netfilter: ", "CONFIG_NETFILTER_ADVANCED", "nf_tables");
    if major == 4 && minor > 6 {
        r.with_module("CONFIG_NF_NAT_IPV4: ", "CONFIG_NF_NAT_IPV4", "nf_nat_ipv4");
        r.with_module("CONFIG_NF_NAT_IPV6: ", "CONFIG_NF_NAT_IPV6", "nf_nat_ipv6");
    }
    for (opt, module) in [
        ("CONFIG_IP_NF_TARGET_MASQUERADE", "nf_nat_masquerade_ipv4"),
        ("CONFIG_IP6_NF_TARGET_MASQUERADE", "nf_nat_masquerade_ipv6"),
        ("CONFIG_NETFILTER_XT_TARGET_CHECKSUM", "xt_CHECKSUM"),
        ("CONFIG_NETFILTER_XT_MATCH_COMMENT", "xt_comment"),
    ] {
        r.with_module(&format!("{opt}: "), opt, module);
    }
    r.with_module("FUSE (for use with lxcfs): ", "CONFIG_FUSE_FS", "fuse");
    r.say("\n--- Checkpoint/Restore ---\n");
    r.line("checkpoint restore: ", "CONFIG_CHECKPOINT_RESTORE", false);
    for opt in [
        "CONFIG_FHANDLE",
        "CONFIG_EVENTFD",
        "CONFIG_EPOLL",
        "CONFIG_UNIX_DIAG",
        "CONFIG_INET_DIAG",
        "CONFIG_PACKET_DIAG",
        "CONFIG_NETLINK_DIAG",
    ] {
        r.line(&format!("{opt}: "), opt, false);
    }
    r.say("File capabilities: ");
    if major == 2 && minor < 33 {
        r.line("", "CONFIG_SECURITY_FILE_CAPABILITIES", false);
    } else {
        r.paint("1;32", "enabled\n");
    }
    r.say("\n--- Security ---\n");
    r.line("Seccomp: ", "CONFIG_SECCOMP", false);
    r.line("Seccomp filter: ", "CONFIG_SECCOMP_FILTER", false);
    r.line("AppArmor: ", "CONFIG_SECURITY_APPARMOR", false);
    r.line("SELinux: ", "CONFIG_SECURITY_SELINUX", false);
    r.out
}

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("Usage: lxc-checkconfig\n\nReport the kernel features LXC needs. CONFIG=/path/to/config checks a given kernel config.");
        return 0;
    }
    let prog = "lxc-checkconfig";
    let mut out = format!("LXC version {}\n", crate::VERSION);
    let mut config = PathBuf::from(std::env::var_os("CONFIG").unwrap_or_else(|| "/proc/config.gz".into()));
    let release = rustix::system::uname().release().to_string_lossy().into_owned();
    let mut probing = false;
    if !config.is_file() {
        out.push_str(&format!("Kernel configuration not found at {}; searching...\n", config.display()));
        for c in [format!("/lib/modules/{release}/build/.config"), format!("/boot/config-{release}")] {
            if Path::new(&c).is_file() {
                config = PathBuf::from(c);
            }
        }
        if config.is_file() {
            out.push_str(&format!("Kernel configuration found at {}\n", config.display()));
        } else {
            probing = true;
        }
    }
    let text = if probing { None } else { read_config(&config) };
    let (src, version) = match text {
        Some(t) => {
            let v = config_version(&t);
            let v = v.unwrap_or_else(|| {
                out.push_str("WARNING: Unable to detect version from configuration, assuming latest\n\n");
                (100, 0)
            });
            (Source::Config(parse_config(&t)), v)
        }
        None => {
            eprintln!("{prog}: unable to retrieve kernel configuration");
            eprintln!("{prog}: probing the running kernel instead (\"unknown\": cannot be told without a config;");
            eprintln!("{prog}: specify the kernel configuration path with: CONFIG=<path> {prog})");
            (Source::Probe, version_of(&release).unwrap_or((100, 0)))
        }
    };
    let color = rlxc_sys::process::isatty(1);
    out.push_str(&report(src, version, color));
    out.push_str("\nNote : Before booting a new kernel, you can check its configuration\n");
    let argv0 = std::env::args().next().unwrap_or_else(|| prog.to_string());
    out.push_str(&format!("usage : CONFIG=/path/to/config {argv0}\n\n"));
    print!("{out}");
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = "#\n# Linux/x86 6.1.0 Kernel Configuration\n#\nCONFIG_NAMESPACES=y\nCONFIG_VETH=m\n# CONFIG_VLAN_8021Q is not set\nCONFIG_MEMCG=y\n";

    #[test]
    fn reads_options_and_version() {
        let m = parse_config(CFG);
        assert_eq!(m.get("CONFIG_VETH").map(String::as_str), Some("m"));
        assert!(!m.contains_key("CONFIG_VLAN_8021Q"));
        assert_eq!(config_version(CFG), Some((6, 1)));
        assert_eq!(version_of("6.18.44-fc-v1147"), Some((6, 18)));
    }

    #[test]
    fn report_lines_like_lxc() {
        let out = report(Source::Config(parse_config(CFG)), (6, 1), false);
        assert!(out.contains(
            "\n--- Namespaces ---\nNamespaces: enabled\nUtsname namespace: missing\nIpc namespace: required\n"
        ));
        assert!(out.contains("Vlan: missing\n"));
        assert!(out.contains("Cgroup memory controller: enabled\n"));
        assert!(!out.contains("Multiple /dev/pts"));
        assert!(out.contains("File capabilities: enabled\n"));
    }
}
