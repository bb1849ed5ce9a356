//! `lxc-usernsexec`: run a command as root in a new user (and mount) namespace with the given
//! id maps (LXC's `cmd/lxc_usernsexec.c`). Maps come from `-m u|g|b:NSID:HOSTID:RANGE`, else
//! from the caller's first `/etc/subuid` and `/etc/subgid` ranges; `-s` adds the caller's own
//! uid and gid right after the mapped ranges.
//!
//! The maps are written by root directly; other callers go through the setuid `newuidmap` /
//! `newgidmap` helpers (shadow's uidmap package) when installed, else write directly, which
//! the kernel only allows for the caller's own ids (after `setgroups` is set to `deny`).

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use rlxc_config::{IdMap, IdType};
use tracing::{debug, error};

/// Why usernsexec failed.
#[derive(Debug, thiserror::Error)]
pub enum UsernsError {
    /// A `-m` argument that is not `u|g|b:NSID:HOSTID:RANGE`.
    #[error("invalid id map \"{0}\" (expected u|g|b:NSID:HOSTID:RANGE)")]
    BadMap(String),
    /// No `-m` and no subordinate ids for the caller.
    #[error("Failed to find subuid or subgid allocation")]
    NoDefaultMap,
    /// Writing the maps failed.
    #[error("Failed to write id mapping for child process {pid}: {reason}")]
    Map {
        /// The child.
        pid: i32,
        /// What went wrong.
        reason: String,
    },
    /// A system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What we tried.
        what: &'static str,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
}

fn io_err(what: &'static str) -> impl FnOnce(io::Error) -> UsernsError {
    move |source| UsernsError::Io { what, source }
}

/// Parse one `-m` argument (`b` yields a uid and a gid map).
pub fn parse_map(s: &str) -> Result<Vec<IdMap>, UsernsError> {
    let bad = || UsernsError::BadMap(s.to_string());
    let parts: Vec<&str> = s.split(':').collect();
    let [which, ns, host, range] = parts.as_slice() else { return Err(bad()) };
    let num = |v: &str| v.trim().parse::<u64>().map_err(|_| bad());
    let (nsid, hostid, range) = (num(ns)?, num(host)?, num(range)?);
    if range == 0 {
        return Err(bad());
    }
    let kinds: &[IdType] = match *which {
        "u" => &[IdType::Uid],
        "g" => &[IdType::Gid],
        "b" => &[IdType::Uid, IdType::Gid],
        _ => return Err(bad()),
    };
    Ok(kinds.iter().map(|&kind| IdMap { kind, nsid, hostid, range }).collect())
}

/// The user name of `uid` from `/etc/passwd` (None when absent).
pub fn user_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[0].to_string())
    })
}

/// The first `USER:START:COUNT` range of `user` in a subuid/subgid file's text.
pub fn first_range(text: &str, user: &str) -> Option<(u64, u64)> {
    text.lines().find_map(|l| {
        let mut f = l.trim().split(':');
        if f.next()? != user {
            return None;
        }
        let start = f.next()?.trim().parse().ok()?;
        let count = f.next()?.trim().parse().ok()?;
        Some((start, count))
    })
}

/// LXC's default maps: namespace id 0 onwards mapped onto the caller's first subuid and
/// subgid ranges.
pub fn default_maps(user: &str, subuid: &Path, subgid: &Path) -> Result<Vec<IdMap>, UsernsError> {
    let mut out = Vec::new();
    for (kind, file) in [(IdType::Uid, subuid), (IdType::Gid, subgid)] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let (hostid, range) = first_range(&text, user).ok_or(UsernsError::NoDefaultMap)?;
        out.push(IdMap { kind, nsid: 0, hostid, range });
    }
    Ok(out)
}

/// `-s`: map our own uid and gid to the first namespace ids after the ranges that start at 0
/// (LXC's `do_map_self`).
pub fn add_self(maps: &mut Vec<IdMap>, uid: u32, gid: u32) {
    let next = |kind: IdType| {
        let mut id = 0u64;
        for m in maps.iter().filter(|m| m.kind == kind) {
            if id >= m.nsid && id < m.nsid + m.range {
                id += m.range;
            }
        }
        id
    };
    let (nsgid, nsuid) = (next(IdType::Gid), next(IdType::Uid));
    maps.push(IdMap { kind: IdType::Gid, nsid: nsgid, hostid: u64::from(gid), range: 1 });
    maps.push(IdMap { kind: IdType::Uid, nsid: nsuid, hostid: u64::from(uid), range: 1 });
}

