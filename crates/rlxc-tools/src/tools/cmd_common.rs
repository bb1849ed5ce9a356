//! Shared pieces of the command-protocol tools (lxc-info, lxc-ls, lxc-wait, lxc-freeze,
//! lxc-unfreeze, lxc-monitor): common option handling, the container's state as LXC computes it,
//! cgroup paths through the monitor, and a small reader for on-disk config values.

use std::path::{Path, PathBuf};

use rlxc_core::commands::client;
use rlxc_core::state::State;

use crate::args::{self, Opt, Parsed};

/// What every tool gets after option parsing.
pub struct Common {
    pub name: Option<String>,
    pub lxcpath: String,
    pub parsed: Parsed,
}

/// Parse `args` with the tool's options plus the common ones; handle `--help`, `--usage`,
/// `--version`, `-o`/`-l`/`-q`; take the name from `-n` or the first positional. `Err(code)`:
/// exit with that code.
pub fn parse(prog: &'static str, args: &[String], opts: &[Opt], help: &str, need_name: bool) -> Result<Common, i32> {
    let parsed = match args::parse(args, opts, false) {
        Ok(p) => p,
        Err(e) => {
            // getopt's complaint, then the whole help, on stderr (LXC's print_help(args, 1)).
            eprintln!("{prog}: {e}");
            print_help(prog, help);
            return Err(1);
        }
    };
    if parsed.has("help") {
        print_help(prog, help);
        return Err(0);
    }
    if parsed.has("usage") {
        eprintln!("Usage: {prog} {}", help.lines().next().unwrap_or(""));
        return Err(0);
    }
    if parsed.has("version") {
        println!("{}", crate::VERSION);
        return Err(0);
    }
    let mut name = parsed.value("name").map(str::to_string);
    if name.is_none() && need_name {
        name = parsed.positional.first().cloned();
    }
    if need_name && name.as_deref().unwrap_or("").is_empty() {
        eprintln!("{prog}: No container name specified");
        return Err(1);
    }
    // A name is one path component: `..`, `a/b` would reach other directories and sockets.
    if let Some(n) = name.as_deref().filter(|n| !n.is_empty()) {
        if let Err(e) = rlxc_core::lxcpath::check_name(n) {
            eprintln!("{prog}: {e}");
            return Err(1);
        }
    }
    let lxcpath = rlxc_core::lxcpath::resolve(parsed.value("lxcpath"));
    rlxc_core::log::init(prog, parsed.has("quiet"));
    if let Some(n) = &name {
        rlxc_core::log::set_name(n);
    }
    if let Some(l) = parsed.value("logpriority") {
        if let Some(level) = rlxc_config::LogLevel::parse(l) {
            rlxc_core::log::set_cmdline_level(level);
        }
    }
    if let Some(f) = parsed.value("logfile") {
        if let Err(e) = rlxc_core::log::set_file(Path::new(f), true) {
            eprintln!("{prog}: cannot open log file {f}: {e}");
            return Err(1);
        }
    }
    Ok(Common { name, lxcpath, parsed })
}

/// LXC's help layout (`print_help` in `tools/arguments.c`), on stderr.
pub fn print_help(prog: &str, help: &str) {
    eprint!(
        "Usage: {prog} {help}\n\
Common options :\n  \
-o, --logfile=FILE               Output log to FILE instead of stderr\n  \
-l, --logpriority=LEVEL          Set log priority to LEVEL\n  \
-q, --quiet                      Don't produce any output\n  \
-P, --lxcpath=PATH               Use specified container path\n  \
-?, --help                       Give this help list\n      \
--usage                      Give a short usage message\n      \
--version                    Print the version number\n\n\
Mandatory or optional arguments to long options are also mandatory or optional\n\
for any corresponding short options.\n\n\
See the {prog} man page for further information.\n\n"
    );
}

/// `<lxcpath>/<name>/config` exists (LXC's `is_defined`).
pub fn is_defined(lxcpath: &str, name: &str) -> bool {
    config_path(lxcpath, name).is_file()
}

/// `<lxcpath>/<name>/config`.
pub fn config_path(lxcpath: &str, name: &str) -> PathBuf {
    PathBuf::from(format!("{lxcpath}/{name}/config"))
}

/// The payload cgroup of `controller` (None: cgroup2), relative to its hierarchy's mount
/// (GET_LIMIT_CGROUP, then GET_CGROUP).
pub fn cgroup_path(name: &str, lxcpath: &str, controller: Option<&str>) -> Option<String> {
    client::limit_cgroup_path(name, lxcpath, controller)
}

/// The state as LXC's `lxc_getstate` reports it (see [`client::lxc_getstate`]).
pub fn container_state(name: &str, lxcpath: &str) -> Result<State, rlxc_core::commands::CmdError> {
    client::lxc_getstate(name, lxcpath)
}

