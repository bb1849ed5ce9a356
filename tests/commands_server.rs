//! The command server against real clients: Debian's LXC tools (`lxc-info`, `lxc-ls`,
//! `lxc-wait`, `lxc-freeze`, `lxc-unfreeze`, `lxc-stop`) and rlxc's own tools talk to a
//! [`CommandServer`] served from this test process by a handler that answers from a struct.
//! Skipped loudly when Debian's LXC is not installed.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use rlxc_core::commands::server::{CommandHandler, CommandServer, Errno};
use rlxc_core::state::State;
use rlxc_suite::{require_program, run, skip, tool};

/// A container that exists only as answers.
struct Fake {
    name: String,
    lxcpath: String,
    state: State,
    pid: i32,
    freezer: Option<String>,
    stopped: bool,
}

impl CommandHandler for Fake {
    fn name(&self) -> &str {
        &self.name
    }
    fn lxcpath(&self) -> &str {
        &self.lxcpath
    }
    fn state(&self) -> State {
        self.state
    }
    fn set_state(&mut self, state: State) {
        self.state = state;
    }
    fn init_pid(&self) -> Option<i32> {
        Some(self.pid)
    }
    fn get_config_item(&self, key: &str) -> Option<String> {
        match key {
            "lxc.uts.name" => Some(self.name.clone()),
            "lxc.group" => Some("g1\nonboot\n".into()),
            "lxc.start.auto" => Some("1".into()),
            // A veth whose host side is `lo`: lxc-info -S reads its counters from /sys.
            "lxc.net.0.type" => Some("veth".into()),
            "lxc.net.0.veth.pair" => Some("lo".into()),
            _ => None,
        }
    }
    fn stop(&mut self) -> Result<(), Errno> {
        self.stopped = true;
        Ok(())
    }
    fn cgroup_path(&self, controller: Option<&str>, _limit: bool) -> Result<String, Errno> {
        match (controller, &self.freezer) {
            (Some("freezer"), Some(p)) => Ok(p.clone()),
            _ => Err(libc::ENOENT),
        }
    }
    /// Stands in for a pidfd: any descriptor shows that SCM_RIGHTS carries it.
    fn init_pidfd(&self) -> Result<OwnedFd, Errno> {
        let f = std::fs::File::open(format!("/proc/{}/comm", self.pid))
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        Ok(OwnedFd::from(f))
    }
}

enum Ctl {
    SetState(State),
    /// Answered once every earlier message was handled.
    Ping(mpsc::Sender<()>),
    Quit,
}

fn flush(tx: &mpsc::Sender<Ctl>) {
    let (ptx, prx) = mpsc::channel();
    tx.send(Ctl::Ping(ptx)).expect("ctl");
    prx.recv().expect("server thread alive");
}

/// Serve `handler` on a thread until `Ctl::Quit`; returns the control channel and the join
/// handle (which yields the handler back). LXC's tools want the lxcpath and a config file to
/// exist (`lxc-ls` skips missing lxcpaths, `lxc-freeze` needs a loaded config), so a minimal
/// one is written; [`Cleanup`] removes it.
fn serve(mut handler: Fake) -> (mpsc::Sender<Ctl>, thread::JoinHandle<Fake>) {
    let dir = Path::new(&handler.lxcpath).join(&handler.name);
    std::fs::create_dir_all(&dir).expect("mkdir lxcpath");
    std::fs::write(dir.join("config"), "lxc.uts.name = x\nlxc.net.0.type = empty\n").expect("config");
    let mut server = CommandServer::bind(&handler.lxcpath, &handler.name).expect("bind command socket");
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        loop {
            match rx.try_recv() {
                Ok(Ctl::SetState(s)) => {
                    handler.state = s;
                    let (l, n) = (handler.lxcpath.clone(), handler.name.clone());
                    server.set_state(&l, &n, s);
                }
                Ok(Ctl::Ping(p)) => {
                    let _ = p.send(());
                }
                Ok(Ctl::Quit) | Err(mpsc::TryRecvError::Disconnected) => break,
                Err(mpsc::TryRecvError::Empty) => {}
            }
            server.serve_once(&mut handler, Some(Duration::from_millis(20))).expect("serve");
        }
        drop(server);
        handler
    });
    (tx, t)
}

