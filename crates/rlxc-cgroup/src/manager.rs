//! The container's cgroups: the base per hierarchy, the `lxc.monitor.NAME` and
//! `lxc.payload.NAME` siblings (created with collision suffixes, entered, delegated), and their
//! removal (the monitor first leaves its own cgroup).

use crate::error::{io_err, CgroupError, Result};
use crate::fsio::CgDir;
use crate::layout::{strip_init_scope, Layout, LayoutKind};
use crate::spec::{CgroupSpec, Role};
use std::io;
use std::path::{Path, PathBuf};
use tracing::{debug, info, warn};

/// One created cgroup (monitor or payload) in every hierarchy.
#[derive(Debug)]
pub struct Created {
    /// path below the base, e.g. `lxc.payload.c1-1`
    pub rel: String,
    /// per hierarchy (same index as `Layout::hierarchies`): the cgroup path inside the hierarchy
    pub cgpaths: Vec<String>,
    /// per hierarchy: the open directory
    pub dirs: Vec<CgDir>,
}

/// A container's monitor and payload cgroups.
#[derive(Debug)]
pub struct Cgroups {
    /// the layout detected when the monitor cgroup was made
    pub layout: Layout,
    /// the container's settings
    pub spec: CgroupSpec,
    /// per hierarchy: the base cgroup path (init's or the caller's)
    pub bases: Vec<String>,
    /// per hierarchy: the cgroup this process was in before entering the monitor cgroup
    pub original: Vec<String>,
    /// the monitor cgroup, once created
    pub monitor: Option<Created>,
    /// the payload cgroup, once created
    pub payload: Option<Created>,
    /// directories we made above the leaves (`lxc.cgroup.dir`, pattern), removed at the end
    made_parents: Vec<PathBuf>,
    /// whether this process entered the monitor cgroup
    entered_monitor: bool,
}

fn euid_is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn join_cg(base: &str, rel: &str) -> String {
    let b = base.trim_end_matches('/');
    if rel.is_empty() {
        return if b.is_empty() { "/".into() } else { b.to_string() };
    }
    format!("{b}/{rel}")
}

impl Cgroups {
    /// Detect the layout and compute the base cgroups; nothing is created yet.
    pub fn new(spec: CgroupSpec) -> Result<Cgroups> {
        let mut layout = Layout::detect()?;
        layout.filter_use(&spec.use_controllers)?;
        Ok(Cgroups::with_layout(layout, spec))
    }

    /// Like [`Cgroups::new`] with a given layout (tests).
    pub fn with_layout(mut layout: Layout, spec: CgroupSpec) -> Cgroups {
        let relative = spec.relative || !euid_is_root();
        let mut bases: Vec<String> = layout
            .hierarchies
            .iter()
            .map(|h| strip_init_scope(if relative { &h.self_cgroup } else { &h.init_cgroup }))
            .collect();
        if !euid_is_root() {
            // A user creates its cgroups below its own cgroup, which must have been delegated
            // to it; as LXC, hierarchies where it cannot are skipped with a warning.
            let mut keep = Vec::new();
            for (h, b) in layout.hierarchies.iter().zip(&bases) {
                let dir = h.dir_of(b);
                let ok = rustix::fs::access(&dir, rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK).is_ok();
                if !ok {
                    warn!("cgroup {} is not writable by this user: skipping that hierarchy", dir.display());
                }
                keep.push(ok);
            }
            let mut it = keep.iter();
            layout.hierarchies.retain(|_| *it.next().unwrap_or(&false));
            let mut it = keep.iter();
            bases.retain(|_| *it.next().unwrap_or(&false));
        }
        let original = layout.hierarchies.iter().map(|h| h.self_cgroup.clone()).collect();
        info!(
            "cgroup layout {} ({} hierarchies), base {}",
            layout.kind.as_str(),
            layout.hierarchies.len(),
            if relative { "the caller's cgroup (relative)" } else { "init's cgroup" }
        );
        Cgroups {
            layout,
            spec,
            bases,
            original,
            monitor: None,
            payload: None,
            made_parents: Vec::new(),
            entered_monitor: false,
        }
    }

    /// Whether the host is pure cgroup2.
    pub fn is_unified(&self) -> bool {
        self.layout.kind == LayoutKind::Unified
    }

    fn dir_in(&self, idx: usize, cg: &str) -> PathBuf {
        self.layout.hierarchies[idx].dir_of(cg)
    }

