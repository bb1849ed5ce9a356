//! Helpers shared by the cgroup integration tests (host and VM): unique names, gated shell
//! processes that can be moved into a cgroup before they run, and a guard that destroys the
//! cgroups made and checks none is left.
#![allow(dead_code)]

use rlxc_cgroup::devices::rule::{parse_rule, DeviceRules};
use rlxc_cgroup::{CgroupSpec, Cgroups, Role};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub fn name(tag: &str) -> String {
    format!("rlxct-{tag}-{}", std::process::id())
}

pub fn spec(tag: &str) -> CgroupSpec {
    CgroupSpec { name: name(tag), ..Default::default() }
}

/// Every directory under the cgroup mounts whose name contains `needle`.
pub fn cgroups_named(needle: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    fn walk(d: &std::path::Path, needle: &str, depth: usize, out: &mut Vec<PathBuf>) {
        if depth > 6 {
            return;
        }
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                if e.file_name().to_string_lossy().contains(needle) {
                    out.push(e.path());
                }
                walk(&e.path(), needle, depth + 1, out);
            }
        }
    }
    walk(std::path::Path::new("/sys/fs/cgroup"), needle, 0, &mut out);
    out
}

/// A shell that waits for one line on stdin before running `script`, so it can be moved into a
/// cgroup first. Killed on drop.
pub struct Gated {
    pub child: Child,
}

impl Gated {
    pub fn new(script: &str) -> Gated {
        let child = Command::new("sh")
            .args(["-c", &format!("read _x; {script}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sh");
        Gated { child }
    }
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }
    /// Release the script and wait for it; (exit code or -signal, stdout, stderr).
    pub fn run(mut self) -> (i32, String, String) {
        if let Some(mut i) = self.child.stdin.take() {
            let _ = i.write_all(b"go\n");
        }
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let st = self.child.wait().expect("wait");
        use std::os::unix::process::ExitStatusExt;
        let code = st.code().unwrap_or_else(|| -st.signal().unwrap_or(0));
        (code, out, err)
    }
    pub fn release(&mut self) {
        if let Some(mut i) = self.child.stdin.take() {
            let _ = i.write_all(b"go\n");
        }
    }
}

impl Drop for Gated {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Cgroups that are destroyed (and checked gone) at the end, also on panic.
pub struct Guard {
    pub cg: Cgroups,
    pub needle: String,
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Kill what the test left in the payload (only processes the test started live there).
        if let Some(p) = self.cg.payload.as_ref() {
            for d in &p.dirs {
                for pid in d.read("cgroup.procs").unwrap_or_default().split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            }
        }
        let _ = self.cg.destroy();
        if !std::thread::panicking() {
            let left = cgroups_named(&self.needle);
            assert!(left.is_empty(), "cgroups left behind: {left:?}");
        }
    }
}

pub fn make(s: CgroupSpec) -> Guard {
    let needle = s.name.clone();
    let mut cg = Cgroups::new(s).expect("layout");
    cg.create(Role::Monitor).expect("monitor cgroup");
    cg.create(Role::Payload).expect("payload cgroup");
    Guard { cg, needle }
}

pub fn proc_state(pid: i32) -> char {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    s.rsplit_once(')').and_then(|(_, r)| r.trim_start().chars().next()).unwrap_or('?')
}

pub fn rules(lines: &[(&str, bool)]) -> DeviceRules {
    let mut r = DeviceRules::new();
    for (v, a) in lines {
        r.add(parse_rule(v, *a).unwrap());
    }
    r
}

pub const DEV_SCRIPT: &str = "if head -c1 /dev/null; then echo null-ok; else echo null-denied; fi; \
     if head -c1 /dev/zero >/dev/null; then echo zero-ok; else echo zero-denied; fi";
