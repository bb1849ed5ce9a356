//! Device rules as `devices.allow` / `devices.deny` take them (`TYPE MAJOR:MINOR ACCESS`, the
//! global `a`, `/dev/path ACCESS`), the rule list with LXC's merging, and the list's meaning
//! ([`DeviceRules::allows`]) that the eBPF program must reproduce.
//!
//! Semantics (LXC 4.0.10+, "bpf: update device cgroup semantics"):
//! - a global rule (`a`, or `a *:* rwm`) sets the default and clears the rules collected so far:
//!   `devices.deny = a` ⇒ allow-list (default deny), `devices.allow = a` ⇒ deny-list (default
//!   allow). Without any global rule the list is an allow-list.
//! - an identical rule (type, major, minor, access) is merged; the later allow/deny wins.
//! - the first rule that matches decides, otherwise the default. An allow rule matches when the
//!   requested access is a subset of its access; a deny rule matches when the requested access
//!   overlaps its access (so `deny c 1:3 w` also refuses opening `rw`; LXC 4.0 used the subset
//!   test for both and let `rw` through such a rule).

/// `BPF_DEVCG_ACC_MKNOD`.
pub const ACC_MKNOD: u8 = 1;
/// `BPF_DEVCG_ACC_READ`.
pub const ACC_READ: u8 = 2;
/// `BPF_DEVCG_ACC_WRITE`.
pub const ACC_WRITE: u8 = 4;
/// All three access bits.
pub const ACC_ALL: u8 = ACC_MKNOD | ACC_READ | ACC_WRITE;
/// `BPF_DEVCG_DEV_BLOCK`.
pub const DEV_BLOCK: u32 = 1;
/// `BPF_DEVCG_DEV_CHAR`.
pub const DEV_CHAR: u32 = 2;

/// Device type of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DevType {
    /// `a`: any
    All,
    /// `b`
    Block,
    /// `c`
    Char,
}

impl DevType {
    /// The letter used in rule strings.
    pub fn letter(self) -> char {
        match self {
            DevType::All => 'a',
            DevType::Block => 'b',
            DevType::Char => 'c',
        }
    }
    /// From the letter.
    pub fn from_letter(c: char) -> Option<DevType> {
        match c {
            'a' => Some(DevType::All),
            'b' => Some(DevType::Block),
            'c' => Some(DevType::Char),
            _ => None,
        }
    }
}

/// One local (non-global) rule. `major`/`minor` `None` = wildcard `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceRule {
    /// device type
    pub dtype: DevType,
    /// major number or wildcard
    pub major: Option<u32>,
    /// minor number or wildcard
    pub minor: Option<u32>,
    /// access bits (`ACC_*`)
    pub access: u8,
    /// allow (true) or deny (false)
    pub allow: bool,
}

/// What one `devices.allow`/`devices.deny` value means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParsedRule {
    /// `a`: `allow` true ⇒ default allow (deny-list), false ⇒ default deny (allow-list).
    Global {
        /// from devices.allow
        allow: bool,
    },
    /// a local rule
    Local(DeviceRule),
}

/// Render access bits as `rwm` letters.
pub fn access_string(a: u8) -> String {
    let mut s = String::new();
    if a & ACC_READ != 0 {
        s.push('r');
    }
    if a & ACC_WRITE != 0 {
        s.push('w');
    }
    if a & ACC_MKNOD != 0 {
        s.push('m');
    }
    s
}

/// Parse access letters (`r`, `w`, `m`, at most three, each once). Empty means all.
pub fn parse_access(s: &str) -> Result<u8, String> {
    let mut a = 0u8;
    if s.len() > 3 {
        return Err(format!("access \"{s}\" has more than 3 letters"));
    }
    for c in s.chars() {
        let bit = match c {
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            'm' => ACC_MKNOD,
            _ => return Err(format!("access letter '{c}' is not one of r, w, m")),
        };
        if a & bit != 0 {
            return Err(format!("access letter '{c}' repeated"));
        }
        a |= bit;
    }
    Ok(if a == 0 { ACC_ALL } else { a })
}

fn parse_num(s: &str, what: &str) -> Result<Option<u32>, String> {
    if s == "*" {
        return Ok(None);
    }
    let n: u32 = s.parse().map_err(|_| format!("{what} \"{s}\" is not a number or *"))?;
    if n > i32::MAX as u32 {
        return Err(format!("{what} {n} is too large"));
    }
    Ok(Some(n))
}

