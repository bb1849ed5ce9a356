//! Property tests of the seccomp policy parser (`rlxc_config::seccomp`): it never panics, errors
//! point at a line of the input, and every policy we can print parses back to the same AST.

use proptest::prelude::*;
use rlxc_config::seccomp::*;

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Kill),
        Just(Action::Allow),
        Just(Action::Trap),
        Just(Action::Log),
        Just(Action::Notify),
        (0u16..=4095).prop_map(Action::Errno),
    ]
}

fn arg() -> impl Strategy<Value = ArgCmp> {
    (0u8..6, 0usize..7, any::<u64>(), any::<u64>()).prop_map(|(index, op, value, mask)| {
        let op = CmpOp::ALL[op].0;
        ArgCmp { index, op, value, mask: if op == CmpOp::MaskedEq { mask } else { 0 } }
    })
}

fn rule() -> impl Strategy<Value = (usize, String, Option<Action>, Vec<ArgCmp>, bool)> {
    (
        0usize..ArchSection::ALL.len(),
        "[a-z_][a-z0-9_]{0,20}",
        proptest::option::of(action()),
        proptest::collection::vec(arg(), 0..=6),
        any::<bool>(),
    )
}

fn render_arg(a: &ArgCmp, hex: bool) -> String {
    let (_, long, short) =
        CmpOp::ALL.iter().find(|(o, _, _)| *o == a.op).copied().unwrap_or((CmpOp::Eq, "SCMP_CMP_EQ", "=="));
    let op = if hex { long } else { short };
    let v = if hex { format!("{:#x}", a.value) } else { a.value.to_string() };
    if a.op == CmpOp::MaskedEq {
        format!("[{},{v},{op},{}]", a.index, a.mask)
    } else {
        format!("[{},{v},{op}]", a.index)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn never_panics_on_any_text(text in "\\PC{0,400}") {
        let _ = parse_policy(&text);
    }

    #[test]
    fn never_panics_on_policy_shaped_text(lines in proptest::collection::vec("[ -~]{0,60}", 0..30), v in 0u8..4) {
        let text = format!("{v}\n{}\n", lines.join("\n"));
        if let Err(e) = parse_policy(&text) {
            prop_assert!(e.line >= 1 && e.line <= lines.len() + 2, "line {} out of range", e.line);
        }
        let text2 = format!("2\ndenylist\n{}\n", lines.join("\n"));
        if let Err(e) = parse_policy(&text2) {
            prop_assert!(e.line >= 3 && e.line <= lines.len() + 3, "line {} out of range", e.line);
        }
    }

    #[test]
    fn printed_policies_parse_back(
        deny in any::<bool>(),
        default in proptest::option::of(action()),
        force in any::<bool>(),
        rules in proptest::collection::vec(rule(), 0..20),
    ) {
        let mut text = format!("2\n{}", if deny { "denylist" } else { "allowlist" });
        if let Some(d) = default { text.push_str(&format!(" {d}")); }
        text.push('\n');
        if force { text.push_str("reject_force_umount # comment\n"); }
        let rule_default = if deny { Action::Kill } else { Action::Allow };
        let mut expect = Vec::new();
        let mut section = ArchSection::All;
        for (sec, name, act, args, hex) in &rules {
            let (arch, sec_name) = ArchSection::ALL[*sec];
            if arch != section || *hex {
                let spelled = if *hex { sec_name.to_ascii_uppercase() } else { sec_name.to_string() };
                text.push_str(&format!("[{spelled}]\n# section\n\n"));
                section = arch;
            }
            text.push_str(name);
            if let Some(a) = act { text.push_str(&format!(" {a}")); }
            for a in args { text.push(' '); text.push_str(&render_arg(a, *hex)); }
            text.push('\n');
            expect.push((arch, name.clone(), act.unwrap_or(rule_default), args.clone()));
        }
        let p = parse_policy(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(p.list, if deny { ListKind::Deny } else { ListKind::Allow });
        prop_assert_eq!(p.reject_force_umount, force);
        prop_assert_eq!(p.default_action, default.unwrap_or(if deny { Action::Allow } else { Action::Kill }));
        let got: Vec<_> = p.rules.iter().map(|r| (r.arch, r.syscall.to_string(), r.action, r.args.clone())).collect();
        prop_assert_eq!(got, expect);
    }
}
