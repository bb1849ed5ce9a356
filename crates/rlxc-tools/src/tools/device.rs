//! `lxc-device -n NAME [-P PATH] add|del DEV [DST]`: move a network interface into (or out of)
//! a running container, or make (remove) a device node inside it and allow (deny) it in the
//! container's device cgroup — LXC's `attach_interface` / `detach_interface` /
//! `add_device_node` / `remove_device_node`.
//!
//! `add`: DEV is an interface of our network namespace → moved into the container's, renamed
//! to DST when given; otherwise DEV must be a character or block device on the host and a node
//! with the same type and numbers is created at DST (default DEV) inside the container.
//! `del`: DEV is an interface inside the container → moved back to our namespace (renamed to
//! DST when given); otherwise the node DST (default DEV) is removed inside the container and
//! denied in its device cgroup.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path};

use rlxc_core::commands::client;
use rlxc_core::commands::wire::DeviceItem;
use rlxc_core::network::iface;
use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};

use crate::args::{self, Opt};

const OPTS: &[Opt] = &[];

fn usage() {
    eprintln!(
        "Usage: lxc-device --name=NAME -- add|del DEV [DST]\n\n\
         lxc-device add or remove a network interface or device node to/from a running container\n\n\
         Options :\n  -n, --name=NAME      NAME of the container\n  -P, --lxcpath=PATH   Use specified container path"
    );
}

/// Entry point; `args` excludes the program name.
pub fn main(argv: &[String]) -> i32 {
    let parsed = match args::parse(argv, OPTS, false) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("lxc-device: {e}");
            usage();
            return 1;
        }
    };
    if parsed.has("help") || parsed.has("usage") {
        usage();
        return 0;
    }
    if parsed.has("version") {
        println!("{}", crate::VERSION);
        return 0;
    }
    let Some(name) = parsed.value("name") else {
        eprintln!("lxc-device: missing container name, use --name option");
        return 1;
    };
    if let Err(e) = rlxc_core::lxcpath::check_name(name) {
        eprintln!("lxc-device: {name}: {e}");
        return 1;
    }
    let mut pos: Vec<String> = parsed.positional.clone();
    pos.extend(parsed.trailing.iter().cloned());
    if pos.len() < 2 || pos.len() > 3 {
        eprintln!("lxc-device: {name}: expected add|del DEV [DST]");
        usage();
        return 1;
    }
    if !rustix::process::geteuid().is_root() {
        eprintln!("lxc-device: {name}: lxc-device must be run as root");
        return 1;
    }
    let lxcpath = rlxc_core::lxcpath::resolve(parsed.value("lxcpath"));
    let pid = match client::get_init_pid(name, &lxcpath) {
        Ok(p) if p > 0 => p,
        _ => {
            eprintln!("lxc-device: {name}: Container {name} is not running");
            return 1;
        }
    };
    let (cmd, dev, dst) = (pos[0].as_str(), pos[1].as_str(), pos.get(2).map(String::as_str));
    let res = match cmd {
        "add" => match iface::is_interface(None, dev) {
            Ok(true) => iface::attach_interface(pid, dev, dst).map_err(|e| e.to_string()),
            _ => node(name, &lxcpath, pid, dev, dst, true),
        },
        "del" => match iface::is_interface(Some(pid), dev) {
            Ok(true) => iface::detach_interface(pid, dev, dst).map_err(|e| e.to_string()),
            _ => node(name, &lxcpath, pid, dev, dst, false),
        },
        _ => {
            eprintln!("lxc-device: {name}: Error: Please use add or del (Please see --help output)");
            return 1;
        }
    };
    match res {
        Ok(()) => 0,
        Err(e) => {
            let how = if cmd == "add" { "add {dev} to" } else { "del {dev} from" }.replace("{dev}", dev);
            eprintln!("lxc-device: {name}: Failed to {how} {name}: {e}");
            1
        }
    }
}