/// Removes the test's lxcpath and the lock directory LXC's tools (and ours) made for it under
/// `<rundir>/lxc/lock/<lxcpath>` (LXC never removes those).
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::remove_dir_all(format!("{}/lxc/lock/{}", rlxc_core::lxcpath::rundir().display(), self.0));
    }
}

fn debian(tool_name: &str) -> PathBuf {
    PathBuf::from("/usr/bin").join(tool_name)
}

fn text(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// An empty v1 freezer cgroup this test owns (removed on drop).
struct TestFreezer(PathBuf);

impl TestFreezer {
    fn new(tag: &str) -> Option<TestFreezer> {
        let root = Path::new("/sys/fs/cgroup/freezer");
        if !root.join("freezer.state").exists() && !root.join("cgroup.procs").exists() {
            return None;
        }
        let p = root.join(tag);
        std::fs::create_dir(&p).ok()?;
        Some(TestFreezer(p))
    }
}

impl Drop for TestFreezer {
    fn drop(&mut self) {
        let _ = std::fs::write(self.0.join("freezer.state"), "THAWED");
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn debian_tools_talk_to_our_server() {
    let t = "debian_tools_talk_to_our_server";
    if !require_program(t, "lxc-info") || !debian("lxc-info").exists() {
        return;
    }
    let lxcpath = format!("/tmp/rlxc-test-cmdsrv-{}", std::process::id());
    let _cleanup = Cleanup(lxcpath.clone());
    let name = "fake";
    let pid = std::process::id() as i32;
    let (tx, th) = serve(Fake {
        name: name.into(),
        lxcpath: lxcpath.clone(),
        state: State::Running,
        pid,
        freezer: None,
        stopped: false,
    });

    // State and pid, in LXC's own formatting.
    let o = run(debian("lxc-info"), &["-P", &lxcpath, "-n", name, "-s", "-p"]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(text(&o), format!("State:          RUNNING\nPID:            {pid}\n"));
    let o = run(debian("lxc-info"), &["-P", &lxcpath, "-n", name, "-p", "-H"]);
    assert_eq!(text(&o), format!("{pid}\n"));

    // Stats: no cgroup here, but the network device lines (GET_CONFIG_ITEM lxc.net.N.*).
    let labels = |o: &std::process::Output| -> Vec<String> {
        text(o).lines().map(|l| l.split(':').next().unwrap_or("").to_string()).collect()
    };
    let o = run(debian("lxc-info"), &["-P", &lxcpath, "-n", name, "-S"]);
    assert_eq!(labels(&o), vec!["Link", " TX bytes", " RX bytes", " Total bytes"], "{o:?}");
    if tool("lxc-info").exists() {
        let ours = run(tool("lxc-info"), &["-P", &lxcpath, "-n", name, "-S"]);
        assert_eq!(labels(&ours), labels(&o), "{ours:?}");
        assert!(text(&ours).starts_with("Link:           lo\n"), "{ours:?}");
    }

    // lxc-ls finds the active container through /proc/net/unix and asks it.
    let o = run(debian("lxc-ls"), &["-P", &lxcpath, "--active", "-1"]);
    assert_eq!(text(&o), "fake\n", "{o:?}");

    // A state client registered by LXC's lxc-wait gets our pushed lxc_msg.
    let mut waiter = Command::new(debian("lxc-wait"))
        .args(["-P", &lxcpath, "-n", name, "-s", "FROZEN", "-t", "30"])
        .spawn()
        .expect("spawn lxc-wait");
    // The waiter registers asynchronously: push the state until it has exited.
    let mut status = None;
    for _ in 0..300 {
        tx.send(Ctl::SetState(State::Frozen)).expect("ctl");
        thread::sleep(Duration::from_millis(50));
        tx.send(Ctl::SetState(State::Running)).expect("ctl");
        if let Some(s) = waiter.try_wait().expect("wait") {
            status = Some(s);
            break;
        }
    }
    let status = match status {
        Some(s) => s,
        None => {
            let _ = waiter.kill();
            waiter.wait().expect("reap")
        }
    };
    assert!(status.success(), "lxc-wait did not see FROZEN: {status:?}");
    flush(&tx);

    // rlxc's tools (if installed) print the same bytes.
    if tool("lxc-info").exists() {
        let ours = run(tool("lxc-info"), &["-P", &lxcpath, "-n", name, "-s", "-p"]);
        assert_eq!(text(&ours), format!("State:          RUNNING\nPID:            {pid}\n"), "{ours:?}");
    } else {
        skip(t, "rlxc tools not installed: only Debian's side was checked");
    }

    // lxc-stop -k: STOP succeeds, no answer; the client returns when the monitor goes away.
    let mut stopper =
        Command::new(debian("lxc-stop")).args(["-P", &lxcpath, "-n", name, "-k"]).spawn().expect("spawn lxc-stop");
    for _ in 0..100 {
        if stopper.try_wait().expect("wait").is_some() {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    tx.send(Ctl::Quit).expect("ctl");
    let h = th.join().expect("server thread");
    let st = stopper.wait().expect("lxc-stop");
    assert!(h.stopped, "STOP never reached the handler");
    assert!(st.success(), "lxc-stop failed: {st:?}");
    // Gone: LXC reports STOPPED for a refused socket.
    let o = run(debian("lxc-info"), &["-P", &lxcpath, "-n", name, "-s"]);
    assert_eq!(text(&o), "State:          STOPPED\n", "{o:?}");
}

#[test]
fn debian_freeze_uses_get_cgroup_and_serve_state_clients() {
    let t = "debian_freeze_uses_get_cgroup_and_serve_state_clients";
    if !require_program(t, "lxc-freeze") || !rlxc_suite::require_root(t) {
        return;
    }
    let tag = format!("rlxc-test-cmdfrz-{}", std::process::id());
    let Some(fr) = TestFreezer::new(&tag) else {
        skip(t, "no cgroup v1 freezer hierarchy on this host (pure cgroup2: FREEZE is covered in the VM)");
        return;
    };
    let lxcpath = format!("/tmp/{tag}");
    let _cleanup = Cleanup(lxcpath.clone());
    let name = "fz";
    let (tx, th) = serve(Fake {
        name: name.into(),
        lxcpath: lxcpath.clone(),
        state: State::Running,
        pid: std::process::id() as i32,
        freezer: Some(tag.clone()),
        stopped: false,
    });
    for (label, freeze_tool, unfreeze_tool) in
        [("debian", debian("lxc-freeze"), debian("lxc-unfreeze")), ("rlxc", tool("lxc-freeze"), tool("lxc-unfreeze"))]
    {
        if !freeze_tool.exists() {
            skip(t, &format!("{label} lxc-freeze not installed"));
            continue;
        }
        let o = run(&freeze_tool, &["-P", &lxcpath, "-n", name]);
        assert!(o.status.success(), "{label} freeze: {o:?}");
        let st = std::fs::read_to_string(fr.0.join("freezer.state")).expect("freezer.state");
        assert_eq!(st.trim(), "FROZEN", "{label}");
        // SERVE_STATE_CLIENTS(FROZEN) reached the handler.
        let o = run(debian("lxc-info"), &["-P", &lxcpath, "-n", name, "-s"]);
        assert_eq!(text(&o), "State:          FROZEN\n", "{label}: {o:?}");
        let o = run(&unfreeze_tool, &["-P", &lxcpath, "-n", name]);
        assert!(o.status.success(), "{label} unfreeze: {o:?}");
        let st = std::fs::read_to_string(fr.0.join("freezer.state")).expect("freezer.state");
        assert_eq!(st.trim(), "THAWED", "{label}");
        let o = run(debian("lxc-info"), &["-P", &lxcpath, "-n", name, "-s"]);
        assert_eq!(text(&o), "State:          RUNNING\n", "{label}: {o:?}");
    }
    tx.send(Ctl::Quit).expect("ctl");
    th.join().expect("server thread");
    drop(fr);
}

#[test]
fn our_client_gets_a_pidfd_over_scm_rights() {
    let lxcpath = format!("/tmp/rlxc-test-cmdfd-{}", std::process::id());
    let _cleanup = Cleanup(lxcpath.clone());
    let pid = std::process::id() as i32;
    let (tx, th) = serve(Fake {
        name: "p".into(),
        lxcpath: lxcpath.clone(),
        state: State::Running,
        pid,
        freezer: None,
        stopped: false,
    });
    let fd = rlxc_core::commands::client::get_init_pidfd("p", &lxcpath).expect("fd over SCM_RIGHTS");
    let mut got = String::new();
    std::io::Read::read_to_string(&mut std::fs::File::from(fd), &mut got).expect("read");
    let want = std::fs::read_to_string(format!("/proc/{pid}/comm")).expect("comm");
    assert_eq!(got, want);
    tx.send(Ctl::Quit).expect("ctl");
    th.join().expect("server thread");
}

#[test]
fn long_names_use_the_hashed_socket_like_lxc() {
    let t = "long_names_use_the_hashed_socket_like_lxc";
    if !require_program(t, "lxc-info") {
        return;
    }
    let base = format!("/tmp/rlxc-test-cmdlong-{}", std::process::id());
    let _cleanup = Cleanup(base.clone());
    let lxcpath = format!("{base}/{}", "p".repeat(90));
    let name = "longname";
    let sock = rlxc_core::commands::address::command_socket_name(&lxcpath, name);
    assert!(sock.starts_with(b"lxc/") && sock.ends_with(b"/command"), "{}", String::from_utf8_lossy(&sock));
    let pid = std::process::id() as i32;
    let (tx, th) = serve(Fake {
        name: name.into(),
        lxcpath: lxcpath.clone(),
        state: State::Running,
        pid,
        freezer: None,
        stopped: false,
    });
    let o = run(debian("lxc-info"), &["-P", &lxcpath, "-n", name, "-s", "-p"]);
    assert_eq!(text(&o), format!("State:          RUNNING\nPID:            {pid}\n"), "{o:?}");
    // Listing resolves the hashed socket through GET_LXCPATH and GET_NAME.
    let o = run(debian("lxc-ls"), &["-P", &lxcpath, "--active", "-1"]);
    assert_eq!(text(&o), "longname\n", "{o:?}");
    assert_eq!(rlxc_core::commands::client::active_containers(&lxcpath), vec![name.to_string()]);
    if tool("lxc-ls").exists() {
        let o = run(tool("lxc-ls"), &["-P", &lxcpath, "--active", "-1"]);
        assert_eq!(text(&o), "longname\n", "{o:?}");
        let o = run(tool("lxc-info"), &["-P", &lxcpath, "-n", name, "--json"]);
        let j = text(&o);
        assert!(j.contains("\"state\":\"RUNNING\"") && j.contains(&format!("\"pid\":{pid}")), "{j}");
    }
    tx.send(Ctl::Quit).expect("ctl");
    th.join().expect("server thread");
}

#[test]
fn container_lock_excludes_posix_lockers_and_second_handles() {
    let t = "container_lock_excludes_posix_lockers_and_second_handles";
    if !require_program(t, "python3") {
        return;
    }
    let lxcpath = format!("/tmp/rlxc-test-cmdlock-{}", std::process::id());
    let _cleanup = Cleanup(lxcpath.clone());
    let name = "lk";
    let held = rlxc_core::lock::ContainerLock::acquire(&lxcpath, name).expect("lock");
    let path = held.path().to_path_buf();
    // Same process, second handle: excluded (OFD semantics, like LXC's lxclock).
    assert!(matches!(
        rlxc_core::lock::ContainerLock::try_acquire(&lxcpath, name),
        Err(rlxc_core::lock::LockError::Busy { .. })
    ));
    // Another process with a classic POSIX lock on the same file: excluded too.
    let probe = "import fcntl,sys\ntry:\n    fcntl.lockf(open(sys.argv[1],'r+'), fcntl.LOCK_EX|fcntl.LOCK_NB)\n    print('got')\nexcept OSError:\n    print('busy')\n";
    let p = path.to_str().expect("utf8");
    assert_eq!(text(&run("python3", &["-c", probe, p])), "busy\n");
    drop(held);
    assert_eq!(text(&run("python3", &["-c", probe, p])), "got\n");
    let again = rlxc_core::lock::ContainerLock::try_acquire(&lxcpath, name).expect("free after drop");
    drop(again);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir(path.parent().expect("dir"));
}

/// `lxc-info -i` and `lxc-ls -f` IP columns: addresses are read in the network namespace of the
/// init pid the monitor reports. Here "init" is a sleep in a test netns with documentation
/// addresses on a veth.
#[test]
fn ips_come_from_the_init_network_namespace() {
    let t = "ips_come_from_the_init_network_namespace";
    if !rlxc_suite::require_root(t) || !require_program(t, "lxc-info") || !require_program(t, "ip") {
        return;
    }
    let ns = rlxc_suite::NetNs::new("cmdip");
    for args in [
        &["link", "add", "v0", "type", "veth", "peer", "name", "v1"][..],
        &["addr", "add", "192.0.2.10/24", "dev", "v0"],
        &["addr", "add", "2001:db8::10/64", "dev", "v0", "nodad"],
        &["link", "set", "v0", "up"],
        &["link", "set", "v1", "up"],
    ] {
        let mut full = vec!["-n", ns.name.as_str()];
        full.extend_from_slice(args);
        let o = run("ip", &full);
        if !o.status.success() {
            skip(t, &format!("cannot set up the test netns (ip {args:?}): {o:?}"));
            return;
        }
    }
    let mut sleeper =
        Command::new("ip").args(["netns", "exec", &ns.name, "sleep", "300"]).spawn().expect("spawn sleeper");
    // `ip netns exec` execs sleep in place: the child's pid is the process in the netns.
    let pid = sleeper.id() as i32;
    for _ in 0..200 {
        let here = std::fs::read_link("/proc/self/ns/net").ok();
        let there = std::fs::read_link(format!("/proc/{pid}/ns/net")).ok();
        if there.is_some() && there != here {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let lxcpath = format!("/tmp/rlxc-test-cmdip-{}", std::process::id());
    let _cleanup = Cleanup(lxcpath.clone());
    let name = "ipc";
    let (tx, th) = serve(Fake {
        name: name.into(),
        lxcpath: lxcpath.clone(),
        state: State::Running,
        pid,
        freezer: None,
        stopped: false,
    });
    let d = run(debian("lxc-info"), &["-P", &lxcpath, "-n", name, "-i"]);
    assert_eq!(text(&d), "IP:             192.0.2.10\nIP:             2001:db8::10\n", "{d:?}");
    if tool("lxc-info").exists() {
        let r = run(tool("lxc-info"), &["-P", &lxcpath, "-n", name, "-i"]);
        assert_eq!(text(&r), text(&d), "{r:?}");
        let args = ["-P", lxcpath.as_str(), "-f", "-F", "NAME,PID,INTERFACE,IPV4,IPV6"];
        let (dl, rl) = (run(debian("lxc-ls"), &args), run(tool("lxc-ls"), &args));
        assert_eq!(text(&rl), text(&dl), "{rl:?}");
    }
    tx.send(Ctl::Quit).expect("ctl");
    th.join().expect("server thread");
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}
