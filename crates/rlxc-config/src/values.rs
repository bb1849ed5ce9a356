//! Parsers for the value syntaxes LXC's keys share: numbers (C `strtoul` base 0 rules), booleans,
//! signals, byte sizes, capabilities, personalities, idmaps and rlimits. Pure functions; other
//! crates use them too (e.g. `lxc-stop` parses signals, `lxc-create --fssize` sizes).

use crate::error::ValueError;
use crate::model::{IdMap, IdType, Personality, Prlimit, RlimitValue};

fn not_a_number(s: &str) -> ValueError {
    ValueError::new(format!("{s:?} is not a number"))
}

/// Parse digits in `radix`; None on empty or invalid digits or overflow.
fn digits(s: &str, radix: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for c in s.chars() {
        let d = c.to_digit(radix)?;
        v = v.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// An unsigned number as LXC's `lxc_safe_uint`/`lxc_safe_ulong` read it: leading blanks
/// allowed, no sign, base prefix (`0x` hex, leading `0` octal), nothing after the digits.
pub fn parse_u64(s: &str) -> Result<u64, ValueError> {
    let t = s.trim_start();
    let t = t.strip_prefix('+').unwrap_or(t);
    let parsed = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        digits(h, 16)
    } else if t.len() > 1 && t.starts_with('0') {
        digits(&t[1..], 8)
    } else {
        digits(t, 10)
    };
    parsed.ok_or_else(|| not_a_number(s))
}

/// An unsigned 32-bit number (see [`parse_u64`]).
pub fn parse_u32(s: &str) -> Result<u32, ValueError> {
    let v = parse_u64(s)?;
    u32::try_from(v).map_err(|_| ValueError::new(format!("{s:?} is out of range")))
}

/// A signed 32-bit number (LXC's `lxc_safe_int`).
pub fn parse_i32(s: &str) -> Result<i32, ValueError> {
    let t = s.trim_start();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if body.starts_with(['-', '+']) {
        return Err(not_a_number(s));
    }
    let mag = parse_u64(body).map_err(|_| not_a_number(s))?;
    let v = if neg { -i128::from(mag) } else { i128::from(mag) };
    i32::try_from(v).map_err(|_| ValueError::new(format!("{s:?} is out of range")))
}

/// A boolean: exactly `0` or `1` (LXC rejects `true`, `yes`, `2`).
pub fn parse_bool(s: &str) -> Result<bool, ValueError> {
    match parse_u64(s) {
        Ok(0) => Ok(false),
        Ok(1) => Ok(true),
        _ => Err(ValueError::new(format!("{s:?} is not 0 or 1"))),
    }
}

/// First real-time signal as glibc reports it (the kernel's 32 + 2 reserved by glibc).
pub const SIGRTMIN: i32 = 34;
/// Last real-time signal.
pub const SIGRTMAX: i32 = 64;

/// Signal names (without `SIG`) and numbers on Linux (x86, arm, generic layout).
pub const SIGNALS: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// A parsed signal number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signal(pub i32);

impl Signal {
    /// Parse as LXC's `sig_parse`: a decimal number (0..=64), or `SIG` + name (case-insensitive),
    /// or `SIGRTMIN+N` / `SIGRTMAX-N`. Names without `SIG` are rejected, as LXC does.
    pub fn parse(s: &str) -> Result<Signal, ValueError> {
        parse_signal(s).map(Signal)
    }

    /// The conventional name (`SIGTERM`, `SIGRTMIN+3`), or the number.
    pub fn name(self) -> String {
        signal_name(self.0)
    }
}

/// See [`Signal::parse`].
pub fn parse_signal(s: &str) -> Result<i32, ValueError> {
    let bad = || ValueError::new(format!("{s:?} is not a signal (use a number, SIGNAME or SIGRTMIN+N)"));
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        let n = parse_u64(s).map_err(|_| bad())?;
        return if n <= SIGRTMAX as u64 { Ok(n as i32) } else { Err(bad()) };
    }
    if s.len() < 3 || !s.is_char_boundary(3) || !s[..3].eq_ignore_ascii_case("sig") {
        return Err(bad());
    }
    let rest = &s[3..];
    let up = rest.to_ascii_uppercase();
    if let Some(n) = up.strip_prefix("RTMIN+") {
        if !n.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(bad());
        }
        let n = parse_u64(n).map_err(|_| bad())?;
        let v = SIGRTMIN as u64 + n;
        return if v <= SIGRTMAX as u64 { Ok(v as i32) } else { Err(bad()) };
    }
    if let Some(n) = up.strip_prefix("RTMAX-") {
        if !n.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(bad());
        }
        let n = parse_u64(n).map_err(|_| bad())?;
        return if n <= (SIGRTMAX - SIGRTMIN) as u64 { Ok(SIGRTMAX - n as i32) } else { Err(bad()) };
    }
    SIGNALS.iter().find(|(n, _)| *n == up).map(|(_, v)| *v).ok_or_else(bad)
}

