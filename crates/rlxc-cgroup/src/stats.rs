//! Resource statistics for `lxc-info -S` / `lxc-ls -f`, read from v1 or cgroup2 files as the
//! host has them (cpuacct.usage / cpu.stat, blkio / io.stat, memory.usage_in_bytes /
//! memory.current, memsw / swap, kmem).

use crate::layout::Layout;
use std::path::PathBuf;

/// The numbers `lxc-info` prints (None = not available on this host).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerStats {
    /// CPU time used, nanoseconds
    pub cpu_ns: Option<u64>,
    /// block I/O bytes (read + write)
    pub blkio_bytes: Option<u64>,
    /// memory used, bytes
    pub memory_bytes: Option<u64>,
    /// kernel memory used, bytes
    pub kmem_bytes: Option<u64>,
    /// memory + swap used, bytes
    pub memsw_bytes: Option<u64>,
}

fn read_u64(p: PathBuf) -> Option<u64> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

fn keyed(p: PathBuf, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(p).ok()?;
    s.lines().find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

/// Sum `rbytes=` and `wbytes=` over all devices of a cgroup2 `io.stat`.
pub fn parse_io_stat(s: &str) -> u64 {
    s.split_whitespace()
        .filter_map(|t| t.strip_prefix("rbytes=").or_else(|| t.strip_prefix("wbytes=")))
        .filter_map(|v| v.parse::<u64>().ok())
        .sum()
}

/// The `Total N` line of a v1 `blkio.*io_service_bytes` file.
pub fn parse_blkio_total(s: &str) -> Option<u64> {
    s.lines().find_map(|l| l.strip_prefix("Total ").and_then(|v| v.trim().parse().ok()))
}

/// Read the stats of a container. `path_for(controller)` is the payload cgroup path inside the
/// hierarchy of `controller` (GET_CGROUP; None = cgroup2).
pub fn read_stats(layout: &Layout, path_for: impl Fn(Option<&str>) -> Option<String>) -> ContainerStats {
    let mut st = ContainerStats::default();
    let v1 = |ctrl: &str| -> Option<PathBuf> {
        let h = layout.v1_for(ctrl)?;
        Some(h.dir_of(&path_for(Some(ctrl))?))
    };
    let v2 = || -> Option<PathBuf> {
        let h = layout.unified()?;
        Some(h.dir_of(&path_for(None)?))
    };
    let v2dir = v2();
    // CPU
    st.cpu_ns = v1("cpuacct")
        .and_then(|d| read_u64(d.join("cpuacct.usage")))
        .or_else(|| v2dir.clone().and_then(|d| keyed(d.join("cpu.stat"), "usage_usec")).map(|u| u * 1000));
    // block I/O
    st.blkio_bytes = v1("blkio")
        .and_then(|d| {
            std::fs::read_to_string(d.join("blkio.throttle.io_service_bytes"))
                .ok()
                .and_then(|s| parse_blkio_total(&s))
                .or_else(|| {
                    std::fs::read_to_string(d.join("blkio.io_service_bytes")).ok().and_then(|s| parse_blkio_total(&s))
                })
        })
        .or_else(|| {
            v2dir.clone().and_then(|d| std::fs::read_to_string(d.join("io.stat")).ok()).map(|s| parse_io_stat(&s))
        });
    // memory
    if let Some(d) = v1("memory") {
        st.memory_bytes = read_u64(d.join("memory.usage_in_bytes"));
        st.kmem_bytes = read_u64(d.join("memory.kmem.usage_in_bytes"));
        st.memsw_bytes = read_u64(d.join("memory.memsw.usage_in_bytes"));
    } else if let Some(d) = v2dir {
        st.memory_bytes = read_u64(d.join("memory.current"));
        st.kmem_bytes = keyed(d.join("memory.stat"), "kernel")
            .or_else(|| Some(keyed(d.join("memory.stat"), "slab")? + keyed(d.join("memory.stat"), "kernel_stack")?));
        st.memsw_bytes = match (st.memory_bytes, read_u64(d.join("memory.swap.current"))) {
            (Some(m), Some(s)) => Some(m + s),
            _ => None,
        };
    }
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_io_files() {
        assert_eq!(parse_io_stat("8:0 rbytes=100 wbytes=20 rios=1 wios=2\n8:16 rbytes=5 wbytes=0\n"), 125);
        assert_eq!(parse_blkio_total("8:0 Read 10\n8:0 Write 5\nTotal 15\n"), Some(15));
    }
}
