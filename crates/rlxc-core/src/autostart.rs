//! `lxc-autostart`'s selection and actions (LXC's `tools/lxc_autostart.c`): which defined
//! containers of an lxcpath take part (`lxc.start.auto`, `lxc.group`, `-a`, `-A`, `-g`), in which
//! order (`lxc.start.order`, then name; groups in command-line order), and the start / shutdown /
//! kill / reboot applied to each, with `lxc.start.delay` waits after starts and reboots.
//!
//! Group matching keeps two quirks of LXC's `list_contains_entry`, because scripts written
//! against LXC rely on what it selects:
//! - a container group `G` matches a requested group `R` when `R` starts with `G` (LXC compares
//!   `strncmp(G, R, strlen(G))`), so `lxc.group = web` is selected by `-g webserver`;
//! - while accumulating `-g` lists, a new entry is dropped as a duplicate when it starts with an
//!   entry already in the list, so once the empty (NULL) group is in the list every later group
//!   is dropped: `-g ,onboot` selects only the NULL group, `-g onboot,` both.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use tracing::{debug, error};

use crate::container::Container;
use crate::start::StartOptions;

/// What to do with the selected containers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start the stopped ones (the default).
    Start,
    /// `-s`: clean shutdown, killed after the timeout.
    Shutdown,
    /// `-k`: hard stop.
    Kill,
    /// `-r`: send the reboot signal.
    Reboot,
}

/// The parsed command line of `lxc-autostart`.
#[derive(Clone, Debug)]
pub struct Options {
    /// The action.
    pub action: Action,
    /// `-L`: only print what would be done.
    pub list: bool,
    /// `-a`: ignore `lxc.group`.
    pub all: bool,
    /// `-A`: ignore `lxc.start.auto`.
    pub ignore_auto: bool,
    /// `-g` lists accumulated with [`accumulate_groups`]; empty = the NULL group only.
    pub groups: Vec<String>,
    /// `-t`: seconds before a shutdown turns into a kill (default 60).
    pub timeout: i32,
}

impl Default for Options {
    fn default() -> Self {
        Options { action: Action::Start, list: false, all: false, ignore_auto: false, groups: Vec::new(), timeout: 60 }
    }
}

/// One defined container with the settings autostart looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Name.
    pub name: String,
    /// `lxc.start.auto`.
    pub auto: bool,
    /// `lxc.start.order`.
    pub order: i32,
    /// `lxc.start.delay` (seconds).
    pub delay: u32,
    /// `lxc.group` values.
    pub groups: Vec<String>,
}

/// LXC's `list_contains_entry`: `entry` is in `list` when some element is a prefix of it; an
/// empty entry matches an empty list.
fn contains_entry(entry: &str, list: &[String]) -> bool {
    if list.is_empty() {
        return entry.is_empty();
    }
    list.iter().any(|e| entry.starts_with(e.as_str()))
}

/// Add the comma-separated groups of one `-g` argument to `list`, keeping empty fields (the
/// NULL group) and dropping duplicates the way LXC's `accumulate_list` does.
pub fn accumulate_groups(list: &mut Vec<String>, arg: &str) {
    for g in arg.split(',') {
        // LXC starts from an empty list object, so the empty-list rule of contains_entry
        // never applies here: only the prefix comparison does.
        if list.iter().any(|e| g.starts_with(e.as_str())) {
            debug!("duplicate group \"{g}\" in list - ignoring");
            continue;
        }
        list.push(g.to_string());
    }
}

