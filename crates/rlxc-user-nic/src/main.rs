//! `lxc-user-nic create LXCPATH NAME PID veth BRIDGE [NICNAME]` /
//! `lxc-user-nic delete LXCPATH NAME NETNS-PATH veth BRIDGE NICNAME`: LXC's setuid-root helper,
//! wire-compatible (arguments, `/etc/lxc/lxc-usernet`, `/run/lxc/nics`, the
//! `NAME:IFINDEX:HOSTNAME:HOSTIFINDEX` line on stdout). Installed mode 4755 root.
//!
//! Everything it reads is hostile: arguments are checked before use, the caller's right over
//! the target network namespace is checked *as the caller* (it must be able to open
//! `/proc/PID/ns/net`, and must hold CAP_NET_ADMIN there, probed with a harmless request), the
//! quota database is opened without following symlinks and changed only under an fcntl lock
//! held on the same open file. Nothing is executed, so no environment is trusted or kept.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::process::ExitCode;

use rlxc_net::Rtnl;
use rlxc_user_nic::{allowances, container_ifname, cull, host_veth_name, parse_db, quota, used, valid_ifname, DbEntry};
use rustix::process::{Gid, Uid};

const USERNET: &str = "/etc/lxc/lxc-usernet";
const DB_DIR: &str = "/run/lxc";
const DB: &str = "/run/lxc/nics";

type R<T> = Result<T, String>;

fn main() -> ExitCode {
    // Rust's runtime has already opened /dev/null on any of fds 0-2 the caller closed, so the
    // database can never be opened as our stdout and receive the output line.
    // Setuid: nothing from the caller's environment is used; clear it so no library picks it up.
    for (k, _) in std::env::vars_os() {
        std::env::remove_var(k);
    }
    std::env::set_var("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    let args: Vec<String> = match std::env::args_os().map(|a| a.into_string()).collect::<Result<_, _>>() {
        Ok(a) => a,
        Err(_) => return fail("arguments must be valid UTF-8"),
    };
    let res = match args.get(1).map(String::as_str) {
        Some("create") if (6..=7).contains(&args.len().saturating_sub(1)) => create(&args[2..]),
        Some("delete") if args.len() == 8 => delete(&args[2..]),
        _ => {
            eprintln!(
                "Usage: lxc-user-nic create {{lxcpath}} {{name}} {{pid}} {{type}} {{bridge}} {{nicname}}\n\
                 \x20      lxc-user-nic delete {{lxcpath}} {{name}} {{path to network namespace}} {{type}} {{bridge}} {{nicname}}"
            );
            return ExitCode::FAILURE;
        }
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("lxc-user-nic: {msg}");
    ExitCode::FAILURE
}

/// The caller: real uid, its user name and the names of its groups.
struct Caller {
    uid: Uid,
    name: String,
    groups: Vec<String>,
}

fn caller() -> R<Caller> {
    let uid = rustix::process::getuid();
    if !rustix::process::geteuid().is_root() {
        return Err("not running as root: lxc-user-nic must be installed setuid root (mode 4755)".into());
    }
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| format!("read /etc/passwd: {e}"))?;
    let name = passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 3 && f[2].parse::<u32>().ok() == Some(uid.as_raw())).then(|| f[0].to_string())
        })
        .ok_or_else(|| format!("uid {} has no entry in /etc/passwd", uid.as_raw()))?;
    let mut gids: Vec<Gid> = rustix::process::getgroups().map_err(|e| format!("getgroups: {e}"))?;
    gids.push(rustix::process::getgid());
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let groups = group
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            let gid = f.get(2)?.parse::<u32>().ok()?;
            gids.iter().any(|g| g.as_raw() == gid).then(|| f[0].to_string())
        })
        .collect();
    Ok(Caller { uid, name, groups })
}

/// Run `f` with the effective uid of the caller (the saved uid stays root so we can return).
/// Permission checks made by the kernel inside `f` are the caller's.
fn as_caller<T>(c: &Caller, f: impl FnOnce() -> T) -> R<T> {
    rustix::thread::set_thread_res_uid(c.uid, c.uid, Uid::ROOT).map_err(|e| format!("drop privileges: {e}"))?;
    let out = f();
    rustix::thread::set_thread_res_uid(c.uid, Uid::ROOT, Uid::ROOT).map_err(|e| format!("regain privileges: {e}"))?;
    Ok(out)
}

fn random_bytes(n: usize) -> R<Vec<u8>> {
    let mut b = vec![0u8; n];
    File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).map_err(|e| format!("read /dev/urandom: {e}"))?;
    Ok(b)
}

