//! `lxc-top [-d SECS] [-b] [-s n|c|b|m|s|k] [-r]`: resource use of the running containers of an
//! lxcpath, refreshed every `-d` seconds (3; 300 in batch mode). Interactive mode draws LXC's
//! table and takes the keys `q`, `r` and the sort letters; `-b` prints LXC's CSV lines.
//!
//! Numbers come from the container's cgroups as the host has them: v1 `cpuacct`, `blkio`,
//! `memory` files or their cgroup2 equivalents (`cpu.stat`, `io.stat`, `memory.current`,
//! `memory.swap.current`), through the paths the monitor reports (`lxc-info -S` uses the same
//! reader, `rlxc_cgroup::stats`).
//!
//! Unlike LXC 4.0, batch mode does not need a terminal on stdin (LXC refused to run without
//! one, which defeated "output designed to capture to a file") and prints every container.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rlxc_cgroup::Layout;
use rlxc_core::commands::client;

use super::cmd_common;
use crate::args::Opt;

const OPTS: &[Opt] =
    &[Opt::arg('d', "delay"), Opt::flag('b', "batch"), Opt::arg('s', "sort"), Opt::flag('r', "reverse")];

const HELP: &str = "

lxc-top monitors the state of the active containers

Options :
  -d, --delay     delay in seconds between refreshes (default: 3.0)
  -b, --batch     output designed to capture to a file
  -s, --sort      sort by [n,c,b,m] (default: n) where
                  n = Name
                  c = CPU use
                  b = Block I/O use
                  m = Memory use
                  s = Memory + Swap use
                  k = Kernel memory use
  -r, --reverse   sort in reverse (descending) order
";

const USER_HZ: f64 = 100.0;
const TERMCLEAR: &str = "\x1b[H\x1b[J";
const TERMNORM: &str = "\x1b[0m";
const TERMBOLD: &str = "\x1b[1m";
const TERMRVRS: &str = "\x1b[7m";

/// One container's numbers, in LXC's units (cpu user/sys in USER_HZ ticks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub cpu_nanos: u64,
    pub cpu_user: u64,
    pub cpu_sys: u64,
    pub io_read: u64,
    pub io_write: u64,
    pub io_total: u64,
    pub iops_total: u64,
    pub mem_used: u64,
    pub swap_used: u64,
    pub kmem_used: u64,
}

impl Stats {
    fn add(&mut self, o: &Stats) {
        self.cpu_nanos += o.cpu_nanos;
        self.cpu_user += o.cpu_user;
        self.cpu_sys += o.cpu_sys;
        self.io_read += o.io_read;
        self.io_write += o.io_write;
        self.io_total += o.io_total;
        self.iops_total += o.iops_total;
        self.mem_used += o.mem_used;
        self.swap_used += o.swap_used;
        self.kmem_used += o.kmem_used;
    }
}

/// `KEY N` in a flat-keyed cgroup file (`cpuacct.stat`, `cpu.stat`).
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        (f.next()? == key).then(|| f.next()?.parse().ok()).flatten()
    })
}

/// A v1 `blkio.*` file: (read, write, total) summed over devices, total from `Total N`.
pub fn parse_blkio(text: &str) -> (u64, u64, u64) {
    let (mut r, mut w) = (0, 0);
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        match f.as_slice() {
            [_, "Read", v] => r += v.parse::<u64>().unwrap_or(0),
            [_, "Write", v] => w += v.parse::<u64>().unwrap_or(0),
            _ => {}
        }
    }
    let total = rlxc_cgroup::stats::parse_blkio_total(text).unwrap_or(r + w);
    (r, w, total)
}

/// A cgroup2 `io.stat`: (rbytes, wbytes, rios + wios) summed over devices.
pub fn parse_io_stat(text: &str) -> (u64, u64, u64) {
    let (mut r, mut w, mut ios) = (0, 0, 0);
    for t in text.split_whitespace() {
        let Some((k, v)) = t.split_once('=') else { continue };
        let v: u64 = v.parse().unwrap_or(0);
        match k {
            "rbytes" => r += v,
            "wbytes" => w += v,
            "rios" | "wios" => ios += v,
            _ => {}
        }
    }
    (r, w, ios)
}