/// The containers to process, in processing order: for each requested group in turn (just
/// the NULL group by default), the not yet processed candidates of that group sorted by
/// `lxc.start.order` then name. `-a` takes every auto-started container in one pass.
pub fn select<'a>(cands: &'a [Candidate], o: &Options) -> Vec<&'a Candidate> {
    let mut sorted: Vec<&Candidate> = cands.iter().collect();
    sorted.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.name.cmp(&b.name)));
    let default_groups = vec![String::new()];
    let groups = if o.groups.is_empty() { &default_groups } else { &o.groups };
    let mut done = vec![false; sorted.len()];
    let mut out = Vec::new();
    for g in groups {
        for (i, c) in sorted.iter().enumerate() {
            if done[i] {
                continue;
            }
            if !o.ignore_auto && !c.auto {
                done[i] = true;
                continue;
            }
            if !o.all && !contains_entry(g, &c.groups) {
                // Not in this pass's group: maybe in a later one.
                continue;
            }
            done[i] = true;
            out.push(*c);
        }
    }
    out
}

/// The defined containers of `lxcpath` (a `config` file under `<lxcpath>/<name>/`) whose config
/// loads and that we may control; others are skipped as LXC's `list_defined_containers` does.
pub fn candidates(lxcpath: &str) -> std::io::Result<Vec<Candidate>> {
    let mut names: Vec<String> = std::fs::read_dir(lxcpath)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && crate::paths::config_path(lxcpath, n).is_file())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let c = match Container::new(&name, lxcpath, None) {
            Ok(c) => c,
            Err(e) => {
                debug!("container \"{name}\" has a config but could not be loaded: {e}");
                continue;
            }
        };
        if !may_control(&c.config_path()) {
            debug!("not allowed to control container \"{name}\"");
            continue;
        }
        out.push(Candidate {
            name,
            auto: c.conf.start.auto,
            order: c.conf.start.order,
            delay: c.conf.start.delay,
            groups: c.conf.groups.clone(),
        });
    }
    Ok(out)
}

/// LXC's `may_control`: the config file is readable and writable by us.
fn may_control(config: &Path) -> bool {
    rustix::fs::access(config, rustix::fs::Access::READ_OK | rustix::fs::Access::WRITE_OK).is_ok()
}

/// How a run went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Defined containers considered.
    pub count: usize,
    /// Names whose action failed.
    pub failed: Vec<String>,
}

impl Outcome {
    /// LXC's exit code: 0 all good, 1 when every defined container failed, 2 when some did.
    pub fn exit_code(&self) -> i32 {
        if self.failed.is_empty() {
            0
        } else if self.failed.len() == self.count {
            1
        } else {
            2
        }
    }
}

