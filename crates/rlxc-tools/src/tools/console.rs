//! `lxc-console`: attach the terminal to a tty (or the console) of a running container.
//! With `--log` (`-L`, rlxc's addition) print the console ring buffer instead; `--clear`
//! empties it.

use std::io::Write;

use rlxc_core::attach::console::{self, ConsoleEnd};

use crate::args::{self, Opt};

const PROG: &str = "lxc-console";

const OPTS: &[Opt] = &[Opt::arg('t', "tty"), Opt::arg('e', "escape"), Opt::flag('L', "log"), Opt::long_flag("clear")];

const HELP: &str = "--name=NAME [--tty NUMBER]

lxc-console logs on the container with the identifier NAME

Options :
  -n, --name=NAME      NAME of the container
  -t, --tty=NUMBER     console tty number
  -e, --escape=PREFIX  prefix for escape command
  -L, --log            print the console ring buffer (lxc.console.buffer.size) and exit
      --clear          clear the console ring buffer (with -L: after printing it)

Common options :
  -o, --logfile=FILE               Output log to FILE instead of stderr
  -l, --logpriority=LEVEL          Set log priority to LEVEL
  -q, --quiet                      Don't produce any output
  -P, --lxcpath=PATH               Use specified container path
  -?, --help                       Give this help list
      --usage                      Give a short usage message
      --version                    Print the version number
";

/// Entry point; `args` excludes the program name.
pub fn main(argv: &[String]) -> i32 {
    let p = match args::parse(argv, OPTS, false) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{PROG}: {e}");
            eprintln!("{PROG}: could not parse command line");
            return 1;
        }
    };
    if p.has("help") {
        print!("Usage: {PROG} {HELP}");
        return 0;
    }
    if p.has("usage") {
        println!("Usage: {PROG} --name=NAME [--tty NUMBER]");
        return 0;
    }
    if p.has("version") {
        println!("{}", crate::VERSION);
        return 0;
    }
    let name = p.value("name").map(str::to_string).or_else(|| p.positional.first().cloned()).unwrap_or_default();
    if !name.is_empty() {
        if let Err(e) = rlxc_core::lxcpath::check_name(&name) {
            eprintln!("lxc-console: {e}");
            return 1;
        }
    }
    if name.is_empty() {
        eprintln!("{PROG}: missing container name, use --name option");
        return 1;
    }
    let lxcpath = rlxc_core::lxcpath::resolve(p.value("lxcpath"));
    rlxc_core::log::init(PROG, p.has("quiet"));
    rlxc_core::log::set_name(&name);
    if let Some(l) = p.value("logpriority") {
        if let Some(level) = rlxc_config::LogLevel::parse(l) {
            rlxc_core::log::set_cmdline_level(level);
        }
    }
    if let Some(f) = p.value("logfile") {
        if f != "none" {
            if let Err(e) = rlxc_core::log::set_file(std::path::Path::new(f), true) {
                eprintln!("{PROG}: cannot open log file {f}: {e}");
                return 1;
            }
        }
    }
    if p.has("log") || p.has("clear") {
        return match console::console_log(&name, &lxcpath, p.has("log"), p.has("clear")) {
            Ok(data) => {
                let _ = std::io::stdout().write_all(&data);
                0
            }
            Err(e) => {
                eprintln!("{PROG}: {e}");
                1
            }
        };
    }
    let ttynum = match p.value("tty").map(|t| t.parse::<i32>()) {
        None => -1,
        Some(Ok(n)) if n >= 0 => n,
        Some(_) => {
            eprintln!("{PROG}: invalid tty number {:?}", p.value("tty").unwrap_or(""));
            return 1;
        }
    };
    let escape = match p.value("escape") {
        None => 1,
        Some(e) => match console::parse_escape(e) {
            Some(c) => c,
            None => {
                eprintln!("{PROG}: invalid escape character {e:?} (expected a letter, e.g. -e b or -e ^b)");
                return 1;
            }
        },
    };
    match console::console(&name, &lxcpath, ttynum, escape) {
        Ok(ConsoleEnd::Escaped) | Ok(ConsoleEnd::Detached) => 0,
        Ok(ConsoleEnd::HungUp) => {
            eprintln!("\r\n{PROG}: the console of {name:?} was closed (container stopped?)\r");
            0
        }
        Err(e) => {
            eprintln!("{PROG}: {e}");
            1
        }
    }
}
