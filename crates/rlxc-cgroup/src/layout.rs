//! Which cgroup hierarchies this host has and where: legacy (v1 only), hybrid (v1 controllers
//! plus a cgroup2 mount) or unified (cgroup2 only), read from `/proc/self/mountinfo`,
//! `/proc/self/cgroup` and `/proc/1/cgroup` (each read whole, then parsed).

use crate::error::{CgroupError, Result};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The three layouts a host can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutKind {
    /// Only cgroup v1 hierarchies.
    Legacy,
    /// cgroup v1 controllers plus a cgroup2 mount (usually without controllers).
    Hybrid,
    /// Only cgroup2 (every controller on one tree).
    Unified,
}

impl LayoutKind {
    /// Lower-case name for logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            LayoutKind::Legacy => "legacy",
            LayoutKind::Hybrid => "hybrid",
            LayoutKind::Unified => "unified",
        }
    }
}

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    /// true for the cgroup2 tree
    pub v2: bool,
    /// v1: the controllers of the mount (plus `name=X` for named hierarchies);
    /// v2: the controllers in `cgroup.controllers` of the mount's root
    pub controllers: Vec<String>,
    /// where it is mounted (e.g. `/sys/fs/cgroup/memory`)
    pub mountpoint: PathBuf,
    /// the mount's root inside the hierarchy (field 4 of mountinfo; `/` on the host)
    pub mount_root: String,
    /// the calling process's cgroup in this hierarchy (from `/proc/self/cgroup`)
    pub self_cgroup: String,
    /// pid 1's cgroup in this hierarchy (from `/proc/1/cgroup`; `/` when unreadable)
    pub init_cgroup: String,
}

impl Hierarchy {
    /// Whether this hierarchy carries `controller` (`name=systemd` matches a named hierarchy).
    pub fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }

    /// The directory of the cgroup `cg` (a path inside the hierarchy, e.g. `/lxc.payload.c1`).
    pub fn dir_of(&self, cg: &str) -> PathBuf {
        let root = self.mount_root.trim_end_matches('/');
        let rel = cg.strip_prefix(root).filter(|r| r.is_empty() || r.starts_with('/')).unwrap_or(cg);
        let rel = rel.trim_start_matches('/');
        if rel.is_empty() {
            self.mountpoint.clone()
        } else {
            self.mountpoint.join(rel)
        }
    }

    /// A short label for logs and errors: the controllers, or `unified`.
    pub fn label(&self) -> String {
        if self.v2 {
            "unified".to_string()
        } else {
            self.controllers.join(",")
        }
    }
}

/// The host's cgroup layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// legacy, hybrid or unified
    pub kind: LayoutKind,
    /// every hierarchy: v1 ones first (mountinfo order), the cgroup2 one last
    pub hierarchies: Vec<Hierarchy>,
}

/// mount options of v1 cgroup mounts that are not controllers.
const NON_CONTROLLER_OPTS: &[&str] = &[
    "rw",
    "ro",
    "relatime",
    "noatime",
    "nosuid",
    "nodev",
    "noexec",
    "clone_children",
    "noprefix",
    "xattr",
    "cpuset_v2_mode",
];

/// Parse `/proc/<pid>/cgroup` into (hierarchy controllers key, path). The cgroup2 line has the
/// key `""`.
pub fn parse_proc_cgroup(text: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let mut it = line.splitn(3, ':');
        let (Some(_id), Some(ctrls), Some(path)) = (it.next(), it.next(), it.next()) else { continue };
        let mut c: Vec<&str> = ctrls.split(',').filter(|s| !s.is_empty()).collect();
        c.sort_unstable();
        m.insert(c.join(","), path.to_string());
    }
    m
}

/// A cgroup path with a trailing `/init.scope` removed (LXC does this for the base cgroup).
pub fn strip_init_scope(p: &str) -> String {
    let s = p.strip_suffix("/init.scope").unwrap_or(p);
    if s.is_empty() {
        "/".to_string()
    } else {
        s.to_string()
    }
}

impl Layout {
    /// Detect the layout of the running system.
    pub fn detect() -> Result<Layout> {
        let mi = read("/proc/self/mountinfo")?;
        let own = read("/proc/self/cgroup")?;
        let init = fs::read_to_string("/proc/1/cgroup").unwrap_or_default();
        let known = fs::read_to_string("/proc/cgroups").ok();
        let mut layout = Layout::parse(&mi, &own, &init, known.as_deref())?;
        // cgroup2 controllers come from the files, not from mountinfo.
        for h in layout.hierarchies.iter_mut().filter(|h| h.v2) {
            h.controllers = fs::read_to_string(h.mountpoint.join("cgroup.controllers"))
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
        }
        Ok(layout)
    }

