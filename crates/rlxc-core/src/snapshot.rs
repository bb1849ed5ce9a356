//! Snapshots (LXC's `snapshot` / `snapshot_list` / `snapshot_restore` / `snapshot_destroy`,
//! `lxc-snapshot`): a snapshot is a clone named `snapN` in the lxcpath
//! `<lxcpath>/<name>/snaps`, keeping name and MAC addresses and the backing store type
//! (overlay and btrfs snapshot copy-on-write, dir copies the tree), with `ts` (creation time,
//! `%Y:%m:%d %H:%M:%S`) and an optional `comment` file next to its config.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::clone::{clone_container, CloneError, CloneOptions};
use crate::container::{Container, ContainerError};
use crate::paths;

/// One snapshot, as `snapshot_list` reports it.
#[derive(Debug, Clone)]
pub struct SnapInfo {
    /// `snapN`.
    pub name: String,
    /// The lxcpath holding it (`<lxcpath>/<name>/snaps`).
    pub lxcpath: String,
    /// Creation time as written in `ts`.
    pub timestamp: String,
    /// The `comment` file, when there is one.
    pub comment_path: Option<PathBuf>,
}

/// A snapshot failure.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Cloning failed.
    #[error(transparent)]
    Clone(#[from] CloneError),
    /// Destroying failed.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// No such snapshot.
    #[error("snapshot \"{0}\" does not exist")]
    NoSuchSnapshot(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// `<lxcpath>/<name>/snaps`.
pub fn snaps_dir(c: &Container) -> PathBuf {
    paths::container_dir(&c.lxcpath, &c.name).join("snaps")
}

/// `%Y:%m:%d %H:%M:%S` of `now` in UTC (LXC formats local time; rlxc hosts run UTC).
fn timestamp(now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil date from days since the epoch (H. Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}:{m:02}:{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Take a snapshot; returns its number N (`snapN`). `comment` is copied into `comment`.
pub fn snapshot(c: &Container, comment: Option<&std::path::Path>) -> Result<u32, SnapshotError> {
    let dir = snaps_dir(c);
    std::fs::create_dir_all(&dir).map_err(|e| SnapshotError::Other(format!("create {}: {e}", dir.display())))?;
    let n = (0..u32::MAX)
        .find(|i| !dir.join(format!("snap{i}")).exists())
        .ok_or_else(|| SnapshotError::Other("no free snapshot name".into()))?;
    let kind = rlxc_storage::open(&c.conf.rootfs).map(|s| s.kind().to_string()).ok();
    let cow = matches!(kind.as_deref(), Some("overlay") | Some("overlayfs") | Some("btrfs"));
    let o = CloneOptions {
        newname: format!("snap{n}"),
        newpath: Some(dir.to_string_lossy().into_owned()),
        snapshot: cow,
        keepname: true,
        keepmac: true,
        allow_running: true,
        bdev: kind,
        ..CloneOptions::default()
    };
    let snap = clone_container(c, &o)?;
    let sdir = paths::container_dir(&snap.lxcpath, &snap.name);
    let res = (|| {
        std::fs::write(sdir.join("ts"), timestamp(SystemTime::now()))
            .map_err(|e| SnapshotError::Other(format!("write {}/ts: {e}", sdir.display())))?;
        if let Some(f) = comment {
            std::fs::copy(f, sdir.join("comment"))
                .map_err(|e| SnapshotError::Other(format!("copy comment file {}: {e}", f.display())))?;
        }
        Ok(n)
    })();
    if res.is_err() {
        let _ = snap.destroy(false);
    }
    res
}

/// The snapshots, in name order.
pub fn list(c: &Container) -> Vec<SnapInfo> {
    let dir = snaps_dir(c);
    let lxcpath = dir.to_string_lossy().into_owned();
    let mut v: Vec<SnapInfo> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("config").is_file())
        .map(|e| {
            let p = e.path();
            let comment = p.join("comment");
            SnapInfo {
                name: e.file_name().to_string_lossy().into_owned(),
                lxcpath: lxcpath.clone(),
                timestamp: std::fs::read_to_string(p.join("ts")).unwrap_or_default().trim_end().to_string(),
                comment_path: comment.is_file().then_some(comment),
            }
        })
        .collect();
    v.sort_by_key(|s| (s.name.trim_start_matches("snap").parse::<u64>().unwrap_or(u64::MAX), s.name.clone()));
    v
}

/// Restore `snap` as `newname` (None or the container's own name: replace the container's
/// rootfs and config, keeping its snapshots).
pub fn restore(c: &Container, snap: &str, newname: Option<&str>) -> Result<(), SnapshotError> {
    let dir = snaps_dir(c);
    let sc = Container::new(snap, &dir.to_string_lossy(), None)?;
    if !sc.is_defined() {
        return Err(SnapshotError::NoSuchSnapshot(snap.to_string()));
    }
    let newname = newname.unwrap_or(&c.name);
    let in_place = newname == c.name;
    // An overlay snapshot reads through its origin's lower dir, which may live in this
    // container's directory: that must survive an in-place restore.
    let keep: Vec<PathBuf> = rlxc_storage::open(&sc.conf.rootfs)
        .ok()
        .and_then(|s| {
            let v = s.config_value();
            let loc = v.split_once(':').map(|(_, l)| l.to_string())?;
            let o = rlxc_storage::overlay::Overlay::parse(s.kind(), &loc).ok()?;
            Some(o.lowers().to_vec())
        })
        .unwrap_or_default();
    if in_place {
        if c.is_running() {
            return Err(ContainerError::Running(c.name.clone()).into());
        }
        // LXC's container_destroy keeping `snaps`: rootfs and config go, the directory stays.
        if c.conf.rootfs.managed && c.conf.rootfs.path.is_some() {
            if let Ok(s) = rlxc_storage::open(&c.conf.rootfs) {
                s.destroy().map_err(|e| SnapshotError::Other(e.to_string()))?;
            }
        }
        let cdir = paths::container_dir(&c.lxcpath, &c.name);
        for e in std::fs::read_dir(&cdir).into_iter().flatten().flatten() {
            let p = e.path();
            // Snapshots and the dependency files stay with the container.
            let fname = e.file_name();
            if fname == "snaps"
                || fname == "lxc_snapshots"
                || fname == "lxc_rdepends"
                || keep.iter().any(|k| k.starts_with(&p))
            {
                continue;
            }
            let r = if p.is_dir() && !p.is_symlink() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
            if let Err(err) = r {
                return Err(SnapshotError::Other(format!("remove {}: {err}", p.display())));
            }
        }
    }
    let kind = rlxc_storage::open(&sc.conf.rootfs).map(|s| s.kind().to_string()).ok();
    let cow = matches!(kind.as_deref(), Some("btrfs"));
    let o = CloneOptions {
        newname: newname.to_string(),
        newpath: Some(c.lxcpath.clone()),
        snapshot: cow,
        keepname: true,
        keepmac: true,
        bdev: kind,
        into_existing_dir: in_place,
        ..CloneOptions::default()
    };
    clone_container(&sc, &o)?;
    Ok(())
}

/// Destroy one snapshot.
pub fn destroy(c: &Container, snap: &str) -> Result<(), SnapshotError> {
    let sc = Container::new(snap, &snaps_dir(c).to_string_lossy(), None)?;
    if !sc.is_defined() {
        return Err(SnapshotError::NoSuchSnapshot(snap.to_string()));
    }
    sc.destroy(false)?;
    Ok(())
}

/// Destroy every snapshot (`-d ALL`).
pub fn destroy_all(c: &Container) -> Result<(), SnapshotError> {
    for s in list(c) {
        destroy(c, &s.name)?;
    }
    let _ = std::fs::remove_dir(snaps_dir(c));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_format() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        assert_eq!(timestamp(t), "2023:11:14 22:13:20");
        assert_eq!(timestamp(UNIX_EPOCH), "1970:01:01 00:00:00");
    }
}
