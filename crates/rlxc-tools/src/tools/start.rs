//! `lxc-start`: start a container. `-d` (the default) returns once it is RUNNING, or fails with
//! the reason; `-F` keeps the monitor in the foreground with the console on this terminal.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rlxc_core::container::{set_config_item, Container};
use rlxc_core::start::StartOptions;

use crate::args::{self, Opt, Parsed};

const OPTS: &[Opt] = &[
    Opt::flag('d', "daemon"),
    Opt::flag('F', "foreground"),
    Opt::arg('p', "pidfile"),
    Opt::arg('f', "rcfile"),
    Opt::arg('c', "console"),
    Opt::arg('L', "console-log"),
    Opt::flag('C', "close-all-fds"),
    Opt::arg('s', "define"),
    Opt::long_arg("share-net"),
    Opt::long_arg("share-ipc"),
    Opt::long_arg("share-uts"),
    Opt::long_arg("share-pid"),
];

const HELP: &str = "--name=NAME -- COMMAND

lxc-start start COMMAND in specified container NAME

Options :
  -n, --name=NAME        NAME of the container
  -d, --daemon           Daemonize the container (default)
  -F, --foreground       Start with the current tty attached to /dev/console
  -p, --pidfile=FILE     Create a file with the process id
  -f, --rcfile=FILE      Load configuration file FILE
  -c, --console=FILE     Use specified FILE for the container console
  -L, --console-log=FILE Log container console output to FILE
  -C, --close-all-fds    If any fds are inherited, close them
                         Note: --daemon implies --close-all-fds
  -s, --define KEY=VAL   Assign VAL to configuration variable KEY
      --share-[net|ipc|uts|pid]=NAME Share a namespace with another container or pid
";

/// What every lifecycle tool gets after option parsing.
pub(crate) struct Cli {
    pub prog: &'static str,
    pub name: String,
    pub lxcpath: String,
    pub parsed: Parsed,
    /// Positional arguments after the name (lxc-start's command).
    pub rest: Vec<String>,
}

/// Parse, handle --help/--usage/--version, take the name from `-n` or the first positional,
/// and set up logging (`-o`, `-l`, `-q`; a `-l` without `-o` logs to `<lxcpath>/<name>/<name>.log`).
pub(crate) fn parse_cli(
    prog: &'static str,
    args: &[String],
    opts: &[Opt],
    help: &str,
    stop_at_positional: bool,
) -> Result<Cli, i32> {
    let parsed = match args::parse(args, opts, stop_at_positional) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{prog}: {e}");
            eprintln!("{prog}: could not parse command line");
            return Err(1);
        }
    };
    if parsed.has("help") {
        print!("Usage: {prog} {help}");
        return Err(0);
    }
    if parsed.has("usage") {
        println!("Usage: {prog} {}", help.lines().next().unwrap_or(""));
        return Err(0);
    }
    if parsed.has("version") {
        println!("{}", crate::VERSION);
        return Err(0);
    }
    let mut rest: Vec<String> = parsed.positional.iter().chain(parsed.trailing.iter()).cloned().collect();
    let name = match parsed.value("name") {
        Some(n) => n.to_string(),
        None if !parsed.positional.is_empty() => rest.remove(0),
        None => String::new(),
    };
    if name.is_empty() {
        eprintln!("{prog}: missing container name, use --name option");
        return Err(1);
    }
    let lxcpath = rlxc_core::lxcpath::resolve(parsed.value("lxcpath"));
    rlxc_core::log::init(prog, parsed.has("quiet"));
    rlxc_core::log::set_name(&name);
    if let Some(l) = parsed.value("logpriority") {
        match rlxc_config::LogLevel::parse(l) {
            Some(level) => rlxc_core::log::set_cmdline_level(level),
            None => {
                eprintln!("{prog}: invalid log priority \"{l}\"");
                return Err(1);
            }
        }
    }
    let logfile = match (parsed.value("logfile"), parsed.value("logpriority")) {
        (Some(f), _) => Some(PathBuf::from(f)),
        (None, Some(_)) if Path::new(&lxcpath).join(&name).is_dir() => {
            Some(rlxc_core::paths::default_log_path(&lxcpath, &name))
        }
        _ => None,
    };
    if let Some(f) = logfile {
        if let Err(e) = rlxc_core::log::set_file(&f, true) {
            eprintln!("{prog}: cannot open log file {}: {e}", f.display());
            return Err(1);
        }
    }
    Ok(Cli { prog, name, lxcpath, parsed, rest })
}

