//! The error type of every confinement step, with the context needed to act on it.

use std::io;
use std::path::PathBuf;

/// Why a confinement step failed.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    /// A configuration value is wrong or two values conflict.
    #[error("{key}: {message}")]
    Config {
        /// The configuration key at fault.
        key: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A system call or file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing (names the path, pid or capability).
        what: String,
        /// The error the kernel returned.
        #[source]
        source: io::Error,
    },
    /// The seccomp policy file is unreadable or malformed.
    #[error("lxc.seccomp.profile: {path}:{line}: {message}")]
    SeccompPolicy {
        /// Policy file.
        path: PathBuf,
        /// 1-based line (0 = the file as a whole).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// libseccomp refused to build or load a filter.
    #[error("seccomp: {what}: {message}")]
    Seccomp {
        /// The step (architecture, syscall, rule line).
        what: String,
        /// libseccomp's message.
        message: String,
    },
    /// An LSM (AppArmor/SELinux) step failed.
    #[error("{lsm}: {message}")]
    Lsm {
        /// `apparmor` or `selinux`.
        lsm: &'static str,
        /// What failed and what to do.
        message: String,
    },
}

impl SecurityError {
    /// Wrap an I/O error with what we were doing.
    pub fn io(what: impl Into<String>, source: io::Error) -> SecurityError {
        SecurityError::Io { what: what.into(), source }
    }

    /// A configuration error for `key`.
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> SecurityError {
        SecurityError::Config { key: key.into(), message: message.into() }
    }
}

/// Result alias for this crate.
pub type Result<T, E = SecurityError> = std::result::Result<T, E>;
