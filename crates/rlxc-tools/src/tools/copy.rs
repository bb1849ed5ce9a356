//! `lxc-copy`: clone a container (copy, or snapshot with `-s`), rename it (`-R`), or start an
//! ephemeral overlay clone (`-e`), as LXC 4.0's `lxc-copy`.

use rlxc_core::clone::{clone_container, parse_fssize, CloneError, CloneOptions};
use rlxc_core::container::Container;
use rlxc_core::start::StartOptions;

use super::cmd_common;
use crate::args::Opt;

const PROG: &str = "lxc-copy";

const OPTS: &[Opt] = &[
    Opt::arg('N', "newname"),
    Opt::arg('p', "newpath"),
    Opt::flag('R', "rename"),
    Opt::flag('s', "snapshot"),
    Opt::flag('a', "allowrunning"),
    Opt::flag('F', "foreground"),
    Opt::flag('d', "daemon"),
    Opt::flag('e', "ephemeral"),
    Opt::arg('m', "mount"),
    Opt::arg('B', "backingstorage"),
    Opt::flag('t', "tmpfs"),
    Opt::arg('L', "fssize"),
    Opt::flag('D', "keepdata"),
    Opt::flag('K', "keepname"),
    Opt::flag('M', "keepmac"),
];

const HELP: &str = "
--name=NAME [-P lxcpath] -N newname [-p newpath] [-B backingstorage] [-s] [-K] [-M] [-L size [unit]] -- hook options
--name=NAME [-P lxcpath] [-N newname] [-p newpath] [-B backingstorage] -e [-d] [-D] [-K] [-M] [-m {bind,overlay}=/src:/dest] -- hook options
--name=NAME [-P lxcpath] -N newname -R

lxc-copy clone a container

Options :
  -n, --name=NAME           NAME of the container
  -N, --newname=NEWNAME     NEWNAME for the restored container
  -p, --newpath=NEWPATH     NEWPATH for the container to be stored
  -R, --rename              rename container
  -s, --snapshot            create snapshot instead of clone
  -a, --allowrunning        allow snapshot creation even if source container is running
  -F, --foreground          start with current tty attached to /dev/console
  -d, --daemon              daemonize the container (default)
  -e, --ephemeral           start ephemeral container
  -m, --mount               directory to mount into container, either 
                            {bind,overlay}=/src-path or {bind,overlay}=/src-path:/dst-path
  -B, --backingstorage=TYPE backingstorage type for the container
  -t, --tmpfs               place ephemeral container on a tmpfs
                            (WARNING: On reboot all changes made to the container will be lost.)
  -L, --fssize              size of the new block device for block device containers
  -D, --keepdata            pass together with -e start a persistent snapshot 
  -K, --keepname            keep the hostname of the original container
  --  hook options          arguments passed to the hook program
  -M, --keepmac             keep the MAC address of the original container
  --rcfile=FILE             Load configuration file FILE
";

/// One `-m` request.
#[derive(Debug, PartialEq)]
enum Mnt {
    Bind { src: String, dst: String },
    Overlay { src: String, dst: String },
}

/// `{bind,overlay}=/src[:/dst]`.
fn parse_mount(s: &str) -> Result<Mnt, String> {
    let (kind, rest) = s.split_once('=').ok_or_else(|| format!("invalid mount \"{s}\""))?;
    let (src, dst) = match rest.split_once(':') {
        Some((a, b)) => (a, b),
        None => (rest, rest),
    };
    if src.is_empty() || dst.is_empty() {
        return Err(format!("invalid mount \"{s}\""));
    }
    let (src, dst) = (src.to_string(), dst.to_string());
    match kind {
        "bind" => Ok(Mnt::Bind { src, dst }),
        "overlay" => Ok(Mnt::Overlay { src, dst }),
        _ => Err(format!("invalid mount type \"{kind}\" (bind or overlay)")),
    }
}

