//! `lxc-info`: state, init pid, IPs, resource use and config values of a container, printed
//! exactly like LXC's `lxc-info` (`-s -p -i -S -H -c KEY`), plus `--json`.
//!
//! Everything about a running container comes from its monitor over the command socket
//! (GET_STATE, GET_INIT_PID, GET_[LIMIT_]CGROUP, GET_CONFIG_ITEM), so this works against rlxc's
//! and LXC's monitors alike. Stats read the v1 or cgroup2 files the host has.

use serde_json::{json, Map, Value};

use rlxc_core::commands::client;
use rlxc_core::state::State;

use super::cmd_common::{self, DiskConfig};
use crate::args::Opt;

/// `println!` for tools whose output is often piped (`lxc-info | head -1`): LXC's C tools die
/// quietly of SIGPIPE when the reader goes away, but Rust ignores SIGPIPE and `println!` panics
/// on EPIPE. On a failed write, end the process with the status a SIGPIPE death shows (141).
pub(crate) fn out(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut o = std::io::stdout().lock();
    if o.write_fmt(args).and_then(|_| o.write_all(b"\n")).and_then(|_| o.flush()).is_err() {
        std::process::exit(141);
    }
}

/// [`out`] without the newline.
pub(crate) fn out_raw(s: &str) {
    use std::io::Write as _;
    let mut o = std::io::stdout().lock();
    if o.write_all(s.as_bytes()).and_then(|_| o.flush()).is_err() {
        std::process::exit(141);
    }
}

const OPTS: &[Opt] = &[
    Opt::arg('c', "config"),
    Opt::flag('i', "ips"),
    Opt::flag('s', "state"),
    Opt::flag('p', "pid"),
    Opt::flag('S', "stats"),
    Opt::flag('H', "no-humanize"),
    Opt::long_flag("json"),
];

const HELP: &str = "--name=NAME

lxc-info display some information about a container with the identifier NAME

Options :
  -n, --name=NAME       NAME of the container
  -c, --config=KEY      show configuration variable KEY from running container
  -i, --ips             shows the IP addresses
  -p, --pid             shows the process id of the init container
  -S, --stats           shows usage stats
  -H, --no-humanize     shows stats as raw numbers, not humanized
  -s, --state           shows the state of the container
  --json                print everything as one JSON object (rlxc)
  --rcfile=FILE         Load configuration file FILE
";

/// LXC's `size_humanize`, including its integer rounding and 32-bit truncation.
pub(crate) fn size_humanize(val: u64) -> String {
    if val > 1 << 30 {
        format!("{}.{:02} GiB", (val >> 30) as u32, ((val & ((1 << 30) - 1)) as u32) / 10_737_419)
    } else if val > 1 << 20 {
        let x = (val as u32).wrapping_add(5243);
        format!("{}.{:02} MiB", x >> 20, (((x & ((1 << 20) - 1)) as u64 * 100) >> 20) as u32)
    } else if val > 1 << 10 {
        let x = (val as u32).wrapping_add(5);
        format!("{}.{:02} KiB", x >> 10, (((x & ((1 << 10) - 1)) as u64 * 100) >> 10) as u32)
    } else {
        format!("{} bytes", val as u32)
    }
}

struct Printer {
    humanize: bool,
    filter_count: u32,
}

impl Printer {
    fn line(&self, key: &str, value: &str) {
        if !self.humanize && self.filter_count == 1 {
            out(format_args!("{value}"));
        } else {
            out(format_args!("{key:<15} {value}"));
        }
    }
}

/// Stats of a running container through its monitor (None entries: not available).
pub(crate) fn stats(name: &str, lxcpath: &str) -> rlxc_cgroup::stats::ContainerStats {
    match rlxc_cgroup::Layout::detect() {
        Ok(layout) => rlxc_cgroup::stats::read_stats(&layout, |ctrl| cmd_common::cgroup_path(name, lxcpath, ctrl)),
        Err(_) => rlxc_cgroup::stats::ContainerStats::default(),
    }
}