/// A setuid-root (or file-capability) helper on PATH, e.g. `newuidmap`.
fn privileged_helper(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin:/usr/sbin:/sbin".into());
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| {
        p.metadata()
            .map(|m| m.is_file() && ((m.mode() & 0o4000 != 0 && m.uid() == 0) || has_file_caps(p)))
            .unwrap_or(false)
    })
}

fn has_file_caps(p: &Path) -> bool {
    rustix::fs::getxattr(p, "security.capability", &mut [0u8; 64]).is_ok()
}

/// Write `maps` for `pid`: root writes `/proc/PID/{uid,gid}_map` itself; others use
/// `newuidmap`/`newgidmap` when installed, else write directly (own ids only, `setgroups` set
/// to `deny` first as the kernel requires for an unprivileged gid map).
pub fn map_ids(pid: i32, maps: &[IdMap]) -> Result<(), UsernsError> {
    let map_err = |reason: String| UsernsError::Map { pid, reason };
    let root = rustix::process::geteuid().is_root();
    let helpers = (privileged_helper("newuidmap"), privileged_helper("newgidmap"));
    if root {
        debug!("writing the id maps of {pid} directly");
        return crate::idmap::write_maps(pid, maps).map_err(|e| map_err(e.to_string()));
    }
    if let (Some(nu), Some(ng)) = helpers {
        for (kind, tool) in [(IdType::Uid, nu), (IdType::Gid, ng)] {
            let args: Vec<String> = maps
                .iter()
                .filter(|m| m.kind == kind)
                .flat_map(|m| [m.nsid.to_string(), m.hostid.to_string(), m.range.to_string()])
                .collect();
            if args.is_empty() {
                continue;
            }
            debug!("running {} {pid} {}", tool.display(), args.join(" "));
            let out = Command::new(&tool)
                .arg(pid.to_string())
                .args(&args)
                .output()
                .map_err(|e| map_err(format!("{}: {e}", tool.display())))?;
            if !out.status.success() {
                return Err(map_err(format!(
                    "{} failed to write mapping \"{}\": {} {pid} {}",
                    tool.display(),
                    String::from_utf8_lossy(&out.stderr).trim(),
                    tool.display(),
                    args.join(" ")
                )));
            }
        }
        return Ok(());
    }
    if maps.iter().any(|m| m.kind == IdType::Gid) {
        std::fs::write(format!("/proc/{pid}/setgroups"), "deny\n")
            .map_err(|e| map_err(format!("write /proc/{pid}/setgroups: {e}")))?;
    }
    crate::idmap::write_maps(pid, maps).map_err(|e| map_err(e.to_string()))
}

/// Whether `/` is a shared mount in our mount namespace (LXC's `detect_shared_rootfs`).
fn shared_rootfs() -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|mi| {
            mi.lines().any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 6 && f[4] == "/" && f[6..].iter().take_while(|x| **x != "-").any(|x| x.starts_with("shared:"))
            })
        })
        .unwrap_or(false)
}

/// Child side after the maps are written: become root of the namespace, take a private mount
/// namespace (`/` made a dependent mount so nothing propagates back), exec. Never returns.
fn child_exec(argv: &[OsString]) -> ! {
    if let Err(e) = rlxc_sys::process::drop_groups() {
        // setgroups is denied when only the caller's own gid could be mapped.
        if e.raw_os_error() != Some(libc::EPERM) {
            eprintln!("lxc-usernsexec: Failed to drop supplementary groups: {e}");
            rlxc_sys::forkexec::exit_now(1);
        }
    }
    if let Err(e) = rlxc_sys::forkexec::set_gid(0).and_then(|_| rlxc_sys::forkexec::set_uid(0)) {
        eprintln!("lxc-usernsexec: Failed to switch to uid/gid 0: {e}");
        rlxc_sys::forkexec::exit_now(1);
    }
    if let Err(e) = rlxc_sys::ns::unshare(libc::CLONE_NEWNS) {
        eprintln!("lxc-usernsexec: Failed to unshare mount namespace: {e}");
        rlxc_sys::forkexec::exit_now(1);
    }
    if shared_rootfs() {
        let flags = libc::MS_SLAVE | libc::MS_REC;
        if let Err(e) = rlxc_sys::mount::mount(None, Path::new("/"), None, flags, None) {
            eprintln!("lxc-usernsexec: Failed to make / a dependent mount: {e}");
            rlxc_sys::forkexec::exit_now(1);
        }
    }
    let e = rlxc_sys::forkexec::execvp(argv);
    eprintln!("lxc-usernsexec: Failed to execute \"{}\": {e}", argv[0].to_string_lossy());
    rlxc_sys::forkexec::exit_now(1)
}

