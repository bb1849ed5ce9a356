//! init.lxc: the minimal PID 1 for application containers (`lxc-execute`, `start(useinit)`).
//!
//! Behaviour of LXC's `lxc_init.c`: run the command in its own session with the terminal on
//! stdin as its controlling tty, reap every child (orphans of the whole container end up
//! here), exit with the command's status (128+N when it died of signal N) once no child is
//! left, ignore SIGHUP, forward every other catchable signal to the command, and on
//! SIGPWR/SIGTERM send SIGTERM to everything and SIGKILL one second later (re-armed while
//! children keep exiting).
//!
//! Signals are taken from a signalfd (no handlers, no globals); the process stays
//! single-threaded.

use std::ffi::OsString;
use std::io::{self, Write};

use rlxc_sys::forkexec::{self, ExitKind, Forked, SigSet, SignalFd};

const VERSION: &str = concat!("init.lxc (rlxc ", env!("CARGO_PKG_VERSION"), ", LXC 4.0 compatible)");

/// Where LXC bind-mounts its init when it is not in the rootfs; removed again at start so the
/// container does not see it.
const INJECTED_PATH: &str = "/.lxc-init";

struct Args {
    quiet: bool,
    command: Vec<OsString>,
}

fn usage(to_err: bool) {
    let text = "Usage: init.lxc [OPTION]... -- COMMAND [ARG]...\n\
                \n\
                Runs COMMAND as the child of a minimal init (PID 1 of an application container).\n\
                \n\
                Options:\n  \
                -n, --name=NAME       name of the container\n  \
                -P, --lxcpath=PATH    lxcpath of the container\n  \
                -q, --quiet           do not print error messages\n  \
                -h, --help            this text\n      \
                --usage           short usage\n      \
                --version         print the version\n";
    if to_err {
        let _ = io::stderr().write_all(text.as_bytes());
    } else {
        let _ = io::stdout().write_all(text.as_bytes());
    }
}

/// Parse getopt_long style with `+` semantics: options end at `--` or the first non-option.
fn parse(argv: Vec<OsString>) -> Result<Option<Args>, String> {
    let mut quiet = false;
    let mut it = argv.into_iter().skip(1).peekable();
    let mut command = Vec::new();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy().into_owned();
        match s.as_str() {
            "--" => {
                command.extend(it.by_ref());
                break;
            }
            "-q" | "--quiet" => quiet = true,
            "-h" | "--help" => {
                usage(false);
                return Ok(None);
            }
            "--usage" => {
                println!("Usage: init.lxc [-n|--name=NAME] [-P|--lxcpath=PATH] [-q|--quiet] -- COMMAND");
                return Ok(None);
            }
            "--version" => {
                println!("{VERSION}");
                return Ok(None);
            }
            "-n" | "--name" | "-P" | "--lxcpath" => {
                // The name and lxcpath only label log lines in LXC; accept and skip them.
                if it.next().is_none() {
                    return Err(format!("option '{s}' requires an argument"));
                }
            }
            _ if s.starts_with("--name=") || s.starts_with("--lxcpath=") => {}
            _ if (s.starts_with("-n") || s.starts_with("-P")) && s.len() > 2 => {}
            _ if s.starts_with('-') && s.len() > 1 => return Err(format!("invalid option '{s}'")),
            _ => {
                command.push(a);
                command.extend(it.by_ref());
                break;
            }
        }
    }
    if command.is_empty() {
        return Err("please specify a command to execute".to_string());
    }
    Ok(Some(Args { quiet, command }))
}

/// If we were bind-mounted into the container at LXC's injection path, get rid of the mount
/// and the placeholder file (LXC's `remove_self`).
fn remove_self() {
    if let Ok(exe) = std::fs::read_link("/proc/self/exe") {
        if exe.as_os_str() == INJECTED_PATH {
            let _ = rustix::mount::unmount(INJECTED_PATH, rustix::mount::UnmountFlags::DETACH);
            let _ = std::fs::remove_file(INJECTED_PATH);
        }
    }
}

fn main() {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let args = match parse(argv) {
        Ok(Some(a)) => a,
        Ok(None) => std::process::exit(0),
        Err(msg) => {
            eprintln!("init.lxc: {msg}");
            usage(true);
            std::process::exit(1);
        }
    };
    std::process::exit(run(args));
}

fn say(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("init.lxc: {msg}");
    }
}