/// `(link, rx_bytes, tx_bytes)` for each network device, named as LXC's `print_net_stats`
/// finds them (`veth.pair` for veth, else `link`) through GET_CONFIG_ITEM.
fn net_links(name: &str, lxcpath: &str) -> Vec<(String, Option<u64>, Option<u64>)> {
    let mut out = Vec::new();
    for n in 0.. {
        let Ok(Some(kind)) = client::get_config_item(name, lxcpath, &format!("lxc.net.{n}.type")) else { break };
        let key = if kind == "veth" { format!("lxc.net.{n}.veth.pair") } else { format!("lxc.net.{n}.link") };
        let Ok(Some(ifname)) = client::get_config_item(name, lxcpath, &key) else { break };
        // Over netlink in our own netns: /sys/class/net may show another namespace's sysfs
        // (e.g. under `nsenter --net`).
        let stats = rlxc_net::host_link_stats(&ifname).ok().flatten();
        out.push((ifname.clone(), stats.as_ref().map(|s| s.rx_bytes), stats.as_ref().map(|s| s.tx_bytes)));
    }
    out
}

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let c = match cmd_common::parse("lxc-info", args, OPTS, HELP, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let name = c.name.clone().unwrap_or_default();
    if let Err(e) = rlxc_core::lxcpath::check_name(&name) {
        eprintln!("lxc-info: {name}: {e}");
        return 1;
    }
    let lxcpath = c.lxcpath.clone();
    let p = &c.parsed;
    let humanize = !p.has("no-humanize");
    let keys: Vec<&str> = p.values("config");
    let mut want_ips = p.has("ips");
    let mut want_state = p.has("state");
    let mut want_pid = p.has("pid");
    let mut want_stats = p.has("stats");
    let filter_count = u32::from(want_ips) + u32::from(want_state) + u32::from(want_pid) + 5 * u32::from(want_stats);
    let pr = Printer { humanize, filter_count };

    let state = match cmd_common::container_state(&name, &lxcpath) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("lxc-info: {name}: {e}");
            return 1;
        }
    };
    let running = state != State::Stopped;
    if !running && !cmd_common::is_defined(&lxcpath, &name) {
        eprintln!("{name} doesn't exist");
        return 1;
    }
    let conf = match p.value("rcfile") {
        Some(f) => DiskConfig::load_path(std::path::Path::new(f)),
        None => DiskConfig::load(&lxcpath, &name),
    };

    if p.has("json") {
        return print_json(&name, &lxcpath, state, &conf, &keys);
    }

    let all = !want_state && !want_pid && !want_ips && !want_stats && keys.is_empty();
    if all {
        want_state = true;
        want_pid = true;
        want_ips = true;
        want_stats = true;
        pr.line("Name:", &name);
    }
    if want_state {
        pr.line("State:", state.as_str());
    }
    if running {
        if want_pid {
            if let Ok(pid) = client::get_init_pid(&name, &lxcpath) {
                pr.line("PID:", &pid.to_string());
                if want_ips {
                    if let Ok(ips) = rlxc_net::container_ips(pid, None, None) {
                        for ip in ips {
                            pr.line("IP:", &ip.to_string());
                        }
                    }
                }
            }
        } else if want_ips {
            if let Ok(pid) = client::get_init_pid(&name, &lxcpath) {
                if let Ok(ips) = rlxc_net::container_ips(pid, None, None) {
                    for ip in ips {
                        pr.line("IP:", &ip.to_string());
                    }
                }
            }
        }
    }
    if want_stats && running {
        let st = stats(&name, &lxcpath);
        let show = |v: u64| if humanize { size_humanize(v) } else { v.to_string() };
        if let Some(ns) = st.cpu_ns {
            if humanize {
                // LXC parses with strtof (single precision) before dividing.
                let secs = f64::from(ns as f32) / 1_000_000_000.0;
                out(format_args!("{:<15} {:.2} seconds", "CPU use:", secs));
            } else {
                out(format_args!("{:<15} {}", "CPU use:", ns));
            }
        }
        if let Some(b) = st.blkio_bytes {
            out(format_args!("{:<15} {}", "BlkIO use:", show(b)));
        }
        if let Some(m) = st.memory_bytes {
            out(format_args!("{:<15} {}", "Memory use:", show(m)));
        }
        if let Some(k) = st.kmem_bytes {
            out(format_args!("{:<15} {}", "KMem use:", show(k)));
        }
        for (link, rx, tx) in net_links(&name, &lxcpath) {
            out(format_args!("{:<15} {}", "Link:", link));
            // Printed from the container's point of view: host rx is container tx.
            if let Some(rx) = rx {
                out(format_args!("{:<15} {}", " TX bytes:", show(rx)));
            }
            if let Some(tx) = tx {
                out(format_args!("{:<15} {}", " RX bytes:", show(tx)));
            }
            out(format_args!("{:<15} {}", " Total bytes:", show(rx.unwrap_or(0) + tx.unwrap_or(0))));
        }
    }
    for key in &keys {
        match conf.item(key) {
            Ok(v) if v.is_empty() => {
                if !humanize && keys.len() == 1 {
                    out(format_args!(""));
                } else {
                    out(format_args!("{key} ="));
                }
            }
            Ok(v) => {
                if !humanize && keys.len() == 1 {
                    out(format_args!("{v}"));
                } else {
                    out(format_args!("{key} = {v}"));
                }
            }
            Err(()) => eprintln!("{key} invalid"),
        }
    }
    0
}

