//! Capabilities: `lxc.cap.drop` / `lxc.cap.keep` on the bounding set, the ambient-set dance
//! around the switch to the namespace root, and the attach-side copy of init's bounding set.

use rlxc_sys::caps as sys;
use tracing::{debug, trace};

use crate::error::{Result, SecurityError};

/// Capability names LXC accepts (without `cap_`), index = capability number: the config
/// language's table, so parsing and applying can't disagree.
use rlxc_config::values::CAPABILITIES as CAP_NAMES;

/// Capability number of a name (`sys_admin`, case-insensitive, optional `cap_` prefix) or a
/// number no higher than `last_cap`.
pub fn parse_cap(word: &str, last_cap: u32) -> Option<u32> {
    let lower = word.trim().to_ascii_lowercase();
    let name = lower.strip_prefix("cap_").unwrap_or(&lower);
    if let Some(n) = CAP_NAMES.iter().position(|c| *c == name) {
        return u32::try_from(n).ok().filter(|n| *n <= last_cap);
    }
    name.parse::<u32>().ok().filter(|n| *n <= last_cap)
}

/// What to do with the bounding set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapPlan {
    /// Leave it alone (neither key set).
    Unchanged,
    /// Drop these capabilities (`lxc.cap.drop`).
    Drop(Vec<u32>),
    /// Keep only these (`lxc.cap.keep`; empty = `none` = drop all).
    Keep(Vec<u32>),
}

/// Build the plan from the two keys; both set is a start error (checked before anything
/// starts), as is an unknown capability.
pub fn plan(drop: &[String], keep: &[String], last_cap: u32) -> Result<CapPlan> {
    let parse_list = |key: &str, words: &[String]| -> Result<Vec<u32>> {
        let mut caps = Vec::new();
        for w in words.iter().flat_map(|w| w.split_whitespace()) {
            if w == "none" && key == "lxc.cap.keep" {
                caps.clear();
                continue;
            }
            match parse_cap(w, last_cap) {
                Some(c) => caps.push(c),
                None => {
                    return Err(SecurityError::config(
                        key,
                        format!("unknown capability \"{w}\" (use names like sys_admin, or numbers up to {last_cap})"),
                    ))
                }
            }
        }
        Ok(caps)
    };
    match (drop.is_empty(), keep.is_empty()) {
        (true, true) => Ok(CapPlan::Unchanged),
        (false, false) => Err(SecurityError::config(
            "lxc.cap.keep",
            "lxc.cap.keep and lxc.cap.drop are both set; they cannot be combined (keep lists what survives, drop what goes): remove one",
        )),
        (false, true) => Ok(CapPlan::Drop(parse_list("lxc.cap.drop", drop)?)),
        (true, false) => Ok(CapPlan::Keep(parse_list("lxc.cap.keep", keep)?)),
    }
}

/// Capabilities to remove from the bounding set under `plan`.
pub fn caps_to_drop(plan: &CapPlan, last_cap: u32) -> Vec<u32> {
    match plan {
        CapPlan::Unchanged => Vec::new(),
        CapPlan::Drop(list) => list.clone(),
        CapPlan::Keep(keep) => (0..=last_cap).filter(|c| !keep.contains(c)).collect(),
    }
}

/// Drop capabilities from the bounding set of the calling process (LXC's `setup_caps` /
/// `dropcaps_except`). They are also removed from the inheritable (and so the ambient) set:
/// otherwise root's exec would hand them back (P' = I | bounding for uid 0). The effective set
/// is left alone because later steps (seccomp load, start hooks) may still need them.
pub fn apply_plan(plan: &CapPlan) -> Result<()> {
    let last = sys::cap_last_cap().map_err(|e| SecurityError::io("reading /proc/sys/kernel/cap_last_cap", e))?;
    let drops = caps_to_drop(plan, last);
    if drops.is_empty() {
        trace!("capabilities: nothing to drop");
        return Ok(());
    }
    drop_from_bounding(&drops)?;
    debug!("capabilities dropped from the bounding set: {}", names(&drops));
    Ok(())
}

/// Remove `caps` from the bounding, inheritable and ambient sets.
pub fn drop_from_bounding(caps: &[u32]) -> Result<()> {
    for &cap in caps {
        match sys::bounding_drop(cap) {
            Ok(()) => {}
            // A capability the kernel doesn't know is already absent.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            Err(e) => {
                return Err(SecurityError::io(
                    format!("dropping capability {} from the bounding set", cap_name(cap)),
                    e,
                ))
            }
        }
    }
    let mut sets = sys::capget().map_err(|e| SecurityError::io("capget", e))?;
    let mask = caps.iter().filter(|c| **c < 64).fold(0u64, |m, c| m | (1 << c));
    sets.inheritable &= !mask;
    sys::capset(&sets).map_err(|e| SecurityError::io("capset after dropping bounding capabilities", e))
}

