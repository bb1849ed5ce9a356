//! `lxc-unshare -s NAMESPACES [-u USER] [-H HOSTNAME] [-i IFNAME]... [-d] [-M] COMMAND`: run
//! COMMAND in new namespaces (LXC's `tools/lxc_unshare.c`). NAMESPACES is a `|`-separated list
//! of MOUNT PID UTSNAME IPC USER NETWORK (or the kernel's names mnt uts net ..., any case,
//! cgroup too). With a new mount namespace `/` is made a dependent mount first, so `-M`'s
//! fresh `/proc`, `/dev/shm` and `/dev/mqueue` never propagate back to the host.
//!
//! Differences from LXC 4.0, all bug fixes: `-M` really mounts (LXC only mounted when the
//! unmount failed), `-i` moves the interface into the child's netns (LXC passed pid 0 to
//! `ip`), a failed `-u` mapping does not leave the child blocked forever, and the exit
//! status is the command's (LXC turns every failure into 1).

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::Path;

use rlxc_sys::clone::{clone_process, Cloned};
use rlxc_sys::forkexec;

use crate::args::{self, Opt};

const OPTS: &[Opt] = &[
    Opt::arg('s', "namespaces"),
    Opt::arg('u', "user"),
    Opt::arg('H', "hostname"),
    Opt::arg('i', "ifname"),
    Opt::flag('d', "daemon"),
    Opt::flag('M', "remount"),
];

const HELP: &str = "-s NAMESPACES COMMAND

lxc-unshare run a COMMAND in a new set of NAMESPACES

Options :
  -s, --namespaces=FLAGS
                    ORed list of flags to unshare:
                    MOUNT, PID, UTSNAME, IPC, USER, NETWORK
  -u, --user=USERID
                    new id to be set if -s USER is specified
  -H, --hostname=HOSTNAME
                    Set the hostname in the container
  -i, --ifname=IFNAME
                    Interface name to be moved into container (presumably with NETWORK unsharing set)
  -d, --daemon      Daemonize (do not wait for container to exit)
  -M, --remount     Remount default fs inside container (/proc /dev/shm /dev/mqueue)
";

/// Parse `-s`: LXC's names (MOUNT, UTSNAME, NETWORK) become the kernel's (mnt, uts, net), then
/// every `|`-separated word must name a namespace, in any case.
pub fn namespace_flags(list: &str) -> Result<i32, String> {
    let std_names = list.replace("MOUNT", "MNT").replace("NETWORK", "NET").replace("UTSNAME", "UTS");
    let mut flags = 0;
    for word in std_names.split('|').filter(|w| !w.is_empty()) {
        let f = rlxc_sys::ns::NAMESPACES
            .iter()
            .find(|(_, proc_name, _, _)| proc_name.eq_ignore_ascii_case(word))
            .map(|(_, _, f, _)| *f)
            .ok_or_else(|| format!("Invalid namespace name \"{word}\""))?;
        flags |= f;
    }
    Ok(flags)
}

/// `-u`: a uid or a user name that exists in `/etc/passwd` text.
pub fn lookup_user(passwd: &str, arg: &str) -> Result<u32, String> {
    let entries: Vec<(String, u32)> = passwd
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some((f.first()?.to_string(), f.get(2)?.parse().ok()?))
        })
        .collect();
    if arg.is_empty() {
        return Err("Invalid user \"\"".into());
    }
    match arg.parse::<u32>() {
        Ok(uid) => entries.iter().any(|(_, u)| *u == uid).then_some(uid).ok_or_else(|| format!("Invalid uid : {uid}")),
        Err(_) => {
            entries.iter().find(|(n, _)| n == arg).map(|(_, u)| *u).ok_or_else(|| format!("Invalid username \"{arg}\""))
        }
    }
}

/// An error line as LXC's tools print them (`lxc-unshare: msg`).
fn error(msg: &str) {
    eprintln!("lxc-unshare: {msg}");
}

/// Only logged with `-l INFO`: a missing optional mount of `-M`.
fn log_info(msg: String) {
    if rlxc_core::log::level() <= rlxc_config::LogLevel::Info {
        eprintln!("lxc-unshare: {msg}");
    }
}

/// What the child needs.
struct ChildArgs<'a> {
    argv: &'a [OsString],
    flags: i32,
    setuid: Option<u32>,
    hostname: Option<&'a str>,
    remount: bool,
}