/// A container's on-disk config for `get_config_item`-style reads: the full config model when
/// it loads (so keys are checked against LXC's table and values formatted like LXC), else the
/// raw `key = value` reader (so a config rlxc cannot load still lists).
pub enum DiskConfig {
    Full(Box<rlxc_config::ContainerConfig>),
    Raw(RawConfig),
}

impl DiskConfig {
    /// Load `<lxcpath>/<name>/config` (missing: an empty raw config).
    pub fn load(lxcpath: &str, name: &str) -> DiskConfig {
        Self::load_path(&config_path(lxcpath, name))
    }

    /// Load a config file by path (`--rcfile`); missing: an empty raw config.
    pub fn load_path(path: &Path) -> DiskConfig {
        let path = path.to_path_buf();
        if !path.is_file() {
            return DiskConfig::Raw(RawConfig::default());
        }
        match rlxc_config::ContainerConfig::load(&path) {
            Ok(c) => DiskConfig::Full(Box::new(c)),
            Err(_) => DiskConfig::Raw(RawConfig::load(&path)),
        }
    }

    /// LXC's `get_config_item`: Ok(value, possibly empty), Err(()) for keys LXC rejects.
    pub fn item(&self, key: &str) -> Result<String, ()> {
        match self {
            DiskConfig::Full(c) => c.get_item(key).map_err(|_| ()),
            DiskConfig::Raw(r) => r.item(key),
        }
    }

    /// The item, None when empty or invalid.
    pub fn value(&self, key: &str) -> Option<String> {
        self.item(key).ok().filter(|v| !v.is_empty())
    }
}

/// On-disk config values, read the way `get_config_item` reports them. Includes
/// (`lxc.include` of files and directories of `*.conf`) are followed.
///
/// This is a reader for the few keys the listing tools need; the full key table lives in
/// rlxc-config.
#[derive(Debug, Default, Clone)]
pub struct RawConfig {
    pub items: Vec<(String, String)>,
}

impl RawConfig {
    /// Load a container's config; a missing file is an empty config.
    pub fn load(path: &Path) -> RawConfig {
        let mut c = RawConfig::default();
        let mut budget = 4096;
        c.read(path, 0, &mut budget);
        c
    }

    /// `budget`: files still allowed for this load, so includes that fan out (a file including
    /// another one ten times, sixteen levels deep) end quickly instead of hanging `lxc-ls`.
    fn read(&mut self, path: &Path, depth: u32, budget: &mut u32) {
        use std::io::Read as _;
        if depth > 16 || *budget == 0 {
            return;
        }
        *budget -= 1;
        // Bounded: an include of `/dev/zero` (or a disk image) must not eat memory forever.
        let Ok(f) = std::fs::File::open(path) else { return };
        let mut bytes = Vec::new();
        if f.take(16 << 20).read_to_end(&mut bytes).is_err() {
            return;
        }
        let Ok(text) = String::from_utf8(bytes) else { return };
        for line in text.lines() {
            let l = line.trim_start();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let Some((k, v)) = l.split_once('=') else { continue };
            let k = k.trim().to_string();
            let mut v = v.trim();
            if v.len() >= 2 && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
            {
                v = &v[1..v.len() - 1];
            }
            if k == "lxc.include" {
                let p = Path::new(v);
                if p.is_dir() {
                    let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                        .map(|rd| {
                            rd.filter_map(|e| e.ok().map(|e| e.path()))
                                .filter(|f| f.extension().is_some_and(|x| x == "conf"))
                                .collect()
                        })
                        .unwrap_or_default();
                    files.sort();
                    for f in files {
                        self.read(&f, depth + 1, budget);
                    }
                } else {
                    self.read(p, depth + 1, budget);
                }
                continue;
            }
            if v.is_empty() {
                // An empty value clears list keys (LXC's clear semantics).
                self.items.retain(|(ik, _)| ik != &k);
                continue;
            }
            self.items.push((k, v.to_string()));
        }
    }

    /// Every value of a list key, in order.
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        self.items.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }

    /// A `get_config_item`-style value: list keys one value per line (newline-terminated),
    /// others the last value. Only `lxc.*` keys are accepted.
    pub fn item(&self, key: &str) -> Result<String, ()> {
        if !key.starts_with("lxc.") {
            return Err(());
        }
        let all = self.get_all(key);
        const LIST_KEYS: &[&str] = &["lxc.group", "lxc.idmap", "lxc.mount.entry", "lxc.cap.drop", "lxc.cap.keep"];
        if LIST_KEYS.contains(&key) || key.starts_with("lxc.hook.") || key.starts_with("lxc.environment") {
            return Ok(all.iter().map(|v| format!("{v}\n")).collect());
        }
        Ok(all.last().map(|s| s.to_string()).unwrap_or_default())
    }
}