/// Read one running container's numbers.
fn collect(layout: &Layout, name: &str, lxcpath: &str) -> Stats {
    let path_for = |ctrl: Option<&str>| cmd_common::cgroup_path(name, lxcpath, ctrl);
    let base = rlxc_cgroup::stats::read_stats(layout, path_for);
    let v1 = |ctrl: &str| -> Option<PathBuf> { Some(layout.v1_for(ctrl)?.dir_of(&path_for(Some(ctrl))?)) };
    let v2 = layout.unified().and_then(|h| Some(h.dir_of(&path_for(None)?)));
    let read = |p: PathBuf| std::fs::read_to_string(p).ok();
    let mut s = Stats {
        cpu_nanos: base.cpu_ns.unwrap_or(0),
        mem_used: base.memory_bytes.unwrap_or(0),
        kmem_used: base.kmem_bytes.unwrap_or(0),
        ..Default::default()
    };
    if let Some(t) = v1("cpuacct").and_then(|d| read(d.join("cpuacct.stat"))) {
        s.cpu_user = keyed(&t, "user").unwrap_or(0);
        s.cpu_sys = keyed(&t, "system").unwrap_or(0);
    } else if let Some(t) = v2.clone().and_then(|d| read(d.join("cpu.stat"))) {
        // usec to USER_HZ ticks.
        s.cpu_user = keyed(&t, "user_usec").unwrap_or(0) / 10_000;
        s.cpu_sys = keyed(&t, "system_usec").unwrap_or(0) / 10_000;
    }
    if let Some(d) = v1("blkio") {
        if let Some(t) = read(d.join("blkio.throttle.io_service_bytes")) {
            (s.io_read, s.io_write, s.io_total) = parse_blkio(&t);
        }
        if let Some(t) = read(d.join("blkio.throttle.io_serviced")) {
            s.iops_total = parse_blkio(&t).2;
        }
    } else if let Some(t) = v2.clone().and_then(|d| read(d.join("io.stat"))) {
        let (r, w, ios) = parse_io_stat(&t);
        (s.io_read, s.io_write, s.io_total, s.iops_total) = (r, w, r + w, ios);
    }
    if v1("memory").is_some() {
        // v1 reports memory + swap (memory.memsw.usage_in_bytes), as LXC shows it.
        s.swap_used = base.memsw_bytes.unwrap_or(0);
    } else if let Some(t) = v2.and_then(|d| read(d.join("memory.swap.current"))) {
        s.swap_used = t.trim().parse().unwrap_or(0);
    }
    s
}

/// LXC's `size_humanize`, digit for digit.
pub fn humanize(val: u64) -> String {
    if val > 1 << 30 {
        format!("{}.{:02} GiB", val >> 30, ((val & ((1 << 30) - 1)) / 10_737_419) as u32)
    } else if val > 1 << 20 {
        let x = val + 5243;
        format!("{}.{:02} MiB", x >> 20, ((x & ((1 << 20) - 1)) * 100) >> 20)
    } else if val > 1 << 10 {
        let x = val + 5;
        format!("{}.{:02} KiB", x >> 10, ((x & ((1 << 10) - 1)) * 100) >> 10)
    } else {
        format!("{val:>3}.00   ")
    }
}

/// A table row (no newline), the optional MemSw / KMem columns shown when the total has any.
pub fn row(name: &str, s: &Stats, total: &Stats) -> String {
    let io = format!("{}({}/{})", humanize(s.io_total), humanize(s.io_read), humanize(s.io_write));
    let short: String = name.chars().take(18).collect();
    let mut line = format!(
        "{:<18} {:>12.2} {:>12.2} {:>12.2} {:>36} {:>10}",
        short,
        s.cpu_nanos as f64 / 1e9,
        s.cpu_sys as f64 / USER_HZ,
        s.cpu_user as f64 / USER_HZ,
        io,
        humanize(s.mem_used)
    );
    if total.swap_used > 0 {
        line.push_str(&format!(" {:>10}", humanize(s.swap_used)));
    }
    if total.kmem_used > 0 {
        line.push_str(&format!(" {:>10}", humanize(s.kmem_used)));
    }
    line
}

/// The two bold header lines.
pub fn header(total: &Stats) -> String {
    let mut a = format!("{:<18} {:>12} {:>12} {:>12} {:>36} {:>10}", "Container", "CPU", "CPU", "CPU", "BlkIO", "Mem");
    let mut b = format!(
        "{:<18} {:>12} {:>12} {:>12} {:>36} {:>10}",
        "Name", "Used", "Sys", "User", "Total(Read/Write)", "Used"
    );
    if total.swap_used > 0 {
        a.push_str(&format!(" {:>10}", "MemSw"));
        b.push_str(&format!(" {:>10}", "Used"));
    }
    if total.kmem_used > 0 {
        a.push_str(&format!(" {:>10}", "KMem"));
        b.push_str(&format!(" {:>10}", "Used"));
    }
    format!("{TERMRVRS}{TERMBOLD}{a}\n{b}\n{TERMNORM}")
}

/// The batch header line.
pub const BATCH_HEADER: &str = "time_ms,container,cpu_nanos,cpu_sys_userhz,cpu_user_userhz,blkio_bytes,blkio_iops,mem_used_bytes,memsw_used_bytes,kernel_mem_used_bytes";