fn wild_eq(rule: Option<u32>, v: u32) -> bool {
    match rule {
        None => true,
        Some(r) => r == v,
    }
}

/// Parse a rule value (`devices.allow` when `allow`). `/dev/...` paths are resolved with
/// `stat` by the caller through [`parse_rule_with`]; this pure form rejects them.
pub fn parse_rule(value: &str, allow: bool) -> Result<ParsedRule, String> {
    parse_rule_with(value, allow, |_| Err("device paths need stat(); use TYPE MAJOR:MINOR ACCESS".to_string()))
}

/// Parse a rule, resolving `/dev/path ACCESS` through `stat_dev(path) -> (type, major, minor)`.
pub fn parse_rule_with(
    value: &str,
    allow: bool,
    stat_dev: impl Fn(&str) -> Result<(DevType, u32, u32), String>,
) -> Result<ParsedRule, String> {
    let v = value.trim();
    if v == "a" {
        return Ok(ParsedRule::Global { allow });
    }
    let mut parts = v.split_whitespace();
    let first = parts.next().ok_or_else(|| "empty rule".to_string())?;
    if first.starts_with('/') {
        if !allow {
            return Err("a device path is only accepted in devices.allow".into());
        }
        let access = parse_access(parts.next().unwrap_or(""))?;
        if parts.next().is_some() {
            return Err("trailing text after the access letters".into());
        }
        let (dtype, major, minor) = stat_dev(first)?;
        return Ok(ParsedRule::Local(DeviceRule { dtype, major: Some(major), minor: Some(minor), access, allow }));
    }
    let mut ch = first.chars();
    let dtype = match (ch.next(), ch.next()) {
        (Some(c), None) => DevType::from_letter(c).ok_or_else(|| format!("type '{c}' is not one of a, b, c"))?,
        _ => return Err(format!("type \"{first}\" is not one of a, b, c")),
    };
    let (major, minor) = match parts.next() {
        Some(mm) => {
            let (ma, mi) = mm.split_once(':').ok_or_else(|| format!("\"{mm}\" is not MAJOR:MINOR"))?;
            (parse_num(ma, "major")?, parse_num(mi, "minor")?)
        }
        None => (None, None),
    };
    let access = parse_access(parts.next().unwrap_or(""))?;
    if parts.next().is_some() {
        return Err("trailing text after the access letters".into());
    }
    if dtype == DevType::All && major.is_none() && minor.is_none() && access == ACC_ALL {
        return Ok(ParsedRule::Global { allow });
    }
    Ok(ParsedRule::Local(DeviceRule { dtype, major, minor, access, allow }))
}

/// The collected device rules of a container: list mode plus ordered local rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceRules {
    /// true = default allow (deny-list); false = default deny (allow-list, the default)
    pub default_allow: bool,
    /// local rules, first match wins
    pub rules: Vec<DeviceRule>,
    /// whether any rule (global or local) was given at all
    pub configured: bool,
}

impl DeviceRules {
    /// An empty allow-list (nothing configured yet).
    pub fn new() -> DeviceRules {
        DeviceRules::default()
    }

    /// Add one parsed rule with LXC 4.0.10+ semantics.
    pub fn add(&mut self, r: ParsedRule) {
        self.configured = true;
        match r {
            ParsedRule::Global { allow } => {
                self.default_allow = allow;
                self.rules.clear();
            }
            ParsedRule::Local(d) => {
                if let Some(cur) = self
                    .rules
                    .iter_mut()
                    .find(|c| c.dtype == d.dtype && c.major == d.major && c.minor == d.minor && c.access == d.access)
                {
                    cur.allow = d.allow;
                } else {
                    self.rules.push(d);
                }
            }
        }
    }

    /// The meaning of the list: may a device of `dev_type` (`DEV_BLOCK`/`DEV_CHAR`),
    /// `major:minor` be accessed with `access` bits?
    pub fn allows(&self, dev_type: u32, major: u32, minor: u32, access: u8) -> bool {
        for r in &self.rules {
            let type_ok = match r.dtype {
                DevType::All => true,
                DevType::Block => dev_type == DEV_BLOCK,
                DevType::Char => dev_type == DEV_CHAR,
            };
            let acc_ok = if r.allow { access & !r.access == 0 } else { access & r.access != 0 };
            if type_ok && acc_ok && wild_eq(r.major, major) && wild_eq(r.minor, minor) {
                return r.allow;
            }
        }
        self.default_allow
    }