/// The name of a signal number (`SIGTERM`, `SIGRTMIN+3`) or the number as text.
pub fn signal_name(n: i32) -> String {
    if let Some((name, _)) = SIGNALS.iter().find(|(_, v)| *v == n) {
        return format!("SIG{name}");
    }
    if (SIGRTMIN..=SIGRTMAX).contains(&n) {
        return if n == SIGRTMIN { "SIGRTMIN".into() } else { format!("SIGRTMIN+{}", n - SIGRTMIN) };
    }
    n.to_string()
}

/// A byte size: a number with an optional suffix `B`, `k`/`kB`, `M`/`MB`, `G`/`GB`
/// (1024-based, case-insensitive; blanks allowed before the suffix, as Debian's LXC accepts).
pub fn parse_byte_size(s: &str) -> Result<u64, ValueError> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    let bad = || ValueError::new(format!("{s:?} is not a size (use a number with kB, MB or GB)"));
    let n = digits(num, 10).ok_or_else(bad)?;
    let mult: u64 = match suffix.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).ok_or_else(|| ValueError::new(format!("{s:?} is too large")))
}

/// The page size LXC rounds console sizes up to.
pub const PAGE_SIZE: u64 = 4096;

/// `lxc.console.size` / `lxc.console.buffer.size`: `auto` (128 KiB) or a byte size, rounded up
/// to a power of two of at least one page.
pub fn parse_console_size(s: &str) -> Result<u64, ValueError> {
    if s == "auto" {
        return Ok(1 << 17);
    }
    let n = parse_byte_size(s)?.max(PAGE_SIZE);
    n.checked_next_power_of_two().ok_or_else(|| ValueError::new(format!("{s:?} is too large")))
}

/// Capability names by number (`CAP_` stripped, lower case), as LXC's `caps_opt` table.
pub const CAPABILITIES: &[&str] = &[
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

/// One capability word of `lxc.cap.drop` / `lxc.cap.keep`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapWord {
    /// `none` (only meaningful in `lxc.cap.keep`).
    None,
    /// A capability number.
    Cap(u32),
}

/// Parse a capability word: a lower-case name without `cap_` (as LXC compares, case-sensitively),
/// `none`, or a number (≤ 63; the running kernel's last cap is checked at start).
pub fn parse_cap(s: &str) -> Result<CapWord, ValueError> {
    if s == "none" {
        return Ok(CapWord::None);
    }
    if let Some(i) = CAPABILITIES.iter().position(|c| *c == s) {
        return Ok(CapWord::Cap(i as u32));
    }
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        if let Some(n) = digits(s, 10).filter(|n| *n <= 63) {
            return Ok(CapWord::Cap(n as u32));
        }
    }
    let hint = nearest(s.to_ascii_lowercase().trim_start_matches("cap_"), CAPABILITIES.iter().copied())
        .map(|n| format!(" (did you mean {n}?)"))
        .unwrap_or_default();
    Err(ValueError::new(format!("{s:?} is not a capability{hint}")))
}

/// The name of capability number `n` (`sys_admin`), if known.
pub fn cap_name(n: u32) -> Option<&'static str> {
    CAPABILITIES.get(n as usize).copied()
}

