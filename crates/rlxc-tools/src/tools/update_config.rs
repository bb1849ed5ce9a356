//! `lxc-update-config -c FILE`: rewrite pre-3.0 config keys to the names LXC 4.0 reads, in
//! place, after copying the file to `FILE.backup`. Running it again changes nothing.

use crate::args::{self, Opt};

const OPTS: &[Opt] = &[Opt::arg('c', "config")];

fn usage(prog: &str) {
    use std::io::Write;
    let _ =
        write!(std::io::stdout(), "{prog} -h|--help [-c|--config]\nconfig: the container configuration to update\n");
}

/// Entry point; `args` excludes the program name.
pub fn main(argv: &[String]) -> i32 {
    const PROG: &str = "lxc-update-config";
    if argv.is_empty() {
        usage(PROG);
        return 0;
    }
    let p = match args::parse(argv, OPTS, false) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{PROG}: {e}");
            return 1;
        }
    };
    if p.has("help") {
        usage(PROG);
        return 0;
    }
    let Some(path) = p.value("config") else {
        eprintln!("{PROG}: missing -c/--config FILE");
        return 1;
    };
    match rlxc_config::update::update_config_file(std::path::Path::new(path)) {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("{PROG}: {path}: {e}");
            1
        }
    }
}
