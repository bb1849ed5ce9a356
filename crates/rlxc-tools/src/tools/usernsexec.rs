//! `lxc-usernsexec [-h] [-m u|g|b:NSID:HOSTID:RANGE]... [-s] -- [COMMAND [ARG...]]`: run
//! COMMAND (default `/bin/sh`) as root in a new user namespace. The work is in
//! `rlxc_core::usernsexec`.

use std::ffi::OsString;

use rlxc_core::usernsexec;

use crate::args::{self, Opt};

const OPTS: &[Opt] = &[Opt::arg('m', "map"), Opt::flag('s', "map-self")];

fn usage(to_stderr: bool) {
    let text = "usage: lxc-usernsexec [-h] [-m <uid-maps>] [-s] -- [command [arg ..]]

  -h            this message

  -m <uid-maps> uid maps to use

  -s:           map self
  uid-maps: [u|g|b]:ns_id:host_id:range
            [u|g|b]: map user id, group id, or both
            ns_id: the base id in the new namespace
            host_id: the base id in the parent namespace
            range: how many ids to map
  Note: This program uses newuidmap(2) and newgidmap(2).
        As such, /etc/subuid and /etc/subgid must grant the
        calling user permission to use the mapped ranges
";
    if to_stderr {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
}

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    // Options end at the command, so `lxc-usernsexec -m ... id -u` runs `id -u`.
    let parsed = match args::parse(args, OPTS, true) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("lxc-usernsexec: {e}");
            usage(true);
            return 1;
        }
    };
    if parsed.has("help") {
        usage(false);
        return 0;
    }
    rlxc_core::log::init("lxc-usernsexec", parsed.has("quiet"));
    let mut maps = Vec::new();
    for m in parsed.values("map") {
        match usernsexec::parse_map(m) {
            Ok(v) => maps.extend(v),
            Err(e) => {
                eprintln!("lxc-usernsexec: {e}");
                usage(true);
                return 1;
            }
        }
    }
    let (uid, gid) = rlxc_sys::process::getuid_gid();
    if maps.is_empty() {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let user = usernsexec::user_name(&passwd, uid).unwrap_or_default();
        match usernsexec::default_maps(&user, "/etc/subuid".as_ref(), "/etc/subgid".as_ref()) {
            Ok(m) => maps = m,
            Err(e) => {
                eprintln!("{e}");
                return 1;
            }
        }
    }
    if parsed.has("map-self") {
        usernsexec::add_self(&mut maps, uid, gid);
    }
    let argv: Vec<OsString> = parsed.positional.iter().chain(parsed.trailing.iter()).map(OsString::from).collect();
    match usernsexec::run(&maps, &argv) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lxc-usernsexec: {e}");
            1
        }
    }
}
