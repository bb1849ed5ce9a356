//! `lxc-snapshot`: create (default), list (`-L`, `-C`), restore (`-r`, `-N`) and destroy (`-d`)
//! snapshots of a container, as LXC 4.0's `lxc-snapshot`.

use rlxc_core::container::Container;
use rlxc_core::snapshot;

use super::cmd_common;
use crate::args::Opt;

const PROG: &str = "lxc-snapshot";

const OPTS: &[Opt] = &[
    Opt::flag('L', "list"),
    Opt::arg('r', "restore"),
    Opt::arg('N', "newname"),
    Opt::arg('d', "destroy"),
    Opt::arg('c', "comment"),
    Opt::flag('C', "showcomments"),
];

const HELP: &str = "--name=NAME [-P lxcpath] [-L [-C]] [-c commentfile] [-r snapname [-N newname]]

lxc-snapshot snapshots a container

Options :
  -n, --name=NAME        NAME of the container
  -L, --list             list all snapshots
  -r, --restore=NAME     restore snapshot NAME, e.g. 'snap0'
  -N, --newname=NEWNAME  NEWNAME for the restored container
  -d, --destroy=NAME     destroy snapshot NAME, e.g. 'snap0'
                         use ALL to destroy all snapshots
  -c, --comment=FILE     add FILE as a comment
  -C, --showcomments     show snapshot comments
  --rcfile=FILE          Load configuration file FILE
";

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let cli = match cmd_common::parse(PROG, args, OPTS, HELP, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let p = &cli.parsed;
    let name = cli.name.clone().unwrap_or_default();
    let rcfile = p.value("rcfile").map(std::path::PathBuf::from);
    let c = match Container::new(&name, &cli.lxcpath, rcfile.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROG}: {name}: {e}");
            return 1;
        }
    };
    if !c.is_defined() {
        eprintln!("{PROG}: {name}: Container {name} is not defined");
        return 1;
    }
    if p.has("list") {
        return list(&c, p.has("showcomments"));
    }
    if let Some(s) = p.value("restore") {
        return match snapshot::restore(&c, s, p.value("newname")) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("{PROG}: {name}: {e}");
                eprintln!("{PROG}: {name}: Error restoring snapshot {s}");
                1
            }
        };
    }
    if let Some(s) = p.value("destroy") {
        let r = if s == "ALL" { snapshot::destroy_all(&c) } else { snapshot::destroy(&c, s) };
        return match r {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("{PROG}: {name}: {e}");
                eprintln!("{PROG}: {name}: Error destroying snapshot {s}");
                1
            }
        };
    }
    let comment = p.value("comment").map(std::path::Path::new);
    if let Some(f) = comment {
        if !f.is_file() {
            eprintln!("{PROG}: {name}: comment file \"{}\" does not exist", f.display());
            return 1;
        }
    }
    match snapshot::snapshot(&c, comment) {
        // LXC only logs "Created snapshot snapN" (INFO).
        Ok(_) => 0,
        Err(e) => {
            eprintln!("{PROG}: {name}: {e}");
            eprintln!("{PROG}: {name}: Error creating a snapshot");
            1
        }
    }
}

/// `-L [-C]`: `snapN (LXCPATH) TIMESTAMP`, with the comment below when asked.
fn list(c: &Container, comments: bool) -> i32 {
    let snaps = snapshot::list(c);
    if snaps.is_empty() {
        println!("No snapshots");
        return 0;
    }
    for s in snaps {
        println!("{} ({}) {}", s.name, s.lxcpath, s.timestamp);
        if comments {
            if let Some(text) = s.comment_path.and_then(|p| std::fs::read_to_string(p).ok()) {
                print!("{text}");
                if !text.ends_with('\n') {
                    println!();
                }
            }
        }
    }
    0
}
