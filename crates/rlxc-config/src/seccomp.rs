//! LXC seccomp policy files (`lxc.seccomp.profile`), versions 1 and 2, parsed into a plain AST.
//!
//! This is a pure parser: no syscall names are resolved and nothing is compiled here (that is
//! `rlxc-security`'s job, per architecture). It never panics on any input; every error names the
//! line it happened on.
//!
//! Format (LXC 4.0, `src/lxc/seccomp.c`):
//! - line 1: `1` or `2`;
//! - version 1: line 2 contains `whitelist` (or `allowlist`), then one syscall number per line;
//!   unlisted syscalls kill the task;
//! - version 2: line 2 is `whitelist`/`allowlist` or `blacklist`/`denylist`, optionally followed
//!   by the default action for unlisted syscalls; `debug` is refused; the body has `#` comments,
//!   blank lines, `[arch]` section headers, `reject_force_umount`, and rule lines
//!   `SYSCALL [ACTION] [[INDEX,VALUE,OP(,MASK)]]...`.

use std::fmt;

/// Maximum number of argument comparisons on one rule (the syscall has six arguments).
pub const MAX_ARG_CMPS: usize = 6;

/// A parsed seccomp policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeccompPolicy {
    /// Policy file version (1 or 2).
    pub version: u32,
    /// Allow-list (unlisted syscalls refused) or deny-list (unlisted syscalls allowed).
    pub list: ListKind,
    /// Action for syscalls no rule matches.
    pub default_action: Action,
    /// Action for rules that name none.
    pub rule_default_action: Action,
    /// `reject_force_umount` was given: `umount2(..., MNT_FORCE)` returns EACCES.
    pub reject_force_umount: bool,
    /// Rules in file order.
    pub rules: Vec<Rule>,
}

/// Which kind of list the policy is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// `whitelist` / `allowlist`.
    Allow,
    /// `blacklist` / `denylist`.
    Deny,
}

/// What the kernel does when a rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `kill`: kill the task.
    Kill,
    /// `allow`.
    Allow,
    /// `trap`: send SIGSYS.
    Trap,
    /// `errno N`: fail with errno N.
    Errno(u16),
    /// `log`: allow and log.
    Log,
    /// `notify`: ask the user-space listener (seccomp notify).
    Notify,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Kill => f.write_str("kill"),
            Action::Allow => f.write_str("allow"),
            Action::Trap => f.write_str("trap"),
            Action::Errno(n) => write!(f, "errno {n}"),
            Action::Log => f.write_str("log"),
            Action::Notify => f.write_str("notify"),
        }
    }
}

/// Architecture section a rule was written under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArchSection {
    /// `[all]` (also the implicit section before any header).
    All,
    /// `[x86]` (i386).
    X86,
    /// `[x32]`.
    X32,
    /// `[x86_64]`.
    X86_64,
    /// `[arm]`.
    Arm,
    /// `[arm64]`.
    Arm64,
    /// `[ppc]`.
    Ppc,
    /// `[ppc64]`.
    Ppc64,
    /// `[ppc64le]`.
    Ppc64le,
    /// `[mips]`.
    Mips,
    /// `[mips64]`.
    Mips64,
    /// `[mips64n32]`.
    Mips64n32,
    /// `[mipsel]`.
    Mipsel,
    /// `[mipsel64]`.
    Mipsel64,
    /// `[mipsel64n32]`.
    Mipsel64n32,
    /// `[s390x]` (new in 4.0).
    S390x,
    /// `[s390]` (new in 4.0).
    S390,
}

impl ArchSection {
    /// Every section, with its lower-case name as written between brackets.
    pub const ALL: [(ArchSection, &'static str); 17] = [
        (ArchSection::All, "all"),
        (ArchSection::X86, "x86"),
        (ArchSection::X32, "x32"),
        (ArchSection::X86_64, "x86_64"),
        (ArchSection::Arm, "arm"),
        (ArchSection::Arm64, "arm64"),
        (ArchSection::Ppc, "ppc"),
        (ArchSection::Ppc64, "ppc64"),
        (ArchSection::Ppc64le, "ppc64le"),
        (ArchSection::Mips, "mips"),
        (ArchSection::Mips64, "mips64"),
        (ArchSection::Mips64n32, "mips64n32"),
        (ArchSection::Mipsel, "mipsel"),
        (ArchSection::Mipsel64, "mipsel64"),
        (ArchSection::Mipsel64n32, "mipsel64n32"),
        (ArchSection::S390x, "s390x"),
        (ArchSection::S390, "s390"),
    ];

    /// The name as written in a section header (lower case).
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(a, _)| *a == self).map_or("all", |(_, n)| n)
    }

    /// Parse a section name; LXC accepts the all-lower-case and all-upper-case spellings only.
    pub fn from_name(name: &str) -> Option<ArchSection> {
        Self::ALL.iter().find(|(_, n)| *n == name || n.to_ascii_uppercase() == name).map(|(a, _)| *a)
    }
}