/// LXC's `mount_fs`: drop what is there (may fail), mount a fresh instance.
fn mount_fs(source: &str, target: &str, fstype: &str) -> std::io::Result<()> {
    let _ = rlxc_sys::mount::umount2(Path::new(target), 0);
    rlxc_sys::mount::mount(Some(source), Path::new(target), Some(fstype), 0, None)
}

/// `-M`: fresh /proc, /dev/shm and /dev/mqueue; only /proc is required.
fn setup_fs() -> std::io::Result<()> {
    mount_fs("proc", "/proc", "proc")?;
    if !Path::new("/dev/shm").exists() {
        let _ = std::fs::create_dir("/dev/shm");
    }
    if let Err(e) = mount_fs("shmfs", "/dev/shm", "tmpfs") {
        log_info(format!("failed to mount /dev/shm: {e}"));
    }
    if !Path::new("/dev/mqueue").exists() {
        let _ = std::fs::create_dir("/dev/mqueue");
    }
    if let Err(e) = mount_fs("mqueue", "/dev/mqueue", "mqueue") {
        log_info(format!("failed to mount /dev/mqueue: {e}"));
    }
    Ok(())
}

fn child(a: &ChildArgs<'_>, go: Option<std::fs::File>) -> ! {
    let fail = |what: String| -> ! {
        error(&what);
        forkexec::exit_now(1)
    };
    if let Some(mut go) = go {
        // Wait until the parent wrote our uid map and moved the interfaces in; EOF or "0"
        // means it could not.
        let mut b = [0u8; 1];
        if go.read_exact(&mut b).is_err() || b[0] != b'1' {
            forkexec::exit_now(1);
        }
    }
    if a.flags & libc::CLONE_NEWNS != 0 {
        let flags = libc::MS_SLAVE | libc::MS_REC;
        if let Err(e) = rlxc_sys::mount::mount(None, Path::new("/"), None, flags, None) {
            fail(format!("Failed to make / a dependent mount: {e}"));
        }
        if a.remount {
            if let Err(e) = setup_fs() {
                fail(format!("Failed to mount /proc: {e}"));
            }
        }
    }
    if let Some(h) = a.hostname.filter(|_| a.flags & libc::CLONE_NEWUTS != 0) {
        if let Err(e) = rustix::system::sethostname(h.as_bytes()) {
            fail(format!("Failed to set hostname {h}: {e}"));
        }
    }
    if let Some(uid) = a.setuid {
        // Setuid is useful even without a new user namespace.
        if let Err(e) = forkexec::set_uid(uid) {
            fail(format!("Failed to set uid {uid}: {e}"));
        }
    }
    let e = forkexec::execvp(a.argv);
    fail(format!("Failed to exec: '{}': {e}", a.argv[0].to_string_lossy()))
}

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let prog = "lxc-unshare";
    let parsed = match args::parse(args, OPTS, true) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{prog}: {e}");
            super::cmd_common::print_help(prog, HELP);
            return 1;
        }
    };
    if parsed.has("help") {
        super::cmd_common::print_help(prog, HELP);
        return 0;
    }
    if parsed.has("usage") {
        eprintln!("Usage: {prog} -s NAMESPACES COMMAND");
        return 0;
    }
    if parsed.has("version") {
        println!("{}", crate::VERSION);
        return 0;
    }
    rlxc_core::log::init(prog, parsed.has("quiet"));
    if let Some(f) = parsed.value("logfile").filter(|f| *f != "none") {
        if let Err(e) = rlxc_core::log::set_file(Path::new(f), true) {
            eprintln!("{prog}: cannot open log file {f}: {e}");
            return 1;
        }
    }
    if let Some(level) = parsed.value("logpriority").and_then(rlxc_config::LogLevel::parse) {
        rlxc_core::log::set_cmdline_level(level);
    }
    let flags = match parsed.value("namespaces").map(namespace_flags).transpose() {
        Ok(f) => f.unwrap_or(0),
        Err(e) => {
            eprintln!("{prog}: {e}");
            eprintln!("{prog}: could not parse command line");
            return 1;
        }
    };
    let setuid = match parsed.value("user") {
        Some(u) => {
            let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
            match lookup_user(&passwd, u) {
                Ok(uid) => Some(uid),
                Err(e) => {
                    eprintln!("{prog}: {e}");
                    eprintln!("{prog}: could not parse command line");
                    return 1;
                }
            }
        }
        None => None,
    };
    let argv: Vec<OsString> = parsed.positional.iter().chain(parsed.trailing.iter()).map(OsString::from).collect();
    let ifnames = parsed.values("ifname");
    let hostname = parsed.value("hostname");
    if argv.is_empty() {
        error("A command to execute in the new namespace is required");
        return 1;
    }
    if flags == 0 {
        error("A namespace to execute command is required");
        return 1;
    }
    if flags & libc::CLONE_NEWNET == 0 && !ifnames.is_empty() {
        error("-i <interfacename> needs -s NETWORK option");
        return 1;
    }
    if flags & libc::CLONE_NEWUTS == 0 && hostname.is_some() {
        error("-H <hostname> needs -s UTSNAME option");
        return 1;
    }
    if flags & libc::CLONE_NEWNS == 0 && parsed.has("remount") {
        error("-M needs -s MOUNT option");
        return 1;
    }
    let a = ChildArgs { argv: &argv, flags, setuid, hostname, remount: parsed.has("remount") };
    // The child waits until its uid map is written and the interfaces are moved in, so the
    // command sees them (LXC did not wait for the interfaces).
    let pipe = if setuid.is_some() || !ifnames.is_empty() {
        match rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC) {
            Ok((r, w)) => Some((std::fs::File::from(r), std::fs::File::from(w))),
            Err(e) => {
                error(&format!("Failed to create a pipe: {e}"));
                return 1;
            }
        }
    } else {
        None
    };
    let (go_r, go_w) = match pipe {
        Some((r, w)) => (Some(r), Some(w)),
        None => (None, None),
    };
    let pid = match clone_process(flags as u64, false, None) {
        Ok((Cloned::Child, _)) => {
            drop(go_w);
            child(&a, go_r)
        }
        Ok((Cloned::Parent { pid, .. }, _)) => pid,
        Err(e) => {
            error(&format!("Failed to clone: {e}"));
            return 1;
        }
    };
    drop(go_r);
    let mut ok = true;
    if let Some(uid) = setuid {
        let (own, _) = rlxc_sys::process::getuid_gid();
        let map = format!("{uid} {own} 1\n");
        if let Err(e) = std::fs::write(format!("/proc/{pid}/uid_map"), map) {
            error(&format!("Failed to write uid mapping to \"/proc/{pid}/uid_map\": {e}"));
            error("Failed to map uid");
            ok = false;
        }
    }
    if ok {
        for ifname in &ifnames {
            if let Err(e) = rlxc_net::iface::attach_interface(pid, ifname, None) {
                error(&format!("Could not move interface \"{ifname}\" into container {pid}: {e}"));
            }
        }
    }
    if let Some(mut go) = go_w {
        let _ = go.write_all(if ok { b"1" } else { b"0" });
    }
    if !ok {
        let _ = forkexec::wait_exit(pid);
        return 1;
    }
    if parsed.has("daemon") {
        return 0;
    }
    match forkexec::wait_exit(pid) {
        Ok(k) => k.shell_status(),
        Err(e) => {
            error(&format!("Failed to wait for '{pid}': {e}"));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lxc_and_kernel_namespace_names() {
        let all = namespace_flags("MOUNT|PID|UTSNAME|IPC|USER|NETWORK").expect("parses");
        let want = libc::CLONE_NEWNS
            | libc::CLONE_NEWPID
            | libc::CLONE_NEWUTS
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWUSER
            | libc::CLONE_NEWNET;
        assert_eq!(all, want);
        assert_eq!(namespace_flags("mnt|net|uts|cgroup").expect("parses"), {
            libc::CLONE_NEWNS | libc::CLONE_NEWNET | libc::CLONE_NEWUTS | libc::CLONE_NEWCGROUP
        });
        assert!(namespace_flags("BOGUS").is_err());
        assert!(namespace_flags("PID|mount").is_err(), "only the upper-case LXC spelling is rewritten");
    }

    #[test]
    fn users_by_name_or_uid() {
        let pw = "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n";
        assert_eq!(lookup_user(pw, "nobody"), Ok(65534));
        assert_eq!(lookup_user(pw, "0"), Ok(0));
        assert!(lookup_user(pw, "1234").is_err());
        assert!(lookup_user(pw, "ghost").is_err());
    }
}