/// Apply `o` to the containers of `lxcpath`; `-L` lines go to `out` (`NAME DELAY` for start
/// and reboot, `NAME` for shutdown and kill, only for containers the action would touch).
pub fn run(lxcpath: &str, o: &Options, out: &mut dyn Write) -> std::io::Result<Outcome> {
    let cands = candidates(lxcpath)?;
    let mut outcome = Outcome { count: cands.len(), failed: Vec::new() };
    for cand in select(&cands, o) {
        let c = match Container::new(&cand.name, lxcpath, None) {
            Ok(c) => c,
            Err(e) => {
                error!("container \"{}\": {e}", cand.name);
                outcome.failed.push(cand.name.clone());
                continue;
            }
        };
        crate::log::set_name(&cand.name);
        let running = c.is_running();
        let wants_running = o.action != Action::Start;
        if running != wants_running {
            continue;
        }
        if o.list {
            match o.action {
                Action::Start | Action::Reboot => writeln!(out, "{} {}", cand.name, cand.delay)?,
                Action::Shutdown | Action::Kill => writeln!(out, "{}", cand.name)?,
            }
            out.flush()?;
            continue;
        }
        let ok = match o.action {
            Action::Start => {
                let opts = StartOptions { daemonize: true, ..Default::default() };
                c.start(&opts).map(|_| ()).map_err(|e| error!("Error starting container: {}: {e}", cand.name)).is_ok()
            }
            Action::Shutdown => match c.shutdown(o.timeout) {
                Ok(true) => true,
                // `-t 0`: ask and do not wait (LXC's shutdown with no timeout succeeds at once).
                Ok(false) if o.timeout == 0 => true,
                _ => c.stop().map_err(|e| error!("Error shutting down container: {}: {e}", cand.name)).is_ok(),
            },
            Action::Kill => c.stop().map_err(|e| error!("Error killing container: {}: {e}", cand.name)).is_ok(),
            Action::Reboot => c.reboot(0).map_err(|e| error!("Error rebooting container: {}: {e}", cand.name)).is_ok(),
        };
        if !ok {
            outcome.failed.push(cand.name.clone());
            continue;
        }
        if matches!(o.action, Action::Start | Action::Reboot) && cand.delay > 0 {
            std::thread::sleep(Duration::from_secs(u64::from(cand.delay)));
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(name: &str, auto: bool, order: i32, groups: &[&str]) -> Candidate {
        Candidate { name: name.into(), auto, order, delay: 0, groups: groups.iter().map(|s| s.to_string()).collect() }
    }

    fn names(v: Vec<&Candidate>) -> Vec<&str> {
        v.into_iter().map(|c| c.name.as_str()).collect()
    }

    fn groups(args: &[&str]) -> Vec<String> {
        let mut l = Vec::new();
        for a in args {
            accumulate_groups(&mut l, a);
        }
        l
    }

    // The same set Debian's lxc-autostart was compared against.
    fn set() -> Vec<Candidate> {
        vec![
            cand("a", true, 5, &[]),
            cand("b", true, 1, &[]),
            cand("c", true, 0, &["web"]),
            cand("d", true, -3, &["onboot", "web"]),
            cand("e", false, 0, &["web"]),
            cand("f", false, 0, &[]),
            cand("g", true, 0, &["webserver"]),
        ]
    }

    #[test]
    fn default_is_the_null_group_in_order() {
        let s = set();
        assert_eq!(names(select(&s, &Options::default())), ["b", "a"]);
        let o = Options { all: true, ..Default::default() };
        assert_eq!(names(select(&s, &o)), ["d", "c", "g", "b", "a"]);
        let o = Options { ignore_auto: true, ..Default::default() };
        assert_eq!(names(select(&s, &o)), ["f", "b", "a"]);
        let o = Options { ignore_auto: true, all: true, ..Default::default() };
        assert_eq!(names(select(&s, &o)), ["d", "c", "e", "f", "g", "b", "a"]);
    }

    #[test]
    fn groups_in_command_line_order_with_lxc_prefix_rules() {
        let s = set();
        let sel = |g: &[&str]| names(select(&s, &Options { groups: groups(g), ..Default::default() }));
        assert_eq!(sel(&["web"]), ["d", "c"]);
        assert_eq!(sel(&["webserver"]), ["d", "c", "g"]);
        assert_eq!(sel(&["onboot,"]), ["d", "b", "a"]);
        assert_eq!(sel(&[",onboot"]), ["b", "a"]);
        assert_eq!(sel(&["web", "onboot"]), ["d", "c"]);
        assert_eq!(sel(&["web,,web"]), ["d", "c", "b", "a"]);
        assert!(sel(&["we"]).is_empty());
        assert!(sel(&["nosuch"]).is_empty());
    }

    #[test]
    fn accumulate_keeps_empty_fields_and_drops_duplicates() {
        assert_eq!(groups(&["onboot,"]), ["onboot", ""]);
        assert_eq!(groups(&[",onboot"]), [""]);
        assert_eq!(groups(&["dns,web", "web,x"]), ["dns", "web", "x"]);
        assert_eq!(groups(&[""]), [""]);
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Outcome { count: 3, failed: vec![] }.exit_code(), 0);
        assert_eq!(Outcome { count: 3, failed: vec!["a".into()] }.exit_code(), 2);
        assert_eq!(Outcome { count: 1, failed: vec!["a".into()] }.exit_code(), 1);
    }
}
