//! `rlxc`: one multi-call binary. Invoked as `lxc-start`, `lxc-attach`, ... (argv[0] dispatch,
//! the `lxc-*` names are links to this binary) or as `rlxc start ...`, `rlxc config check ...`.

mod args;
mod tools;

use std::path::Path;

/// The version line: LXC compatibility level plus the git commit this binary was built from.
pub const VERSION: &str =
    concat!("rlxc ", env!("CARGO_PKG_VERSION"), " (LXC 4.0 compatible, commit ", env!("RLXC_GIT_COMMIT"), ")");

type ToolMain = fn(&[String]) -> i32;

/// Every tool by its LXC name (without the `lxc-` prefix).
const TOOLS: &[(&str, ToolMain)] = &[
    ("attach", tools::attach::main),
    ("autostart", tools::autostart::main),
    ("cgroup", tools::cgroup::main),
    ("checkpoint", tools::checkpoint::main),
    ("checkconfig", tools::checkconfig::main),
    ("config", tools::config::main),
    ("console", tools::console::main),
    ("copy", tools::copy::main),
    ("create", tools::create::main),
    ("destroy", tools::destroy::main),
    ("device", tools::device::main),
    ("execute", tools::execute::main),
    ("freeze", tools::freeze::main),
    ("info", tools::info::main),
    ("ls", tools::ls::main),
    ("monitor", tools::monitor::main),
    ("monitord", tools::monitord::main),
    ("snapshot", tools::snapshot::main),
    ("start", tools::start::main),
    ("stop", tools::stop::main),
    ("top", tools::top::main),
    ("unfreeze", tools::unfreeze::main),
    ("unshare", tools::unshare::main),
    ("update-config", tools::update_config::main),
    ("usernsexec", tools::usernsexec::main),
    ("wait", tools::wait::main),
];

/// The names `make install` links to this binary (`lxc-<name>`).
pub fn tool_names() -> impl Iterator<Item = &'static str> {
    TOOLS.iter().map(|(n, _)| *n)
}

/// Uniform message for tools that rlxc does not have yet: honest, non-zero.
pub fn not_implemented(tool: &str) -> i32 {
    eprintln!("{tool}: not implemented in rlxc yet");
    1
}

fn find(name: &str) -> Option<ToolMain> {
    TOOLS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

fn usage() -> i32 {
    eprintln!("usage: rlxc TOOL [ARGS...]   (or call it as lxc-TOOL)");
    eprintln!("       rlxc config check|get|keys|show ...");
    eprintln!("       rlxc --version | rlxc tools");
    eprintln!("tools: {}", tool_names().collect::<Vec<_>>().join(" "));
    1
}

fn main() {
    // A closed pipe ends the tool quietly (status 141), as it ends LXC's C tools.
    rlxc_sys::process::default_signal(libc::SIGPIPE);
    // Arguments are paths and names: a non-UTF-8 one is refused with a message, never a panic.
    let argv: Vec<String> = match std::env::args_os().map(|a| a.into_string()).collect::<Result<_, _>>() {
        Ok(v) => v,
        Err(bad) => {
            eprintln!("rlxc: argument {bad:?} is not valid UTF-8");
            std::process::exit(1);
        }
    };
    let prog = argv
        .first()
        .map(|a| Path::new(a).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default())
        .unwrap_or_default();
    let code = if let Some(tool) = prog.strip_prefix("lxc-") {
        match find(tool) {
            Some(f) => f(&argv[1..]),
            None => {
                eprintln!("rlxc: unknown tool name {prog:?}");
                1
            }
        }
    } else {
        match argv.get(1).map(String::as_str) {
            Some("--version") | Some("version") => {
                println!("{VERSION}");
                0
            }
            Some("tools") => {
                for n in tool_names() {
                    println!("lxc-{n}");
                }
                0
            }
            // `rlxc config ...` is rlxc's own config front end; `rlxc lxc-config` reaches LXC's.
            Some("config") => tools::rlxc_config::main(&argv[2..]),
            Some(t) => match find(t.strip_prefix("lxc-").unwrap_or(t)) {
                Some(f) => f(&argv[2..]),
                None => usage(),
            },
            None => usage(),
        }
    };
    std::process::exit(code);
}
