//! Writing `lxc.idmap` into a child's `/proc/PID/uid_map` and `gid_map` (LXC's
//! `lxc_map_ids`, privileged path: direct writes as root).

use std::io;

use rlxc_config::{IdMap, IdType};

/// Render the maps of one kind as the kernel wants them (`NSID HOSTID RANGE` lines).
pub fn render(maps: &[IdMap], kind: IdType) -> String {
    maps.iter().filter(|m| m.kind == kind).map(|m| format!("{} {} {}\n", m.nsid, m.hostid, m.range)).collect()
}

/// Write uid and gid maps for `pid`. One write per file, as the kernel requires.
pub fn write_maps(pid: i32, maps: &[IdMap]) -> io::Result<()> {
    for (kind, file) in [(IdType::Uid, "uid_map"), (IdType::Gid, "gid_map")] {
        let text = render(maps, kind);
        if text.is_empty() {
            continue;
        }
        std::fs::write(format!("/proc/{pid}/{file}"), text.as_bytes())
            .map_err(|e| io::Error::new(e.kind(), format!("write /proc/{pid}/{file}: {e}")))?;
    }
    Ok(())
}

/// The host uid that namespace uid `nsid` maps to (None = unmapped).
pub fn host_id(maps: &[IdMap], kind: IdType, nsid: u64) -> Option<u64> {
    maps.iter()
        .filter(|m| m.kind == kind)
        .find(|m| nsid >= m.nsid && nsid < m.nsid + m.range)
        .map(|m| m.hostid + (nsid - m.nsid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_per_kind_and_maps_root() {
        let maps = vec![
            IdMap { kind: IdType::Uid, nsid: 0, hostid: 100000, range: 65536 },
            IdMap { kind: IdType::Gid, nsid: 0, hostid: 200000, range: 65536 },
        ];
        assert_eq!(render(&maps, IdType::Uid), "0 100000 65536\n");
        assert_eq!(host_id(&maps, IdType::Gid, 5), Some(200005));
        assert_eq!(host_id(&maps, IdType::Gid, 70000), None);
    }
}