/// Make the bounding set equal to `mask` (attach: init's `CapBnd`).
pub fn limit_bounding_to(mask: u64) -> Result<()> {
    let last = sys::cap_last_cap().map_err(|e| SecurityError::io("reading cap_last_cap", e))?;
    let drops: Vec<u32> = (0..=last).filter(|c| *c >= 64 || mask & (1u64 << c) == 0).collect();
    drop_from_bounding(&drops)
}

/// `CapBnd` of a process, from `/proc/<pid>/status`.
pub fn bounding_of_pid(pid: i32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| SecurityError::io(format!("reading {path}"), e))?;
    status_field(&text, "CapBnd")
        .ok_or_else(|| SecurityError::io(format!("parsing CapBnd in {path}"), std::io::ErrorKind::InvalidData.into()))
}

/// A hex capability mask field (`CapBnd`, `CapEff`, ...) of a `/proc/<pid>/status` text.
pub fn status_field(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        if k == field {
            u64::from_str_radix(v.trim(), 16).ok()
        } else {
            None
        }
    })
}

/// Raise every permitted capability into the inheritable and ambient sets, so they survive the
/// switch from host root to the namespace root (LXC does this before the child waits for its
/// id maps). Failures are not fatal: an old kernel has no ambient set.
pub fn raise_ambient() -> Result<()> {
    let mut sets = sys::capget().map_err(|e| SecurityError::io("capget", e))?;
    sets.inheritable |= sets.permitted;
    sys::capset(&sets).map_err(|e| SecurityError::io("capset (raising inheritable)", e))?;
    let last = sys::cap_last_cap().map_err(|e| SecurityError::io("reading cap_last_cap", e))?;
    for cap in (0..=last).filter(|c| *c < 64 && sets.permitted & (1 << c) != 0) {
        if let Err(e) = sys::ambient_raise(cap) {
            debug!("could not raise ambient capability {}: {e}", cap_name(cap));
        }
    }
    Ok(())
}

/// Empty the ambient and inheritable sets right before exec (LXC's `lxc_ambient_caps_down`
/// undoes what [`raise_ambient`] did, so init starts with `CapInh` and `CapAmb` empty).
pub fn clear_ambient() -> Result<()> {
    match sys::ambient_clear_all() {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
        Err(e) => return Err(SecurityError::io("clearing the ambient capability set", e)),
    }
    let mut sets = sys::capget().map_err(|e| SecurityError::io("capget", e))?;
    if sets.inheritable != 0 {
        sets.inheritable = 0;
        sys::capset(&sets).map_err(|e| SecurityError::io("capset (clearing inheritable)", e))?;
    }
    Ok(())
}

/// Name of a capability number for messages.
pub fn cap_name(cap: u32) -> String {
    CAP_NAMES.get(cap as usize).map_or_else(|| cap.to_string(), |n| (*n).to_string())
}

fn names(caps: &[u32]) -> String {
    caps.iter().map(|c| cap_name(*c)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse_cap("sys_admin", 40), Some(21));
        assert_eq!(parse_cap("SYS_ADMIN", 40), Some(21));
        assert_eq!(parse_cap("cap_mknod", 40), Some(27));
        assert_eq!(parse_cap("12", 40), Some(12));
        assert_eq!(parse_cap("41", 40), None);
        assert_eq!(parse_cap("bpf", 38), None);
        assert_eq!(parse_cap("frob", 40), None);
    }

    #[test]
    fn keep_and_drop_together_is_an_error_naming_both() {
        let e = plan(&s(&["sys_admin"]), &s(&["chown"]), 40).unwrap_err().to_string();
        assert!(e.contains("lxc.cap.keep") && e.contains("lxc.cap.drop"), "{e}");
    }

    #[test]
    fn keep_none_drops_everything() {
        let p = plan(&[], &s(&["none"]), 40).unwrap();
        assert_eq!(p, CapPlan::Keep(vec![]));
        assert_eq!(caps_to_drop(&p, 40).len(), 41);
        let p = plan(&[], &s(&["chown", "none", "kill"]), 40).unwrap();
        assert_eq!(p, CapPlan::Keep(vec![5]));
    }

    #[test]
    fn drop_lists_split_on_whitespace() {
        assert_eq!(plan(&s(&["sys_module mac_admin", "mknod"]), &[], 40).unwrap(), CapPlan::Drop(vec![16, 33, 27]));
        assert!(plan(&s(&["nonsense"]), &[], 40).is_err());
    }

    #[test]
    fn status_field_parses() {
        assert_eq!(status_field("Name:\tx\nCapBnd:\t000001ffffffffff\n", "CapBnd"), Some(0x1ff_ffff_ffff));
        assert_eq!(status_field("CapBnd: zz", "CapBnd"), None);
    }
}