    /// Create the monitor or payload cgroup in every hierarchy, trying suffixes `-1`..`-999`
    /// when the name exists in any hierarchy.
    pub fn create(&mut self, role: Role) -> Result<()> {
        if role == Role::Monitor {
            self.reclaim_stale();
        }
        for n in 0..1000u32 {
            let rel = self.spec.relative_path(role, n);
            let taken =
                (0..self.layout.hierarchies.len()).any(|i| self.dir_in(i, &join_cg(&self.bases[i], &rel)).exists());
            if taken {
                continue;
            }
            match self.try_create(&rel)? {
                Some(c) => {
                    info!("created {} cgroup {}", role.as_str(), rel);
                    match role {
                        Role::Monitor => self.monitor = Some(c),
                        Role::Payload => self.payload = Some(c),
                    }
                    self.delegate_controllers(role)?;
                    return Ok(());
                }
                None => continue,
            }
        }
        Err(CgroupError::NoFreeName(self.spec.relative_path(role, 0)))
    }

    /// Remove this container's monitor/payload pairs that a dead monitor left behind (a SIGKILLed
    /// monitor cannot clean up), so the name is reused instead of piling up `-1`, `-2`... A pair
    /// is stale when no process is in either subtree in any hierarchy (a live monitor always sits
    /// in its own cgroup) and the monitor cgroup is older than [`STALE_AGE`] (a concurrent start
    /// of a same-named container in another lxcpath creates its cgroups an instant before
    /// entering them). rmdir itself refuses a cgroup that gained a process meanwhile.
    fn reclaim_stale(&self) {
        for n in 0..1000u32 {
            let dirs = |role: Role| -> Vec<PathBuf> {
                let rel = self.spec.relative_path(role, n);
                (0..self.layout.hierarchies.len())
                    .map(|i| self.dir_in(i, &join_cg(&self.bases[i], &rel)))
                    .filter(|d| d.exists())
                    .collect()
            };
            let (mon, pay) = (dirs(Role::Monitor), dirs(Role::Payload));
            if mon.is_empty() && pay.is_empty() {
                return;
            }
            let young = mon.iter().chain(&pay).any(|d| {
                std::fs::metadata(d)
                    .and_then(|m| m.modified())
                    .map(|t| t.elapsed().map_or(true, |age| age < STALE_AGE))
                    .unwrap_or(true)
            });
            if young || mon.iter().chain(&pay).any(|d| subtree_has_procs(d)) {
                continue;
            }
            let mut removed = true;
            for d in pay.iter().chain(&mon) {
                if let Err(e) = rmdir_tree_once(d) {
                    debug!("keeping {} ({e})", d.display());
                    removed = false;
                }
            }
            if removed {
                info!(
                    "removed stale cgroups {} / {} left by a monitor that did not clean up",
                    self.spec.relative_path(Role::Monitor, n),
                    self.spec.relative_path(Role::Payload, n)
                );
            }
        }
    }

    /// mkdir the parents (EEXIST fine) and the leaf (EEXIST = taken: undo and return None).
    fn try_create(&mut self, rel: &str) -> Result<Option<Created>> {
        let mut c = Created { rel: rel.to_string(), cgpaths: Vec::new(), dirs: Vec::new() };
        for i in 0..self.layout.hierarchies.len() {
            let cg = join_cg(&self.bases[i], rel);
            let base_dir = self.dir_in(i, &self.bases[i]);
            let leaf = self.dir_in(i, &cg);
            let res = self.mkdir_chain(i, &base_dir, &leaf);
            match res {
                Ok(()) => {}
                Err(e) => {
                    for d in c.dirs.drain(..) {
                        let _ = std::fs::remove_dir(&d.path);
                    }
                    if let CgroupError::Io { source, .. } = &e {
                        if source.kind() == io::ErrorKind::AlreadyExists {
                            return Ok(None);
                        }
                    }
                    return Err(e);
                }
            }
            let d = match CgDir::open(&leaf) {
                Ok(d) => d,
                Err(e) => {
                    let _ = std::fs::remove_dir(&leaf);
                    for d in c.dirs.drain(..) {
                        let _ = std::fs::remove_dir(&d.path);
                    }
                    return Err(io_err("open", &leaf)(e));
                }
            };
            c.cgpaths.push(cg);
            c.dirs.push(d);
        }
        Ok(Some(c))
    }