fn print_json(name: &str, lxcpath: &str, state: State, conf: &DiskConfig, keys: &[&str]) -> i32 {
    let mut o = Map::new();
    o.insert("name".into(), json!(name));
    o.insert("lxcpath".into(), json!(lxcpath));
    o.insert("state".into(), json!(state.as_str()));
    if state != State::Stopped {
        let pid = client::get_init_pid(name, lxcpath).ok();
        o.insert("pid".into(), json!(pid));
        let ips: Vec<String> = pid
            .and_then(|p| rlxc_net::container_ips(p, None, None).ok())
            .unwrap_or_default()
            .iter()
            .map(|i| i.to_string())
            .collect();
        o.insert("ips".into(), json!(ips));
        let st = stats(name, lxcpath);
        o.insert(
            "stats".into(),
            json!({
                "cpu_ns": st.cpu_ns,
                "blkio_bytes": st.blkio_bytes,
                "memory_bytes": st.memory_bytes,
                "kmem_bytes": st.kmem_bytes,
                "memsw_bytes": st.memsw_bytes,
            }),
        );
        let links: Vec<Value> = net_links(name, lxcpath)
            .into_iter()
            .map(|(l, rx, tx)| json!({"link": l, "tx_bytes": rx, "rx_bytes": tx}))
            .collect();
        o.insert("links".into(), Value::Array(links));
    } else {
        o.insert("pid".into(), Value::Null);
    }
    if !keys.is_empty() {
        let mut cm = Map::new();
        for k in keys {
            cm.insert(k.to_string(), conf.item(k).map(Value::String).unwrap_or(Value::Null));
        }
        o.insert("config".into(), Value::Object(cm));
    }
    out(format_args!("{}", Value::Object(o)));
    0
}

#[cfg(test)]
mod tests {
    use super::size_humanize;

    #[test]
    fn humanize_matches_lxc() {
        assert_eq!(size_humanize(0), "0 bytes");
        assert_eq!(size_humanize(1024), "1024 bytes");
        assert_eq!(size_humanize(368640), "360.00 KiB");
        assert_eq!(size_humanize(602112), "588.00 KiB");
        assert_eq!(size_humanize(1_200_000), "1.14 MiB");
        assert_eq!(size_humanize(3 << 30), "3.00 GiB");
    }
}