    /// Rules rendered as `devices.allow`/`deny` lines (for logs and `get`).
    pub fn describe(&self) -> Vec<String> {
        let mut v = vec![format!("{} a", if self.default_allow { "allow" } else { "deny" })];
        for r in &self.rules {
            let n = |x: Option<u32>| x.map(|v| v.to_string()).unwrap_or_else(|| "*".into());
            v.push(format!(
                "{} {} {}:{} {}",
                if r.allow { "allow" } else { "deny" },
                r.dtype.letter(),
                n(r.major),
                n(r.minor),
                access_string(r.access)
            ));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(v: &str, allow: bool) -> DeviceRule {
        match parse_rule(v, allow).unwrap() {
            ParsedRule::Local(d) => d,
            g => panic!("expected local, got {g:?}"),
        }
    }

    #[test]
    fn parses_rules() {
        assert_eq!(parse_rule("a", false).unwrap(), ParsedRule::Global { allow: false });
        assert_eq!(parse_rule("a *:* rwm", true).unwrap(), ParsedRule::Global { allow: true });
        let d = local("c 1:3 rw", true);
        assert_eq!((d.dtype, d.major, d.minor, d.access), (DevType::Char, Some(1), Some(3), ACC_READ | ACC_WRITE));
        let d = local("b *:* m", false);
        assert_eq!((d.dtype, d.major, d.minor, d.access), (DevType::Block, None, None, ACC_MKNOD));
        assert_eq!(local("c 136:* rwm", true).minor, None);
        assert!(local("a *:* r", true).dtype == DevType::All);
        for bad in ["x 1:3 r", "c 1-3 r", "c 1:3 rx", "c 1:3 rr", "c a:3 r", "c 1:3 r extra", "", "cc 1:3 r"] {
            assert!(parse_rule(bad, true).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn device_paths_use_stat_and_allow_only() {
        let st = |p: &str| if p == "/dev/null" { Ok((DevType::Char, 1, 3)) } else { Err("no".to_string()) };
        let r = parse_rule_with("/dev/null rw", true, st).unwrap();
        assert_eq!(
            r,
            ParsedRule::Local(DeviceRule {
                dtype: DevType::Char,
                major: Some(1),
                minor: Some(3),
                access: 6,
                allow: true
            })
        );
        assert!(parse_rule_with("/dev/null rw", false, st).is_err());
        assert!(parse_rule_with("/dev/nope rw", true, st).is_err());
    }

    #[test]
    fn global_rule_clears_and_sets_default() {
        let mut l = DeviceRules::new();
        l.add(parse_rule("c 1:3 rwm", true).unwrap());
        l.add(parse_rule("a", true).unwrap());
        assert!(l.default_allow && l.rules.is_empty());
        l.add(parse_rule("c 1:5 rwm", false).unwrap());
        assert!(!l.allows(DEV_CHAR, 1, 5, ACC_READ));
        assert!(l.allows(DEV_CHAR, 1, 3, ACC_READ));
    }

    #[test]
    fn identical_rules_merge_and_flip() {
        let mut l = DeviceRules::new();
        l.add(parse_rule("c 1:3 rwm", true).unwrap());
        l.add(parse_rule("c 1:3 rwm", false).unwrap());
        assert_eq!(l.rules.len(), 1);
        assert!(!l.rules[0].allow);
    }

    #[test]
    fn partial_access_masks() {
        let mut l = DeviceRules::new();
        l.add(parse_rule("c 1:3 r", true).unwrap());
        assert!(l.allows(DEV_CHAR, 1, 3, ACC_READ));
        assert!(!l.allows(DEV_CHAR, 1, 3, ACC_READ | ACC_WRITE));
        let mut d = DeviceRules::new();
        d.add(parse_rule("a", true).unwrap());
        d.add(parse_rule("c 1:3 w", false).unwrap());
        assert!(d.allows(DEV_CHAR, 1, 3, ACC_READ));
        assert!(!d.allows(DEV_CHAR, 1, 3, ACC_READ | ACC_WRITE));
    }
}
