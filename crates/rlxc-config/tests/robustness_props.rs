//! Hostile config files (robustness): whatever bytes a file holds, loading never panics, and an
//! error names the file, a line inside the file and (for value errors) a key; values that C's
//! LXC would silently cut (NUL) or that a lossy decode would silently change (non-UTF-8) are
//! refused; huge values are not echoed whole.

use proptest::prelude::*;
use rlxc_config::ContainerConfig;

fn load_bytes(
    bytes: &[u8],
) -> (std::path::PathBuf, Result<ContainerConfig, rlxc_config::ConfigError>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config");
    std::fs::write(&path, bytes).expect("write");
    let r = ContainerConfig::load(&path);
    (path, r, dir)
}

/// Line pieces that stress the reader: keys with odd bytes, NULs, invalid UTF-8, CR, tabs,
/// quotes, include lines, very long and empty values.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"lxc.uts.name = ok".to_vec()),
        Just(b"lxc.uts.name = a\0b".to_vec()),
        Just(b"lxc.uts.name = \xff\xfe".to_vec()),
        Just(b"# comment \xff latin-1".to_vec()),
        Just(b"\xff = 1".to_vec()),
        Just(b"lxc.tty.max = 99999999999".to_vec()),
        Just(b"lxc.net.4294967296.type = veth".to_vec()),
        Just(b"lxc.mount.entry = /a b none bind 0 0".to_vec()),
        Just(b"lxc.include = /nonexistent/rlxc".to_vec()),
        Just(b"lxc.rootfs.path = dir:/tmp/with space".to_vec()),
        Just(b"\tlxc.uts.name\t=\tx\r".to_vec()),
        Just(b"lxc.".to_vec()),
        Just(b"=".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
        "lxc\\.[a-z.0-9]{0,20} ?= ?[ -~]{0,30}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_load_or_fail_with_a_location(lines in proptest::collection::vec(piece(), 0..10)) {
        let bytes = lines.join(&b"\n"[..]);
        let (path, r, _dir) = load_bytes(&bytes);
        if let Err(e) = r {
            let msg = e.to_string();
            prop_assert!(msg.len() < 2000, "message too long: {} bytes", msg.len());
            // Every error of a top-level file names it with a line number inside the file
            // (an include error names the including line).
            let prefix = format!("{}:", path.display());
            prop_assert!(msg.starts_with(&prefix), "no file:line in {msg:?}");
            let line: usize = msg[prefix.len()..].split(':').next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let nlines = bytes.split(|b| *b == b'\n').count();
            prop_assert!(line >= 1 && line <= nlines, "line {line} outside 1..={nlines} in {msg:?}");
        }
    }
}

#[test]
fn nul_in_a_value_is_refused_with_file_line_and_key() {
    let (path, r, _d) = load_bytes(b"# x\nlxc.uts.name = a\0b\n");
    let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(msg, format!("{}:2: lxc.uts.name: the line contains a NUL byte", path.display()));
    let r = ContainerConfig::parse_str("lxc.uts.name = a\0b\n", "p");
    assert!(r.is_err(), "parse_str accepted a NUL");
}

#[test]
fn non_utf8_item_is_refused_but_comments_may_be_latin1() {
    let (path, r, _d) = load_bytes(b"# caf\xe9\nlxc.uts.name = caf\xe9\n");
    let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(msg, format!("{}:2: lxc.uts.name: the line is not valid UTF-8", path.display()));
    let (_p, r, _d) = load_bytes(b"# caf\xe9\nlxc.uts.name = cafe\nmartian \xff line\n");
    assert!(r.is_ok(), "a latin-1 comment or non-lxc line must not fail: {:?}", r.err());
}

#[test]
fn tty_and_pty_counts_are_unsigned_ints_like_lxc() {
    for key in ["lxc.tty.max", "lxc.pty.max"] {
        let (path, r, _d) = load_bytes(format!("{key} = 99999999999\n").as_bytes());
        let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.starts_with(&format!("{}:1: {key}: ", path.display())), "{msg}");
        let (_p, r, _d) = load_bytes(format!("{key} = 4294967295\n").as_bytes());
        assert!(r.is_ok(), "{key} = u32::MAX refused: {:?}", r.err());
    }
}

#[test]
fn huge_values_are_not_echoed_whole() {
    let long = "a".repeat(100_000);
    let (path, r, _d) = load_bytes(format!("lxc.uts.name = {long}\n").as_bytes());
    let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.starts_with(&format!("{}:1: lxc.uts.name: ", path.display())), "{}", &msg[..100.min(msg.len())]);
    assert!(msg.len() < 1000, "message is {} bytes", msg.len());
    assert!(msg.contains("bytes in all"), "{}", &msg[..300.min(msg.len())]);
    let (_p, r, _d) = load_bytes(format!("lxc.{long}\n").as_bytes());
    let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.len() < 1000, "syntax message is {} bytes", msg.len());
    let (_p, r, _d) = load_bytes(format!("lxc.{long} = 1\n").as_bytes());
    let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.len() < 1000, "unknown-key message is {} bytes", msg.len());
}

#[test]
fn endless_and_oversized_files_end_with_an_error() {
    let r = ContainerConfig::load("/dev/zero");
    let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("/dev/zero") && msg.contains("larger than"), "{msg}");
    let ok = ContainerConfig::load("/dev/null");
    assert!(ok.is_ok(), "/dev/null is an empty config: {:?}", ok.err());
    let (path, r, _d) = load_bytes(b"lxc.include = /dev/zero\n");
    let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.starts_with(&format!("{}:1: /dev/zero", path.display())), "{msg}");
}

#[test]
fn include_fan_out_is_bounded() {
    // f0 includes f1 eight times, f1 includes f2 eight times, ...: 8^9 reads without the bound.
    let dir = tempfile::tempdir().expect("tempdir");
    for level in 0..9 {
        let next = dir.path().join(format!("f{}", level + 1));
        let body = format!("lxc.include = {}\n", next.display()).repeat(8);
        std::fs::write(dir.path().join(format!("f{level}")), body).expect("write");
    }
    std::fs::write(dir.path().join("f9"), "lxc.uts.name = deep\n").expect("write");
    let r = ContainerConfig::load(dir.path().join("f0"));
    let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("lxc.include") && msg.contains("files read"), "{msg}");
}
