//! `lxc-ls`: list containers like LXC's `lxc-ls` (names in columns, `-1`, `-f`, `-F COLS`,
//! `--running/--stopped/--frozen/--active/--defined`, regex filter, `-g GROUPS`, `--nesting`),
//! plus `--json`. Running containers are asked through their command sockets.

use std::os::fd::AsFd;

use regex::Regex;
use serde_json::{json, Value};

use rlxc_core::commands::client;
use rlxc_core::state::State;

use super::cmd_common::{self, DiskConfig};
use crate::args::Opt;

const OPTS: &[Opt] = &[
    Opt::flag('1', "line"),
    Opt::flag('f', "fancy"),
    Opt::arg('F', "fancy-format"),
    Opt::long_flag("active"),
    Opt::long_flag("running"),
    Opt::long_flag("frozen"),
    Opt::long_flag("stopped"),
    Opt::long_flag("defined"),
    Opt { short: None, long: "nesting", has_arg: crate::args::HasArg::Optional },
    Opt::arg('g', "groups"),
    Opt::long_arg("filter"),
    Opt::long_flag("json"),
];

const HELP: &str = "
[-P lxcpath] [--active] [--running] [--frozen] [--stopped] [--nesting] [-g groups] [--filter regex]
[-1] [-P lxcpath] [--active] [--running] [--frozen] [--stopped] [--nesting] [-g groups] [--filter regex]
[-f] [-P lxcpath] [--active] [--running] [--frozen] [--stopped] [--nesting] [-g groups] [--filter regex]

lxc-ls list containers

Options :
  -1, --line         show one entry per line
  -f, --fancy        use a fancy, column-based output
  -F, --fancy-format comma separated list of columns to show in the fancy output
                     valid columns are: NAME, STATE, PID, RAM, SWAP, AUTOSTART,
                     GROUPS, INTERFACE, IPV4 and IPV6, UNPRIVILEGED
  --active           list only active containers
  --running          list only running containers
  --frozen           list only frozen containers
  --stopped          list only stopped containers
  --defined          list only defined containers
  --nesting=NUM      list nested containers up to NUM (default is 5) levels of nesting
  --filter=REGEX     filter container names by regular expression
  -g --groups        comma separated list of groups a container must have to be displayed
  --json             print the list as JSON (rlxc)
";

const COLUMNS: &[&str] =
    &["NAME", "STATE", "PID", "RAM", "SWAP", "AUTOSTART", "GROUPS", "INTERFACE", "IPV4", "IPV6", "UNPRIVILEGED"];
const DEFAULT_FANCY: &str = "NAME,STATE,AUTOSTART,GROUPS,IPV4,IPV6,UNPRIVILEGED";

/// One listed container (LXC's `struct ls`).
#[derive(Debug, Default, Clone)]
struct Entry {
    name: String,
    state: Option<String>,
    groups: Option<String>,
    interface: Option<String>,
    ipv4: Option<String>,
    ipv6: Option<String>,
    nestlvl: usize,
    init: i32,
    ram: f64,
    swap: f64,
    autostart: bool,
    running: bool,
    unprivileged: bool,
}

struct Widths {
    name: usize,
    state: usize,
    groups: usize,
    interface: usize,
    ipv4: usize,
    ipv6: usize,
    init: usize,
    ram: usize,
    swap: usize,
    autostart: usize,
    unprivileged: usize,
}

impl Widths {
    fn of(list: &[Entry]) -> Widths {
        let mut w = Widths {
            name: 4,
            state: 5,
            groups: 6,
            interface: 9,
            ipv4: 4,
            ipv6: 4,
            init: 3,
            ram: 3,
            swap: 4,
            autostart: 9,
            unprivileged: 12,
        };
        for e in list {
            w.name = w.name.max(e.name.len() + e.nestlvl);
            let m = |cur: &mut usize, v: &Option<String>| {
                if let Some(s) = v {
                    *cur = (*cur).max(s.len());
                }
            };
            m(&mut w.state, &e.state);
            m(&mut w.interface, &e.interface);
            m(&mut w.groups, &e.groups);
            m(&mut w.ipv4, &e.ipv4);
            m(&mut w.ipv6, &e.ipv6);
            w.ram = w.ram.max(format!("{:.2}", e.ram).len());
            w.swap = w.swap.max(format!("{:.2}", e.swap).len());
            if e.init != -1 {
                w.init = w.init.max(e.init.to_string().len());
            }
        }
        w
    }
}

