//! A getopt_long-compatible command-line parser, so rlxc's tools accept exactly what LXC's do:
//! `-n NAME`, `-nNAME`, `--name NAME`, `--name=NAME`, bundled short flags (`-dF`), optional
//! arguments (`-e`, `-e=CAP`, `--elevated-privileges=CAP`), GNU permutation (options may follow
//! positionals) and `--` ending the options.

use std::fmt;

/// Whether an option takes an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HasArg {
    No,
    Required,
    /// Only attached: `-eVAL`, `-e=VAL` or `--long=VAL` (getopt's `optional_argument`).
    Optional,
}

/// One option a tool accepts.
#[derive(Clone, Copy, Debug)]
pub struct Opt {
    pub short: Option<char>,
    pub long: &'static str,
    pub has_arg: HasArg,
}

impl Opt {
    pub const fn flag(short: char, long: &'static str) -> Opt {
        Opt { short: Some(short), long, has_arg: HasArg::No }
    }
    pub const fn arg(short: char, long: &'static str) -> Opt {
        Opt { short: Some(short), long, has_arg: HasArg::Required }
    }
    pub const fn optional(short: char, long: &'static str) -> Opt {
        Opt { short: Some(short), long, has_arg: HasArg::Optional }
    }
    pub const fn long_flag(long: &'static str) -> Opt {
        Opt { short: None, long, has_arg: HasArg::No }
    }
    pub const fn long_arg(long: &'static str) -> Opt {
        Opt { short: None, long, has_arg: HasArg::Required }
    }
}

/// Options every lxc-* tool understands (LXC's `tools/arguments.c`).
pub const COMMON: &[Opt] = &[
    Opt::arg('n', "name"),
    Opt::arg('P', "lxcpath"),
    Opt::arg('o', "logfile"),
    Opt::arg('l', "logpriority"),
    Opt::flag('q', "quiet"),
    Opt::flag('h', "help"),
    Opt::long_flag("usage"),
    Opt::long_flag("version"),
    Opt::long_arg("rcfile"),
];

/// A parsed option occurrence, named by its long name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Given {
    pub long: &'static str,
    pub value: Option<String>,
}

/// The result of parsing: options in order, positionals, and what followed `--`.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub opts: Vec<Given>,
    pub positional: Vec<String>,
    /// Arguments after a literal `--` (commands, template arguments).
    pub trailing: Vec<String>,
    /// True when `--` was present (even with nothing after it).
    pub saw_double_dash: bool,
}

impl Parsed {
    /// Whether the option with this long name was given at least once.
    pub fn has(&self, long: &str) -> bool {
        self.opts.iter().any(|g| g.long == long)
    }
    /// The last value given for this option.
    pub fn value(&self, long: &str) -> Option<&str> {
        self.opts.iter().rev().find(|g| g.long == long).and_then(|g| g.value.as_deref())
    }
    /// Every value given for a repeatable option, in order.
    pub fn values(&self, long: &str) -> Vec<&str> {
        self.opts.iter().filter(|g| g.long == long).filter_map(|g| g.value.as_deref()).collect()
    }
}

/// A command-line error, worded as getopt words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError(pub String);

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ArgError {}

/// Parse `args` (without argv[0]) against the tool's own options plus [`COMMON`].
///
/// `stop_at_first_positional`: like a `+` optstring, options end at the first positional
/// (lxc-execute/lxc-start treat what follows the name as the command when there is no `--`).
pub fn parse(args: &[String], tool_opts: &[Opt], stop_at_first_positional: bool) -> Result<Parsed, ArgError> {
    let all: Vec<&Opt> = tool_opts.iter().chain(COMMON.iter()).collect();
    let mut out = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            out.saw_double_dash = true;
            out.trailing.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, attached) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let opt = find_long(&all, name)?;
            let value = match opt.has_arg {
                HasArg::No => {
                    if attached.is_some() {
                        return Err(ArgError(format!("option '--{}' doesn't allow an argument", opt.long)));
                    }
                    None
                }
                HasArg::Optional => attached,
                HasArg::Required => match attached {
                    Some(v) => Some(v),
                    None => {
                        let v = args
                            .get(i)
                            .cloned()
                            .ok_or_else(|| ArgError(format!("option '--{}' requires an argument", opt.long)))?;
                        i += 1;
                        Some(v)
                    }
                },
            };
            out.opts.push(Given { long: opt.long, value });
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() {
                let c = chars[j];
                j += 1;
                let opt = all
                    .iter()
                    .find(|o| o.short == Some(c))
                    .ok_or_else(|| ArgError(format!("invalid option -- '{c}'")))?;
                match opt.has_arg {
                    HasArg::No => out.opts.push(Given { long: opt.long, value: None }),
                    HasArg::Optional => {
                        let rest: String = chars[j..].iter().collect();
                        let rest = rest.strip_prefix('=').map(str::to_string).unwrap_or(rest);
                        let value = if rest.is_empty() { None } else { Some(rest) };
                        out.opts.push(Given { long: opt.long, value });
                        break;
                    }
                    HasArg::Required => {
                        let rest: String = chars[j..].iter().collect();
                        let value = if rest.is_empty() {
                            let v = args
                                .get(i)
                                .cloned()
                                .ok_or_else(|| ArgError(format!("option requires an argument -- '{c}'")))?;
                            i += 1;
                            v
                        } else {
                            rest
                        };
                        out.opts.push(Given { long: opt.long, value: Some(value) });
                        break;
                    }
                }
            }
            continue;
        }
        out.positional.push(a.clone());
        if stop_at_first_positional {
            // Everything after the first positional is the command, verbatim.
            out.trailing.extend(args[i..].iter().cloned());
            break;
        }
    }
    Ok(out)
}

