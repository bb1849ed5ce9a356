//! Reading config files (syntax of LXC's `parse_line`, `lxc.include` of files and directories),
//! the public item API (`set_item` / `get_item` / `clear_item`, `-s KEY=VAL` defines), and
//! `save`, which writes the top-level file back with only the changed keys changed.

use std::path::{Path, PathBuf};

use crate::apply::ApplyError;
use crate::error::{ConfigError, Location, ValueError};
use crate::keys::{resolve, suggest, KeyShape, Resolved};
use crate::model::ContainerConfig;
use crate::net::{check_netdev, randomize_hwaddr};
use crate::store::ItemOrigin;

/// Deepest `lxc.include` nesting accepted (cycles are caught before; this bounds pathological
/// directory trees).
const MAX_INCLUDE_DEPTH: usize = 32;

/// Largest config file read (a container config is a few KB; this refuses `/dev/zero`-like
/// files and mistakes such as including a disk image, instead of eating memory forever).
const MAX_FILE_BYTES: u64 = 16 << 20;

/// Most files one load reads through `lxc.include`: a file including another one ten times,
/// which includes another one ten times, ... is not a cycle but would never finish.
const MAX_FILES_READ: usize = 4096;

/// C `isspace`.
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Strip one pair of matching single or double quotes.
pub fn unquote(v: &str) -> &str {
    let b = v.as_bytes();
    if b.len() > 1 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

/// What one line of a config file is.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// Blank, comment, or not starting with `lxc.` (ignored, as LXC does).
    Ignored,
    /// `key = value` (trimmed, value unquoted).
    Item(&'a str, &'a str),
    /// Starts with `lxc.` but has no `=`.
    Invalid,
}

/// Classify one line with LXC's rules: leading blanks skipped, `#` starts a comment only at the
/// start, lines not starting with `lxc.` ignored, key and value trimmed, quotes stripped once.
pub fn parse_line(line: &str) -> Line<'_> {
    let t = line.trim_start_matches(is_c_space);
    if t.is_empty() || t.starts_with('#') || !t.starts_with("lxc.") {
        return Line::Ignored;
    }
    match t.split_once('=') {
        None => Line::Invalid,
        Some((k, v)) => Line::Item(k.trim_end_matches(is_c_space), unquote(v.trim_matches(is_c_space))),
    }
}

/// Replace `x` placeholders in an `lxc.net.N.hwaddr` line's value with random hex, leaving the
/// rest of the line (spacing, quotes, CR) as it was. Other lines come back unchanged.
fn randomize_hwaddr_line(line: &str) -> Option<String> {
    if let Line::Item(k, v) = parse_line(line) {
        if matches!(resolve(k), Some(Resolved::Net(_, d)) if d.name == "lxc.net.hwaddr") && v.contains(['x', 'X']) {
            let eq = line.find('=')?;
            return Some(format!("{}{}", &line[..=eq], randomize_hwaddr(&line[eq + 1..])));
        }
    }
    None
}

/// Split file text into lines (without `\n`; a `\r` stays with its line) and whether the last
/// line ended with a newline.
fn split_lines(text: &str) -> (Vec<&str>, bool) {
    if text.is_empty() {
        return (Vec::new(), true);
    }
    let ends = text.ends_with('\n');
    let body = if ends { &text[..text.len() - 1] } else { text };
    (body.split('\n').collect(), ends)
}

fn value_error(at: Option<Location>, key: &str, e: ValueError) -> ConfigError {
    ConfigError::Value { at, key: key.to_string(), msg: e.0 }
}

fn unknown(at: Option<Location>, key: &str) -> ConfigError {
    ConfigError::UnknownKey { at, key: key.to_string(), suggestion: suggest(key) }
}

/// Whether clearing `cleared` also removes a line setting `line`.
fn covers(cleared: &Resolved<'_>, cleared_key: &str, line: &Resolved<'_>, line_key: &str) -> bool {
    if cleared_key == line_key {
        return true;
    }
    match (cleared, line) {
        (Resolved::Key(d), Resolved::Sub(ld, _)) => d.name == ld.name,
        (Resolved::Key(d), Resolved::Key(ld)) if d.shape == KeyShape::HookAll => {
            ld.name.starts_with("lxc.hook.") && ld.shape == KeyShape::List
        }
        (Resolved::Key(d), Resolved::Net(..) | Resolved::NetIndex(_)) => d.shape == KeyShape::NetAll,
        (Resolved::NetIndex(i), Resolved::Net(j, _) | Resolved::NetIndex(j)) => i == j,
        _ => false,
    }
}