/// `/run/lxc/nics`, opened (created 0644) without following symlinks, checked to be a root-owned
/// regular file, and locked (fcntl write lock, as LXC's helper takes it) until dropped.
fn open_db() -> R<File> {
    match std::fs::symlink_metadata(DB_DIR) {
        Ok(m) if m.is_dir() && m.uid() == 0 => {}
        Ok(_) => return Err(format!("{DB_DIR} is not a directory owned by root")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new().mode(0o755).create(DB_DIR).map_err(|e| format!("create {DB_DIR}: {e}"))?;
        }
        Err(e) => return Err(format!("stat {DB_DIR}: {e}")),
    }
    use std::os::unix::fs::DirBuilderExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(DB)
        .map_err(|e| format!("open {DB}: {e}"))?;
    let m = f.metadata().map_err(|e| format!("stat {DB}: {e}"))?;
    if !m.is_file() || m.uid() != 0 || m.nlink() != 1 {
        return Err(format!("{DB} is not a regular root-owned file"));
    }
    rlxc_sys::ofd::ofd_lock(f.as_fd(), rlxc_sys::ofd::OfdLock::Exclusive, true)
        .map_err(|e| format!("lock {DB}: {e}"))?;
    Ok(f)
}

fn read_all(f: &mut File) -> R<String> {
    let mut s = String::new();
    f.seek(SeekFrom::Start(0)).map_err(|e| format!("read {DB}: {e}"))?;
    // Bounded: a huge file is corrupt, not a list of nics.
    f.take(1 << 20).read_to_string(&mut s).map_err(|e| format!("read {DB}: {e}"))?;
    Ok(s)
}

fn write_all(f: &mut File, entries: &[DbEntry]) -> R<()> {
    let text: String = entries.iter().map(DbEntry::render).collect();
    f.set_len(0).map_err(|e| format!("truncate {DB}: {e}"))?;
    f.seek(SeekFrom::Start(0)).map_err(|e| format!("write {DB}: {e}"))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_data()).map_err(|e| format!("write {DB}: {e}"))
}

/// Deletes the host end (and so the pair) unless disarmed.
struct VethGuard<'a> {
    rtnl: &'a mut Rtnl,
    index: Option<i32>,
}

impl Drop for VethGuard<'_> {
    fn drop(&mut self) {
        if let Some(i) = self.index {
            let _ = self.rtnl.delete_link(i);
        }
    }
}

fn create(a: &[String]) -> R<()> {
    let (pid, kind, bridge) = (&a[2], &a[3], &a[4]);
    let nic_arg = a.get(5).map(String::as_str).unwrap_or("unset");
    if kind != "veth" {
        return Err(format!("network type \"{}\" is not supported (only veth)", kind.escape_debug()));
    }
    if !valid_ifname(bridge) {
        return Err(format!("invalid bridge name \"{}\"", bridge.escape_debug()));
    }
    let target =
        container_ifname(nic_arg).ok_or_else(|| format!("invalid interface name \"{}\"", nic_arg.escape_debug()))?;
    let pid: i32 =
        pid.parse().ok().filter(|p| *p > 0).ok_or_else(|| format!("invalid pid \"{}\"", pid.escape_debug()))?;
    let me = caller()?;

    // Quota first: nothing is touched for a caller without an allowance.
    let usernet = std::fs::read_to_string(USERNET).unwrap_or_default();
    let allowed = quota(&allowances(&usernet, &me.name, &me.groups), "veth", bridge);
    if allowed == 0 {
        return Err(format!("user \"{}\" may not create veth devices on \"{bridge}\" ({USERNET})", me.name));
    }

    // The caller must reach the namespace itself (ptrace-read access to the pid) ...
    let netns: OwnedFd = as_caller(&me, || rlxc_sys::netlink::open_netns(&format!("/proc/{pid}/ns/net")))?
        .map_err(|e| format!("caller may not access the network namespace of pid {pid}: {e}"))?;
    // ... and hold CAP_NET_ADMIN over it. Probe: deleting `lo` is refused with EOPNOTSUPP when
    // privileged, EPERM otherwise (LXC's is_privileged_over_netns). The socket is opened as root
    // (entering the namespace needs it); the request is sent as the caller.
    let mut c = Rtnl::open_in(netns.as_fd()).map_err(|e| e.to_string())?;
    let lo = c.link_by_name("lo").map_err(|e| e.to_string())?.ok_or("the target namespace has no loopback device")?;
    let probe = as_caller(&me, || c.delete_link(lo.index))?;
    match probe.as_ref().map_err(|e| e.errno()) {
        Err(Some(libc::EOPNOTSUPP)) => {}
        Err(Some(libc::EPERM)) | Err(Some(libc::EACCES)) => {
            return Err(format!("caller is not privileged over the network namespace of pid {pid}"))
        }
        Ok(()) => return Err(format!("the loopback device of pid {pid}'s network namespace was deleted")),
        Err(_) => return Err(format!("checking privilege over pid {pid}'s network namespace: {:?}", probe.err())),
    }

    let mut db = open_db()?;
    let mut h = Rtnl::open().map_err(|e| e.to_string())?;
    let existing = parse_db(&read_all(&mut db)?);
    // Asked over netlink, not sysfs: /sys shows the namespace of whoever mounted it.
    let mut entries = cull(existing, |n| !matches!(h.link_by_name(n), Ok(None)));
    if used(&entries, &me.name, "veth", bridge) >= allowed {
        write_all(&mut db, &entries)?;
        return Err(format!("quota reached: user \"{}\" has {allowed} veth device(s) on \"{bridge}\"", me.name));
    }
    let br = h.require(bridge).map_err(|e| e.to_string())?;
    if br.kind != "bridge" {
        return Err(format!("\"{bridge}\" is not a Linux bridge (Open vSwitch is not supported)"));
    }

    // The entry is recorded before the device exists and removed again if making it fails:
    // a caller that kills us half way (it may signal its own setuid process) leaves at most an
    // entry for a device that never came, which the next run culls, never an unaccounted device.
    for _ in 0..16 {
        let host = host_veth_name(me.uid.as_raw(), &random_bytes(6)?);
        if !matches!(h.link_by_name(&host), Ok(None)) {
            continue;
        }
        entries.push(DbEntry {
            owner: me.name.clone(),
            kind: "veth".into(),
            bridge: bridge.clone(),
            nic: host.clone(),
        });
        write_all(&mut db, &entries)?;
        match make_veth(&me, &mut h, &mut c, &host, &br, netns.as_fd(), &target) {
            Ok((inside_index, inside_name, host_index)) => {
                println!("{inside_name}:{inside_index}:{host}:{host_index}");
                return Ok(());
            }
            Err((e, retry)) => {
                entries.pop();
                write_all(&mut db, &entries)?;
                if !retry {
                    return Err(e);
                }
            }
        }
    }
    Err("no free veth name".into())
}