/// Fork a child that unshares user and mount namespaces, map it with `maps`, let it exec
/// `argv` (default `/bin/sh`), and return its exit status (128+N when killed by signal N).
pub fn run(maps: &[IdMap], argv: &[OsString]) -> Result<i32, UsernsError> {
    let default = [OsString::from("/bin/sh")];
    let argv = if argv.is_empty() { &default[..] } else { argv };
    let (mut ready_r, mut ready_w) = pipe()?;
    let (mut go_r, mut go_w) = pipe()?;
    match rlxc_sys::forkexec::fork().map_err(io_err("fork"))? {
        rlxc_sys::forkexec::Forked::Child => {
            drop(ready_r);
            drop(go_w);
            if let Err(e) = rlxc_sys::ns::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) {
                eprintln!("lxc-usernsexec: Failed to unshare mount and user namespace: {e}");
                rlxc_sys::forkexec::exit_now(1);
            }
            if ready_w.write_all(b"1").is_err() {
                rlxc_sys::forkexec::exit_now(1);
            }
            drop(ready_w);
            let mut b = [0u8; 1];
            if go_r.read_exact(&mut b).is_err() || b[0] != b'1' {
                // The parent could not map us and said why.
                rlxc_sys::forkexec::exit_now(1);
            }
            drop(go_r);
            child_exec(argv)
        }
        rlxc_sys::forkexec::Forked::Parent(pid) => {
            drop(ready_w);
            drop(go_r);
            let mut b = [0u8; 1];
            let unshared = ready_r.read_exact(&mut b).is_ok();
            let mapped = if unshared { map_ids(pid, maps) } else { Ok(()) };
            let go: &[u8] = if unshared && mapped.is_ok() { b"1" } else { b"0" };
            let _ = go_w.write_all(go);
            drop(go_w);
            let status = rlxc_sys::forkexec::wait_exit(pid).map_err(io_err("wait for the child"))?;
            if let Err(e) = mapped {
                error!("{e}");
                return Err(e);
            }
            Ok(status.shell_status())
        }
    }
}

fn pipe() -> Result<(std::fs::File, std::fs::File), UsernsError> {
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| UsernsError::Io { what: "create a pipe", source: e.into() })?;
    Ok((std::fs::File::from(r), std::fs::File::from(w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_maps() {
        let m = parse_map("b:0:100000:65536").expect("parses");
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].kind, m[0].nsid, m[0].hostid, m[0].range), (IdType::Uid, 0, 100000, 65536));
        assert_eq!(m[1].kind, IdType::Gid);
        assert_eq!(parse_map("g:1:2:3").expect("parses")[0].kind, IdType::Gid);
        for bad in ["x:1:2:3", "u:1:2", "u:a:2:3", "u:1:2:0", "", "u:1:2:3:4"] {
            assert!(parse_map(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_maps_and_self() {
        assert_eq!(first_range("root:100000:65536\nbob:200000:10\n", "bob"), Some((200000, 10)));
        assert_eq!(first_range("bobby:1:2\n", "bob"), None);
        assert_eq!(user_name("root:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/h:/bin/sh\n", 1000).as_deref(), Some("bob"));
        let mut maps = parse_map("b:0:100000:65536").expect("parses");
        add_self(&mut maps, 1000, 1001);
        let last: Vec<(IdType, u64, u64)> = maps[2..].iter().map(|m| (m.kind, m.nsid, m.hostid)).collect();
        assert_eq!(last, vec![(IdType::Gid, 65536, 1001), (IdType::Uid, 65536, 1000)]);
    }
}
