//! `lxc-attach`: run a command (default: the user's shell) inside a running container.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use rlxc_core::attach::{self, options, AttachCommand, AttachOptions, EnvPolicy};

use crate::args::{self, Opt};

const PROG: &str = "lxc-attach";

const OPTS: &[Opt] = &[
    Opt::optional('e', "elevated-privileges"),
    Opt::arg('a', "arch"),
    Opt::arg('s', "namespaces"),
    Opt::flag('R', "remount-sys-proc"),
    Opt::long_flag("clear-env"),
    Opt::long_flag("keep-env"),
    Opt::long_arg("keep-var"),
    Opt::arg('v', "set-var"),
    Opt::arg('L', "pty-log"),
    Opt::arg('f', "rcfile"),
    Opt::arg('u', "uid"),
    Opt::arg('g', "gid"),
];

const HELP: &str = "--name=NAME [-- COMMAND]

Execute the specified COMMAND - enter the container NAME

Options :
  -n, --name=NAME   NAME of the container
  -e, --elevated-privileges=PRIVILEGES
                    Use elevated privileges instead of those of the
                    container. If you don't specify privileges to be
                    elevated as OR'd list: CAP, CGROUP and LSM (capabilities,
                    cgroup and restrictions, respectively) then all of them
                    will be elevated.
                    WARNING: This may leak privileges into the container.
                    Use with care.
  -a, --arch=ARCH   Use ARCH for program instead of container's own
                    architecture.
  -s, --namespaces=FLAGS
                    Don't attach to all the namespaces of the container
                    but just to the following OR'd list of flags:
                    MOUNT, PID, UTSNAME, IPC, USER or NETWORK.
                    WARNING: Using -s implies -e with all privileges
                    elevated, it may therefore leak privileges into the
                    container. Use with care.
  -R, --remount-sys-proc
                    Remount /sys and /proc if not attaching to the
                    mount namespace when using -s in order to properly
                    reflect the correct namespace context. See the
                    lxc-attach(1) manual page for details.
      --clear-env   Clear all environment variables before attaching.
                    The attached shell/program will start with only
                    container=lxc set.
      --keep-env    Keep all current environment variables. This
                    is the current default behaviour, but is likely to
                    change in the future.
  -L, --pty-log=FILE
                    Log pty output to FILE
  -v, --set-var     Set an additional variable that is seen by the
                    attached program in the container. May be specified
                    multiple times.
      --keep-var    Keep an additional environment variable. Only
                    applicable if --clear-env is specified. May be used
                    multiple times.
  -f, --rcfile=FILE
                    Load configuration file FILE
  -u, --uid=UID     Execute COMMAND with UID inside the container
  -g, --gid=GID     Execute COMMAND with GID inside the container

Common options :
  -o, --logfile=FILE               Output log to FILE instead of stderr
  -l, --logpriority=LEVEL          Set log priority to LEVEL
  -q, --quiet                      Don't produce any output
  -P, --lxcpath=PATH               Use specified container path
  -?, --help                       Give this help list
      --usage                      Give a short usage message
      --version                    Print the version number
";

/// What the command line asked for.
#[derive(Debug)]
struct Cli {
    name: String,
    lxcpath: String,
    opts: AttachOptions,
    command: AttachCommand,
    rcfile: Option<PathBuf>,
}

fn parse_id(what: &str, v: &str) -> Result<u32, String> {
    v.parse::<u32>().map_err(|_| format!("invalid {what} {v:?} (expected a number)"))
}