/// The syscall a rule names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SyscallRef {
    /// A name, resolved per architecture when compiling (version 2).
    Name(String),
    /// A raw number for the native architecture (version 1).
    Number(u32),
}

impl fmt::Display for SyscallRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyscallRef::Name(n) => f.write_str(n),
            SyscallRef::Number(n) => write!(f, "{n}"),
        }
    }
}

/// Comparison operator of an argument filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `SCMP_CMP_NE` / `!=`.
    Ne,
    /// `SCMP_CMP_LT` / `<`.
    Lt,
    /// `SCMP_CMP_LE` / `<=`.
    Le,
    /// `SCMP_CMP_EQ` / `==`.
    Eq,
    /// `SCMP_CMP_GE` / `>=`.
    Ge,
    /// `SCMP_CMP_GT` / `>`.
    Gt,
    /// `SCMP_CMP_MASKED_EQ` / `&=`: `(arg & mask) == value`.
    MaskedEq,
}

impl CmpOp {
    /// Every operator with its two accepted spellings.
    pub const ALL: [(CmpOp, &'static str, &'static str); 7] = [
        (CmpOp::Ne, "SCMP_CMP_NE", "!="),
        (CmpOp::Lt, "SCMP_CMP_LT", "<"),
        (CmpOp::Le, "SCMP_CMP_LE", "<="),
        (CmpOp::Eq, "SCMP_CMP_EQ", "=="),
        (CmpOp::Ge, "SCMP_CMP_GE", ">="),
        (CmpOp::Gt, "SCMP_CMP_GT", ">"),
        (CmpOp::MaskedEq, "SCMP_CMP_MASKED_EQ", "&="),
    ];

    /// Parse either spelling.
    pub fn from_name(s: &str) -> Option<CmpOp> {
        Self::ALL.iter().find(|(_, a, b)| *a == s || *b == s).map(|(op, _, _)| *op)
    }

    /// The `SCMP_CMP_*` spelling.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(op, _, _)| *op == self).map_or("SCMP_CMP_EQ", |(_, a, _)| a)
    }
}

/// One argument comparison `[INDEX,VALUE,OP(,MASK)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArgCmp {
    /// Argument index, 0..=5.
    pub index: u8,
    /// Operator.
    pub op: CmpOp,
    /// Value compared with.
    pub value: u64,
    /// Mask for `MaskedEq` (0 when not given).
    pub mask: u64,
}

/// One rule line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// 1-based line number in the policy file.
    pub line: usize,
    /// Section the rule was written under.
    pub arch: ArchSection,
    /// Syscall named.
    pub syscall: SyscallRef,
    /// Action (the list's rule default if none was written).
    pub action: Action,
    /// Argument comparisons (at most [`MAX_ARG_CMPS`]); all must match.
    pub args: Vec<ArgCmp>,
}

/// A policy that could not be parsed; `line` is 1-based.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SeccompParseError {
    /// Line the problem is on.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, SeccompParseError> {
    Err(SeccompParseError { line, message: message.into() })
}

