//! `lxc.net.N.script.up` / `script.down`: run on the host like LXC's `run_script_argv`.
//!
//! Hook version 0: `sh -c "exec SCRIPT NAME net up|down TYPE DEV"`. Version 1: `sh -c "exec
//! SCRIPT"` with `LXC_HOOK_TYPE`, `LXC_HOOK_SECTION=net`, `LXC_NET_TYPE`, `LXC_NET_PARENT` and
//! (veth) `LXC_NET_PEER` in the environment. Both also get the net variables, which LXC sets in
//! the process environment. Output is logged at debug; a non-zero exit is an error.

use std::process::{Command, Stdio};

use tracing::debug;

use crate::spec::{NicSpec, NicType};
use crate::NetError;

/// `up` or `down`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Up,
    Down,
}

/// Run the script for `nic` if one is configured. `host_dev` is the host-side veth name for
/// veth devices (the first positional argument after the type for the rest is the link).
pub fn run(name: &str, hook_version: u32, nic: &NicSpec, when: When, host_dev: Option<&str>) -> Result<(), NetError> {
    let (script, key, word) = match when {
        When::Up => (nic.script_up.as_deref(), "script.up", "up"),
        When::Down => (nic.script_down.as_deref(), "script.down", "down"),
    };
    let Some(script) = script else { return Ok(()) };
    let ty = nic.ty.as_str();
    // What LXC passes after the type: the host veth name for veth, the link otherwise
    // (nothing for empty).
    let dev: Option<String> = match nic.ty {
        NicType::Veth => host_dev.map(str::to_string),
        NicType::Empty | NicType::None => None,
        _ => nic.link.clone(),
    };
    let line = if hook_version == 0 {
        let mut s = format!("exec {script} {name} net {word} {ty}");
        if let Some(d) = &dev {
            s.push(' ');
            s.push_str(d);
        }
        s
    } else {
        format!("exec {script}")
    };
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(&line).stdin(Stdio::null());
    cmd.env("LXC_HOOK_TYPE", word).env("LXC_HOOK_SECTION", "net").env("LXC_NET_TYPE", ty);
    if hook_version == 0 && std::env::var_os("LXC_NAME").is_none() {
        cmd.env("LXC_NAME", name);
    }
    if let Some(link) = &nic.link {
        cmd.env("LXC_NET_PARENT", link);
    }
    if nic.ty == NicType::Veth {
        if let Some(h) = host_dev {
            cmd.env("LXC_NET_PEER", h);
        }
    }
    debug!("running lxc.net.{}.{key}: {line}", nic.index);
    let out = cmd.output().map_err(|e| NetError::Script {
        index: nic.index,
        key: if when == When::Up { "script.up" } else { "script.down" },
        script: script.to_string(),
        msg: e.to_string(),
    })?;
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        debug!("lxc.net.{}.{key}: {l}", nic.index);
    }
    if !out.status.success() {
        return Err(NetError::Script {
            index: nic.index,
            key: if when == When::Up { "script.up" } else { "script.down" },
            script: script.to_string(),
            msg: format!("{} {}", out.status, String::from_utf8_lossy(&out.stderr).trim()),
        });
    }
    Ok(())
}