/// A fresh `<name>_XXXXXX` not used in `lxcpath` (LXC makes it with mkdtemp).
fn random_name(lxcpath: &str, name: &str) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut seed = std::fs::read("/proc/sys/kernel/random/uuid").unwrap_or_default();
    loop {
        let suffix: String =
            seed.iter().filter(|b| b.is_ascii_hexdigit()).take(6).map(|b| CHARS[*b as usize % 62] as char).collect();
        let n = format!("{name}_{suffix}");
        if suffix.len() == 6 && !std::path::Path::new(&format!("{lxcpath}/{n}")).exists() {
            return n;
        }
        seed = std::fs::read("/proc/sys/kernel/random/uuid").unwrap_or_default();
    }
}

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let cli = match cmd_common::parse(PROG, args, OPTS, HELP, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let p = &cli.parsed;
    let name = cli.name.clone().unwrap_or_default();
    let ephemeral = p.has("ephemeral");
    let newname = p.value("newname").map(str::to_string);
    if newname.is_none() && !ephemeral {
        eprintln!("{PROG}: {name}: You must provide a NEWNAME for the clone");
        return 1;
    }
    let tmpfs = p.has("tmpfs");
    if tmpfs && !ephemeral {
        eprintln!("{PROG}: {name}: The -t,--tmpfs option can only be used with -e,--ephemeral");
        return 1;
    }
    if tmpfs && !matches!(p.value("backingstorage"), None | Some("overlay") | Some("overlayfs")) {
        eprintln!("{PROG}: {name}: The -t,--tmpfs option can only be used with overlay");
        return 1;
    }
    let fssize = match p.value("fssize").map(parse_fssize) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(e)) => {
            eprintln!("{PROG}: {name}: -L: {e}");
            return 1;
        }
    };
    let mut mounts = Vec::new();
    for m in p.values("mount") {
        match parse_mount(m) {
            Ok(m) => mounts.push(m),
            Err(e) => {
                eprintln!("{PROG}: {name}: {e}");
                return 1;
            }
        }
    }
    let rcfile = p.value("rcfile").map(std::path::PathBuf::from);
    let c = match Container::new(&name, &cli.lxcpath, rcfile.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROG}: {name}: {e}");
            return 1;
        }
    };
    if !c.is_defined() {
        eprintln!("{PROG}: {name}: Container {name} does not exist");
        return 1;
    }
    let newpath = p.value("newpath").map(str::to_string);
    let target_path = newpath.clone().unwrap_or_else(|| cli.lxcpath.clone());
    let newname = newname.unwrap_or_else(|| random_name(&target_path, &name));
    let mut o = CloneOptions {
        newname: newname.clone(),
        newpath,
        snapshot: p.has("snapshot") || ephemeral,
        keepname: p.has("keepname"),
        keepmac: p.has("keepmac"),
        allow_running: p.has("allowrunning"),
        bdev: p.value("backingstorage").map(str::to_string),
        fssize,
        hook_args: p.trailing.clone(),
        into_existing_dir: false,
    };
    if ephemeral && o.bdev.is_none() {
        o.bdev = Some("overlay".into());
    }
    if p.has("rename") {
        return rename(&c, &o);
    }
    let clone = match clone_container(&c, &o) {
        Ok(n) => n,
        Err(e) => return clone_failed(&name, &e),
    };
    if !ephemeral {
        return 0;
    }
    let how = Ephemeral { keepdata: p.has("keepdata"), foreground: p.has("foreground"), tmpfs };
    ephemeral_start(clone, &name, &how, &mounts, cli.parsed.has("quiet"))
}

fn clone_failed(name: &str, e: &CloneError) -> i32 {
    match e {
        CloneError::Running(n) => eprintln!(
            "{PROG}: {name}: error: Original container ({n}) is running. Use --allowrunning if you want to force a snapshot of the running container."
        ),
        e => eprintln!("{PROG}: {name}: {e}"),
    }
    eprintln!("{PROG}: {name}: Failed to clone {name}");
    1
}

/// `-R`: clone under the new name (same lxcpath unless `-p`), then destroy the original.
fn rename(c: &Container, o: &CloneOptions) -> i32 {
    if c.is_running() {
        eprintln!("{PROG}: {}: Container is running", c.name);
        return 1;
    }
    // LXC's rename: a copy keeping the MAC addresses, then destroy; refused with snapshots or
    // with clones depending on the rootfs.
    if !rlxc_core::snapshot::list(c).is_empty() {
        eprintln!("{PROG}: {}: Renaming a container with snapshots is not supported", c.name);
        return 1;
    }
    if rlxc_core::clone::has_dependents(&c.lxcpath, &c.name) {
        eprintln!("{PROG}: {}: Renaming a container with snapshot clones (lxc_snapshots) is not supported", c.name);
        return 1;
    }
    let o = CloneOptions { snapshot: false, allow_running: false, keepmac: true, ..o.clone() };
    match clone_container(c, &o) {
        Ok(_) => {}
        Err(e) => return clone_failed(&c.name, &e),
    }
    if let Err(e) = c.destroy(false) {
        eprintln!("{PROG}: {}: renamed copy made but the original could not be destroyed: {e}", c.name);
        return 1;
    }
    0
}