/// Parse an unsigned integer the way `strtoull(s, NULL, 0)` does (decimal, `0x` hex, `0` octal),
/// but strictly: the whole string must be a number.
pub fn parse_uint(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if hex.is_empty() {
            return None;
        }
        u64::from_str_radix(hex, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Parse an action word (`kill`, `allow`, `trap`, `log`, `notify`, `errno N`) from the start of
/// `text`; returns the action and the rest of the text. `Ok(None)` when `text` is empty.
fn parse_action(text: &str, line: usize) -> Result<Option<(Action, &str)>, SeccompParseError> {
    let text = text.trim_start();
    if text.is_empty() {
        return Ok(None);
    }
    let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let action = match word {
        "kill" => Action::Kill,
        "allow" => Action::Allow,
        "trap" => Action::Trap,
        "log" => Action::Log,
        "notify" => Action::Notify,
        "errno" => {
            let rest = rest.trim_start();
            let (num, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let Some(n) = num.parse::<u16>().ok().filter(|n| *n <= 4095) else {
                return err(line, format!("errno action needs a number 0..4095, found \"{num}\""));
            };
            return Ok(Some((Action::Errno(n), after)));
        }
        "debug" => return err(line, "the debug action (SECCOMP_RET_TRACE) is not supported"),
        other => return err(line, format!("unknown seccomp action \"{other}\"")),
    };
    Ok(Some((action, rest)))
}

/// Parse `INDEX,VALUE,OP[,MASK]` (the text between brackets).
fn parse_arg_cmp(inner: &str, line: usize) -> Result<ArgCmp, SeccompParseError> {
    let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
    if parts.len() != 3 && parts.len() != 4 {
        return err(line, format!("argument filter \"[{inner}]\" must be [INDEX,VALUE,OP] or [INDEX,VALUE,OP,MASK]"));
    }
    let index = match parse_uint(parts[0]) {
        Some(i) if i < MAX_ARG_CMPS as u64 => i as u8,
        _ => return err(line, format!("argument index \"{}\" must be 0..5", parts[0])),
    };
    let Some(value) = parse_uint(parts[1]) else {
        return err(line, format!("argument value \"{}\" is not an unsigned number", parts[1]));
    };
    let Some(op) = CmpOp::from_name(parts[2]) else {
        return err(line, format!("unknown comparison operator \"{}\"", parts[2]));
    };
    let mask = match parts.get(3) {
        Some(m) => match parse_uint(m) {
            Some(m) => m,
            None => return err(line, format!("argument mask \"{m}\" is not an unsigned number")),
        },
        None => 0,
    };
    Ok(ArgCmp { index, op, value, mask })
}

/// Parse a version-2 rule line (comments already stripped, not empty).
fn parse_rule(text: &str, line: usize, arch: ArchSection, rule_default: Action) -> Result<Rule, SeccompParseError> {
    let (name, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return err(line, format!("\"{name}\" is not a syscall name"));
    }
    let rest = rest.trim_start();
    let (action, rest) = if rest.starts_with('[') {
        (rule_default, rest)
    } else {
        match parse_action(rest, line)? {
            Some((a, r)) => (a, r),
            None => (rule_default, ""),
        }
    };
    let mut args = Vec::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some(after_open) = rest.strip_prefix('[') else {
            return err(line, format!("unexpected \"{rest}\" after the action"));
        };
        let Some((inner, after)) = after_open.split_once(']') else {
            return err(line, "argument filter lacks its closing \"]\"");
        };
        if args.len() == MAX_ARG_CMPS {
            return err(line, format!("more than {MAX_ARG_CMPS} argument filters"));
        }
        args.push(parse_arg_cmp(inner, line)?);
        rest = after.trim_start();
    }
    Ok(Rule { line, arch, syscall: SyscallRef::Name(name.to_string()), action, args })
}

/// Parse a whole policy file.
pub fn parse_policy(text: &str) -> Result<SeccompPolicy, SeccompParseError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    // LXC reads the version with fscanf("%d\n"), which skips blank lines after it.
    let (vline, vtext) = lines.next().unwrap_or((1, ""));
    let version = match vtext.trim() {
        "1" => 1,
        "2" => 2,
        other => return err(vline, format!("unsupported seccomp policy version \"{other}\" (1 or 2)")),
    };
    let (kline, ktext) = loop {
        match lines.next() {
            Some((_, l)) if l.trim().is_empty() => continue,
            Some(found) => break found,
            None => return err(vline + 1, "missing policy type line (allowlist or denylist)"),
        }
    };
    if version == 1 {
        if !(ktext.contains("whitelist") || ktext.contains("allowlist")) {
            return err(kline, format!("version 1 policies must be an allowlist, found \"{}\"", ktext.trim()));
        }
        if ktext.contains("debug") {
            return err(kline, "debug (SECCOMP_RET_TRACE) is not supported");
        }
        let mut rules = Vec::new();
        for (n, l) in lines {
            let l = l.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let num = l.split_whitespace().next().unwrap_or("");
            let Some(nr) = num.parse::<u32>().ok() else {
                return err(n, format!("version 1 policies list syscall numbers, found \"{l}\""));
            };
            rules.push(Rule {
                line: n,
                arch: ArchSection::All,
                syscall: SyscallRef::Number(nr),
                action: Action::Allow,
                args: vec![],
            });
        }
        return Ok(SeccompPolicy {
            version,
            list: ListKind::Allow,
            default_action: Action::Kill,
            rule_default_action: Action::Allow,
            reject_force_umount: false,
            rules,
        });
    }

    let ktrim = ktext.trim();
    let (kind_word, kind_rest) = ktrim.split_once(char::is_whitespace).unwrap_or((ktrim, ""));
    let list = match kind_word {
        "whitelist" | "allowlist" => ListKind::Allow,
        "blacklist" | "denylist" => ListKind::Deny,
        other => return err(kline, format!("bad seccomp policy style \"{other}\" (allowlist or denylist)")),
    };
    let kind_rest = kind_rest.split('#').next().unwrap_or("");
    let explicit_default = match parse_action(kind_rest, kline)? {
        Some((a, rest)) if rest.trim().is_empty() => Some(a),
        Some((_, rest)) => return err(kline, format!("unexpected \"{}\" after the default action", rest.trim())),
        None => None,
    };
    let (default_action, rule_default_action) = match list {
        ListKind::Allow => (explicit_default.unwrap_or(Action::Kill), Action::Allow),
        ListKind::Deny => (explicit_default.unwrap_or(Action::Allow), Action::Kill),
    };

    let mut policy = SeccompPolicy {
        version,
        list,
        default_action,
        rule_default_action,
        reject_force_umount: false,
        rules: Vec::new(),
    };
    let mut arch = ArchSection::All;
    for (n, raw) in lines {
        let l = raw.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        if l.starts_with("reject_force_umount") {
            policy.reject_force_umount = true;
            continue;
        }
        if let Some(section) = l.strip_prefix('[') {
            // An argument filter never starts a line, so "[" here is a section header.
            let Some(name) = section.strip_suffix(']') else {
                return err(n, format!("section header \"{l}\" lacks its closing \"]\""));
            };
            arch = match ArchSection::from_name(name) {
                Some(a) => a,
                None => return err(n, format!("unsupported architecture section \"[{name}]\"")),
            };
            continue;
        }
        policy.rules.push(parse_rule(l, n, arch, rule_default_action)?);
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMON: &str = "2\ndenylist\nreject_force_umount  # comment this to allow umount -f;  not recommended\n[all]\nkexec_load errno 1\nopen_by_handle_at errno 1\ninit_module errno 1\nfinit_module errno 1\ndelete_module errno 1\n";

    #[test]
    fn debian_common_seccomp_parses() {
        let p = parse_policy(COMMON).unwrap();
        assert_eq!(p.version, 2);
        assert_eq!(p.list, ListKind::Deny);
        assert_eq!(p.default_action, Action::Allow);
        assert!(p.reject_force_umount);
        assert_eq!(p.rules.len(), 5);
        assert_eq!(p.rules[0].syscall, SyscallRef::Name("kexec_load".into()));
        assert_eq!(p.rules[0].action, Action::Errno(1));
        assert_eq!(p.rules[0].line, 5);
    }

    #[test]
    fn version_1_is_an_allowlist_of_numbers() {
        let p = parse_policy("1\nwhitelist\n0\n1\n# c\n\n60\n").unwrap();
        assert_eq!(p.default_action, Action::Kill);
        assert_eq!(
            p.rules.iter().map(|r| r.syscall.clone()).collect::<Vec<_>>(),
            vec![SyscallRef::Number(0), SyscallRef::Number(1), SyscallRef::Number(60)]
        );
        assert!(parse_policy("1\nblacklist\n").is_err());
        assert_eq!(parse_policy("1\nwhitelist\nread\n").unwrap_err().line, 3);
    }

    #[test]
    fn list_words_and_default_actions() {
        for (word, kind) in [
            ("whitelist", ListKind::Allow),
            ("allowlist", ListKind::Allow),
            ("blacklist", ListKind::Deny),
            ("denylist", ListKind::Deny),
        ] {
            let p = parse_policy(&format!("2\n{word}\n")).unwrap();
            assert_eq!(p.list, kind);
        }
        let p = parse_policy("2\nallowlist errno 38\nread\n").unwrap();
        assert_eq!(p.default_action, Action::Errno(38));
        assert_eq!(p.rules[0].action, Action::Allow);
        let p = parse_policy("2\nblacklist\nmknod\n").unwrap();
        assert_eq!(p.rules[0].action, Action::Kill);
        assert!(parse_policy("2\nblacklist debug\n").is_err());
        assert!(parse_policy("2\ngraylist\n").is_err());
        assert!(parse_policy("3\nblacklist\n").is_err());
    }

    #[test]
    fn every_action() {
        let p =
            parse_policy("2\nblacklist\na kill\nb allow\nc trap\nd errno 0\ne log\nf notify\ng errno 4095\n").unwrap();
        let acts: Vec<Action> = p.rules.iter().map(|r| r.action).collect();
        assert_eq!(
            acts,
            vec![
                Action::Kill,
                Action::Allow,
                Action::Trap,
                Action::Errno(0),
                Action::Log,
                Action::Notify,
                Action::Errno(4095)
            ]
        );
        assert_eq!(parse_policy("2\nblacklist\na errno\n").unwrap_err().line, 3);
        assert!(parse_policy("2\nblacklist\na errno -1\n").is_err());
        assert!(parse_policy("2\nblacklist\na frobnicate\n").is_err());
    }

    #[test]
    fn every_arch_section_both_cases() {
        for (arch, name) in ArchSection::ALL {
            for spelled in [name.to_string(), name.to_ascii_uppercase()] {
                let p = parse_policy(&format!("2\nblacklist\n[{spelled}]\nmknod errno 1\n")).unwrap();
                assert_eq!(p.rules[0].arch, arch, "{spelled}");
            }
        }
        assert!(parse_policy("2\nblacklist\n[sparc]\n").is_err());
        assert!(parse_policy("2\nblacklist\n[X86_64\n").is_err());
    }

    #[test]
    fn argument_filters() {
        let p = parse_policy(
            "2\nblacklist\nclone errno 1 [0,0x10000000,SCMP_CMP_MASKED_EQ,0x10000000]\nioctl errno 1 [1,0x5412,==] [0, 3 , <=]\n",
        )
        .unwrap();
        assert_eq!(
            p.rules[0].args,
            vec![ArgCmp { index: 0, op: CmpOp::MaskedEq, value: 0x1000_0000, mask: 0x1000_0000 }]
        );
        assert_eq!(p.rules[1].args.len(), 2);
        assert_eq!(p.rules[1].args[1], ArgCmp { index: 0, op: CmpOp::Le, value: 3, mask: 0 });
        assert!(parse_policy("2\nblacklist\nx errno 1 [6,0,==]\n").is_err());
        assert!(parse_policy("2\nblacklist\nx errno 1 [0,0,~=]\n").is_err());
        assert!(parse_policy("2\nblacklist\nx errno 1 [0,0,==\n").is_err());
        let seven = "[0,0,==]".repeat(7);
        assert!(parse_policy(&format!("2\nblacklist\nx errno 1 {seven}\n")).is_err());
    }

    #[test]
    fn comments_everywhere() {
        let p = parse_policy("2\nblacklist # default\n# full line\n  \nmknod # trailing\n").unwrap();
        assert_eq!(p.rules.len(), 1);
        assert_eq!(p.rules[0].action, Action::Kill);
    }

    #[test]
    fn parse_uint_is_strtoull_base_0() {
        assert_eq!(parse_uint("10"), Some(10));
        assert_eq!(parse_uint("0x1f"), Some(31));
        assert_eq!(parse_uint("010"), Some(8));
        assert_eq!(parse_uint("0"), Some(0));
        assert_eq!(parse_uint("-1"), None);
        assert_eq!(parse_uint("0x"), None);
        assert_eq!(parse_uint(""), None);
    }

    #[test]
    fn empty_input_is_an_error_not_a_panic() {
        assert!(parse_policy("").is_err());
        assert!(parse_policy("2").is_err());
        assert!(parse_policy("\u{feff}").is_err());
    }
}