/// Apply the container config's own log settings (`lxc.log.file`, `lxc.log.level`).
pub(crate) fn apply_config_logging(c: &Container) {
    if let Some(l) = c.conf.log.level {
        rlxc_core::log::set_config_level(l);
    }
    if let Some(f) = c.conf.log.file.as_deref() {
        if let Err(e) = rlxc_core::log::set_file(Path::new(f), false) {
            eprintln!("lxc.log.file \"{f}\": {e}");
        }
    }
}

/// `-p FILE` must be creatable (LXC's ensure_path) and `-c FILE` openable for writing.
fn check_cli_paths(cli: &Cli) -> Result<(), String> {
    if let Some(p) = cli.parsed.value("pidfile") {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(p)
            .map_err(|e| format!("cannot create pid file \"{p}\": {e}"))?;
    }
    if let Some(p) = cli.parsed.value("console") {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .custom_flags(libc::O_NOCTTY)
            .open(p)
            .map_err(|e| format!("cannot use console \"{p}\": {e}"))?;
    }
    Ok(())
}

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let cli = match parse_cli("lxc-start", args, OPTS, HELP, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let prog = cli.prog;
    let rcfile = cli.parsed.value("rcfile").map(PathBuf::from);
    let mut c = match Container::new(&cli.name, &cli.lxcpath, rcfile.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{prog}: {}: {e}", cli.name);
            return 1;
        }
    };
    if !c.is_defined() && rcfile.is_none() {
        eprintln!("{prog}: {}: No container config specified", cli.name);
        return 1;
    }
    apply_config_logging(&c);
    let mut sets: Vec<(String, String)> = Vec::new();
    for d in cli.parsed.values("define") {
        match d.split_once('=') {
            Some((k, v)) => sets.push((k.trim().to_string(), v.trim().to_string())),
            None => {
                eprintln!("{prog}: -s {d}: expected KEY=VAL");
                return 1;
            }
        }
    }
    if let Some(v) = cli.parsed.value("console") {
        sets.push(("lxc.console.path".into(), v.into()));
    }
    if let Some(v) = cli.parsed.value("console-log") {
        sets.push(("lxc.console.logfile".into(), v.into()));
    }
    for ns in ["net", "ipc", "uts", "pid"] {
        if let Some(v) = cli.parsed.value(&format!("share-{ns}")) {
            sets.push((format!("lxc.namespace.share.{ns}"), v.into()));
        }
    }
    for (k, v) in &sets {
        if let Err(e) = set_config_item(&mut c.conf, k, v) {
            eprintln!("{prog}: {}: {k} = {v}: {e}", cli.name);
            return 1;
        }
    }
    apply_config_logging(&c);
    // Paths given on the command line are checked before anything starts, as LXC does: a start
    // that would lose its pid file or console is refused, not half done.
    if let Err(e) = check_cli_paths(&cli) {
        eprintln!("{prog}: {}: {e}", cli.name);
        return 1;
    }
    if c.is_running() {
        eprintln!("{prog}: {}: Container is already running.", cli.name);
        return 0;
    }
    // Run from a sealed image of ourselves from here on (rlxc_sys::sealed_exe), so the
    // container can never reach our binary through /proc (CVE-2019-5736 class). The re-exec'ed
    // process parses the same argv.
    // On failure we carry on from the installed binary (as attach does).
    // Overlap the kernel's wait before the first cgroup migration with the re-exec (see
    // warm_up_migrations); the re-executed image runs sealed and skips it.
    let _ = rlxc_sys::sealed_exe::reexec_self_sealed(rlxc_core::cgroups::warm_up_migrations);
    let foreground = cli.parsed.has("foreground");
    let opts = StartOptions {
        daemonize: !foreground,
        argv: (!cli.rest.is_empty()).then(|| cli.rest.clone()),
        pidfile: cli.parsed.value("pidfile").map(|p| {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
            }
        }),
        close_all_fds: cli.parsed.has("close-all-fds"),
        foreground_console: foreground,
    };
    match c.start(&opts) {
        Ok(code) => {
            if foreground {
                code
            } else {
                0
            }
        }
        Err(e) => {
            eprintln!("{prog}: {}: {e}", cli.name);
            eprintln!("{prog}: {}: The container failed to start", cli.name);
            if !foreground {
                eprintln!("{prog}: {}: To get more details, run the container in foreground mode", cli.name);
            }
            eprintln!(
                "{prog}: {}: Additional information can be obtained by setting the --logfile and --logpriority options",
                cli.name
            );
            1
        }
    }
}
