//! `lxc.net.N.script.up` / `script.down`: run on the host like LXC's `run_script_argv`.
//!
//! Arguments (checked against LXC): `TYPE`, then for every type but `empty` the link, then for
//! veth the host-side name. Hook version 0: `sh -c "exec SCRIPT NAME net up|down ARGS"`.
//! Version 1: `sh -c "exec SCRIPT ARGS"` with `LXC_HOOK_TYPE`, `LXC_HOOK_SECTION=net`,
//! `LXC_NET_TYPE`, `LXC_NET_PARENT` (the link) and, for veth, `LXC_NET_PEER` (host name) in
//! the environment. The rest of LXC's hook environment (`LXC_NAME`, `LXC_PID`, ...) is what the
//! start path put in the process environment. Output is logged at debug; a non-zero exit is an
//! error (and aborts a start).

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
    let link = nic.link.clone().unwrap_or_default();
    // LXC joins the arguments with spaces, so an empty link simply disappears for `sh`.
    let mut args: Vec<String> = vec![ty.to_string()];
    if nic.ty != NicType::Empty {
        args.push(link.clone());
    }
    if nic.ty == NicType::Veth {
        args.push(host_dev.unwrap_or_default().to_string());
    }
    let line = if hook_version == 0 {
        format!("exec {script} {name} net {word} {}", args.join(" "))
    } else {
        format!("exec {script} {}", args.join(" "))
    };
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(&line).stdin(Stdio::null());
    if std::env::var_os("LXC_NAME").is_none() {
        cmd.env("LXC_NAME", name);
    }
    if hook_version != 0 {
        cmd.env("LXC_HOOK_TYPE", word).env("LXC_HOOK_SECTION", "net").env("LXC_NET_TYPE", ty);
        if nic.ty != NicType::Empty && !link.is_empty() {
            cmd.env("LXC_NET_PARENT", &link);
        }
        if let (NicType::Veth, Some(h)) = (nic.ty, host_dev) {
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
