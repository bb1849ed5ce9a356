//! The unexpanded store: the top-level config file's lines as the user wrote them, which
//! `save` writes back with only the changed keys changed, and the origin of every value.

use std::path::PathBuf;

/// The top-level file's lines (not those of included files), as LXC's `unexpanded_config`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unexpanded {
    /// Lines without their `\n` (a `\r` of CRLF files stays; `x` in hwaddr already replaced).
    pub lines: Vec<String>,
    /// The file's last line had no newline (kept so an unchanged file is written back as it was).
    pub missing_final_newline: bool,
}

/// Where one item came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemOrigin {
    /// The key as written.
    pub key: String,
    /// The value as stored (unquoted).
    pub value: String,
    /// File that set it (None = set through the API or `-s KEY=VAL`).
    pub file: Option<PathBuf>,
    /// 1-based line in `file` (0 when `file` is None).
    pub line: usize,
}
