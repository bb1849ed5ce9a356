//! Helpers shared by the attach/execute/console tests (`tests/attach_*.rs`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rlxc_suite::{busybox_container, require_program, require_root, require_tools, skip, tool, HostState, Lxcpath};

/// stdout + stderr + exit code, for assertion messages.
pub fn show(o: &Output) -> String {
    format!(
        "rc={:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// stdout as text.
pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Root and installed tools, else a loud skip.
pub fn ready(test: &str) -> bool {
    require_root(test) && require_tools(test)
}

/// A container name unique on this host (cgroup names are global).
pub fn unique(tag: &str) -> String {
    format!("{tag}-{}", std::process::id())
}

/// A started busybox container; stopped (and checked for leftovers) on drop.
pub struct Running<'a> {
    pub lp: &'a Lxcpath,
    pub name: String,
    pub dir: PathBuf,
    /// Host state before the container was made (compared on drop).
    pub before: HostState,
}

impl<'a> Running<'a> {
    /// Make and start a busybox container with `extra` config lines; `start_args` are added to
    /// `lxc-start -n NAME` (e.g. a command after `--`).
    pub fn start(lp: &'a Lxcpath, tag: &str, extra: &str, start_args: &[&str]) -> Running<'a> {
        let name = unique(tag);
        let before = HostState::capture(lp.as_str());
        // /proc, /sys and cgroups inside, as LXC templates configure them.
        // With AppArmor (the VM) use the profile rlxc generates (the stock default profile
        // may not be loaded there).
        let aa = if Path::new("/sys/kernel/security/apparmor/profiles").exists() && !extra.contains("lxc.apparmor") {
            "lxc.apparmor.profile = generated\n"
        } else {
            ""
        };
        let extra = format!("lxc.mount.auto = proc:mixed sys:ro cgroup:mixed\n{aa}{extra}");
        let dir = busybox_container(lp, &name, &extra);
        let mut args = vec!["-n", name.as_str()];
        args.extend_from_slice(start_args);
        let o = lp.lxc("start", &args);
        assert!(o.status.success(), "lxc-start {name}: {}", show(&o));
        Running { lp, name, dir, before }
    }

    /// `lxc-attach -P LP -n NAME ARGS...` with stdin from /dev/null.
    pub fn attach(&self, args: &[&str]) -> Output {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        self.lp.lxc("attach", &full)
    }

    /// `lxc-attach ... -- sh -c SCRIPT`, asserting exit 0; returns stdout.
    pub fn sh(&self, opts: &[&str], script: &str) -> String {
        let mut a: Vec<&str> = opts.to_vec();
        a.extend_from_slice(&["--", "/bin/sh", "-c", script]);
        let o = self.attach(&a);
        assert!(o.status.success(), "attach {a:?}: {}", show(&o));
        out(&o)
    }

    /// The command line to run lxc-attach for this container through a shell (for `script`).
    pub fn attach_cmdline(&self, args: &str) -> String {
        format!("{} -P {} -n {} {args}", tool("lxc-attach").display(), self.lp.as_str(), self.name)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let _ = self.lp.lxc("unfreeze", &["-n", &self.name]);
        let _ = self.lp.lxc("stop", &["-n", &self.name, "-k"]);
        let _ = self.lp.lxc("destroy", &["-n", &self.name, "-f"]);
        if !std::thread::panicking() {
            assert_clean(&self.before, self.lp, &self.name);
        }
    }
}

/// Assert that nothing of container `name` in `lp` is left.
pub fn assert_clean(before: &HostState, lp: &Lxcpath, name: &str) {
    let now = HostState::capture(lp.as_str());
    let mut leaks = Vec::new();
    for c in now.cgroups.difference(&before.cgroups) {
        if c.ends_with(&format!(".{name}")) || c.contains(&format!(".{name}/")) {
            leaks.push(format!("cgroup {c}"));
        }
    }
    for m in now.mounts.difference(&before.mounts) {
        leaks.push(format!("mount {m}"));
    }
    for s in now.sockets.difference(&before.sockets) {
        leaks.push(format!("socket {s}"));
    }
    for m in now.monitors.difference(&before.monitors) {
        leaks.push(format!("monitor {m}"));
    }
    assert!(leaks.is_empty(), "left behind by {name}:\n  {}", leaks.join("\n  "));
}

/// Run `cmdline` under `script` so its stdio is a real pty; `input` is typed into it.
/// Returns None (after a skip) when `script` is missing.
pub fn in_pty(test: &str, cmdline: &str, input: &str) -> Option<Output> {
    if !require_program(test, "script") {
        return None;
    }
    let mut child = Command::new("script")
        .args(["-qec", cmdline, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn script: {e}"));
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("piped stdin");
        for chunk in input.split('\u{1e}') {
            // U+001E in `input` means "pause": let the far side catch up (e.g. a shell prompt
            // appearing) before typing on; nothing asserts on timing.
            let _ = stdin.write_all(chunk.as_bytes());
            let _ = stdin.flush();
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    }
    Some(child.wait_with_output().unwrap_or_else(|e| panic!("wait script: {e}")))
}

/// An init.lxc that can run inside a container rootfs (statically linked): the installed one
/// if it is static, else a static build in `target/<host-triple>/*/init-lxc`. Sets
/// `RLXC_INIT_LXC` for the tools when it is not the installed one. None (after a skip) if none.
pub fn static_init_lxc(test: &str) -> Option<PathBuf> {
    let installed = tool("init.lxc");
    let candidates = [installed.clone()]
        .into_iter()
        .chain(
            ["debug", "release"]
                .iter()
                .map(|p| rlxc_suite::repo_root().join(format!("target/x86_64-unknown-linux-gnu/{p}/init-lxc"))),
        )
        .chain(
            ["debug", "release"]
                .iter()
                .map(|p| rlxc_suite::repo_root().join(format!("target/aarch64-unknown-linux-gnu/{p}/init-lxc"))),
        );
    for c in candidates {
        if c.is_file() && !has_interp(&c) {
            return Some(c);
        }
    }
    skip(
        test,
        "no statically linked init.lxc (install one: RUSTFLAGS=\"-C target-feature=+crt-static\" cargo build -p rlxc-init --target $(rustc -vV | sed -n 's/^host: //p'))",
    );
    None
}

/// Whether an ELF file has a PT_INTERP program header (is dynamically linked).
fn has_interp(p: &Path) -> bool {
    let Ok(d) = std::fs::read(p) else { return true };
    if d.len() < 64 || &d[..4] != b"\x7fELF" || d[4] != 2 || d[5] != 1 {
        return false;
    }
    let phoff = u64::from_le_bytes(d[32..40].try_into().unwrap_or([0; 8])) as usize;
    let phentsize = u16::from_le_bytes([d[54], d[55]]) as usize;
    let phnum = u16::from_le_bytes([d[56], d[57]]) as usize;
    (0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        o + 4 <= d.len() && u32::from_le_bytes([d[o], d[o + 1], d[o + 2], d[o + 3]]) == 3
    })
}

/// Run an installed tool with extra environment.
pub fn run_env(tool_name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(tool(tool_name));
    c.args(args).stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap_or_else(|e| panic!("run {tool_name}: {e}"))
}