/// Create the pair `host`/`host`p on the bridge, move the peer into `netns` and rename it there
/// to `target` (as the caller). Returns (index inside, name inside, host index); on error the
/// pair is gone again, and `true` says the name was taken (try another).
fn make_veth(
    me: &Caller,
    h: &mut Rtnl,
    c: &mut Rtnl,
    host: &str,
    br: &rlxc_net::Link,
    netns: std::os::fd::BorrowedFd<'_>,
    target: &str,
) -> Result<(i32, String, i32), (String, bool)> {
    let peer = format!("{host}p");
    match h.create_veth(host, &peer) {
        Ok(()) => {}
        Err(e) if e.errno() == Some(libc::EEXIST) => return Err((e.to_string(), true)),
        Err(e) => return Err((e.to_string(), false)),
    }
    let fatal = |e: String| (e, false);
    let hl = h.require(host).map_err(|e| fatal(e.to_string()))?;
    let mut guard = VethGuard { rtnl: h, index: Some(hl.index) };
    let g = &mut guard.rtnl;
    let pl = g.require(&peer).map_err(|e| fatal(e.to_string()))?;
    g.set_mtu(hl.index, br.mtu).map_err(|e| fatal(e.to_string()))?;
    g.set_mtu(pl.index, br.mtu).map_err(|e| fatal(e.to_string()))?;
    // A host MAC above any container's keeps the bridge's own address stable (LXC: 0xfe).
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&random_bytes(6).map_err(fatal)?);
    mac[0] = 0xfe;
    g.set_mac(hl.index, &mac).map_err(|e| fatal(e.to_string()))?;
    g.set_master(hl.index, br.index).map_err(|e| fatal(e.to_string()))?;
    g.set_up(hl.index, true).map_err(|e| fatal(e.to_string()))?;
    g.move_to_fd(pl.index, netns, None).map_err(|e| fatal(e.to_string()))?;
    // Rename inside as the caller: in its namespace it may do that anyway, and nothing we do
    // there runs with our privilege.
    let renamed = as_caller(me, || -> Result<(i32, String), String> {
        let l = c.require(&peer).map_err(|e| e.to_string())?;
        c.set_name(l.index, target).map_err(|e| e.to_string())?;
        let now = c.link_by_index(l.index).map_err(|e| e.to_string())?.ok_or("the container's end vanished")?;
        Ok((now.index, now.name))
    })
    .map_err(fatal)?
    .map_err(fatal)?;
    guard.index = None;
    Ok((renamed.0, renamed.1, hl.index))
}

fn delete(a: &[String]) -> R<()> {
    let (kind, bridge, nic) = (&a[3], &a[4], &a[5]);
    if kind != "veth" {
        return Err(format!("network type \"{}\" is not supported (only veth)", kind.escape_debug()));
    }
    if !valid_ifname(bridge) || !valid_ifname(nic) {
        return Err("invalid bridge or interface name".into());
    }
    let me = caller()?;
    let mut db = open_db()?;
    let entries = parse_db(&read_all(&mut db)?);
    if !entries.iter().any(|e| e.owner == me.name && e.kind == "veth" && e.bridge == *bridge && e.nic == *nic) {
        return Err(format!("\"{nic}\" on \"{bridge}\" was not created by user \"{}\"", me.name));
    }
    // As LXC 4.0: only Open vSwitch ports need (and get) explicit deletion; a Linux bridge's
    // veth goes away with the container's network namespace.
    Err("Deletion of non ovs type network devices not implemented".into())
}