/// Add or remove a device node `src` (host path) at `dst` (default `src`) inside the container.
fn node(name: &str, lxcpath: &str, pid: i32, src: &str, dst: Option<&str>, add: bool) -> Result<(), String> {
    let st = rustix::fs::stat(src).map_err(|e| format!("{src}: {e}"))?;
    let ft = FileType::from_raw_mode(st.st_mode);
    let kind = match ft {
        FileType::CharacterDevice => b'c',
        FileType::BlockDevice => b'b',
        _ => return Err(format!("{src} is neither a network interface nor a character or block device")),
    };
    let rdev = st.st_rdev;
    let (major, minor) = (rustix::fs::major(rdev), rustix::fs::minor(rdev));
    let dst = dst.unwrap_or(src);
    if add {
        make_node(pid, dst, ft, st.st_mode, rdev)?;
        device_rule(name, lxcpath, kind, major, minor, true)
    } else {
        device_rule(name, lxcpath, kind, major, minor, false)?;
        remove_node(pid, dst)
    }
}

/// `(parent dir fd, file name)` for `path` inside the container's root, resolved with
/// `RESOLVE_IN_ROOT` so that symlinks in the container cannot point us at the host; missing
/// parent directories are created when `create` is set.
fn parent_in_root(pid: i32, path: &str, create: bool) -> Result<(OwnedFd, String), String> {
    let root = rustix::fs::open(
        format!("/proc/{pid}/root"),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("open /proc/{pid}/root: {e}"))?;
    let p = Path::new(path);
    let file =
        p.file_name().map(|f| f.to_string_lossy().into_owned()).ok_or_else(|| format!("{path}: no file name"))?;
    let mut dir = root;
    if let Some(parent) = p.parent() {
        for c in parent.components() {
            let Component::Normal(c) = c else { continue };
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let open = |d: &OwnedFd| rustix::fs::openat2(d.as_fd(), c, flags, Mode::empty(), ResolveFlags::IN_ROOT);
            let next = match open(&dir) {
                Ok(fd) => fd,
                Err(rustix::io::Errno::NOENT) if create => {
                    rustix::fs::mkdirat(dir.as_fd(), c, Mode::from_raw_mode(0o755))
                        .map_err(|e| format!("mkdir {}: {e}", c.to_string_lossy()))?;
                    open(&dir).map_err(|e| format!("open {}: {e}", c.to_string_lossy()))?
                }
                Err(e) => return Err(format!("open {} in the container: {e}", c.to_string_lossy())),
            };
            dir = next;
        }
    }
    Ok((dir, file))
}

fn make_node(pid: i32, path: &str, ft: FileType, mode: u32, rdev: u64) -> Result<(), String> {
    let (dir, file) = parent_in_root(pid, path, true)?;
    match rustix::fs::unlinkat(dir.as_fd(), file.as_str(), rustix::fs::AtFlags::empty()) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => {}
        Err(e) => return Err(format!("remove old {path} in the container: {e}")),
    }
    rustix::fs::mknodat(dir.as_fd(), file.as_str(), ft, Mode::from_raw_mode(mode & 0o7777), rdev)
        .map_err(|e| format!("mknod {path} in the container: {e}"))
}

fn remove_node(pid: i32, path: &str) -> Result<(), String> {
    let (dir, file) = parent_in_root(pid, path, false)?;
    rustix::fs::unlinkat(dir.as_fd(), file.as_str(), rustix::fs::AtFlags::empty())
        .map_err(|e| format!("remove {path} in the container: {e}"))
}

/// Allow or deny `KIND MAJOR:MINOR rwm` for the container: in the v1 `devices` controller when
/// the host has one, else in the monitor's cgroup2 eBPF device program.
fn device_rule(name: &str, lxcpath: &str, kind: u8, major: u32, minor: u32, allow: bool) -> Result<(), String> {
    let rule = format!("{} {major}:{minor} rwm", kind as char);
    if Path::new("/sys/fs/cgroup/devices").is_dir() {
        let rel = client::get_cgroup(name, lxcpath, Some("devices")).map_err(|e| e.to_string())?;
        let file = if allow { "devices.allow" } else { "devices.deny" };
        let p = Path::new("/sys/fs/cgroup/devices").join(rel.trim_start_matches('/')).join(file);
        return std::fs::write(&p, &rule).map_err(|e| format!("write \"{rule}\" to {}: {e}", p.display()));
    }
    let item = DeviceItem {
        kind,
        major: major as i32,
        minor: minor as i32,
        access: *b"rwm\0",
        allow: i32::from(allow),
        global_rule: -1,
    };
    client::add_bpf_device_cgroup(name, lxcpath, &item).map_err(|e| format!("device rule \"{rule}\": {e}"))
}