    /// Pure parser behind [`Layout::detect`]: mountinfo text, own and init's `/proc/PID/cgroup`,
    /// and `/proc/cgroups` (the kernel's v1 controller names) when available.
    pub fn parse(mountinfo: &str, self_cgroup: &str, init_cgroup: &str, proc_cgroups: Option<&str>) -> Result<Layout> {
        let own = parse_proc_cgroup(self_cgroup);
        let init = parse_proc_cgroup(init_cgroup);
        let known: Option<Vec<&str>> = proc_cgroups
            .map(|t| t.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split_whitespace().next()).collect());
        let mut v1: Vec<Hierarchy> = Vec::new();
        let mut v2: Option<Hierarchy> = None;
        for line in mountinfo.lines() {
            let Some((pre, post)) = line.split_once(" - ") else { continue };
            let pf: Vec<&str> = pre.split_whitespace().collect();
            let qf: Vec<&str> = post.split_whitespace().collect();
            if pf.len() < 5 || qf.len() < 3 {
                continue;
            }
            let (root, mp) = (unescape(pf[3]), PathBuf::from(unescape(pf[4])));
            match qf[0] {
                "cgroup2" => {
                    if v2.is_some() {
                        continue;
                    }
                    let self_cg = own.get("").cloned().unwrap_or_else(|| "/".into());
                    let init_cg = init.get("").cloned().unwrap_or_else(|| "/".into());
                    v2 = Some(Hierarchy {
                        v2: true,
                        controllers: Vec::new(),
                        mountpoint: mp,
                        mount_root: root,
                        self_cgroup: self_cg,
                        init_cgroup: init_cg,
                    });
                }
                "cgroup" => {
                    let mut ctrls: Vec<String> = qf[2]
                        .split(',')
                        .filter(|o| {
                            if o.starts_with("name=") {
                                return true;
                            }
                            match &known {
                                Some(k) => k.contains(o),
                                None => !NON_CONTROLLER_OPTS.contains(o) && !o.contains('='),
                            }
                        })
                        .map(str::to_string)
                        .collect();
                    if ctrls.is_empty() {
                        continue;
                    }
                    ctrls.sort();
                    // A hierarchy mounted twice (bind mounts): keep the first.
                    if v1.iter().any(|h| h.controllers == ctrls) {
                        continue;
                    }
                    let key = ctrls.join(",");
                    let Some(self_cg) = own.get(&key).cloned() else { continue };
                    let init_cg = init.get(&key).cloned().unwrap_or_else(|| "/".into());
                    v1.push(Hierarchy {
                        v2: false,
                        controllers: ctrls,
                        mountpoint: mp,
                        mount_root: root,
                        self_cgroup: self_cg,
                        init_cgroup: init_cg,
                    });
                }
                _ => {}
            }
        }
        let has_v1_ctrl = v1.iter().any(|h| h.controllers.iter().any(|c| !c.starts_with("name=")));
        let kind = match (has_v1_ctrl, v2.is_some()) {
            (true, true) => LayoutKind::Hybrid,
            (true, false) => LayoutKind::Legacy,
            (false, true) => LayoutKind::Unified,
            (false, false) => {
                if v1.is_empty() {
                    return Err(CgroupError::Layout("no cgroup or cgroup2 filesystem is mounted".into()));
                }
                LayoutKind::Legacy
            }
        };
        let mut hierarchies = v1;
        hierarchies.extend(v2);
        Ok(Layout { kind, hierarchies })
    }

    /// Keep only the hierarchies carrying a controller of `use_list` (`lxc.cgroup.use`); the
    /// cgroup2 tree is always kept (freezer, devices, attach). Every listed controller must exist.
    pub fn filter_use(&mut self, use_list: &[String]) -> Result<()> {
        if use_list.is_empty() || use_list.iter().any(|u| u == "@all" || u == "all") {
            return Ok(());
        }
        for u in use_list {
            if !self.hierarchies.iter().any(|h| h.has(u)) {
                return Err(CgroupError::MissingController {
                    key: "lxc.cgroup.use".into(),
                    controller: u.clone(),
                    why: "no mounted hierarchy carries it".into(),
                });
            }
        }
        self.hierarchies.retain(|h| h.v2 || h.controllers.iter().any(|c| use_list.contains(c)));
        if let Some(h) = self.hierarchies.iter_mut().find(|h| h.v2) {
            if self.kind == LayoutKind::Unified {
                h.controllers.retain(|c| use_list.contains(c));
            }
        }
        Ok(())
    }

    /// The cgroup2 hierarchy, if mounted.
    pub fn unified(&self) -> Option<&Hierarchy> {
        self.hierarchies.iter().find(|h| h.v2)
    }

    /// The hierarchy owning `controller`: a v1 one carrying it, else the cgroup2 tree when it
    /// has it (or, for `cgroup.*` files and unknown controllers, the cgroup2 tree at all).
    pub fn for_controller(&self, controller: &str) -> Option<&Hierarchy> {
        if let Some(h) = self.hierarchies.iter().find(|h| !h.v2 && h.has(controller)) {
            return Some(h);
        }
        self.unified()
    }

    /// The v1 hierarchy carrying `controller` (None on a pure cgroup2 host).
    pub fn v1_for(&self, controller: &str) -> Option<&Hierarchy> {
        self.hierarchies.iter().find(|h| !h.v2 && h.has(controller))
    }
}