/// How to run an ephemeral clone.
struct Ephemeral {
    /// `-D`: keep it after it stops.
    keepdata: bool,
    /// `-F`.
    foreground: bool,
    /// `-t`: the overlay's upper and work dirs on a tmpfs.
    tmpfs: bool,
}

/// `-t`: a pre-mount hook (run in the container's mount namespace before the rootfs is mounted)
/// that puts a tmpfs on `<cdir>/overlay`, so the delta lives in memory only (LXC writes the same
/// kind of script as `pre-start-XXXXXX` in the container directory).
fn tmpfs_hook(clone: &mut Container, cdir: &std::path::Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let script = cdir.join("pre-mount-tmpfs");
    let ovl = cdir.join("overlay");
    let text = format!(
        "#!/bin/sh\nset -e\nmount -n -t tmpfs -o mode=0755 none {0}\nmkdir -m 0755 {0}/delta {0}/work\n",
        ovl.display()
    );
    std::fs::write(&script, text).map_err(|e| format!("write {}: {e}", script.display()))?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("chmod {}: {e}", script.display()))?;
    clone.conf.set_item("lxc.hook.pre-mount", &script.to_string_lossy()).map_err(|e| e.to_string())
}

/// `-e`: mark the clone ephemeral (unless `-D`), add the `-m` mounts, start it.
fn ephemeral_start(mut clone: Container, orig: &str, how: &Ephemeral, mounts: &[Mnt], quiet: bool) -> i32 {
    let (keepdata, foreground) = (how.keepdata, how.foreground);
    let cdir = rlxc_core::paths::container_dir(&clone.lxcpath, &clone.name);
    let fail = |msg: String, clone: &Container| {
        eprintln!("{PROG}: {orig}: {msg}");
        let _ = clone.destroy(true);
        1
    };
    if !keepdata {
        if let Err(e) = clone.conf.set_item("lxc.ephemeral", "1") {
            return fail(e.to_string(), &clone);
        }
    }
    if how.tmpfs {
        if let Err(e) = tmpfs_hook(&mut clone, &cdir) {
            return fail(e, &clone);
        }
    }
    for (i, m) in mounts.iter().enumerate() {
        let entry = match m {
            Mnt::Bind { src, dst } => {
                format!("{src} {} none bind,create=dir 0 0", dst.trim_start_matches('/'))
            }
            Mnt::Overlay { src, dst } => {
                let upper = cdir.join(format!("delta{i}"));
                let work = cdir.join(format!("work{i}"));
                for d in [&upper, &work] {
                    if let Err(e) = std::fs::create_dir_all(d) {
                        return fail(format!("create {}: {e}", d.display()), &clone);
                    }
                }
                format!(
                    "{src} {} overlay lowerdir={src},upperdir={},workdir={},create=dir 0 0",
                    dst.trim_start_matches('/'),
                    upper.display(),
                    work.display()
                )
            }
        };
        if let Err(e) = clone.conf.set_item("lxc.mount.entry", &entry) {
            return fail(e.to_string(), &clone);
        }
    }
    if let Err(e) = clone.conf.save(clone.config_path()) {
        return fail(e.to_string(), &clone);
    }
    if !quiet {
        println!("Created {} as clone of {orig}", clone.name);
    }
    let opts = StartOptions {
        daemonize: !foreground,
        argv: None,
        pidfile: None,
        close_all_fds: !foreground,
        foreground_console: foreground,
    };
    match clone.start(&opts) {
        Ok(code) => {
            if foreground {
                code
            } else {
                0
            }
        }
        Err(e) => {
            // An ephemeral container that never ran is removed like one that stopped.
            let name = clone.name.clone();
            if !keepdata && !clone.is_running() && clone.is_defined() {
                clone.conf.ephemeral = true;
                let _ = clone.destroy(false);
            }
            eprintln!("{PROG}: {orig}: {e}");
            eprintln!("{PROG}: {orig}: Failed to start container \"{name}\"");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_requests() {
        assert_eq!(parse_mount("bind=/a"), Ok(Mnt::Bind { src: "/a".into(), dst: "/a".into() }));
        assert_eq!(parse_mount("overlay=/a:/b"), Ok(Mnt::Overlay { src: "/a".into(), dst: "/b".into() }));
        assert!(parse_mount("tmpfs=/a").is_err());
        assert!(parse_mount("/a").is_err());
    }
}
