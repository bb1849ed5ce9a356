#!/usr/bin/python3
"""rlxc vs LXC, side by side, in one interleaved run.

Usage (as root; see bench/README.md):

    bench/run.sh [--runs N] [--prefix DIR] [--lxc-bindir DIR] [--batch N] [--density [N]]
                 [--only rlxc|lxc] [--json FILE]

Every scenario runs through rlxc's tools (from the install prefix, by path) and Debian's LXC
(/usr/bin/lxc-*), alternating which goes first in each run, on busybox containers with
`lxc.net.0.type = empty`. Each implementation gets its own lxcpath under a private temporary
directory. A failing tool never stops the bench: its measure prints `n/a (error: ...)`.
Everything the bench made (containers, processes, cgroups, mounts, directories) is removed at the
end, also on Ctrl-C / SIGTERM / SIGHUP.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOTFS_TOOL = os.environ.get("ROOTFS_TOOL", os.path.join(os.path.dirname(REPO), "shared/tools/rootfs"))
TOOL_TIMEOUT = 15.0
STATE_TIMEOUT = 5.0
DEBUG = os.environ.get("BENCH_DEBUG") == "1"
# Pause before each timed single-container measure (seconds, `--settle MS`). Without it, kernel
# state one tool call leaves behind is inherited by the next one: on this hybrid-cgroup host a
# `cgroup.procs` write waits for an RCU grace period (~8-16 ms) unless another write happened
# within about the last grace period, so a measure right after a tool that migrated a process
# (or whose monitor still did, after returning) skipped that wait. 100 ms is several grace
# periods: every measure starts from the same cold state, whatever ran before it.
SETTLE_S = 0.1

# (key, label, unit) in print order. Times in seconds internally, printed in ms; RSS in KiB.
MEASURES = [
    ("start", "lxc-start -d until RUNNING", "ms"),
    ("execute", "lxc-execute -- true", "ms"),
    ("attach", "lxc-attach -- true", "ms"),
    ("stop", "lxc-stop -k", "ms"),
    ("info", "lxc-info -s", "ms"),
    ("freeze", "lxc-freeze + lxc-unfreeze", "ms"),
    ("rss", "monitor RSS (VmRSS)", "MB"),
    ("batch_start", "start {batch} (sequential -d)", "ms"),
    ("batch_stop", "then stop all {batch} (-k)", "ms"),
]


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted(f"signal {signum}")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def first_line(text):
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line[:160]
    return ""


class Impl:
    """One implementation under test: where its tools are and its private lxcpath."""

    def __init__(self, key, label, bindir, lxcpath, letter, tag):
        self.key = key
        self.label = label
        self.bindir = bindir
        self.lxcpath = lxcpath
        self.letter = letter
        self.tag = tag
        self.results = {m[0]: [] for m in MEASURES}
        self.errors = {}
        self.timeouts = {}
        self.density = None

    def name(self, suffix):
        # Short and unique per bench run and implementation: cgroups (lxc.payload.NAME) are global.
        return f"{self.letter}{self.tag}{suffix}"

    def tool(self, t):
        return os.path.join(self.bindir, f"lxc-{t}")

    def run(self, t, args, timeout=TOOL_TIMEOUT):
        """Run `lxc-T -P lxcpath ARGS`; returns (ok, seconds, stdout, error text).

        Output goes to unlinked temporary files, not pipes: a daemonizing tool whose monitor keeps
        stdout open must not make us wait for EOF."""
        argv = [self.tool(t), "-P", self.lxcpath] + args
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            t0 = time.perf_counter()
            try:
                p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=timeout)
            except subprocess.TimeoutExpired:
                return False, time.perf_counter() - t0, "", f"lxc-{t} timed out after {timeout:.0f}s"
            except OSError as e:
                return False, 0.0, "", f"cannot run lxc-{t}: {e.strerror}"
            dt = time.perf_counter() - t0
            out.seek(0)
            err.seek(0)
            so = out.read().decode(errors="replace")
            se = err.read().decode(errors="replace")
        if DEBUG:
            log(f"  {' '.join(argv[:1] + argv[3:])}: exit {p.returncode} in {dt * 1000:.1f} ms")
        if p.returncode != 0:
            why = first_line(se) or first_line(so) or "no output"
            return False, dt, so, f"lxc-{t} exit {p.returncode}: {why}"
        return True, dt, so, ""

    def state(self, name):
        ok, _, out, err = self.run("info", ["-n", name, "-s"], timeout=STATE_TIMEOUT)
        if not ok:
            return None, err
        m = re.search(r"State:\s*(\S+)", out)
        return (m.group(1) if m else out.strip()), ""

    def record(self, measure, value, err=None):
        if err is None:
            self.results[measure].append(value)
        else:
            self.errors.setdefault(measure, err)
            if "timed out" in err:
                self.timeouts[measure] = self.timeouts.get(measure, 0) + 1

    def gave_up(self, measure):
        """After two timeouts a measure is not tried again (keeps the bench fast while a tool hangs)."""
        return self.timeouts.get(measure, 0) >= 2


# ---------------------------------------------------------------------------------------------
# host inspection: processes, cgroups, mounts made for our containers


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def monitor_pids(lxcpath, name=None):
    """PIDs of `[lxc monitor] LXCPATH NAME` processes (LXC's process title, which rlxc keeps)."""
    want = f"[lxc monitor] {lxcpath} "
    pids = []
    for pid in all_pids():
        cmd = proc_cmdline(pid)
        if cmd.startswith(want) and (name is None or cmd == want + name):
            pids.append(pid)
    return pids


def vm_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cgroup_matches(path, names_re):
    return any(names_re.fullmatch(seg) for seg in path.split("/"))


def payload_pids(names_re):
    """Processes whose cgroup path has a component for one of our containers."""
    pids = []
    for pid in all_pids():
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                data = f.read()
        except OSError:
            continue
        for line in data.splitlines():
            parts = line.split(":", 2)
            if len(parts) == 3 and cgroup_matches(parts[2], names_re):
                pids.append(pid)
                break
    return pids


def remove_cgroups(names_re):
    """rmdir (deepest first) every cgroup directory named for one of our containers."""
    found = []
    for root, dirs, _files in os.walk("/sys/fs/cgroup"):
        for d in dirs:
            if names_re.fullmatch(d):
                found.append(os.path.join(root, d))
    for top in found:
        for root, dirs, _files in os.walk(top, topdown=False):
            try:
                os.rmdir(root)
            except OSError:
                pass
    return [p for p in found if os.path.isdir(p)]


def mounts_under(path):
    out = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                mp = line.split()[4]
                if mp == path or mp.startswith(path + "/"):
                    out.append(mp)
    except OSError:
        pass
    return sorted(out, key=len, reverse=True)


def kill_pids(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def private_devpts_if_ro():
    """On this shared machine a test leaked a read-only devpts onto the host's /dev/pts (and the
    host's devpts superblock was later remounted read-only), which makes every console setup
    fail. When /dev/pts is read-only, give the bench's private mount namespace (bench/run.sh) its
    own devpts instance and /dev/ptmx: the same for both implementations, the host untouched."""
    if os.environ.get("BENCH_PRIVATE_MNTNS") != "1":
        return
    with open("/proc/self/mountinfo") as f:
        pts = [l for l in f if l.split()[4] == "/dev/pts"]
    if not pts or not re.search(r" - devpts \S+ ro,", pts[-1]):
        return
    log("bench: WARNING: the host's /dev/pts is a read-only devpts (leaked by some test on this machine); "
        "the bench uses its own devpts instance in its private mount namespace")
    r1 = subprocess.run(["mount", "-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=0620,gid=5", "devpts",
                         "/dev/pts"], capture_output=True, text=True)
    r2 = subprocess.run(["mount", "--bind", "/dev/pts/ptmx", "/dev/ptmx"], capture_output=True, text=True)
    if r1.returncode or r2.returncode:
        log(f"bench: could not set up a private devpts: {r1.stderr.strip()} {r2.stderr.strip()}")


def pivot_cgroups():
    """`lxc.pivot` cgroups at the hierarchy roots (v1 controllers, unified, pure cgroup2)."""
    roots = [os.path.join("/sys/fs/cgroup", d) for d in os.listdir("/sys/fs/cgroup")]
    roots.append("/sys/fs/cgroup")
    return [os.path.join(r, "lxc.pivot") for r in roots if os.path.isdir(os.path.join(r, "lxc.pivot"))]


def meminfo_kib():
    info = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            info[k] = int(v.split()[0])
    return info


def meminfo_used_kib():
    info = meminfo_kib()
    return info["MemTotal"] - info["MemAvailable"]


# ---------------------------------------------------------------------------------------------
# containers


class Bench:
    def __init__(self, args):
        self.args = args
        self.tag = str(os.getpid())
        self.base = tempfile.mkdtemp(prefix="rlxcb.", dir="/tmp")
        self.template = os.path.join(self.base, "rootfs")
        self.impls = []
        self.floor = []
        self.floor_error = None
        # Our container names all match this (plus LXC's "-N" suffix on cgroup name clashes).
        self.names_re = re.compile(rf"(lxc\.(payload|monitor)\.)?[rl]{self.tag}[a-z0-9]*(-\d+)?")
        # LXC's monitor leaves `lxc.pivot` at the hierarchy roots; cleanup removes the ones it made.
        self.pivots_before = set(pivot_cgroups())

    def setup(self):
        log(f"bench: work dir {self.base}")
        private_devpts_if_ro()
        r = subprocess.run([ROOTFS_TOOL, "busybox", self.template], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"bench: cannot build the busybox rootfs with {ROOTFS_TOOL}: {r.stderr.strip()}")
        prefix_bin = os.path.join(self.args.prefix, "bin")
        candidates = [
            ("rlxc", "rlxc", prefix_bin, "r"),
            ("lxc", "LXC", self.args.lxc_bindir, "l"),
        ]
        for key, label, bindir, letter in candidates:
            if self.args.only and self.args.only != key:
                continue
            lxcpath = os.path.join(self.base, letter)
            os.mkdir(lxcpath)
            self.impls.append(Impl(key, label, bindir, lxcpath, letter, self.tag))

    def make_container(self, impl, name):
        d = os.path.join(impl.lxcpath, name)
        if os.path.isdir(d):
            return
        os.mkdir(d)
        rootfs = os.path.join(d, "rootfs")
        # Hard links: 500 containers cost a few MB of directory entries, not 500 busybox copies.
        subprocess.run(["cp", "-al", self.template, rootfs], check=True)
        with open(os.path.join(d, "config"), "w") as f:
            f.write(
                f"lxc.uts.name = {name}\n"
                f"lxc.rootfs.path = dir:{rootfs}\n"
                "lxc.net.0.type = empty\n"
                "lxc.signal.halt = SIGUSR1\n"
                "lxc.signal.reboot = SIGTERM\n"
            )

    def force_stop(self, impl, name, use_tool=False):
        """Make sure NAME is not running, whatever state the tool left it in (untimed). The tool's
        `lxc-stop -k` is tried only when asked (and not after it timed out); whatever is still
        alive then was started by this bench and is killed by PID."""
        one = re.compile(rf"(lxc\.(payload|monitor)\.)?{name}(-\d+)?")
        if use_tool and not impl.gave_up("stop") and (monitor_pids(impl.lxcpath, name) or payload_pids(one)):
            impl.run("stop", ["-n", name, "-k"], timeout=STATE_TIMEOUT)
        for _ in range(50):
            pids = monitor_pids(impl.lxcpath, name) + payload_pids(one)
            if not pids:
                break
            kill_pids(pids)
            time.sleep(0.02)
        remove_cgroups(one)

    # --- one cycle of the single-container measures -----------------------------------------

    def settle(self):
        """Let the kernel state of the previous tool call age out (see SETTLE_S)."""
        if self.args.settle > 0:
            time.sleep(self.args.settle / 1000.0)

    def cycle(self, impl, record=True):
        name = impl.name("s")
        self.make_container(impl, name)
        rec = impl.record if record else (lambda *a, **k: None)
        self.force_stop(impl, name)

        # start: from the tool's call until RUNNING is observed. When the tool returns with the
        # container already RUNNING (LXC's -d does), that is the time; otherwise poll lxc-info.
        running = False
        if impl.gave_up("start"):
            rec("start", None, impl.errors.get("start", "gave up"))
        else:
            self.settle()
            ok, dt, _, err = impl.run("start", ["-n", name, "-d"])
            if not ok:
                rec("start", None, err)
            else:
                st, serr = impl.state(name)
                if st == "RUNNING":
                    rec("start", dt)
                    running = True
                elif st is None:
                    rec("start", None, f"cannot read the state: {serr}")
                else:
                    t0 = time.perf_counter() - dt
                    deadline = time.perf_counter() + STATE_TIMEOUT
                    while time.perf_counter() < deadline:
                        st, serr = impl.state(name)
                        if st == "RUNNING":
                            rec("start", time.perf_counter() - t0)
                            running = True
                            break
                        time.sleep(0.001)
                    if not running:
                        rec("start", None, f"not RUNNING after start -d (state {st})")

        not_running = "needs a running container, start failed"
        # info -s
        if running:
            self.settle()
            ok, dt, out, err = impl.run("info", ["-n", name, "-s"])
            if ok and "RUNNING" not in out:
                ok, err = False, f"lxc-info -s printed {first_line(out)!r}"
            rec("info", dt if ok else None, None if ok else err)
        else:
            rec("info", None, impl.errors.get("start", not_running))

        # attach -- true
        if running and not impl.gave_up("attach"):
            self.settle()
            ok, dt, _, err = impl.run("attach", ["-n", name, "--", "true"])
            rec("attach", dt if ok else None, None if ok else err)
        elif not running:
            rec("attach", None, not_running)

        # freeze + unfreeze
        if running and not impl.gave_up("freeze"):
            self.settle()
            ok1, dt1, _, err1 = impl.run("freeze", ["-n", name])
            if ok1:
                ok2, dt2, _, err2 = impl.run("unfreeze", ["-n", name])
                rec("freeze", dt1 + dt2 if ok2 else None, None if ok2 else err2)
            else:
                rec("freeze", None, err1)
                impl.run("unfreeze", ["-n", name], timeout=STATE_TIMEOUT)
        elif not running:
            rec("freeze", None, not_running)

        # monitor RSS
        if running:
            mons = monitor_pids(impl.lxcpath, name)
            if len(mons) == 1 and vm_rss_kib(mons[0]) is not None:
                rec("rss", vm_rss_kib(mons[0]) / 1024.0)
            else:
                rec("rss", None, f"found {len(mons)} '[lxc monitor] {impl.lxcpath} {name}' processes")
        else:
            rec("rss", None, not_running)

        # stop -k
        if running and not impl.gave_up("stop"):
            self.settle()
            ok, dt, _, err = impl.run("stop", ["-n", name, "-k"])
            if ok:
                st, _ = impl.state(name)
                if st not in ("STOPPED", None):
                    ok, err = False, f"state {st} after lxc-stop -k returned"
            rec("stop", dt if ok else None, None if ok else err)
        elif not running:
            rec("stop", None, not_running)
        self.force_stop(impl, name)

        # execute -- true (container stopped)
        if not impl.gave_up("execute"):
            self.settle()
            ok, dt, _, err = impl.run("execute", ["-n", name, "--", "true"])
            rec("execute", dt if ok else None, None if ok else err)
            if not ok:
                self.force_stop(impl, name)

    # --- start N, then stop them all ---------------------------------------------------------

    def batch(self, impl, n):
        names = [impl.name(f"b{i}") for i in range(n)]
        for nm in names:
            self.make_container(impl, nm)
        if impl.gave_up("batch_start"):
            impl.record("batch_start", None, impl.errors.get("batch_start"))
            impl.record("batch_stop", None, impl.errors.get("batch_start"))
            return
        total, err = 0.0, None
        for nm in names:
            ok, dt, _, e = impl.run("start", ["-n", nm, "-d"])
            total += dt
            if not ok:
                err = e
                break
        impl.record("batch_start", None if err else total, err)
        if err:
            impl.record("batch_stop", None, "needs the started batch, start failed")
        elif impl.gave_up("stop") or impl.gave_up("batch_stop"):
            impl.record("batch_stop", None, impl.errors.get("batch_stop") or impl.errors.get("stop"))
        else:
            total, err = 0.0, None
            for nm in names:
                ok, dt, _, e = impl.run("stop", ["-n", nm, "-k"])
                total += dt
                if not ok:
                    err = e
                    break
            impl.record("batch_stop", None if err else total, err)
        for nm in names:
            self.force_stop(impl, nm)

    # --- the floor: the same namespaces + chroot + exec /bin/true, no container manager -------

    def floor_once(self):
        argv = ["unshare", "--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--fork",
                f"--root={self.template}", "/bin/true"]
        t0 = time.perf_counter()
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        if r.returncode == 0:
            self.floor.append(dt)
        elif self.floor_error is None:
            self.floor_error = f"unshare exit {r.returncode}: {first_line(r.stderr)}"

    # --- density ------------------------------------------------------------------------------

    def density(self, impl, n):
        log(f"bench: density: {impl.label}: {n} containers")
        names = [impl.name(f"d{i}") for i in range(n)]
        for nm in names:
            self.make_container(impl, nm)
        used0 = meminfo_used_kib()
        # Shmem counts memfd contents whether or not they are mapped (PSS only sees mapped,
        # touched pages): a tool that runs from a private memfd copy of itself pays it all.
        shmem0 = meminfo_kib()["Shmem"]
        started, err = 0, None
        t0 = time.perf_counter()
        for nm in names:
            ok, _, _, e = impl.run("start", ["-n", nm, "-d"])
            if not ok:
                err = e
                break
            started += 1
        t_start = time.perf_counter() - t0
        time.sleep(1.0)  # let every init settle before reading memory
        used1 = meminfo_used_kib()
        shmem1 = meminfo_kib()["Shmem"]
        mons = monitor_pids(impl.lxcpath)
        rss = [vm_rss_kib(p) for p in mons]
        rss = [r for r in rss if r is not None]
        # Proportional set size of every process that belongs to these containers (monitors plus
        # payload): precise even while other work on the machine moves MemAvailable around.
        ours = re.compile(rf"(lxc\.(payload|monitor)\.)?{impl.letter}{self.tag}d\d+(-\d+)?")
        pss = sum(pss_kib(p) for p in set(mons + payload_pids(ours)))
        mon_pss = [pss_kib(p) for p in mons]
        impl.density = {
            "requested": n,
            "started": started,
            "error": err,
            "start_all_s": t_start,
            "mem_delta_mb": (used1 - used0) / 1024.0,
            "pss_sum_mb": pss / 1024.0,
            "shmem_delta_mb": (shmem1 - shmem0) / 1024.0,
            "monitor_pss_median_mb": statistics.median(mon_pss) / 1024.0 if mon_pss else None,
            "monitors": len(rss),
            "monitor_rss_sum_mb": sum(rss) / 1024.0,
            "monitor_rss_median_mb": statistics.median(rss) / 1024.0 if rss else None,
        }
        t0 = time.perf_counter()
        for nm in names[:started]:
            impl.run("stop", ["-n", nm, "-k"])
        impl.density["stop_all_s"] = time.perf_counter() - t0
        for nm in names:
            self.force_stop(impl, nm)

    # --- cleanup --------------------------------------------------------------------------------

    def cleanup(self):
        log("bench: cleaning up")
        for impl in self.impls:
            if not os.path.isdir(impl.lxcpath):
                continue
            for nm in sorted(os.listdir(impl.lxcpath)):
                if monitor_pids(impl.lxcpath, nm) and not impl.gave_up("stop"):
                    impl.run("stop", ["-n", nm, "-k"], timeout=STATE_TIMEOUT)
        # Whatever is still alive was started by this bench: its monitors and payload processes.
        for _ in range(100):
            pids = payload_pids(self.names_re)
            for impl in self.impls:
                pids += monitor_pids(impl.lxcpath)
            if not pids:
                break
            kill_pids(pids)
            time.sleep(0.05)
        left = remove_cgroups(self.names_re)
        for p in set(pivot_cgroups()) - self.pivots_before:
            try:
                os.rmdir(p)
            except OSError:
                left.append(p)
        if left:
            log(f"bench: could not remove cgroups: {left}")
        for mp in mounts_under(self.base):
            subprocess.run(["umount", "-l", mp], capture_output=True)
        subprocess.run(["rm", "-rf", "--one-file-system", self.base], capture_output=True)
        if os.path.exists(self.base):
            log(f"bench: could not remove {self.base}")


# ---------------------------------------------------------------------------------------------
# report


def fmt_stats(vals, unit):
    if not vals:
        return None
    k = 1000.0 if unit == "ms" else 1.0
    a, m, b = min(vals) * k, statistics.median(vals) * k, max(vals) * k
    prec = 2 if unit == "MB" or m < 10 else 1
    return f"{a:.{prec}f} / {m:.{prec}f} / {b:.{prec}f} {unit}"


def cell(impl, key, unit):
    if impl is None:
        return "-"
    s = fmt_stats(impl.results[key], unit)
    if s is None:
        msg = f"n/a (error: {impl.errors.get(key, 'not measured')})"
        return msg if len(msg) <= 100 else msg[:97] + "...)"
    n = len(impl.results[key])
    return s + ("" if key not in impl.errors else f" [{n} ok, some failed: {impl.errors[key]}]")


def med(impl, key):
    if impl is None or not impl.results[key]:
        return None
    return statistics.median(impl.results[key])


def report(bench, args, started_at, out=sys.stdout):
    by = {i.key: i for i in bench.impls}
    r, lx = by.get("rlxc"), by.get("lxc")

    def version(impl):
        if impl is None:
            return "-"
        try:
            p = subprocess.run([impl.tool("start"), "--version"], capture_output=True, text=True, timeout=10)
            return first_line(p.stdout) or first_line(p.stderr) or f"exit {p.returncode}"
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"n/a ({e})"

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    except OSError:
        pass
    p = lambda s="": print(s, file=out)
    p(f"rlxc bench, {started_at:%Y-%m-%d %H:%M} UTC, host {platform.node()}, kernel {platform.release()}, "
      f"{os.cpu_count()} x {cpu}")
    p(f"runs: {args.runs} (interleaved, order alternating), batch {args.batch}, settle {args.settle:g} ms; "
      f"rlxc: {os.path.join(args.prefix, 'bin')} ({version(r)}); LXC: {args.lxc_bindir} ({version(lx)})")
    p("min / median / max; ratio = rlxc median / LXC median (lower is better)")
    p()
    rows = [("measure", "rlxc", "LXC", "rlxc/LXC")]
    for key, label, unit in MEASURES:
        label = label.format(batch=args.batch)
        a, b = med(r, key), med(lx, key)
        ratio = f"{a / b:.2f}x" if a is not None and b else "n/a"
        rows.append((label, cell(r, key, unit), cell(lx, key, unit), ratio))
    floor = fmt_stats(bench.floor, "ms") or f"n/a (error: {bench.floor_error})"
    rows.append(("floor: unshare+chroot+exec true", floor, floor, ""))
    w0 = max(len(x[0]) for x in rows)
    w1 = min(max(len(x[1]) for x in rows), 60)
    w2 = min(max(len(x[2]) for x in rows), 60)
    for i, (a, b, c, d) in enumerate(rows):
        p(f"{a:<{w0}}  {b:<{w1}}  {c:<{w2}}  {d}")
        if i == 0:
            p("-" * (w0 + w1 + w2 + 16))
    if bench.floor:
        fm = statistics.median(bench.floor)
        p()
        parts = []
        for key in ("start", "execute"):
            for impl in (r, lx):
                m = med(impl, key)
                if m is not None:
                    parts.append(f"{impl.label} {key} {m / fm:.1f}x")
        p("vs floor (median / floor median): " + (", ".join(parts) if parts else "n/a"))
    dens = [i for i in bench.impls if i.density]
    if dens:
        p()
        p(f"density ({args.density} containers each, one implementation at a time):")
        for impl in dens:
            d = impl.density
            med_rss = f"{d['monitor_rss_median_mb']:.2f} MB" if d["monitor_rss_median_mb"] is not None else "n/a"
            med_pss = f"{d['monitor_pss_median_mb']:.2f} MB" if d.get("monitor_pss_median_mb") is not None else "n/a"
            per = max(d["started"], 1)
            line = (f"  {impl.label:<5} started {d['started']}/{d['requested']} in {d['start_all_s']:.1f} s; "
                    f"PSS of monitors+payload {d['pss_sum_mb']:.0f} MB ({d['pss_sum_mb'] / per:.2f} MB/container); "
                    f"host Shmem +{d['shmem_delta_mb']:.0f} MB ({d['shmem_delta_mb'] / per:.2f} MB/container); "
                    f"host MemTotal-MemAvailable +{d['mem_delta_mb']:.0f} MB ({d['mem_delta_mb'] / per:.2f} "
                    f"MB/container, noisy); {d['monitors']} monitors: PSS median {med_pss}, VmRSS median {med_rss}, sum "
                    f"{d['monitor_rss_sum_mb']:.0f} MB; stop all {d['stop_all_s']:.1f} s")
            if d["error"]:
                line += f"; error: {d['error']}"
            p(line)


def main():
    ap = argparse.ArgumentParser(description="rlxc vs LXC benchmark (run as root)")
    ap.add_argument("--runs", type=int, default=20, help="interleaved runs per measure (default 20)")
    ap.add_argument("--prefix", default=os.path.join(REPO, "target/prefix"),
                    help="rlxc install prefix (default target/prefix)")
    ap.add_argument("--lxc-bindir", default="/usr/bin", help="where LXC's lxc-* tools are (default /usr/bin)")
    ap.add_argument("--batch", type=int, default=50, help="containers in the start-all/stop-all measure")
    ap.add_argument("--density", type=int, nargs="?", const=500, default=0,
                    help="also run N containers at once per implementation (default N 500)")
    ap.add_argument("--settle", type=float, default=SETTLE_S * 1000,
                    help="pause in ms before each timed single-container measure (default 100, 0 = none)")
    ap.add_argument("--only", choices=["rlxc", "lxc"], help="run one implementation only")
    ap.add_argument("--json", help="also write the raw numbers to this file")
    args = ap.parse_args()
    args.prefix = os.path.abspath(args.prefix)
    if os.geteuid() != 0:
        raise SystemExit("bench: must run as root")

    started_at = datetime.datetime.now(datetime.timezone.utc)
    bench = Bench(args)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    interrupted = None
    try:
        bench.setup()
        for impl in bench.impls:  # warm-up, not recorded
            bench.cycle(impl, record=False)
        for run in range(args.runs):
            order = bench.impls if run % 2 == 0 else list(reversed(bench.impls))
            log(f"bench: run {run + 1}/{args.runs}")
            bench.floor_once()
            for impl in order:
                bench.cycle(impl)
            if args.batch > 0:
                for impl in order:
                    bench.batch(impl, args.batch)
        if args.density:
            for impl in bench.impls:
                bench.density(impl, args.density)
    except (Interrupted, KeyboardInterrupt) as e:
        interrupted = str(e) or "interrupted"
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        bench.cleanup()
    if interrupted:
        log(f"bench: interrupted ({interrupted}); partial results follow")
    report(bench, args, started_at)
    if args.json:
        data = {
            "date": started_at.isoformat(),
            "host": platform.node(),
            "runs": args.runs,
            "floor_s": bench.floor,
            "impls": {i.key: {"results_s_or_mb": i.results, "errors": i.errors, "density": i.density}
                      for i in bench.impls},
        }
        with open(args.json, "w") as f:
            json.dump(data, f, indent=1)
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