/// `lxc.arch` names and the personality each selects (LXC's `lxc_config_parse_arch`).
pub const PERSONALITIES: &[(&str, Personality)] = &[
    ("arm", Personality::Linux32),
    ("armel", Personality::Linux32),
    ("armhf", Personality::Linux32),
    ("armv7l", Personality::Linux32),
    ("athlon", Personality::Linux32),
    ("i386", Personality::Linux32),
    ("i486", Personality::Linux32),
    ("i586", Personality::Linux32),
    ("i686", Personality::Linux32),
    ("linux32", Personality::Linux32),
    ("mips", Personality::Linux32),
    ("mipsel", Personality::Linux32),
    ("ppc", Personality::Linux32),
    ("powerpc", Personality::Linux32),
    ("x86", Personality::Linux32),
    ("amd64", Personality::Linux64),
    ("arm64", Personality::Linux64),
    ("linux64", Personality::Linux64),
    ("mips64", Personality::Linux64),
    ("mips64el", Personality::Linux64),
    ("ppc64", Personality::Linux64),
    ("ppc64el", Personality::Linux64),
    ("ppc64le", Personality::Linux64),
    ("powerpc64", Personality::Linux64),
    ("s390x", Personality::Linux64),
    ("x86_64", Personality::Linux64),
];

/// Parse an `lxc.arch` name.
pub fn parse_personality(s: &str) -> Result<Personality, ValueError> {
    PERSONALITIES.iter().find(|(n, _)| *n == s).map(|(_, p)| *p).ok_or_else(|| {
        let hint = nearest(s, PERSONALITIES.iter().map(|(n, _)| *n))
            .map(|n| format!(" (did you mean {n}?)"))
            .unwrap_or_default();
        ValueError::new(format!("{s:?} is not a supported architecture{hint}"))
    })
}