/// One batch line (no newline).
pub fn batch_line(time_ms: u128, name: &str, s: &Stats) -> String {
    format!(
        "{time_ms},{name},{},{},{},{},{},{},{},{}",
        s.cpu_nanos, s.cpu_sys, s.cpu_user, s.io_total, s.iops_total, s.mem_used, s.swap_used, s.kmem_used
    )
}

/// Sort as LXC means to: names ascending, numbers largest first; `reverse` flips either.
pub fn sort(list: &mut [(String, Stats)], by: char, reverse: bool) {
    let key = |s: &Stats| match by {
        'c' => s.cpu_nanos,
        'b' => s.io_total,
        'm' => s.mem_used,
        's' => s.swap_used,
        'k' => s.kmem_used,
        _ => 0,
    };
    if matches!(by, 'c' | 'b' | 'm' | 's' | 'k') {
        list.sort_by(|a, b| key(&b.1).cmp(&key(&a.1)).then_with(|| a.0.cmp(&b.0)));
    } else {
        list.sort_by(|a, b| a.0.cmp(&b.0));
    }
    if reverse {
        list.reverse();
    }
}

/// The running containers of `lxcpath` with their numbers, and the sum.
fn snapshot(lxcpath: &str) -> (Vec<(String, Stats)>, Stats) {
    let layout = Layout::detect().ok();
    let mut names = client::active_containers(lxcpath);
    names.sort();
    names.dedup();
    let mut total = Stats::default();
    let mut list = Vec::new();
    for n in names {
        let s = layout.as_ref().map(|l| collect(l, &n, lxcpath)).unwrap_or_default();
        total.add(&s);
        list.push((n, s));
    }
    (list, total)
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

/// Entry point; `args` excludes the program name.
pub fn main(args: &[String]) -> i32 {
    let prog = "lxc-top";
    let common = match cmd_common::parse(prog, args, OPTS, HELP, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let p = &common.parsed;
    let batch = p.has("batch");
    let mut delay: u64 = if batch { 300 } else { 3 };
    if let Some(d) = p.value("delay") {
        match d.trim().parse::<u64>() {
            Ok(v) => delay = v,
            Err(_) => {
                eprintln!("{prog}: invalid delay \"{d}\"");
                eprintln!("{prog}: could not parse command line");
                return 1;
            }
        }
    }
    let mut sort_by = p.value("sort").and_then(|s| s.chars().next()).unwrap_or('n');
    let mut reverse = p.has("reverse");
    let lxcpath = common.lxcpath.clone();
    if batch {
        return run_batch(&lxcpath, delay, sort_by, reverse);
    }
    let stdin = std::io::stdin();
    if !rlxc_sys::process::isatty(0) {
        eprintln!("stdin is not a tty");
        eprintln!("Failed to setup terminal");
        return 1;
    }
    let Ok(saved) = rustix::termios::tcgetattr(stdin.as_fd()) else {
        eprintln!("Failed to get current terminal settings");
        eprintln!("Failed to setup terminal");
        return 1;
    };
    let mut raw = saved.clone();
    raw.local_modes.remove(rustix::termios::LocalModes::ECHO | rustix::termios::LocalModes::ICANON);
    raw.special_codes[rustix::termios::SpecialCodeIndex::VMIN] = 1;
    raw.special_codes[rustix::termios::SpecialCodeIndex::VTIME] = 0;
    if rustix::termios::tcsetattr(stdin.as_fd(), rustix::termios::OptionalActions::Flush, &raw).is_err() {
        eprintln!("Failed to set new terminal settings");
        eprintln!("Failed to setup terminal");
        return 1;
    }
    // ^C / ^\ end the program like `q`, with the terminal restored (LXC's atexit handler).
    use rlxc_sys::forkexec::{block_signals, SigSet, SignalFd};
    let set = SigSet::of(&[libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP]);
    let sigfd = block_signals(&set).and_then(|_| SignalFd::new(&set)).ok();
    let rows =
        rustix::termios::tcgetwinsize(stdin.as_fd()).map(|w| w.ws_row as usize).ok().filter(|r| *r > 0).unwrap_or(25);
    let max_rows = rows.saturating_sub(3);
    let mut out = std::io::stdout();
    loop {
        let (mut list, total) = snapshot(&lxcpath);
        sort(&mut list, sort_by, reverse);
        let mut text = format!("{TERMCLEAR}{}", header(&total));
        let shown = list.len().min(max_rows);
        for (n, s) in list.iter().take(shown) {
            text.push_str(&row(n, s, &total));
            text.push('\n');
        }
        text.push_str(&row(&format!("TOTAL {shown} of {}", list.len()), &total, &total));
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        let key = wait_key(&stdin, sigfd.as_ref(), Duration::from_secs(delay));
        match key {
            Key::Quit => break,
            Key::Timeout => {}
            Key::Char('r') => reverse = !reverse,
            Key::Char(c) if matches!(c, 'n' | 'c' | 'b' | 'm' | 's' | 'k') => {
                reverse = if sort_by == c { !reverse } else { false };
                sort_by = c;
            }
            Key::Char(_) => {}
        }
    }
    let _ = rustix::termios::tcsetattr(stdin.as_fd(), rustix::termios::OptionalActions::Flush, &saved);
    eprintln!();
    0
}

enum Key {
    Quit,
    Timeout,
    Char(char),
}

fn wait_key(stdin: &std::io::Stdin, sigfd: Option<&rlxc_sys::forkexec::SignalFd>, delay: Duration) -> Key {
    use rustix::event::{poll, PollFd, PollFlags};
    let ms = i32::try_from(delay.as_millis()).unwrap_or(i32::MAX);
    let timeout = rustix::event::Timespec { tv_sec: i64::from(ms / 1000), tv_nsec: i64::from(ms % 1000) * 1_000_000 };
    let mut fds = vec![PollFd::new(stdin, PollFlags::IN)];
    if let Some(s) = sigfd {
        fds.push(PollFd::new(s, PollFlags::IN));
    }
    match poll(&mut fds, Some(&timeout)) {
        Ok(0) => return Key::Timeout,
        Ok(_) => {}
        Err(_) => return Key::Timeout,
    }
    if fds.get(1).is_some_and(|f| !f.revents().is_empty()) {
        return Key::Quit;
    }
    let ev = fds[0].revents();
    if ev.contains(PollFlags::HUP) && !ev.contains(PollFlags::IN) {
        return Key::Quit;
    }
    let mut b = [0u8; 1];
    match rustix::io::read(stdin, &mut b) {
        Ok(1) if b[0] == b'q' => Key::Quit,
        Ok(1) => Key::Char(b[0] as char),
        Ok(_) => Key::Quit,
        Err(_) => Key::Timeout,
    }
}

fn run_batch(lxcpath: &str, delay: u64, sort_by: char, reverse: bool) -> i32 {
    let mut out = std::io::stdout();
    if writeln!(out, "{BATCH_HEADER}").is_err() {
        return 1;
    }
    loop {
        let (mut list, _) = snapshot(lxcpath);
        sort(&mut list, sort_by, reverse);
        let t = now_ms();
        let mut text = String::new();
        for (n, s) in &list {
            text.push_str(&batch_line(t, n, s));
            text.push('\n');
        }
        // A closed pipe (`lxc-top -b | head`) ends the program quietly.
        if out.write_all(text.as_bytes()).and_then(|_| out.flush()).is_err() {
            return 0;
        }
        std::thread::sleep(Duration::from_secs(delay));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanize_like_lxc() {
        assert_eq!(humanize(0), "  0.00   ");
        assert_eq!(humanize(1024), "1024.00   ");
        assert_eq!(humanize(2048), "2.00 KiB");
        assert_eq!(humanize(3 * 1024 * 1024 / 2), "1.50 MiB");
        assert_eq!(humanize(5 << 30), "5.00 GiB");
    }

    #[test]
    fn parses_v1_and_v2_io() {
        let v1 = "8:0 Read 10\n8:0 Write 5\n8:0 Sync 1\n8:16 Read 1\n8:0 Total 15\nTotal 16\n";
        assert_eq!(parse_blkio(v1), (11, 5, 16));
        assert_eq!(
            parse_io_stat("8:0 rbytes=100 wbytes=20 rios=1 wios=2 dbytes=0\n8:16 rbytes=5 wios=1\n"),
            (105, 20, 4)
        );
    }

    #[test]
    fn sorts_and_rows() {
        let st = |c: u64| Stats { cpu_nanos: c, ..Default::default() };
        let mut l = vec![("b".to_string(), st(1)), ("a".to_string(), st(5)), ("c".to_string(), st(3))];
        sort(&mut l, 'n', false);
        assert_eq!(l.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        sort(&mut l, 'c', false);
        assert_eq!(l.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["a", "c", "b"]);
        sort(&mut l, 'c', true);
        assert_eq!(l.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["b", "c", "a"]);
        let r = row("a-very-long-container-name", &st(1_500_000_000), &Stats::default());
        assert!(r.starts_with("a-very-long-contai         1.50"), "{r:?}");
        assert_eq!(batch_line(7, "x", &st(9)), "7,x,9,0,0,0,0,0,0,0");
    }
}
