//! The command socket's abstract address.
//!
//! LXC (`lxc_make_abstract_socket_name`) builds `<lxcpath>/<name>/command`; when that does not fit
//! in `sun_path` minus the leading NUL and LXC's kept terminator (more than 105 bytes), it uses
//! `lxc/<fnv1a64("<lxcpath>/<name>") as %016llx>/command` instead.

/// `sizeof(sun_path) - 2`: the longest name LXC puts after the leading NUL.
pub const MAX_ABSTRACT_NAME: usize = 105;

/// FNV-1a 64-bit hash (offset basis 0xcbf29ce484222325, prime 0x100000001b3), as LXC's
/// `fnv_64a_buf`.
pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The name (without the leading NUL) of a container's socket with the given `suffix`
/// (`"command"` for the command socket).
pub fn socket_name(lxcpath: &str, name: &str, suffix: &str) -> Vec<u8> {
    let plain = format!("{lxcpath}/{name}/{suffix}");
    if plain.len() <= MAX_ABSTRACT_NAME {
        return plain.into_bytes();
    }
    let hash = fnv1a64(format!("{lxcpath}/{name}").as_bytes());
    format!("lxc/{hash:016x}/{suffix}").into_bytes()
}

/// The command socket name of container `name` in `lxcpath`.
pub fn command_socket_name(lxcpath: &str, name: &str) -> Vec<u8> {
    socket_name(lxcpath, name, "command")
}

/// Whether an abstract name (from `/proc/net/unix`, without the `@`) is a hashed command socket.
pub fn is_hashed_command_name(s: &str) -> bool {
    s.strip_prefix("lxc/")
        .and_then(|r| r.strip_suffix("/command"))
        .map(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_known_values() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn short_names_are_plain_long_are_hashed() {
        assert_eq!(command_socket_name("/var/lib/lxc", "c1"), b"/var/lib/lxc/c1/command".to_vec());
        let long = "x".repeat(120);
        let n = String::from_utf8(command_socket_name("/var/lib/lxc", &long)).expect("utf8");
        assert!(is_hashed_command_name(&n), "{n}");
        assert_eq!(n.len(), "lxc/0123456789abcdef/command".len());
        // The boundary: exactly 105 bytes stays plain.
        let p = "/p";
        let name = "n".repeat(MAX_ABSTRACT_NAME - p.len() - "//command".len());
        assert_eq!(command_socket_name(p, &name).len(), MAX_ABSTRACT_NAME);
        let name2 = format!("{name}n");
        assert!(is_hashed_command_name(&String::from_utf8_lossy(&command_socket_name(p, &name2))));
    }
}
