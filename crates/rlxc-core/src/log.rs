//! The `tracing` subscriber that writes LXC's log format.
//!
//! File lines look like LXC's: `lxc-start bb 20261203173112.123 ERROR    start - start/mod.rs:120 - msg`
//! (program, container, UTC timestamp, priority, module, source location, message). Errors also
//! go to stderr (`lxc-start: bb: start/mod.rs: 120: msg`) unless `-q`, as LXC's stderr appender
//! does. Nothing is logged to a file unless asked for (`-o`, `-l`, or `lxc.log.file`), as LXC's
//! tools only create a log when "explicitly instructed".

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use rlxc_config::LogLevel;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

struct LogState {
    prog: String,
    name: String,
    level: LogLevel,
    /// A level given on the command line wins over `lxc.log.level`.
    level_from_cmdline: bool,
    file: Option<File>,
    file_from_cmdline: bool,
    quiet: bool,
    stderr: bool,
}

static STATE: OnceLock<Mutex<LogState>> = OnceLock::new();

fn state() -> &'static Mutex<LogState> {
    STATE.get_or_init(|| {
        Mutex::new(LogState {
            prog: "rlxc".into(),
            name: String::new(),
            level: LogLevel::Error,
            level_from_cmdline: false,
            file: None,
            file_from_cmdline: false,
            quiet: false,
            stderr: true,
        })
    })
}

fn with_state<R>(f: impl FnOnce(&mut LogState) -> R) -> R {
    let mut g = match state().lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    f(&mut g)
}

/// LXC priority of a tracing level (tracing has no NOTICE/CRIT/ALERT/FATAL).
fn priority(l: &Level) -> LogLevel {
    match *l {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        _ => LogLevel::Trace,
    }
}

struct LxcSubscriber;

#[derive(Default)]
struct Msg(String);

impl Visit for Msg {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl Subscriber for LxcSubscriber {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        let p = priority(m.level());
        with_state(|s| (s.file.is_some() && p >= s.level) || (p >= LogLevel::Error && s.stderr && !s.quiet))
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
    fn event(&self, e: &Event<'_>) {
        let m = e.metadata();
        let p = priority(m.level());
        let mut msg = Msg::default();
        e.record(&mut msg);
        let file = m.file().unwrap_or("?");
        let file = file.rsplit_once("/src/").map(|(_, f)| f).unwrap_or(file);
        let line = m.line().unwrap_or(0);
        let category = m.target().rsplit("::").next().unwrap_or("lxc");
        with_state(|s| {
            if p >= s.level {
                let prog = s.prog.clone();
                let name = s.name.clone();
                if let Some(f) = s.file.as_mut() {
                    let _ = writeln!(
                        f,
                        "{prog} {name} {} {:<8} {category} - {file}:{line} - {}",
                        timestamp(),
                        p.name(),
                        msg.0
                    );
                }
            }
            if p >= LogLevel::Error && s.stderr && !s.quiet {
                let _ = writeln!(std::io::stderr(), "{}: {}: {file}: {line}: {}", s.prog, s.name, msg.0);
            }
        });
    }
}

/// `YYYYMMDDhhmmss.mmm` in UTC, as LXC's log timestamps.
pub fn timestamp() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    format!("{y:04}{mo:02}{d:02}{:02}{:02}{:02}.{:03}", rem / 3600, (rem % 3600) / 60, rem % 60, now.subsec_millis())
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Install the subscriber (once per process) for tool `prog` (e.g. `lxc-start`).
pub fn init(prog: &str, quiet: bool) {
    with_state(|s| {
        s.prog = prog.to_string();
        s.quiet = quiet;
    });
    let _ = tracing::subscriber::set_global_default(LxcSubscriber);
}

/// The container name shown in log lines.
pub fn set_name(name: &str) {
    with_state(|s| s.name = name.to_string());
}

/// `-l LEVEL` from the command line (wins over the config).
pub fn set_cmdline_level(level: LogLevel) {
    with_state(|s| {
        s.level = level;
        s.level_from_cmdline = true;
    });
}

/// `lxc.log.level` from the config (ignored when `-l` was given).
pub fn set_config_level(level: LogLevel) {
    with_state(|s| {
        if !s.level_from_cmdline {
            s.level = level;
        }
    });
}

/// Open (append, create 0600) the log file. `from_cmdline` (`-o`) wins over `lxc.log.file`.
/// `none` disables file logging as in LXC.
pub fn set_file(path: &Path, from_cmdline: bool) -> std::io::Result<()> {
    if !from_cmdline && with_state(|s| s.file_from_cmdline) {
        return Ok(());
    }
    if path.as_os_str() == "none" {
        with_state(|s| s.file = None);
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    use std::os::unix::fs::OpenOptionsExt;
    let f = OpenOptions::new().create(true).append(true).mode(0o600).custom_flags(libc::O_CLOEXEC).open(path)?;
    with_state(|s| {
        s.file = Some(f);
        s.file_from_cmdline |= from_cmdline;
    });
    Ok(())
}

/// Whether a log file is open.
pub fn has_file() -> bool {
    with_state(|s| s.file.is_some())
}

/// The raw fd of the open log file (kept open when the monitor closes inherited fds).
pub fn file_fd() -> Option<i32> {
    use std::os::fd::AsRawFd;
    with_state(|s| s.file.as_ref().map(|f| f.as_raw_fd()))
}

/// Stop copying errors to stderr (the daemonized monitor has no terminal).
pub fn disable_stderr() {
    with_state(|s| s.stderr = false);
}

/// The current threshold (exported to hooks as `LXC_LOG_LEVEL`).
pub fn level() -> LogLevel {
    with_state(|s| s.level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_000), (2022, 1, 8));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn timestamp_shape() {
        let t = timestamp();
        assert_eq!(t.len(), 18, "{t}");
        assert_eq!(&t[14..15], ".");
    }
}
