//! `lxc-config`: print system configuration items (`lxc.conf`). Like LXC's, it reads argv by
//! hand rather than with getopt: `-l` lists the items, `-h`/`--help` (or nothing) prints usage,
//! anything else is an item name. Everything goes to stdout, as LXC's tool does.

use std::io::Write;

use rlxc_config::system::{SystemConfig, SYSTEM_ITEMS};

/// Print to stdout; a closed pipe is not worth a panic.
fn say(s: &str) {
    let _ = writeln!(std::io::stdout(), "{s}");
}

fn usage() {
    say("Usage: lxc-config -l: list all available configuration items");
    say("       lxc-config item: print configuration item");
}

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let Some(first) = args.first() else {
        usage();
        return 0;
    };
    match first.as_str() {
        "-h" | "--help" => {
            usage();
            0
        }
        "-l" => {
            for item in SYSTEM_ITEMS {
                say(item);
            }
            0
        }
        item if SYSTEM_ITEMS.contains(&item) => {
            let conf = match SystemConfig::load_for_euid(rustix::process::geteuid().as_raw()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("lxc-config: {e}");
                    return 1;
                }
            };
            match conf.get(item) {
                Ok(Some(v)) => say(&v),
                _ => say(&format!("{item} is not set.")),
            }
            0
        }
        other => {
            say(&format!("Unknown configuration item: {other}"));
            1
        }
    }
}