/// The first `lxc.*` line of `bytes` that rlxc cannot take as written: one holding a NUL byte
/// (C's LXC silently cuts the value there) or one that is not UTF-8 (a lossy decode would
/// silently change a path or name). Other lines (comments, non-`lxc.` lines, which LXC ignores)
/// may hold anything.
fn bad_bytes(bytes: &[u8], file: &Path) -> Option<ConfigError> {
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let start = raw.iter().position(|b| !b" \t\r\x0b\x0c".contains(b)).unwrap_or(raw.len());
        let line = &raw[start..];
        if !line.starts_with(b"lxc.") {
            continue;
        }
        let why = if line.contains(&0) {
            "contains a NUL byte"
        } else if std::str::from_utf8(line).is_err() {
            "is not valid UTF-8"
        } else {
            continue;
        };
        let key_end = line.iter().position(|b| *b == b'=' || b" \t".contains(b)).unwrap_or(line.len());
        let key = String::from_utf8_lossy(&line[..key_end]).replace('\0', "\\0");
        return Some(ConfigError::Value {
            at: Some(Location { file: file.to_path_buf(), line: i + 1 }),
            key,
            msg: format!("the line {why}"),
        });
    }
    None
}

/// Read a config file of at most [`MAX_FILE_BYTES`]. Pipes and devices are allowed
/// (`/dev/stdin`, `/dev/null` as an empty config) but an endless one (`/dev/zero`) ends with an
/// error at the bound instead of eating memory.
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    let f = std::fs::File::open(path)?;
    if f.metadata()?.is_dir() {
        return Err(Error::new(ErrorKind::InvalidInput, "is a directory, not a config file"));
    }
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::new(ErrorKind::InvalidInput, format!("is larger than {} MiB", MAX_FILE_BYTES >> 20)));
    }
    Ok(bytes)
}

struct Reader<'c> {
    conf: &'c mut ContainerConfig,
    /// Files being read (canonical paths), for cycle detection.
    stack: Vec<PathBuf>,
    /// Files read so far by this load (bounded by [`MAX_FILES_READ`]).
    files_read: usize,
}

impl Reader<'_> {
    fn read_file(&mut self, path: &Path, top: bool, at: Option<Location>) -> Result<(), ConfigError> {
        let canon = std::fs::canonicalize(path).map_err(|source| ConfigError::Io {
            at: at.clone(),
            path: path.into(),
            source,
        })?;
        if self.stack.contains(&canon) {
            return Err(ConfigError::IncludeCycle { at, path: path.into() });
        }
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(ConfigError::Value {
                at,
                key: "lxc.include".into(),
                msg: format!("includes nested deeper than {MAX_INCLUDE_DEPTH} levels"),
            });
        }
        self.files_read += 1;
        if self.files_read > MAX_FILES_READ {
            return Err(ConfigError::Value {
                at,
                key: "lxc.include".into(),
                msg: format!("more than {MAX_FILES_READ} files read for one config (includes fan out without end)"),
            });
        }
        let bytes =
            read_bounded(path).map_err(|source| ConfigError::Io { at: at.clone(), path: path.into(), source })?;
        if let Some(e) = bad_bytes(&bytes, path) {
            return Err(e);
        }
        let text = String::from_utf8_lossy(&bytes);
        self.stack.push(canon);
        let r = self.read_text(&text, path, top);
        self.stack.pop();
        r
    }

    fn read_text(&mut self, text: &str, file: &Path, top: bool) -> Result<(), ConfigError> {
        if let Some(e) = bad_bytes(text.as_bytes(), file) {
            return Err(e);
        }
        let (lines, final_newline) = split_lines(text);
        for (i, raw) in lines.into_iter().enumerate() {
            let randomized = randomize_hwaddr_line(raw);
            let line = randomized.as_deref().unwrap_or(raw);
            if top {
                self.conf.unexpanded.lines.push(line.to_string());
            }
            let at = Location { file: file.to_path_buf(), line: i + 1 };
            match parse_line(line) {
                Line::Ignored => {}
                Line::Invalid => {
                    return Err(ConfigError::Syntax { at, line: line.trim_matches(is_c_space).to_string() });
                }
                Line::Item(k, v) => self.apply(k, v, Some(at))?,
            }
        }
        if top {
            self.conf.unexpanded.missing_final_newline = !final_newline;
        }
        Ok(())
    }

    fn apply(&mut self, key: &str, value: &str, at: Option<Location>) -> Result<(), ConfigError> {
        let r = resolve(key).ok_or_else(|| unknown(at.clone(), key))?;
        if matches!(r, Resolved::Key(d) if d.shape == KeyShape::Include) {
            if !value.is_empty() {
                self.include(value, at.clone())?;
            }
        } else {
            self.conf.set_resolved(r, value).map_err(|e| value_error(at.clone(), key, e))?;
        }
        let (file, line) = match at {
            Some(l) => (Some(l.file), l.line),
            None => (None, 0),
        };
        self.conf.origins.push(ItemOrigin { key: key.to_string(), value: value.to_string(), file, line });
        Ok(())
    }

    /// `lxc.include`: a directory reads every `*.conf` inside in sorted order; a missing path
    /// written as a directory (trailing `/`) is fine; a missing file is an error.
    fn include(&mut self, value: &str, at: Option<Location>) -> Result<(), ConfigError> {
        let path = Path::new(value);
        if path.is_dir() {
            let rd = std::fs::read_dir(path).map_err(|source| ConfigError::Io {
                at: at.clone(),
                path: path.into(),
                source,
            })?;
            let mut files: Vec<PathBuf> = rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "conf") && p.is_file())
                .collect();
            files.sort();
            for f in files {
                self.read_file(&f, false, at.clone())?;
            }
            return Ok(());
        }
        if value.ends_with('/') && !path.exists() {
            return Ok(());
        }
        self.read_file(path, false, at)
    }
}

