//! Errors of the config crate. Every error names where the problem is: file and line when the
//! value came from a file, always the key, and what is wrong with the value.

use std::fmt;
use std::path::PathBuf;

/// What is wrong with one value, without its location (the caller adds file, line and key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError(pub String);

impl ValueError {
    /// A value error with this message.
    pub fn new(msg: impl Into<String>) -> ValueError {
        ValueError(msg.into())
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValueError {}

/// A place in a config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file.display(), self.line)
    }
}

fn loc(l: &Option<Location>) -> String {
    l.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// Longest message part shown whole; a careless `lxc.uts.name = <100 KB>` must not flood the
/// terminal with its own value.
const CLIP_AT: usize = 400;

/// `s`, or its first ~200 characters followed by how long it really was.
pub(crate) fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    if s.len() <= CLIP_AT {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut end = 200;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}... ({} bytes in all)", &s[..end], s.len()))
}

/// A config error: I/O, syntax, unknown key, bad value or an inconsistent configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read or written.
    #[error("{}{}: {source}", loc(.at), .path.display())]
    Io {
        /// Where it was included from, if it was.
        at: Option<Location>,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A line starting with `lxc.` without `=`.
    #[error("{at}invalid line {}: expected \"key = value\"", clip(&format!("{:?}", .line)))]
    Syntax {
        /// Where.
        at: Location,
        /// The line (trimmed).
        line: String,
    },
    /// A key the table doesn't know.
    #[error("{}{}: unknown key{}", loc(.at), clip(.key), .suggestion.as_ref().map(|s| format!(" (did you mean {s}?)")).unwrap_or_default())]
    UnknownKey {
        /// Where (None = API / define).
        at: Option<Location>,
        /// The key.
        key: String,
        /// The nearest known key.
        suggestion: Option<String>,
    },
    /// A value the key rejects.
    #[error("{}{}: {}", loc(.at), clip(.key), clip(.msg))]
    Value {
        /// Where (None = API / define).
        at: Option<Location>,
        /// The key.
        key: String,
        /// What is wrong.
        msg: String,
    },
    /// `lxc.include` of a file that is already being read.
    #[error("{}lxc.include: {} includes itself (include cycle)", loc(.at), .path.display())]
    IncludeCycle {
        /// Where.
        at: Option<Location>,
        /// The file.
        path: PathBuf,
    },
    /// A key that cannot be read with `get_item` (e.g. `lxc.include`, `lxc.hook`).
    #[error("{key}: cannot be read back")]
    NotReadable {
        /// The key.
        key: String,
    },
    /// Settings that are fine one by one but not together (checked when loading ends).
    #[error("{}{key}: {msg}", loc(.at))]
    Inconsistent {
        /// Where the offending key was set, when known.
        at: Option<Location>,
        /// The key.
        key: String,
        /// What is wrong.
        msg: String,
    },
    /// A `-s KEY=VAL` define without `=`.
    #[error("invalid define {0:?}: expected KEY=VALUE")]
    BadDefine(String),
}

impl ConfigError {
    /// The key the error is about, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::UnknownKey { key, .. }
            | ConfigError::Value { key, .. }
            | ConfigError::NotReadable { key }
            | ConfigError::Inconsistent { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The file location the error is about, when there is one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ConfigError::Syntax { at, .. } => Some(at),
            ConfigError::Io { at, .. }
            | ConfigError::UnknownKey { at, .. }
            | ConfigError::Value { at, .. }
            | ConfigError::IncludeCycle { at, .. }
            | ConfigError::Inconsistent { at, .. } => at.as_ref(),
            _ => None,
        }
    }
}