/// Parse the command line. `Err(code)` means: exit now with `code` (help, version, errors).
fn parse_cli(argv: &[String]) -> Result<Cli, i32> {
    let p = match args::parse(argv, OPTS, true) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{PROG}: {e}");
            eprintln!("{PROG}: could not parse command line");
            return Err(1);
        }
    };
    if p.has("help") {
        print!("Usage: {PROG} {HELP}");
        return Err(0);
    }
    if p.has("usage") {
        println!("Usage: {PROG} --name=NAME [-- COMMAND]");
        return Err(0);
    }
    if p.has("version") {
        println!("{}", crate::VERSION);
        return Err(0);
    }
    // What follows the options: [NAME] [--] [COMMAND...].
    let mut rest: Vec<String> = p.positional.clone();
    rest.extend(p.trailing.iter().cloned());
    let name = match p.value("name") {
        Some(n) => n.to_string(),
        None if !p.positional.is_empty() => rest.remove(0),
        None => {
            eprintln!("{PROG}: missing container name, use --name option");
            return Err(1);
        }
    };
    if let Err(e) = rlxc_core::lxcpath::check_name(&name) {
        eprintln!("{PROG}: {e}");
        return Err(1);
    }
    if name.is_empty() {
        eprintln!("{PROG}: missing container name, use --name option");
        return Err(1);
    }
    if rest.first().map(String::as_str) == Some("--") && !p.saw_double_dash {
        rest.remove(0);
    }

    let fail = |msg: String| {
        eprintln!("{PROG}: {msg}");
        1
    };
    let mut o = AttachOptions { terminal: true, ..AttachOptions::default() };
    for g in &p.opts {
        match g.long {
            "elevated-privileges" => {
                o.flags &= !options::parse_elevated_privileges(g.value.as_deref()).map_err(fail)?;
            }
            "namespaces" => {
                o.namespaces = Some(options::parse_namespaces(g.value.as_deref().unwrap_or("")).map_err(fail)?);
                // -s implies -e with everything elevated (LXC).
                o.flags &= !options::parse_elevated_privileges(None).map_err(fail)?;
            }
            "arch" => {
                let a = g.value.as_deref().unwrap_or("");
                o.personality = Some(rlxc_sys::personality::parse_arch(a).ok_or_else(|| {
                    fail(format!(
                        "invalid architecture {a:?} (known: {})",
                        rlxc_sys::personality::arch_names().collect::<Vec<_>>().join(" ")
                    ))
                })?);
            }
            "remount-sys-proc" => o.flags |= options::REMOUNT_PROC_SYS,
            "clear-env" => o.env_policy = EnvPolicy::Clear,
            "keep-env" => o.env_policy = EnvPolicy::Keep,
            "keep-var" => o.extra_keep_env.extend(g.value.clone()),
            "set-var" => o.extra_env.extend(g.value.clone()),
            "pty-log" => o.pty_log = g.value.as_ref().map(PathBuf::from),
            "uid" => o.uid = Some(parse_id("uid", g.value.as_deref().unwrap_or("")).map_err(fail)?),
            "gid" => o.gid = Some(parse_id("gid", g.value.as_deref().unwrap_or("")).map_err(fail)?),
            _ => {}
        }
    }
    let command = if rest.is_empty() {
        AttachCommand::Shell
    } else {
        AttachCommand::Argv(rest.into_iter().map(OsString::from).collect())
    };
    let lxcpath = rlxc_core::lxcpath::resolve(p.value("lxcpath"));
    init_logging(&p, &name)?;
    Ok(Cli { name, lxcpath, opts: o, command, rcfile: p.value("rcfile").map(PathBuf::from) })
}

fn init_logging(p: &args::Parsed, name: &str) -> Result<(), i32> {
    rlxc_core::log::init(PROG, p.has("quiet"));
    rlxc_core::log::set_name(name);
    if let Some(l) = p.value("logpriority") {
        if let Some(level) = rlxc_config::LogLevel::parse(l) {
            rlxc_core::log::set_cmdline_level(level);
        }
    }
    if let Some(f) = p.value("logfile") {
        if f != "none" {
            if let Err(e) = rlxc_core::log::set_file(Path::new(f), true) {
                eprintln!("{PROG}: cannot open log file {f}: {e}");
                return Err(1);
            }
        }
    }
    Ok(())
}