impl ContainerConfig {
    /// Load a container config file (LXC's `lxc_config_read` into a fresh config), then check
    /// the combination of settings (see [`ContainerConfig::validate`]).
    pub fn load(path: impl AsRef<Path>) -> Result<ContainerConfig, ConfigError> {
        let mut c = ContainerConfig::default();
        c.merge_file(path)?;
        c.validate()?;
        Ok(c)
    }

    /// The starting config for a new container (`lxc-create`): `lxc.default_config` of the system
    /// config (`/etc/lxc/default.conf` for root) read as a top-level file, so its lines are
    /// saved into the new container's config; a missing file gives an empty config, as in LXC.
    pub fn load_default(system: &crate::system::SystemConfig) -> Result<ContainerConfig, ConfigError> {
        let path = Path::new(&system.default_config);
        if !path.exists() {
            return Ok(ContainerConfig::default());
        }
        ContainerConfig::load(path)
    }

    /// Parse `text` as the top-level file named `name` (includes are read from disk), then
    /// validate. For tests, fuzzing and configs that don't live in a file.
    pub fn parse_str(text: &str, name: impl AsRef<Path>) -> Result<ContainerConfig, ConfigError> {
        let mut c = ContainerConfig::default();
        Reader { conf: &mut c, stack: Vec::new(), files_read: 0 }.read_text(text, name.as_ref(), true)?;
        c.validate()?;
        Ok(c)
    }

    /// Read another top-level file into this config (its lines join the unexpanded store), as
    /// `--rcfile` / `load_config` do. Does not validate.
    pub fn merge_file(&mut self, path: impl AsRef<Path>) -> Result<(), ConfigError> {
        Reader { conf: self, stack: Vec::new(), files_read: 0 }.read_file(path.as_ref(), true, None)
    }