fn run(args: Args) -> i32 {
    let quiet = args.quiet;
    remove_self();

    // Take every signal we can through a signalfd; the faults stay synchronous.
    let mut all = SigSet::full();
    for s in [libc::SIGILL, libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGABRT, libc::SIGTRAP, libc::SIGSYS] {
        all.remove(s);
    }
    let old_mask = match forkexec::block_signals(&all) {
        Ok(m) => m,
        Err(e) => {
            say(quiet, &format!("failed to block signals: {e}"));
            return 1;
        }
    };
    let sfd = match SignalFd::new(&all) {
        Ok(f) => f,
        Err(e) => {
            say(quiet, &format!("failed to create signalfd: {e}"));
            return 1;
        }
    };

    let child = match forkexec::fork() {
        Ok(Forked::Child) => {
            drop(sfd);
            forkexec::reset_signal_dispositions();
            let _ = forkexec::set_sigmask(&old_mask);
            let _ = forkexec::set_sigmask(&SigSet::empty());
            let _ = rustix::process::setsid();
            // Best effort: stdin may not be a terminal at all.
            let _ = rlxc_sys::pty::set_controlling_terminal(forkexec::stdio_fd(0));
            let err = forkexec::execvp(&args.command);
            let code = match err.raw_os_error() {
                Some(libc::ENOENT) => 127,
                _ => 126,
            };
            say(quiet, &format!("failed to exec \"{}\": {err}", args.command[0].to_string_lossy()));
            forkexec::exit_now(code);
        }
        Ok(Forked::Parent(pid)) => pid,
        Err(e) => {
            say(quiet, &format!("failed to fork: {e}"));
            return 1;
        }
    };

    let pid1 = rustix::process::getpid().as_raw_nonzero().get() == 1;
    // kill(-1) from PID 1 reaches everything in its pid namespace; anywhere else it would reach
    // the whole host, so outside PID 1 only the command is signalled.
    let signal_everyone = |sig: i32| {
        let target = if pid1 { -1 } else { child };
        let _ = forkexec::kill(target, sig);
    };

    let mut exit_with = 0;
    let mut shutting_down = false;
    loop {
        // Reap first: SIGCHLD may have arrived before we polled.
        loop {
            match forkexec::waitpid(-1, true) {
                Ok(Some((pid, status))) => {
                    if shutting_down {
                        forkexec::alarm(1);
                    }
                    if pid == child {
                        if let Some(k) = ExitKind::from_raw(status) {
                            exit_with = k.shell_status();
                        }
                    }
                }
                Ok(None) => break,
                Err(e) if e.raw_os_error() == Some(libc::ECHILD) => return exit_with,
                Err(e) => {
                    say(quiet, &format!("failed to wait for children: {e}"));
                    return 1;
                }
            }
        }

        let mut fds = [rustix::event::PollFd::new(&sfd, rustix::event::PollFlags::IN)];
        match rustix::event::poll(&mut fds, None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => {
                say(quiet, &format!("poll failed: {e}"));
                return 1;
            }
        }
        loop {
            let si = match sfd.read() {
                Ok(Some(si)) => si,
                Ok(None) => break,
                Err(e) => {
                    say(quiet, &format!("failed to read signalfd: {e}"));
                    return 1;
                }
            };
            match si.signo {
                libc::SIGCHLD => {}
                // Applications send init SIGHUP to make it reload; the command does not expect
                // it. A lost terminal reaches us as SIGTERM from the monitor instead.
                libc::SIGHUP => {}
                libc::SIGPWR | libc::SIGTERM => {
                    if !shutting_down {
                        shutting_down = true;
                        signal_everyone(libc::SIGTERM);
                        forkexec::alarm(1);
                    }
                }
                libc::SIGALRM => signal_everyone(libc::SIGKILL),
                sig => {
                    let _ = forkexec::kill(child, sig);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<OsString> {
        s.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_lxc_execute_argv() {
        let a = parse(v(&["init.lxc", "-n", "c1", "-P", "/var/lib/lxc", "-q", "--", "sh", "-c", "exit 3"]))
            .expect("ok")
            .expect("args");
        assert!(a.quiet);
        assert_eq!(a.command, v(&["sh", "-c", "exit 3"]));
        let a = parse(v(&["init.lxc", "--name=c1", "true"])).expect("ok").expect("args");
        assert_eq!(a.command, v(&["true"]));
    }

    #[test]
    fn refuses_missing_command_and_bad_options() {
        assert!(parse(v(&["init.lxc", "-n", "x"])).is_err());
        assert!(parse(v(&["init.lxc", "-Z", "--", "true"])).is_err());
        assert!(parse(v(&["init.lxc", "-n"])).is_err());
    }

    #[test]
    fn version_string_names_rlxc() {
        assert!(VERSION.starts_with("init.lxc"));
    }
}