fn find_long<'a>(all: &[&'a Opt], name: &str) -> Result<&'a Opt, ArgError> {
    if let Some(o) = all.iter().find(|o| o.long == name) {
        return Ok(o);
    }
    // getopt_long accepts unambiguous prefixes.
    let matches: Vec<&&Opt> = all.iter().filter(|o| o.long.starts_with(name) && !name.is_empty()).collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(ArgError(format!("unrecognized option '--{name}'"))),
        _ => Err(ArgError(format!("option '--{name}' is ambiguous"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    const OPTS: &[Opt] = &[
        Opt::flag('d', "daemon"),
        Opt::flag('F', "foreground"),
        Opt::optional('e', "elevated-privileges"),
        Opt::arg('s', "define"),
    ];

    #[test]
    fn short_long_and_attached_forms_are_equal() {
        for form in [v(&["-n", "c1"]), v(&["-nc1"]), v(&["--name", "c1"]), v(&["--name=c1"]), v(&["--na=c1"])] {
            let p = parse(&form, OPTS, false).expect("parses");
            assert_eq!(p.value("name"), Some("c1"));
        }
    }

    #[test]
    fn bundled_flags_and_repeats() {
        let p = parse(&v(&["-dF", "-s", "a=1", "--define=b=2"]), OPTS, false).expect("parses");
        assert!(p.has("daemon") && p.has("foreground"));
        assert_eq!(p.values("define"), vec!["a=1", "b=2"]);
    }

    #[test]
    fn optional_argument_only_attached() {
        let p = parse(&v(&["-e", "x"]), OPTS, false).expect("parses");
        assert_eq!(p.value("elevated-privileges"), None);
        assert!(p.has("elevated-privileges"));
        assert_eq!(p.positional, vec!["x"]);
        let p = parse(&v(&["-e=CAP"]), OPTS, false).expect("parses");
        assert_eq!(p.value("elevated-privileges"), Some("CAP"));
        let p = parse(&v(&["--elevated-privileges=CAP|LSM"]), OPTS, false).expect("parses");
        assert_eq!(p.value("elevated-privileges"), Some("CAP|LSM"));
    }

    #[test]
    fn double_dash_ends_options() {
        let p = parse(&v(&["-n", "c", "--", "-n", "x"]), OPTS, false).expect("parses");
        assert_eq!(p.trailing, v(&["-n", "x"]));
        assert!(p.saw_double_dash);
    }

    #[test]
    fn permutation_and_stop_at_positional() {
        let p = parse(&v(&["c1", "-d"]), OPTS, false).expect("parses");
        assert_eq!(p.positional, v(&["c1"]));
        assert!(p.has("daemon"));
        let p = parse(&v(&["-n", "c", "sh", "-c", "true"]), OPTS, true).expect("parses");
        assert_eq!(p.positional, v(&["sh"]));
        assert_eq!(p.trailing, v(&["-c", "true"]));
    }

    #[test]
    fn errors_are_getopt_worded() {
        assert_eq!(parse(&v(&["-Z"]), OPTS, false).unwrap_err().0, "invalid option -- 'Z'");
        assert_eq!(parse(&v(&["-n"]), OPTS, false).unwrap_err().0, "option requires an argument -- 'n'");
        assert_eq!(parse(&v(&["--nope"]), OPTS, false).unwrap_err().0, "unrecognized option '--nope'");
        assert_eq!(
            parse(&v(&["--daemon=1"]), OPTS, false).unwrap_err().0,
            "option '--daemon' doesn't allow an argument"
        );
    }
}