/// Syslog facilities `lxc.log.syslog` accepts.
pub const SYSLOG_FACILITIES: &[&str] =
    &["daemon", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"];

/// Parse one `lxc.idmap` value: `u|g NSID HOSTID RANGE`, exactly four fields.
pub fn parse_idmap(s: &str) -> Result<IdMap, ValueError> {
    let bad = |why: &str| ValueError::new(format!("{s:?} is not an idmap ({why}; expected \"u|g NSID HOSTID RANGE\")"));
    let f: Vec<&str> = s.split_whitespace().collect();
    if f.len() != 4 {
        return Err(bad("wrong number of fields"));
    }
    let kind = match f[0] {
        "u" => IdType::Uid,
        "g" => IdType::Gid,
        _ => return Err(bad("type must be u or g")),
    };
    // LXC reads the numbers with strtoul base 0, so hex and octal work too.
    let num = |x: &str| parse_u64(x).ok().filter(|v| *v <= u64::from(u32::MAX)).ok_or_else(|| bad("bad number"));
    Ok(IdMap { kind, nsid: num(f[1])?, hostid: num(f[2])?, range: num(f[3])? })
}

/// Format an idmap as LXC's `get_config_item` does (`u 0 100000 65536`).
pub fn format_idmap(m: &IdMap) -> String {
    let t = match m.kind {
        IdType::Uid => 'u',
        IdType::Gid => 'g',
    };
    format!("{t} {} {} {}", m.nsid, m.hostid, m.range)
}

/// Rlimit resource names (`lxc.prlimit.<name>`) and their RLIMIT_* numbers.
pub const RLIMITS: &[(&str, u32)] = &[
    ("as", 9),
    ("core", 4),
    ("cpu", 0),
    ("data", 2),
    ("fsize", 1),
    ("locks", 10),
    ("memlock", 8),
    ("msgqueue", 12),
    ("nice", 13),
    ("nofile", 7),
    ("nproc", 6),
    ("rss", 5),
    ("rtprio", 14),
    ("rttime", 15),
    ("sigpending", 11),
    ("stack", 3),
];

/// One limit value: `unlimited` or digits; empty is 0 (as LXC's `strtoull` reading reads it).
fn limit_value(s: &str, whole: &str) -> Result<RlimitValue, ValueError> {
    // `-1` is what strtoull turns into RLIM_INFINITY; LXC accepts it as unlimited.
    if s == "unlimited" || s == "-1" {
        return Ok(RlimitValue::Unlimited);
    }
    if s.is_empty() {
        return Ok(RlimitValue::Value(0));
    }
    digits(s, 10).map(RlimitValue::Value).ok_or_else(|| {
        ValueError::new(format!("{whole:?} is not a limit (expected SOFT[:HARD], numbers or unlimited)"))
    })
}

/// Parse `lxc.prlimit.<resource> = SOFT[:HARD]`.
pub fn parse_prlimit(resource: &str, value: &str) -> Result<Prlimit, ValueError> {
    let resource_id = RLIMITS.iter().find(|(n, _)| *n == resource).map(|(_, v)| *v).ok_or_else(|| {
        let hint = nearest(resource, RLIMITS.iter().map(|(n, _)| *n))
            .map(|n| format!(" (did you mean {n}?)"))
            .unwrap_or_default();
        ValueError::new(format!("{resource:?} is not a resource limit{hint}"))
    })?;
    let (soft, hard) = match value.split_once(':') {
        // `SOFT:` (empty hard limit) means hard = soft, as LXC reads it.
        Some((a, "")) => {
            let v = limit_value(a, value)?;
            (v, v)
        }
        Some((a, b)) => (limit_value(a, value)?, limit_value(b, value)?),
        None => {
            let v = limit_value(value, value)?;
            (v, v)
        }
    };
    Ok(Prlimit { resource: resource.to_string(), resource_id, soft, hard, raw: value.to_string() })
}

/// Format a prlimit as LXC's `get_config_item` does (`10`, `10:20`, `unlimited`).
pub fn format_prlimit(p: &Prlimit) -> String {
    let f = |v: RlimitValue| match v {
        RlimitValue::Unlimited => "unlimited".to_string(),
        RlimitValue::Value(n) => n.to_string(),
    };
    if p.soft == p.hard {
        f(p.soft)
    } else {
        format!("{}:{}", f(p.soft), f(p.hard))
    }
}

/// Levenshtein distance (for "did you mean" suggestions).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate nearest to `s`, if reasonably near (distance at most a third of its length + 2).
pub fn nearest<'a>(s: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    // Nothing is near a very long word; don't spend quadratic time on it.
    if s.len() > 80 {
        return None;
    }
    let limit = s.chars().count() / 3 + 2;
    candidates.map(|c| (edit_distance(s, c), c)).filter(|(d, _)| *d <= limit).min_by_key(|(d, _)| *d).map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_strtoul_base_zero() {
        assert_eq!(parse_u64(" 5"), Ok(5));
        assert_eq!(parse_u64("0x10"), Ok(16));
        assert_eq!(parse_u64("010"), Ok(8));
        assert_eq!(parse_u64("0"), Ok(0));
        assert!(parse_u64("08").is_err());
        assert!(parse_u64("-1").is_err());
        assert!(parse_u64("1 # x").is_err());
        assert!(parse_u64("").is_err());
        assert!(parse_u64("99999999999999999999999").is_err());
        assert_eq!(parse_i32("-5"), Ok(-5));
        assert!(parse_i32("--5").is_err());
        assert_eq!(parse_i32("+3"), Ok(3));
        assert!(parse_i32("4294967296").is_err());
        assert_eq!(parse_u64("1 # x").unwrap_err().to_string(), "\"1 # x\" is not a number");
    }

    #[test]
    fn bools_are_zero_or_one() {
        assert_eq!(parse_bool("1"), Ok(true));
        assert_eq!(parse_bool("0"), Ok(false));
        for b in ["2", "true", "yes", ""] {
            assert!(parse_bool(b).is_err(), "{b}");
        }
    }

    #[test]
    fn signals_as_lxc_parses_them() {
        assert_eq!(parse_signal("sigterm"), Ok(15));
        assert_eq!(parse_signal("SIGKILL"), Ok(9));
        assert_eq!(parse_signal("9"), Ok(9));
        assert_eq!(parse_signal("SIGRTMIN+3"), Ok(37));
        assert_eq!(parse_signal("sigrtmin+2"), Ok(36));
        assert_eq!(parse_signal("SIGRTMAX-1"), Ok(63));
        assert_eq!(parse_signal("SIGPWR"), Ok(30));
        for b in ["TERM", "SIGRTMIN", "SIGKILL ", "SIGRTMIN+31", "65", "SIG", "", "SIGRTMAX-x", "si"] {
            assert!(parse_signal(b).is_err(), "{b}");
        }
        assert_eq!(signal_name(37), "SIGRTMIN+3");
        assert_eq!(Signal::parse("SIGTERM").map(Signal::name), Ok("SIGTERM".to_string()));
    }

    #[test]
    fn byte_sizes_and_console_sizes() {
        assert_eq!(parse_byte_size("1kB"), Ok(1024));
        assert_eq!(parse_byte_size("1 MB"), Ok(1 << 20));
        assert_eq!(parse_byte_size("2gb"), Ok(2 << 30));
        assert_eq!(parse_byte_size("7"), Ok(7));
        assert!(parse_byte_size("1TB").is_err());
        assert!(parse_byte_size("kB").is_err());
        assert!(parse_byte_size("99999999999999GB").is_err());
        assert_eq!(parse_console_size("auto"), Ok(131072));
        assert_eq!(parse_console_size("5000"), Ok(8192));
        assert_eq!(parse_console_size("0"), Ok(4096));
        assert_eq!(parse_console_size("1 MB"), Ok(1 << 20));
    }

    #[test]
    fn capabilities() {
        assert_eq!(parse_cap("sys_admin"), Ok(CapWord::Cap(21)));
        assert_eq!(parse_cap("none"), Ok(CapWord::None));
        assert_eq!(parse_cap("12"), Ok(CapWord::Cap(12)));
        let e = parse_cap("sys_admn").unwrap_err().to_string();
        assert!(e.contains("did you mean sys_admin"), "{e}");
        assert!(parse_cap("SYS_ADMIN").is_err());
        assert_eq!(cap_name(21), Some("sys_admin"));
        assert_eq!(CAPABILITIES.len(), 41);
    }

    #[test]
    fn idmaps() {
        assert_eq!(parse_idmap("u 0x10 1 1").map(|m| m.nsid), Ok(16));
        let m = parse_idmap("u  1   2    3").expect("valid");
        assert_eq!(format_idmap(&m), "u 1 2 3");
        for b in ["u 0 1000", "x 0 1 2", "u 0 1 2 junk", "u -1 0 1", "g 0 0 99999999999"] {
            assert!(parse_idmap(b).is_err(), "{b}");
        }
    }

    #[test]
    fn prlimits() {
        let p = parse_prlimit("nofile", "10:20").expect("valid");
        assert_eq!((p.resource_id, p.soft, p.hard), (7, RlimitValue::Value(10), RlimitValue::Value(20)));
        assert_eq!(format_prlimit(&parse_prlimit("nofile", "10").expect("v")), "10");
        assert_eq!(format_prlimit(&parse_prlimit("nofile", ":5").expect("v")), "0:5");
        assert_eq!(format_prlimit(&parse_prlimit("core", "unlimited").expect("v")), "unlimited");
        assert_eq!(format_prlimit(&parse_prlimit("core", "unlimited:10").expect("v")), "unlimited:10");
        assert_eq!(format_prlimit(&parse_prlimit("nofile", "10:").expect("v")), "10");
        assert_eq!(format_prlimit(&parse_prlimit("nofile", "-1").expect("v")), "unlimited");
        assert!(parse_prlimit("nofile", "a").is_err());
        assert!(parse_prlimit("bogus", "1").is_err());
    }

    #[test]
    fn suggestions() {
        assert_eq!(nearest("lxc.tty.maxx", ["lxc.tty.max", "lxc.pty.max"].into_iter()), Some("lxc.tty.max"));
        assert_eq!(nearest("zzzzzzzz", ["lxc.tty.max"].into_iter()), None);
    }
}
