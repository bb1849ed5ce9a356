//! `rlxc config`: rlxc's own config front end (beyond LXC).
//!
//! - `rlxc config check [-s KEY=VAL]... FILE...`: validate without starting anything; exit 0
//!   when every file is valid, else print the first error (with file:line) and exit 1.
//! - `rlxc config get [-s KEY=VAL]... FILE KEY`: print what `get_config_item` would.
//! - `rlxc config keys`: every supported key.
//! - `rlxc config show [-s KEY=VAL]... FILE [--origin]`: the expanded config, one `key = value`
//!   per item in reading order; `--origin` adds the file:line that set each.
//!
//! Instead of FILE, `-n NAME [-P LXCPATH]` names the container's `LXCPATH/NAME/config`.

use std::io::Write;

use crate::args::{self, Opt};
use rlxc_config::ContainerConfig;

const OPTS: &[Opt] = &[Opt::arg('s', "define"), Opt::long_flag("origin")];

fn usage() -> i32 {
    eprintln!("usage: rlxc config check [-q] [-s KEY=VAL]... FILE...|-n NAME [-P LXCPATH]");
    eprintln!("       rlxc config get [-s KEY=VAL]... FILE|-n NAME [-P LXCPATH] KEY");
    eprintln!("       rlxc config keys");
    eprintln!("       rlxc config show [-s KEY=VAL]... [--origin] FILE|-n NAME [-P LXCPATH]");
    1
}

fn load(file: &str, defines: &[&str]) -> Result<ContainerConfig, rlxc_config::ConfigError> {
    let mut c = ContainerConfig::load(file)?;
    for d in defines {
        c.apply_define(d)?;
    }
    c.validate()?;
    Ok(c)
}

/// Entry point; `args` excludes `rlxc config`.
pub fn main(argv: &[String]) -> i32 {
    let Some((cmd, rest)) = argv.split_first() else {
        return usage();
    };
    let p = match args::parse(rest, OPTS, false) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rlxc config: {e}");
            return 1;
        }
    };
    if p.has("help") {
        usage();
        return 0;
    }
    let defines = p.values("define");
    let mut pos: Vec<String> = p.positional.iter().chain(p.trailing.iter()).cloned().collect();
    // `-n NAME [-P LXCPATH]` names a container's config instead of a file (check, get, show).
    if let Some(name) = p.value("name") {
        if let Err(e) = rlxc_core::lxcpath::check_name(name) {
            eprintln!("rlxc config: {e}");
            return 1;
        }
        let lxcpath = match p.value("lxcpath") {
            Some(l) => l.to_string(),
            None => match rlxc_config::SystemConfig::load_for_euid(rustix::process::geteuid().as_raw()) {
                Ok(s) => s.lxcpath,
                Err(e) => {
                    eprintln!("rlxc config: {e}");
                    return 1;
                }
            },
        };
        let file = std::path::Path::new(&lxcpath).join(name).join("config").to_string_lossy().into_owned();
        // `get` takes FILE KEY: the file goes first; `check` and `show` take files.
        if cmd == "get" {
            pos.insert(0, file);
        } else {
            pos.push(file);
        }
    }
    let pos: Vec<&str> = pos.iter().map(String::as_str).collect();
    match (cmd.as_str(), pos.as_slice()) {
        ("check", files) if !files.is_empty() => {
            for f in files {
                match load(f, &defines) {
                    Ok(_) => {
                        if !p.has("quiet") {
                            let _ = writeln!(std::io::stdout(), "{f}: ok");
                        }
                    }
                    Err(e) => {
                        eprintln!("{e}");
                        return 1;
                    }
                }
            }
            0
        }
        ("get", [file, key]) => match load(file, &defines).and_then(|c| c.get_item(key)) {
            Ok(v) => {
                let nl = if !v.is_empty() && !v.ends_with('\n') { "\n" } else { "" };
                let _ = write!(std::io::stdout(), "{v}{nl}");
                0
            }
            Err(e) => {
                eprintln!("{e}");
                1
            }
        },
        ("keys", []) => {
            let mut out = std::io::stdout().lock();
            for k in rlxc_config::keys::list_keys() {
                if writeln!(out, "{k}").is_err() {
                    break;
                }
            }
            0
        }
        ("show", [file]) => match load(file, &defines) {
            Ok(c) => {
                // Write errors (a closed pipe) just end the listing.
                let mut out = std::io::stdout().lock();
                for o in c.origins() {
                    let r = if p.has("origin") {
                        let at = match &o.file {
                            Some(f) => format!("{}:{}", f.display(), o.line),
                            None => "(define)".to_string(),
                        };
                        writeln!(out, "{at}\t{} = {}", o.key, o.value)
                    } else {
                        writeln!(out, "{} = {}", o.key, o.value)
                    };
                    if r.is_err() {
                        break;
                    }
                }
                0
            }
            Err(e) => {
                eprintln!("{e}");
                1
            }
        },
        _ => usage(),
    }
}