struct Filters {
    active: bool,
    running: bool,
    frozen: bool,
    stopped: bool,
    defined: bool,
    fancy: bool,
    regex: Option<String>,
    groups: Option<Vec<String>>,
    nesting: usize,
    line: bool,
}

/// Every container name of `lxcpath`: defined (a `config` file under `fs_lxcpath`, the same
/// directory as seen from here) plus active (a listening command socket in the current network
/// namespace), sorted and unique (LXC's `list_all_containers`).
fn list_all(fs_lxcpath: &str, lxcpath: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fs_lxcpath)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .filter(|e| e.path().join("config").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for a in client::active_containers(lxcpath) {
        if !names.contains(&a) {
            names.push(a);
        }
    }
    names.sort();
    names
}

/// Where a listing level looks: `fsroot` prefixes every file path (`/proc/PID/root` inside a
/// running container), `host` says whether pids and cgroup paths the monitors report are the
/// host's (false inside a running container: only names, states and config are shown).
struct Ctx {
    fsroot: String,
    host: bool,
}

/// Run `f` inside the network namespace of `pid` (where a running container's nested monitors
/// listen), then come back. lxc-ls is single-threaded, so switching the process is safe.
fn in_netns_of(pid: i32, f: impl FnOnce()) {
    let (Ok(orig), Ok(target)) =
        (std::fs::File::open("/proc/self/ns/net"), std::fs::File::open(format!("/proc/{pid}/ns/net")))
    else {
        return;
    };
    if rlxc_sys::ns::setns(target.as_fd(), libc::CLONE_NEWNET).is_err() {
        return;
    }
    f();
    if let Err(e) = rlxc_sys::ns::setns(orig.as_fd(), libc::CLONE_NEWNET) {
        eprintln!("lxc-ls: cannot return to the host network namespace: {e}");
        std::process::exit(1);
    }
}

fn split_trim(s: &str) -> Vec<String> {
    s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()
}

fn has_all_groups(has: Option<&str>, must: &Option<Vec<String>>) -> bool {
    let Some(must) = must else { return true };
    let Some(has) = has else { return false };
    let has = split_trim(has);
    must.iter().all(|m| has.contains(m))
}

/// A config item of a running container (monitor) or from disk; None when empty.
fn item(name: &str, lxcpath: &str, conf: &DiskConfig, key: &str, running: bool) -> Option<String> {
    if running {
        return client::get_config_item(name, lxcpath, key).ok().flatten();
    }
    conf.value(key)
}