    /// Check what single keys cannot: every NIC has a type and only settings for its type.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (idx, n) in &self.net {
            if let Err((sub, msg)) = check_netdev(n) {
                let key = format!("lxc.net.{idx}.{sub}");
                let prefix = format!("lxc.net.{idx}.");
                let origin = self
                    .origins
                    .iter()
                    .rev()
                    .find(|o| o.key == key)
                    .or_else(|| self.origins.iter().rev().find(|o| o.key.starts_with(&prefix)));
                let at = origin.and_then(|o| o.file.clone().map(|file| Location { file, line: o.line }));
                return Err(ConfigError::Inconsistent { at, key, msg });
            }
        }
        Ok(())
    }

    /// Set one item as LXC's `set_config_item` does: applied to the model and recorded in the
    /// unexpanded store (a scalar key's line is replaced in place, a list key gets a new line,
    /// an empty value removes the key's lines). `x` in a hwaddr is randomised and persisted.
    pub fn set_item(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        if value.contains(['\n', '\0']) {
            return Err(value_error(None, key, ValueError::new("a value cannot contain a newline or NUL")));
        }
        let r = resolve(key).ok_or_else(|| unknown(None, key))?;
        let value = match r {
            Resolved::Net(_, d) if d.name == "lxc.net.hwaddr" => randomize_hwaddr(value),
            _ => value.to_string(),
        };
        // Apply to a copy first: a failure must leave the config unchanged.
        let mut next = self.clone();
        Reader { conf: &mut next, stack: Vec::new(), files_read: 0 }.apply(key, &value, None)?;
        next.record(r, key, &value);
        *self = next;
        Ok(())
    }

    /// Read one item in LXC's `get_config_item` format.
    pub fn get_item(&self, key: &str) -> Result<String, ConfigError> {
        let r = resolve(key).ok_or_else(|| unknown(None, key))?;
        self.get_resolved(r).map_err(|e| match e {
            ApplyError::Value(e) => value_error(None, key, e),
            ApplyError::NotReadable => ConfigError::NotReadable { key: key.to_string() },
        })
    }

    /// Clear one item (LXC's `clear_config_item`): the model loses the value and the unexpanded
    /// store loses its lines. An unknown key is an error and changes nothing.
    pub fn clear_item(&mut self, key: &str) -> Result<(), ConfigError> {
        let r = resolve(key).ok_or_else(|| unknown(None, key))?;
        let mut next = self.clone();
        next.clear_resolved(r).map_err(|e| match e {
            ApplyError::Value(e) => value_error(None, key, e),
            ApplyError::NotReadable => ConfigError::NotReadable { key: key.to_string() },
        })?;
        next.record(r, key, "");
        *self = next;
        Ok(())
    }

    /// Apply one `-s KEY=VAL` define (`lxc-start -s`, `lxc-execute -s`): key and value trimmed,
    /// quotes stripped once, then [`ContainerConfig::set_item`].
    pub fn apply_define(&mut self, define: &str) -> Result<(), ConfigError> {
        let (k, v) = parse_define(define)?;
        self.set_item(&k, &v)
    }

    /// Record a change in the unexpanded store.
    fn record(&mut self, r: Resolved<'_>, key: &str, value: &str) {
        let lines = &mut self.unexpanded.lines;
        let key_of = |l: &str| match parse_line(l) {
            Line::Item(k, _) => Some(k.to_string()),
            _ => None,
        };
        let is_include = |l: &String| key_of(l).as_deref() == Some("lxc.include");
        let new_line = if value.is_empty() { format!("{key} =") } else { format!("{key} = {}", quote_for_file(value)) };
        if value.is_empty() {
            let had_include = lines.iter().any(is_include);
            lines.retain(|l| match key_of(l) {
                Some(k) => match resolve(&k) {
                    Some(lr) => !covers(&r, key, &lr, &k),
                    None => true,
                },
                None => true,
            });
            // An included file may set it again: say "cleared" after the includes.
            if had_include && !matches!(r, Resolved::Key(d) if d.shape == KeyShape::Include) {
                lines.push(new_line);
            }
            return;
        }
        if r.accumulates() {
            lines.push(new_line);
            return;
        }
        let same: Vec<usize> = (0..lines.len()).filter(|i| key_of(&lines[*i]).as_deref() == Some(key)).collect();
        match same.last() {
            Some(&last) if !lines[last + 1..].iter().any(is_include) => {
                lines[last] = new_line;
                for i in same.iter().rev().skip(1) {
                    lines.remove(*i);
                }
            }
            _ => {
                for i in same.iter().rev() {
                    lines.remove(*i);
                }
                lines.push(new_line);
            }
        }
    }

    /// The text `save` writes: the unexpanded store.
    pub fn to_config_string(&self) -> String {
        let mut s = self.unexpanded.lines.join("\n");
        if !self.unexpanded.lines.is_empty() && !self.unexpanded.missing_final_newline {
            s.push('\n');
        }
        s
    }

    /// Write the unexpanded config to `path` (LXC's `save_config`).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ConfigError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_config_string()).map_err(|source| ConfigError::Io {
            at: None,
            path: path.into(),
            source,
        })
    }

    /// Every item with the file:line that set it, in reading order (`rlxc config show --origin`).
    pub fn origins(&self) -> &[ItemOrigin] {
        &self.origins
    }
}

/// A value as written to a file so that reading it back gives the same value: wrapped in double
/// quotes when reading would otherwise change it (blanks at either end are trimmed when read, a
/// value in matching quotes loses them).
pub fn quote_for_file(value: &str) -> String {
    let trimmed = value.trim_matches(is_c_space);
    if trimmed.len() != value.len() || unquote(value).len() != value.len() {
        format!("\"{value}\"")
    } else {
        value.to_string()
    }
}

/// Split a `KEY=VAL` define (key and value trimmed, value unquoted once).
pub fn parse_define(define: &str) -> Result<(String, String), ConfigError> {
    let (k, v) = define.split_once('=').ok_or_else(|| ConfigError::BadDefine(define.to_string()))?;
    let k = k.trim_matches(is_c_space);
    if k.is_empty() {
        return Err(ConfigError::BadDefine(define.to_string()));
    }
    Ok((k.to_string(), unquote(v.trim_matches(is_c_space)).to_string()))
}