fn read(p: &str) -> Result<String> {
    fs::read_to_string(p).map_err(crate::error::io_err("read", Path::new(p)))
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = (b[i + 1] - b'0') as u32 * 64 + (b[i + 2] - b'0') as u32 * 8 + (b[i + 3] - b'0') as u32;
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID_MI: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
";
    const HYBRID_CG: &str = "9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/user.slice\n";

    #[test]
    fn detects_hybrid() {
        let l = Layout::parse(HYBRID_MI, HYBRID_CG, "4:memory:/\n0::/init.scope\n", None).unwrap();
        assert_eq!(l.kind, LayoutKind::Hybrid);
        // "cpu" alone has no /proc/self/cgroup line here, so only memory, cpu+cpuacct, systemd, unified.
        let labels: Vec<String> = l.hierarchies.iter().map(|h| h.label()).collect();
        assert_eq!(labels, vec!["memory", "cpu,cpuacct", "name=systemd", "unified"]);
        let mem = l.v1_for("memory").unwrap();
        assert_eq!(mem.self_cgroup, "/process_api/abc");
        assert_eq!(mem.init_cgroup, "/");
        assert_eq!(l.unified().unwrap().init_cgroup, "/init.scope");
        assert_eq!(l.for_controller("cpuacct").unwrap().mountpoint, PathBuf::from("/sys/fs/cgroup/cpu,cpuacct"));
        assert!(l.for_controller("cgroup").unwrap().v2);
    }

    #[test]
    fn detects_unified_and_legacy() {
        let mi = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
        let l = Layout::parse(mi, "0::/user.slice/session-1.scope\n", "0::/init.scope\n", None).unwrap();
        assert_eq!(l.kind, LayoutKind::Unified);
        assert_eq!(l.hierarchies.len(), 1);
        let mi = "32 31 0:29 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
        let l = Layout::parse(mi, "1:pids:/a\n", "", Some("#subsys_name\thierarchy\npids\t1\t1\t1\n")).unwrap();
        assert_eq!(l.kind, LayoutKind::Legacy);
        assert!(Layout::parse("", "", "", None).is_err());
    }

    #[test]
    fn dir_of_strips_mount_root() {
        let h = Hierarchy {
            v2: true,
            controllers: vec![],
            mountpoint: "/sys/fs/cgroup".into(),
            mount_root: "/lxc.payload.c1".into(),
            self_cgroup: "/".into(),
            init_cgroup: "/".into(),
        };
        assert_eq!(h.dir_of("/lxc.payload.c1/x"), PathBuf::from("/sys/fs/cgroup/x"));
        assert_eq!(h.dir_of("/"), PathBuf::from("/sys/fs/cgroup"));
        assert_eq!(strip_init_scope("/init.scope"), "/");
        assert_eq!(strip_init_scope("/a/init.scope"), "/a");
    }

    #[test]
    fn use_list_filters_and_requires() {
        let mut l = Layout::parse(HYBRID_MI, HYBRID_CG, "", None).unwrap();
        l.filter_use(&["memory".into()]).unwrap();
        let labels: Vec<String> = l.hierarchies.iter().map(|h| h.label()).collect();
        assert_eq!(labels, vec!["memory", "unified"]);
        assert!(l.filter_use(&["rdma".into()]).is_err());
    }

    #[test]
    fn unescapes_mount_paths() {
        assert_eq!(unescape("/a\\040b"), "/a b");
    }
}