fn collect(ctx: &Ctx, lxcpath: &str, f: &Filters, parent: Option<&str>, lvl: usize, out: &mut Vec<Entry>) {
    let fs_lxcpath = format!("{}{}", ctx.fsroot, lxcpath);
    if lvl > f.nesting || !std::path::Path::new(&fs_lxcpath).is_dir() {
        return;
    }
    let names = if f.active || f.frozen { client::active_containers(lxcpath) } else { list_all(&fs_lxcpath, lxcpath) };
    let re = f.regex.as_deref().map(Regex::new);
    for name in names {
        match &re {
            Some(Ok(r)) if !r.is_match(&name) => continue,
            Some(Err(_)) => continue,
            _ => {}
        }
        if f.defined && !cmd_common::is_defined(&fs_lxcpath, &name) {
            continue;
        }
        let state = if ctx.host {
            cmd_common::container_state(&name, lxcpath).ok()
        } else {
            client::get_state(&name, lxcpath).ok()
        };
        let state_str = state.map(|s| s.as_str()).unwrap_or("UNKNOWN");
        let running = state.is_some_and(|s| s != State::Stopped);
        if f.running && !running {
            continue;
        }
        if f.frozen && !f.active && state_str != "FROZEN" {
            continue;
        }
        if f.stopped && state_str != "STOPPED" {
            continue;
        }
        let conf = DiskConfig::load(&fs_lxcpath, &name);
        let groups = item(&name, lxcpath, &conf, "lxc.group", running).map(|g| {
            let g = g.strip_suffix('\n').unwrap_or(&g);
            g.replace('\n', ", ")
        });
        if !has_all_groups(groups.as_deref(), &f.groups) {
            continue;
        }
        let shown_name = match parent {
            Some(p) if f.nesting > 0 && (f.line || !f.fancy) => format!("{p}/{name}"),
            _ => name.clone(),
        };
        let mut e = Entry { name: shown_name, groups, nestlvl: lvl, init: -1, running, ..Entry::default() };
        if f.fancy {
            e.state = Some(state_str.to_string());
            if let Some(a) = item(&name, lxcpath, &conf, "lxc.start.auto", running) {
                match a.trim().parse::<u32>() {
                    Ok(v) if v > 1 => super::info::out(format_args!("Wrong value for 'lxc.start.auto = {v}'.")),
                    Ok(v) => e.autostart = v == 1,
                    Err(_) => super::info::out(format_args!("Could not parse value for 'lxc.start.auto'.")),
                }
            }
            if running {
                match client::get_init_pid(&name, lxcpath) {
                    Ok(pid) if pid > 0 => e.init = pid,
                    _ => continue,
                }
                e.unprivileged = client::get_config_item(&name, lxcpath, "lxc.idmap").ok().flatten().is_some();
            }
            if running && ctx.host {
                if let Ok(links) = rlxc_net::container_interfaces(e.init) {
                    // LXC's get_interfaces keeps its array sorted (add_to_array + qsort).
                    let mut names: Vec<String> = links.into_iter().map(|l| l.name).collect();
                    names.sort();
                    names.dedup();
                    e.interface = Some(names.join(", ")).filter(|s| !s.is_empty());
                }
                let ips = |fam| {
                    rlxc_net::container_ips(e.init, Some(fam), None)
                        .ok()
                        .map(|v| v.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "))
                        .filter(|s| !s.is_empty())
                };
                e.ipv4 = ips(rlxc_net::IpFamily::V4);
                e.ipv6 = ips(rlxc_net::IpFamily::V6);
                let st = super::info::stats(&name, lxcpath);
                e.ram = st.memory_bytes.map(|m| m as f64 / 1024.0 / 1024.0).unwrap_or(0.0);
                e.swap = swap_mb(&name, lxcpath, &st) as f64;
            } else if !running {
                e.unprivileged = conf.value("lxc.idmap").is_some();
            }
        }
        let parent_name = e.name.clone();
        out.push(e);
        if f.nesting == 0 || lvl >= f.nesting {
            continue;
        }
        if !running {
            // Nested containers of a stopped container live in its rootfs, under the same
            // lxcpath (LXC appends the lxcpath to the rootfs path).
            if let Some(rootfs) = conf.value("lxc.rootfs.path") {
                let rootfs = rootfs.split_once(':').map(|(_, p)| p.to_string()).unwrap_or(rootfs);
                let nested = format!("{rootfs}/{}", lxcpath.trim_start_matches('/'));
                collect(ctx, &nested, f, Some(&parent_name), lvl + 1, out);
            }
        } else if ctx.host {
            // A running container's own containers: its files through /proc/PID/root, its
            // monitors' sockets in its network namespace (LXC attaches; we only look in).
            if let Ok(pid) = client::get_init_pid(&name, lxcpath) {
                let inner = Ctx { fsroot: format!("/proc/{pid}/root"), host: false };
                in_netns_of(pid, || collect(&inner, lxcpath, f, Some(&parent_name), lvl + 1, out));
            }
        }
    }
}

/// LXC reads `swap` from v1 `memory.stat` (whole MiB); on cgroup2 `memory.swap.current`.
fn swap_mb(name: &str, lxcpath: &str, st: &rlxc_cgroup::stats::ContainerStats) -> u64 {
    if let Ok(layout) = rlxc_cgroup::Layout::detect() {
        if let Some(h) = layout.v1_for("memory") {
            if let Some(rel) = cmd_common::cgroup_path(name, lxcpath, Some("memory")) {
                let text = std::fs::read_to_string(h.dir_of(&rel).join("memory.stat")).unwrap_or_default();
                return text
                    .lines()
                    .find_map(|l| l.strip_prefix("swap "))
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|v| v / 1024 / 1024)
                    .unwrap_or(0);
            }
            return 0;
        }
    }
    match (st.memsw_bytes, st.memory_bytes) {
        (Some(sw), Some(m)) => sw.saturating_sub(m) / 1024 / 1024,
        _ => 0,
    }
}

