//! Freezer: v1 `freezer.state` (FROZEN / THAWED, polled until it reads back) and cgroup2
//! `cgroup.freeze` with the wait on `cgroup.events` (`frozen 1` / `frozen 0`, poll, bounded).

use crate::error::{io_err, CgroupError, Result};
use crate::fsio::CgDir;
use crate::manager::Cgroups;
use crate::spec::Role;
use rustix::event::{poll, PollFd, PollFlags};
use rustix::fs::{openat, Mode, OFlags};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// Which freezer a container's cgroups use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreezerKind {
    /// v1 freezer controller
    V1,
    /// cgroup2 `cgroup.freeze`
    V2,
}

fn deadline(timeout_ms: i64) -> Option<Instant> {
    if timeout_ms < 0 {
        None
    } else {
        Some(Instant::now() + Duration::from_millis(timeout_ms as u64))
    }
}

/// Freeze (`frozen`) or thaw a v1 freezer cgroup and wait until `freezer.state` reads back
/// (timeout in ms, negative = no limit, 0 = don't wait).
pub fn set_v1(dir: &CgDir, frozen: bool, timeout_ms: i64) -> Result<()> {
    let want = if frozen { "FROZEN" } else { "THAWED" };
    dir.write("freezer.state", want).map_err(io_err("write", dir.path.join("freezer.state")))?;
    if timeout_ms == 0 {
        return Ok(());
    }
    let end = deadline(timeout_ms);
    // A busybox container usually reads back FROZEN/THAWED within a millisecond: start polling
    // at 1 ms and grow to 10 ms, instead of paying a fixed 10 ms for every FREEZING read.
    let mut pause = Duration::from_millis(1);
    loop {
        let cur = dir.read("freezer.state").map_err(io_err("read", dir.path.join("freezer.state")))?;
        if cur.trim() == want {
            return Ok(());
        }
        if end.is_some_and(|e| Instant::now() >= e) {
            return Err(CgroupError::Timeout {
                what: if frozen { "freeze" } else { "unfreeze" },
                path: dir.path.clone(),
                timeout_ms,
            });
        }
        // Re-write FROZEN: the kernel retries freezing tasks that were busy on each write.
        if frozen {
            let _ = dir.write("freezer.state", want);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

fn events_frozen(dir: &CgDir) -> Result<Option<bool>> {
    let ev = dir.read("cgroup.events").map_err(io_err("read", dir.path.join("cgroup.events")))?;
    Ok(ev.lines().find_map(|l| l.strip_prefix("frozen ")).map(|v| v.trim() == "1"))
}

/// Freeze or thaw a cgroup2 directory: write `cgroup.freeze`, then wait for `cgroup.events` to
/// say `frozen 1`/`frozen 0` (poll for change notifications, bounded by the timeout).
pub fn set_v2(dir: &CgDir, frozen: bool, timeout_ms: i64) -> Result<()> {
    let evpath = dir.path.join("cgroup.events");
    let ev = openat(dir.fd.as_fd(), "cgroup.events", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| io_err("open", &evpath)(e.into()))?;
    dir.write("cgroup.freeze", if frozen { "1" } else { "0" })
        .map_err(io_err("write", dir.path.join("cgroup.freeze")))?;
    if timeout_ms == 0 {
        return Ok(());
    }
    let end = deadline(timeout_ms);
    loop {
        if events_frozen(dir)? == Some(frozen) {
            return Ok(());
        }
        let left = match end {
            None => Duration::from_millis(1000),
            Some(e) => {
                let now = Instant::now();
                if now >= e {
                    return Err(CgroupError::Timeout {
                        what: if frozen { "freeze" } else { "unfreeze" },
                        path: dir.path.clone(),
                        timeout_ms,
                    });
                }
                (e - now).min(Duration::from_millis(1000))
            }
        };
        let ts = rustix::event::Timespec { tv_sec: left.as_secs() as i64, tv_nsec: left.subsec_nanos() as i64 };
        let mut fds = [PollFd::new(&ev, PollFlags::PRI | PollFlags::ERR)];
        match poll(&mut fds, Some(&ts)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(io_err("poll", &evpath)(e.into())),
        }
    }
}

impl Cgroups {
    /// Which freezer this container uses: the v1 freezer controller when the host has one
    /// (legacy and hybrid, like LXC 4.0), else cgroup2's `cgroup.freeze`.
    pub fn freezer_kind(&self) -> Option<FreezerKind> {
        if self.layout.v1_for("freezer").is_some() {
            Some(FreezerKind::V1)
        } else if self.unified_index().is_some() {
            Some(FreezerKind::V2)
        } else {
            None
        }
    }

    fn freezer_dir(&self) -> Result<(&CgDir, FreezerKind)> {
        let p = self.created(Role::Payload)?;
        let kind = self.freezer_kind().ok_or_else(|| CgroupError::MissingController {
            key: "freeze".into(),
            controller: "freezer".into(),
            why: "neither a v1 freezer nor cgroup2 is mounted".into(),
        })?;
        let i = match kind {
            FreezerKind::V1 => self.index_for("freezer"),
            FreezerKind::V2 => self.unified_index(),
        }
        .unwrap_or(0);
        Ok((&p.dirs[i], kind))
    }

    /// Freeze the payload (timeout in ms; negative = wait as long as it takes).
    pub fn freeze(&self, timeout_ms: i64) -> Result<()> {
        match self.freezer_dir()? {
            (d, FreezerKind::V1) => set_v1(d, true, timeout_ms),
            (d, FreezerKind::V2) => set_v2(d, true, timeout_ms),
        }
    }

    /// Thaw the payload.
    pub fn unfreeze(&self, timeout_ms: i64) -> Result<()> {
        match self.freezer_dir()? {
            (d, FreezerKind::V1) => set_v1(d, false, timeout_ms),
            (d, FreezerKind::V2) => set_v2(d, false, timeout_ms),
        }
    }
}