/// Entry point; `args` excludes the program name.
pub fn main(argv: &[String]) -> i32 {
    let cli = match parse_cli(argv) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // Run from a sealed image of ourselves from here on (CVE-2019-5736 class, rlxc_sys::sealed_exe).
    // Only returns when the re-exec was not needed or failed; a failure leaves us running
    // from the installed binary, which still works.
    // Overlap the kernel's wait before the first cgroup migration with the re-exec (see
    // warm_up_migrations); the re-executed image runs sealed and skips it.
    let _ = rlxc_sys::sealed_exe::reexec_self_sealed(rlxc_core::cgroups::warm_up_migrations);
    let mut opts = cli.opts;
    if let Some(rc) = &cli.rcfile {
        opts.rcfile = Some(rc.clone());
    }
    match attach::attach(&cli.name, &cli.lxcpath, &opts, &cli.command) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("{PROG}: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    fn cmd(c: &Cli) -> Vec<String> {
        match &c.command {
            AttachCommand::Argv(a) => a.iter().map(|x| x.to_string_lossy().into_owned()).collect(),
            AttachCommand::Shell => vec![],
        }
    }

    #[test]
    fn command_forms() {
        let c = parse_cli(&v(&["-n", "c1", "--", "sh", "-c", "exit 3"])).expect("ok");
        assert_eq!((c.name.as_str(), cmd(&c)), ("c1", v(&["sh", "-c", "exit 3"])));
        let c = parse_cli(&v(&["-n", "c1", "ls", "-l"])).expect("ok");
        assert_eq!(cmd(&c), v(&["ls", "-l"]));
        let c = parse_cli(&v(&["c1", "--", "hostname"])).expect("ok");
        assert_eq!((c.name.as_str(), cmd(&c)), ("c1", v(&["hostname"])));
        let c = parse_cli(&v(&["-n", "c1"])).expect("ok");
        assert_eq!(c.command, AttachCommand::Shell);
        let c = parse_cli(&v(&["-n", "c1", "--"])).expect("ok");
        assert_eq!(c.command, AttachCommand::Shell);
    }

    #[test]
    fn options_map_to_flags() {
        let c = parse_cli(&v(&["-n", "c", "-e", "--", "true"])).expect("ok");
        assert_eq!(c.opts.flags & (options::MOVE_TO_CGROUP | options::DROP_CAPABILITIES | options::LSM_EXEC), 0);
        let c = parse_cli(&v(&["-n", "c", "-e=CAP", "--", "true"])).expect("ok");
        assert_eq!(c.opts.flags & options::DROP_CAPABILITIES, 0);
        assert_ne!(c.opts.flags & options::MOVE_TO_CGROUP, 0);
        let c = parse_cli(&v(&["-n", "c", "-s", "NETWORK|UTSNAME", "-R", "--", "true"])).expect("ok");
        assert_eq!(c.opts.namespaces, Some(libc::CLONE_NEWNET | libc::CLONE_NEWUTS));
        assert_eq!(c.opts.flags & options::MOVE_TO_CGROUP, 0);
        assert_ne!(c.opts.flags & options::REMOUNT_PROC_SYS, 0);
        let c = parse_cli(&v(&[
            "-n",
            "c",
            "--clear-env",
            "--keep-var",
            "TERM",
            "-v",
            "A=1",
            "-u",
            "1000",
            "-g",
            "100",
            "-a",
            "i686",
            "--",
            "true",
        ]))
        .expect("ok");
        assert_eq!(c.opts.env_policy, EnvPolicy::Clear);
        assert_eq!(c.opts.extra_keep_env, v(&["TERM"]));
        assert_eq!(c.opts.extra_env, v(&["A=1"]));
        assert_eq!((c.opts.uid, c.opts.gid), (Some(1000), Some(100)));
        assert_eq!(c.opts.personality, Some(rlxc_sys::personality::PER_LINUX32));
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse_cli(&v(&["-n", "c", "-s", "BOGUS"])).is_err());
        assert!(parse_cli(&v(&["-n", "c", "-a", "vax"])).is_err());
        assert!(parse_cli(&v(&["-n", "c", "-u", "root"])).is_err());
        assert!(parse_cli(&v(&["-e=NET", "-n", "c"])).is_err());
        assert!(parse_cli(&v(&[])).is_err());
    }
}