fn term_width() -> usize {
    let out = std::io::stdout();
    let err = std::io::stderr();
    let inp = std::io::stdin();
    for fd in [out.as_fd(), err.as_fd(), inp.as_fd()] {
        if let Ok(ws) = rustix::termios::tcgetwinsize(fd) {
            if ws.ws_col > 0 {
                return ws.ws_col as usize;
            }
            return 0;
        }
    }
    0
}

fn print_names(list: &[Entry], w: &Widths, termwidth: usize, line: bool) {
    let mut s = String::new();
    let mut len = 0usize;
    for e in list {
        if line {
            s.push_str(&e.name);
            s.push('\n');
        } else {
            s.push_str(&format!("{:<width$}", e.name, width = w.name));
            len += w.name;
            if len + w.name >= termwidth {
                s.push('\n');
                len = 0;
            } else {
                s.push(' ');
                len += 1;
            }
        }
    }
    if len > 0 {
        s.push('\n');
    }
    super::info::out_raw(&s);
}

fn print_fancy(list: &[Entry], w: &Widths, fmt: &str) -> bool {
    let cols: Vec<String> = split_trim(fmt).into_iter().map(|c| c.to_uppercase()).collect();
    if let Some(bad) = cols.iter().find(|c| !COLUMNS.contains(&c.as_str())) {
        // LXC prints the key as given; we upper-cased it only for matching.
        let orig = split_trim(fmt).into_iter().find(|c| c.to_uppercase() == *bad).unwrap_or_default();
        eprintln!("Invalid key: {orig}");
        return false;
    }
    let mut s = String::new();
    for c in &cols {
        let cell = match c.as_str() {
            "NAME" => format!("{:<1$} ", "NAME", w.name),
            "STATE" => format!("{:<1$} ", "STATE", w.state),
            "PID" => format!("{:<1$} ", "PID", w.init),
            "RAM" => format!("{:<1$} ", "RAM", w.ram + 2),
            "SWAP" => format!("{:<1$} ", "SWAP", w.swap + 2),
            "AUTOSTART" => format!("{:<1$} ", "AUTOSTART", w.autostart),
            "GROUPS" => format!("{:<1$} ", "GROUPS", w.groups),
            "INTERFACE" => format!("{:<1$} ", "INTERFACE", w.interface),
            "IPV4" => format!("{:<1$} ", "IPV4", w.ipv4),
            "IPV6" => format!("{:<1$} ", "IPV6", w.ipv6),
            _ => format!("{:<1$} ", "UNPRIVILEGED", w.unprivileged),
        };
        s.push_str(&cell);
    }
    s.push('\n');
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    for e in list {
        for c in &cols {
            let cell = match c.as_str() {
                "NAME" => {
                    if e.nestlvl > 0 {
                        format!("{:>lvl$}{:<rest$} ", "\\", e.name, lvl = e.nestlvl, rest = w.name - e.nestlvl)
                    } else {
                        format!("{:<1$} ", e.name, w.name)
                    }
                }
                "STATE" => format!("{:<1$} ", dash(&e.state), w.state),
                "PID" if e.init > 0 => format!("{:<1$} ", e.init, w.init),
                "PID" => format!("{:<1$} ", "-", w.init),
                "RAM" if e.running => format!("{:>1$.2}MB ", e.ram, w.ram),
                "RAM" => format!("{:<1$}   ", "-", w.ram),
                "SWAP" if e.running => format!("{:>1$.2}MB ", e.swap, w.swap),
                "SWAP" => format!("{:<1$}   ", "-", w.swap),
                "AUTOSTART" => format!("{:<1$} ", u8::from(e.autostart), w.autostart),
                "GROUPS" => format!("{:<1$} ", dash(&e.groups), w.groups),
                "INTERFACE" => format!("{:<1$} ", dash(&e.interface), w.interface),
                "IPV4" => format!("{:<1$} ", dash(&e.ipv4), w.ipv4),
                "IPV6" => format!("{:<1$} ", dash(&e.ipv6), w.ipv6),
                _ => format!("{:<1$} ", if e.unprivileged { "true" } else { "false" }, w.unprivileged),
            };
            s.push_str(&cell);
        }
        s.push('\n');
    }
    super::info::out_raw(&s);
    true
}

