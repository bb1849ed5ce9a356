//! Device-cgroup rule syntax (`devices.allow` / `devices.deny` values): `a`, `c 1:3 rwm`,
//! `b *:* m`. Pure parsing, shared by the v1 writer and the cgroup2 eBPF compiler.

use crate::error::ValueError;

/// Device type of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceType {
    /// `a`: every device.
    All,
    /// `b`: block.
    Block,
    /// `c`: character.
    Char,
}

/// Access bits of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeviceAccess {
    /// `r`.
    pub read: bool,
    /// `w`.
    pub write: bool,
    /// `m` (mknod).
    pub mknod: bool,
}

impl DeviceAccess {
    /// `rwm`.
    pub const ALL: DeviceAccess = DeviceAccess { read: true, write: true, mknod: true };
}

/// One parsed device rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeviceRule {
    /// Type.
    pub kind: DeviceType,
    /// Major number (None = `*`).
    pub major: Option<u32>,
    /// Minor number (None = `*`).
    pub minor: Option<u32>,
    /// Access.
    pub access: DeviceAccess,
}

impl DeviceRule {
    /// The rule in kernel syntax (`c 1:3 rwm`, `a *:* rwm`).
    pub fn to_kernel_string(&self) -> String {
        let t = match self.kind {
            DeviceType::All => 'a',
            DeviceType::Block => 'b',
            DeviceType::Char => 'c',
        };
        let n = |v: Option<u32>| v.map(|x| x.to_string()).unwrap_or_else(|| "*".into());
        let mut acc = String::new();
        if self.access.read {
            acc.push('r');
        }
        if self.access.write {
            acc.push('w');
        }
        if self.access.mknod {
            acc.push('m');
        }
        format!("{t} {}:{} {acc}", n(self.major), n(self.minor))
    }
}

/// Parse a device rule: `a` alone, or `TYPE MAJOR:MINOR [ACCESS]` with TYPE `a|b|c`, numbers or
/// `*`, ACCESS a non-empty subset of `rwm` (missing = `rwm`).
pub fn parse_device_rule(s: &str) -> Result<DeviceRule, ValueError> {
    let bad = |why: &str| ValueError::new(format!("{s:?} is not a device rule ({why}; e.g. \"c 1:3 rwm\" or \"a\")"));
    let f: Vec<&str> = s.split_whitespace().collect();
    let kind = match f.first().copied() {
        Some("a") => DeviceType::All,
        Some("b") => DeviceType::Block,
        Some("c") => DeviceType::Char,
        _ => return Err(bad("type must be a, b or c")),
    };
    if f.len() == 1 {
        if kind == DeviceType::All {
            return Ok(DeviceRule { kind, major: None, minor: None, access: DeviceAccess::ALL });
        }
        return Err(bad("missing MAJOR:MINOR"));
    }
    if f.len() > 3 {
        return Err(bad("too many fields"));
    }
    let (maj, min) = f[1].split_once(':').ok_or_else(|| bad("expected MAJOR:MINOR"))?;
    let num = |x: &str| -> Result<Option<u32>, ValueError> {
        if x == "*" {
            return Ok(None);
        }
        if x.is_empty() || !x.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad("device numbers must be numbers or *"));
        }
        x.parse::<u32>().map(Some).map_err(|_| bad("device number too large"))
    };
    let (major, minor) = (num(maj)?, num(min)?);
    let access = match f.get(2) {
        None => DeviceAccess::ALL,
        Some(a) => {
            if a.is_empty() || a.len() > 3 || !a.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) {
                return Err(bad("access must be letters of rwm"));
            }
            DeviceAccess { read: a.contains('r'), write: a.contains('w'), mknod: a.contains('m') }
        }
    };
    Ok(DeviceRule { kind, major, minor, access })
}

/// Whether a cgroup setting key is a device rule (`devices.allow` / `devices.deny`).
pub fn is_device_key(key: &str) -> bool {
    key == "devices.allow" || key == "devices.deny"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_rules() {
        let r = parse_device_rule("c 1:3 rwm").expect("valid");
        assert_eq!((r.kind, r.major, r.minor), (DeviceType::Char, Some(1), Some(3)));
        assert_eq!(r.to_kernel_string(), "c 1:3 rwm");
        let r = parse_device_rule("a").expect("valid");
        assert_eq!(r.to_kernel_string(), "a *:* rwm");
        let r = parse_device_rule("b *:* m").expect("valid");
        assert_eq!(r.access, DeviceAccess { read: false, write: false, mknod: true });
        assert_eq!(parse_device_rule("c 136:* rwm").expect("valid").minor, None);
        for b in ["", "x 1:3 r", "c 1 r", "c 1:3 rwx", "c a:3 r", "c", "c 1:3 r r"] {
            assert!(parse_device_rule(b).is_err(), "{b}");
        }
    }
}
