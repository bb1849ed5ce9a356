//! `lxc-cgroup NAME KEY [VALUE]`: read or write a cgroup file of a running container.
//!
//! Like LXC's `get_cgroup_item`/`set_cgroup_item` called from a client: the payload path comes
//! from the monitor (GET_LIMIT_CGROUP / GET_CGROUP, command 6) and the file is read or written
//! here, relative to the payload directory in the hierarchy that owns the key's controller.
//! `devices.allow`/`devices.deny` on a host without a v1 devices controller become an
//! ADD_BPF_DEVICE_CGROUP command (14): the monitor merges the rule and swaps its eBPF program.

use crate::args::Opt;
use crate::tools::cmd_common;
use rlxc_core::commands::client;
use rlxc_core::commands::wire::DeviceItem;
use rlxc_core::state::State;

const HELP: &str = "--name=NAME state-object [value]

Get or set the value of a state object (for example, 'cpuset.cpus')
in the container's cgroup for the corresponding subsystem.

Options :
  -n, --name=NAME      container name
  -P, --lxcpath=PATH   use specified container path
  -o, --logfile=FILE   output log to FILE instead of stderr
  -l, --logpriority=LEVEL  set log priority to LEVEL
  -q, --quiet          don't produce any output
      --rcfile=FILE    load configuration file FILE
";

fn device_key(key: &str) -> bool {
    key == "devices.allow" || key == "devices.deny"
}

fn device_item(key: &str, value: &str) -> Result<DeviceItem, String> {
    let rule = rlxc_cgroup::devices::parse_config_rule(key, value).map_err(|e| e.to_string())?;
    let (kind, major, minor, access, allow, global_rule) = rlxc_core::cgroups::rule_to_device_item(&rule);
    let mut acc = [0u8; 4];
    for (d, s) in acc.iter_mut().zip(access.bytes().take(3)) {
        *d = s;
    }
    Ok(DeviceItem { kind, major, minor, access: acc, allow: allow as i32, global_rule })
}

/// The payload directory of the hierarchy owning `key`'s controller, opened here.
fn payload_dir(name: &str, lxcpath: &str, key: &str) -> Result<rlxc_cgroup::fsio::CgDir, String> {
    let layout = rlxc_cgroup::Layout::detect().map_err(|e| e.to_string())?;
    let ctrl = key.split('.').next().unwrap_or(key);
    let (h, ask) = match layout.v1_for(ctrl) {
        Some(h) => (h, Some(ctrl)),
        None => (layout.unified().ok_or_else(|| format!("no hierarchy carries \"{ctrl}\""))?, None),
    };
    let rel = cmd_common::cgroup_path(name, lxcpath, ask)
        .or_else(|| if ask.is_some() { None } else { cmd_common::cgroup_path(name, lxcpath, Some(ctrl)) })
        .ok_or_else(|| format!("the monitor did not report the cgroup of \"{ctrl}\""))?;
    let dir = h.dir_of(&rel);
    rlxc_cgroup::fsio::CgDir::open(&dir).map_err(|e| format!("{}: {e}", dir.display()))
}

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let opts: Vec<Opt> = crate::args::COMMON.to_vec();
    let c = match cmd_common::parse("lxc-cgroup", args, &opts, HELP, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let name = c.name.clone().unwrap_or_default();
    // Without -n the name was the first positional.
    let mut pos: &[String] = &c.parsed.positional;
    if c.parsed.value("name").is_none() && !pos.is_empty() {
        pos = &pos[1..];
    }
    let Some(key) = pos.first() else {
        eprintln!("lxc-cgroup: missing state object");
        return 1;
    };
    let value = pos.get(1);
    if pos.len() > 2 {
        eprintln!("lxc-cgroup: too many arguments");
        return 1;
    }
    if key.contains('/') || !key.contains('.') {
        eprintln!("lxc-cgroup: invalid state object '{key}'");
        return 1;
    }
    let lxcpath = c.lxcpath.clone();
    match client::get_state(&name, &lxcpath) {
        Ok(State::Stopped) | Err(_) => {
            eprintln!("lxc-cgroup: '{lxcpath}:{name}' is not running");
            return 1;
        }
        Ok(_) => {}
    }
    match value {
        None => match payload_dir(&name, &lxcpath, key).and_then(|d| d.read(key).map_err(|e| e.to_string())) {
            Ok(v) => {
                print!("{v}");
                0
            }
            Err(e) => {
                eprintln!("lxc-cgroup: Failed to retrieve value of '{key}' for '{lxcpath}:{name}': {e}");
                1
            }
        },
        Some(v) => {
            let v1_devices = rlxc_cgroup::Layout::detect().ok().map(|l| l.v1_for("devices").is_some()).unwrap_or(false);
            let res = if device_key(key) && !v1_devices {
                device_item(key, v)
                    .and_then(|item| client::add_bpf_device_cgroup(&name, &lxcpath, &item).map_err(|e| e.to_string()))
            } else {
                payload_dir(&name, &lxcpath, key).and_then(|d| d.write(key, v).map_err(|e| e.to_string()))
            };
            match res {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("lxc-cgroup: Failed to assign '{v}' value to '{key}' for '{name}': {e}");
                    1
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_items_match_lxc_encoding() {
        let i = device_item("devices.deny", "a").unwrap();
        assert_eq!((i.kind, i.major, i.minor, i.allow, i.global_rule), (b'a', -1, -1, 0, 0));
        let i = device_item("devices.allow", "c 1:3 rw").unwrap();
        assert_eq!((i.kind, i.major, i.minor, i.allow, i.global_rule), (b'c', 1, 3, 1, -1));
        assert_eq!(&i.access[..3], b"rw\0");
        assert!(device_item("devices.allow", "x").is_err());
    }
}