fn to_json(list: &[Entry]) -> Value {
    Value::Array(
        list.iter()
            .map(|e| {
                let split = |v: &Option<String>| -> Vec<String> { v.as_deref().map(split_trim).unwrap_or_default() };
                json!({
                    "name": e.name,
                    "state": e.state,
                    "pid": if e.init > 0 { Some(e.init) } else { None },
                    "ram_mb": if e.running { Some(e.ram) } else { None },
                    "swap_mb": if e.running { Some(e.swap) } else { None },
                    "autostart": e.autostart,
                    "groups": split(&e.groups),
                    "interfaces": split(&e.interface),
                    "ipv4": split(&e.ipv4),
                    "ipv6": split(&e.ipv6),
                    "unprivileged": e.unprivileged,
                    "nesting_level": e.nestlvl,
                })
            })
            .collect(),
    )
}

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let c = match cmd_common::parse("lxc-ls", args, OPTS, HELP, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let p = &c.parsed;
    let nesting = if p.has("nesting") {
        match p.value("nesting") {
            Some(v) if !v.starts_with('-') => v.parse::<usize>().unwrap_or(5),
            _ => 5,
        }
    } else {
        0
    };
    let json_out = p.has("json");
    let regex = p.value("filter").map(str::to_string).or_else(|| {
        if p.positional.len() == 1 {
            p.positional.first().cloned()
        } else {
            None
        }
    });
    let f = Filters {
        active: p.has("active"),
        running: p.has("running"),
        frozen: p.has("frozen"),
        stopped: p.has("stopped"),
        defined: p.has("defined"),
        // --json wants every column.
        fancy: p.has("fancy") || json_out,
        regex,
        groups: p.value("groups").map(split_trim),
        nesting,
        line: p.has("line"),
    };
    let mut list = Vec::new();
    collect(&Ctx { fsroot: String::new(), host: true }, &c.lxcpath, &f, None, 0, &mut list);
    if json_out {
        super::info::out(format_args!("{}", to_json(&list)));
        return 0;
    }
    if list.is_empty() {
        return 0;
    }
    let w = Widths::of(&list);
    if p.has("fancy") {
        let fmt = p.value("fancy-format").unwrap_or(DEFAULT_FANCY);
        print_fancy(&list, &w, fmt);
    } else {
        let cols = if f.line { 0 } else { term_width() };
        print_names(&list, &w, cols, f.line);
    }
    0
}