    /// Create every directory from `base` down to `leaf`; only the leaf must be new.
    fn mkdir_chain(&mut self, idx: usize, base: &Path, leaf: &Path) -> Result<()> {
        let rel = leaf.strip_prefix(base).unwrap_or(leaf);
        let mut cur = base.to_path_buf();
        let comps: Vec<_> = rel.components().collect();
        let cpuset = !self.layout.hierarchies[idx].v2 && self.layout.hierarchies[idx].has("cpuset");
        for (k, comp) in comps.iter().enumerate() {
            let parent = cur.clone();
            cur.push(comp);
            let is_leaf = k + 1 == comps.len();
            match std::fs::create_dir(&cur) {
                Ok(()) => {
                    if !is_leaf {
                        self.made_parents.push(cur.clone());
                    }
                    if cpuset {
                        init_cpuset(&parent, &cur);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && !is_leaf => {}
                Err(e) => return Err(io_err("mkdir", &cur)(e)),
            }
        }
        Ok(())
    }

    /// On pure cgroup2, enable every available controller (`+ctrl` into
    /// `cgroup.subtree_control`) in the base and each directory down to the leaf's parent.
    fn delegate_controllers(&self, role: Role) -> Result<()> {
        if !self.is_unified() {
            return Ok(());
        }
        let Some(c) = (match role {
            Role::Monitor => &self.monitor,
            Role::Payload => &self.payload,
        }) else {
            return Ok(());
        };
        for (i, h) in self.layout.hierarchies.iter().enumerate() {
            if !h.v2 {
                continue;
            }
            let base = h.dir_of(&self.bases[i]);
            let leaf = &c.dirs[i].path;
            let mut dir = base.clone();
            let rel: Vec<_> = leaf.strip_prefix(&base).map(|r| r.components().collect()).unwrap_or_default();
            for comp in rel {
                enable_controllers(&dir);
                dir.push(comp);
            }
        }
        Ok(())
    }

    /// Create the monitor cgroup and move `pid` (0 = this process) into it.
    pub fn create_and_enter_monitor(&mut self, pid: i32) -> Result<()> {
        self.create(Role::Monitor)?;
        self.enter(Role::Monitor, pid)?;
        if pid == 0 || pid == std::process::id() as i32 {
            self.entered_monitor = true;
        }
        Ok(())
    }

    /// Write `pid` (0 = this process) into `cgroup.procs` of the role's cgroup everywhere.
    pub fn enter(&self, role: Role, pid: i32) -> Result<()> {
        let c = self.created(role)?;
        let pid = if pid == 0 { std::process::id() as i32 } else { pid };
        for d in &c.dirs {
            d.write("cgroup.procs", &pid.to_string()).map_err(io_err("write", d.path.join("cgroup.procs")))?;
        }
        debug!("moved pid {pid} into {} cgroup {}", role.as_str(), c.rel);
        Ok(())
    }

    /// The created cgroup of `role`, or an error if it was not made yet.
    pub fn created(&self, role: Role) -> Result<&Created> {
        match role {
            Role::Monitor => self.monitor.as_ref(),
            Role::Payload => self.payload.as_ref(),
        }
        .ok_or_else(|| CgroupError::Layout(format!("the {} cgroup was not created", role.as_str())))
    }

    /// Index of the hierarchy owning `controller` (v1 first, else cgroup2).
    pub fn index_for(&self, controller: &str) -> Option<usize> {
        let h = self.layout.for_controller(controller)?;
        self.layout.hierarchies.iter().position(|x| x == h)
    }

    /// Index of the cgroup2 hierarchy.
    pub fn unified_index(&self) -> Option<usize> {
        self.layout.hierarchies.iter().position(|h| h.v2)
    }

    /// The payload directory in the hierarchy of `controller` (None = cgroup2).
    pub fn payload_dir(&self, controller: Option<&str>) -> Option<&CgDir> {
        let p = self.payload.as_ref()?;
        let i = match controller {
            Some(c) => self.index_for(c)?,
            None => self.unified_index()?,
        };
        p.dirs.get(i)
    }

    /// The payload cgroup path inside the hierarchy of `controller` (for GET_CGROUP).
    pub fn payload_cgpath(&self, controller: Option<&str>) -> Option<String> {
        let p = self.payload.as_ref()?;
        let i = match controller {
            Some(c) => self.index_for(c)?,
            None => self.unified_index()?,
        };
        p.cgpaths.get(i).cloned()
    }

    /// Remove the payload cgroup (recursively: `.lxc` and whatever the container made).
    pub fn destroy_payload(&mut self) -> Result<()> {
        let Some(p) = self.payload.take() else { return Ok(()) };
        let mut first_err = None;
        for d in &p.dirs {
            if let Err(e) = rmdir_tree(&d.path) {
                warn!("cannot remove payload cgroup {}: {e}", d.path.display());
                first_err.get_or_insert(io_err("rmdir", &d.path)(e));
            }
        }
        info!("removed payload cgroup {}", p.rel);
        first_err.map_or(Ok(()), Err)
    }

    /// Leave the monitor cgroup (back to where this process came from, or `lxc.pivot` when that
    /// is impossible) and remove it.
    pub fn destroy_monitor(&mut self) -> Result<()> {
        let Some(m) = self.monitor.take() else { return Ok(()) };
        if self.entered_monitor {
            self.leave_monitor();
            self.entered_monitor = false;
        }
        let mut first_err = None;
        for d in &m.dirs {
            if let Err(e) = rmdir_tree(&d.path) {
                warn!("cannot remove monitor cgroup {}: {e}", d.path.display());
                first_err.get_or_insert(io_err("rmdir", &d.path)(e));
            }
        }
        info!("removed monitor cgroup {}", m.rel);
        first_err.map_or(Ok(()), Err)
    }

    fn leave_monitor(&self) {
        let pid = std::process::id().to_string();
        let parent = self.spec.leaf_parent();
        for (i, h) in self.layout.hierarchies.iter().enumerate() {
            let orig = h.dir_of(&self.original[i]);
            if crate::fsio::write_path(&orig.join("cgroup.procs"), &pid).is_ok() {
                continue;
            }
            // The original is gone or not a leaf any more: LXC's pivot cgroup.
            let pivot = h.dir_of(&join_cg(&join_cg(&self.bases[i], &parent), "lxc.pivot"));
            let _ = std::fs::create_dir(&pivot);
            if let Err(e) = crate::fsio::write_path(&pivot.join("cgroup.procs"), &pid) {
                warn!("cannot move the monitor to {}: {e}", pivot.display());
            }
        }
    }

    /// Remove everything made: payload, monitor, then the empty parents we created.
    pub fn destroy(&mut self) -> Result<()> {
        let r1 = self.destroy_payload();
        let r2 = self.destroy_monitor();
        while let Some(d) = self.made_parents.pop() {
            if let Err(e) = std::fs::remove_dir(&d) {
                if e.raw_os_error() != Some(libc::ENOENT) {
                    debug!("keeping {} ({e})", d.display());
                }
            }
        }
        r1.and(r2)
    }
}

/// Copy `cpuset.cpus` / `cpuset.mems` from the parent when empty (a v1 cpuset cgroup cannot take
/// tasks otherwise).
fn init_cpuset(parent: &Path, dir: &Path) {
    for f in ["cpuset.cpus", "cpuset.mems"] {
        let cur = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        if !cur.trim().is_empty() {
            continue;
        }
        if let Ok(v) = std::fs::read_to_string(parent.join(f)) {
            if let Err(e) = crate::fsio::write_path(&dir.join(f), v.trim()) {
                warn!("cannot initialise {}: {e}", dir.join(f).display());
            }
        }
    }
}

/// Enable every controller of `dir/cgroup.controllers` in `dir/cgroup.subtree_control`.
fn enable_controllers(dir: &Path) {
    // A non-root cgroup with processes of its own (a user's cgroup, where the caller itself
    // runs) takes no domain controllers, and enabling only the threaded ones would make its
    // children invalid for new processes (EOPNOTSUPP): leave such a cgroup as it is. The root
    // (no cgroup.type) is exempt from the rule.
    let populated = std::fs::read_to_string(dir.join("cgroup.procs")).is_ok_and(|p| !p.trim().is_empty());
    if populated && dir.join("cgroup.type").exists() {
        debug!("not enabling controllers in {}: it holds processes", dir.display());
        return;
    }
    let avail = std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    let on = std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
    let want: Vec<&str> = avail.split_whitespace().filter(|c| !on.split_whitespace().any(|o| o == *c)).collect();
    if want.is_empty() {
        return;
    }
    let all: String = want.iter().map(|c| format!("+{c}")).collect::<Vec<_>>().join(" ");
    let sc = dir.join("cgroup.subtree_control");
    if crate::fsio::write_path(&sc, &all).is_ok() {
        debug!("enabled {all} in {}", sc.display());
        return;
    }
    for c in want {
        if let Err(e) = crate::fsio::write_path(&sc, &format!("+{c}")) {
            warn!("cannot enable controller {c} in {}: {e}", sc.display());
        }
    }
}

/// How old an empty monitor/payload pair must be before a new start of the same name removes it.
const STALE_AGE: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether any process is in `dir` or a cgroup below it (true when it cannot be read: keep it).
fn subtree_has_procs(dir: &Path) -> bool {
    match std::fs::read_to_string(dir.join("cgroup.procs")) {
        Ok(t) if t.trim().is_empty() => {}
        _ => return true,
    }
    match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .flatten()
            .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
            .any(|e| subtree_has_procs(&e.path())),
        Err(_) => true,
    }
}

/// Remove an empty cgroup tree, children first, without waiting on EBUSY.
fn rmdir_tree_once(dir: &Path) -> io::Result<()> {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                rmdir_tree_once(&e.path())?;
            }
        }
    }
    match std::fs::remove_dir(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Remove a cgroup directory and everything below it (children first). Retries briefly while
/// the kernel still counts exiting tasks (EBUSY).
pub fn rmdir_tree(dir: &Path) -> io::Result<()> {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                rmdir_tree(&e.path())?;
            }
        }
    }
    let mut tries = 0;
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 200 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}
