#!/bin/bash
# LXC's own shell tests (Debian's lxc-tests package, /usr/bin/lxc-test-*) against rlxc and, in the
# same run, against Debian's LXC for comparison. As root:
#
#   tests/compat/run.sh [--prefix DIR] [--timeout SECS] [--only rlxc|lxc] [--keep-logs] [TEST...]
#
#   --prefix DIR    rlxc install prefix (default target/prefix: `make install PREFIX=$PWD/target/prefix`)
#   --timeout SECS  per test and implementation (default 240)
#   --only IMPL     run one implementation only
#   TEST...         test names with or without the lxc-test- prefix (default: every shell test)
#
# What it sets up, and removes again (also on Ctrl-C): a network namespace `rlxc-compat-PID` holding
# the bridge lxcbr0 (198.51.100.1/24) and a dnsmasq DHCP server for 198.51.100.0/24, as LXC's lxc-net
# does on the host. Every test runs inside that netns (nsenter --net), so no container DHCP client
# and no bridge ever touches the host's network. For rlxc the test runs with a PATH whose first
# directory holds links to the prefix's lxc-* tools (and a stub that fails loudly for every LXC tool
# rlxc does not install, so no test silently falls back to Debian's LXC), in a private mount
# namespace where the same tools are also bind-mounted over /usr/bin/lxc-* (tests that `sudo -i`
# get a fresh PATH) and rlxc's templates over /usr/share/lxc/templates (a copy of Debian's
# templates overlaid with rlxc's). Debian's files are never written; the binds die with the
# namespace.
# After every test it removes leftover containers the test made under /var/lib/lxc; at the end it
# undoes what the tests change on the host: users they add (and their homes, /run/user dirs),
# lines added to /etc/subuid, /etc/subgid, /etc/lxc/lxc-usernet, /run/lxc/nics, files added to
# /etc/lxc, cgroup.clone_children values, `lxctest` cgroups, the session cgroups pam_cgfs made for
# the tests' users, /var/lib/lxcsym1 and /var/lib/lxc/log.
#
# Output: a table test | LXC | rlxc (pass/FAIL/TIMEOUT, seconds), then `LXC: N passed, N failed`
# and finally rlxc's `N passed, N failed`. Logs in target/compat/<impl>/<test>.log.
# Exit status: 0 when every target test (TARGETS below) passes with rlxc, 1 otherwise, 2 on setup
# errors.
set -u

REPO=$(cd "$(dirname "$0")/../.." && pwd)
PREFIX=$REPO/target/prefix
TIMEOUT=240
ONLY=
KEEP_LOGS=0
TESTS=()
# The shell tests rlxc is expected to pass now (issue 9); the rest belong to later issues.
TARGETS="createconfig exit-code lxc-attach no-new-privs procsys rootfs symlink apparmor-generated automount unpriv usernic"

while [ $# -gt 0 ]; do
    case $1 in
    --prefix) PREFIX=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --keep-logs) KEEP_LOGS=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    -*) echo "compat: unknown option $1" >&2; exit 2 ;;
    *) TESTS+=("${1#lxc-test-}"); shift ;;
    esac
done

[ "$(id -u)" = 0 ] || { echo "compat: must run as root" >&2; exit 2; }
for p in nsenter unshare ip timeout; do
    command -v $p >/dev/null || { echo "compat: $p is missing" >&2; exit 2; }
done
# The tests' own needs: lxc-tests itself, sudo + uidmap + kmod (the unprivileged tests run
# `sudo -u`, newuidmap, modprobe), dnsmasq for the bridge's DHCP.
missing=
for pkg in lxc-tests sudo uidmap kmod dnsmasq-base busybox-static; do
    dpkg-query -W -f='${Status}\n' $pkg 2>/dev/null | grep -q '^install ok installed' || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    echo "compat: installing$missing" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || exit 2
fi

# The shell tests are the lxc-test-* files that are scripts (the C programs come later).
ALL=()
for f in /usr/bin/lxc-test-*; do
    [ "$(head -c2 "$f")" = "#!" ] && ALL+=("${f#/usr/bin/lxc-test-}")
done
[ ${#TESTS[@]} -gt 0 ] || TESTS=("${ALL[@]}")

IMPLS="lxc rlxc"
[ -n "$ONLY" ] && IMPLS=$ONLY

W=$(mktemp -d /tmp/rlxc-compat.XXXXXX)
NS=rlxc-compat-$$
LOGS=$REPO/target/compat
mkdir -p "$W/state" "$W/bin-rlxc"
rm -rf "$LOGS"; mkdir -p "$LOGS/lxc" "$LOGS/rlxc"
DNSMASQ_PID=
say() { echo "compat: $*" >&2; }

# ---------------------------------------------------------------------------------------------
# snapshot of what the tests may change on the host

LINE_FILES="/etc/subuid /etc/subgid /etc/lxc/lxc-usernet /run/lxc/nics"
snapshot() {
    getent passwd | cut -d: -f1 | sort >"$W/state/users"
    ls -A /etc/lxc 2>/dev/null | sort >"$W/state/etc-lxc"
    ls -A /run/user 2>/dev/null | sort >"$W/state/run-user"
    ls -A /home 2>/dev/null | sort >"$W/state/home"
    for f in $LINE_FILES; do
        k=$(echo "$f" | tr / _)
        if [ -e "$f" ]; then cp -p "$f" "$W/state/$k"; else : >"$W/state/$k.absent"; fi
    done
    : >"$W/state/clone_children"
    for f in /sys/fs/cgroup/*/cgroup.clone_children; do
        [ -f "$f" ] && echo "$f $(cat "$f")" >>"$W/state/clone_children"
    done
    ls -d /sys/fs/cgroup/*/lxctest 2>/dev/null | sort >"$W/state/lxctest-cgroups"
    # pam_cgfs (Debian's libpam-cgfs) makes /user/NAME session cgroups for the tests' `sudo -i`
    ls -d /sys/fs/cgroup/*/user/*/ 2>/dev/null | sort >"$W/state/user-cgroups"
    [ -e /var/lib/lxcsym1 ] || [ -L /var/lib/lxcsym1 ] && touch "$W/state/lxcsym1-existed"
    [ -e /var/lib/lxc/log ] && touch "$W/state/lxc-log-existed"
}

restore_host() {
    # users the tests added (deluser in their cleanup can fail half way)
    getent passwd | cut -d: -f1 | sort >"$W/state/users.after"
    for u in $(comm -13 "$W/state/users" "$W/state/users.after"); do
        say "removing user $u left by a test"
        uid=$(id -u "$u" 2>/dev/null)
        userdel -r -f "$u" >/dev/null 2>&1 || userdel -f "$u" >/dev/null 2>&1
        [ -n "$uid" ] && [ -d "/run/user/$uid" ] && ! grep -qx "$uid" "$W/state/run-user" && rm -rf "/run/user/$uid"
    done
    for d in $(ls -A /run/user 2>/dev/null | sort | comm -13 "$W/state/run-user" -); do rm -rf "/run/user/$d"; done
    for d in $(ls -A /home 2>/dev/null | sort | comm -13 "$W/state/home" -); do
        case $d in lxcunpriv|usernic-user|lxc-usernsexec*|*test*) say "removing /home/$d"; rm -rf --one-file-system "/home/$d" ;; esac
    done
    # lines added to line files; files that did not exist before are removed
    for f in $LINE_FILES; do
        k=$(echo "$f" | tr / _)
        if [ -e "$W/state/$k.absent" ]; then
            [ -e "$f" ] && { say "removing $f (made by a test)"; rm -f "$f"; }
        elif [ -e "$f" ] && ! cmp -s "$f" "$W/state/$k"; then
            # keep the original lines, drop only what was added (others may edit these files too)
            grep -vxF -f <(grep -vxF -f "$W/state/$k" "$f") "$f" >"$W/state/$k.new" || true
            [ -s "$W/state/$k" ] && [ ! -s "$W/state/$k.new" ] && cp "$W/state/$k" "$W/state/$k.new"
            say "restoring lines of $f"
            cat "$W/state/$k.new" >"$f"
        elif [ ! -e "$f" ]; then
            cp -p "$W/state/$k" "$f"
        fi
    done
    for e in $(ls -A /etc/lxc 2>/dev/null | sort | comm -13 "$W/state/etc-lxc" -); do
        say "removing /etc/lxc/$e (made by a test)"; rm -rf "/etc/lxc/$e"
    done
    while read -r f v; do
        [ -f "$f" ] && [ "$(cat "$f")" != "$v" ] && { say "restoring $f = $v"; echo "$v" >"$f"; }
    done <"$W/state/clone_children"
    for d in $(ls -d /sys/fs/cgroup/*/lxctest 2>/dev/null | sort | comm -13 "$W/state/lxctest-cgroups" -); do
        find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        [ -d "$d" ] && say "could not remove cgroup $d"
    done
    for d in $(ls -d /sys/fs/cgroup/*/user/*/ 2>/dev/null | sort | comm -13 "$W/state/user-cgroups" -); do
        find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    if [ ! -e "$W/state/lxcsym1-existed" ] && [ -L /var/lib/lxcsym1 ]; then rm -f /var/lib/lxcsym1; fi
    # lxc-test-symlink logs to $lxcpath/log through its symlinked lxcpath and never removes it.
    if [ ! -e "$W/state/lxc-log-existed" ] && [ -f /var/lib/lxc/log ]; then rm -f /var/lib/lxc/log; fi
}

# ---------------------------------------------------------------------------------------------
# network: a private netns with lxcbr0 + dnsmasq, as lxc-net does

net_up() {
    ip netns add "$NS" || return 1
    ip -n "$NS" link set lo up
    ip -n "$NS" link add lxcbr0 type bridge || return 1
    ip -n "$NS" addr add 198.51.100.1/24 dev lxcbr0
    ip -n "$NS" link set lxcbr0 up
    nsenter --net="/run/netns/$NS" dnsmasq --conf-file=/dev/null --strict-order --bind-interfaces \
        --pid-file="$W/dnsmasq.pid" --listen-address 198.51.100.1 --port=0 \
        --dhcp-range 198.51.100.2,198.51.100.254 --dhcp-lease-max=253 --dhcp-no-override \
        --except-interface=lo --interface=lxcbr0 --dhcp-leasefile="$W/dnsmasq.leases" \
        --dhcp-authoritative --user=root --group=root || return 1
    for _ in $(seq 50); do [ -s "$W/dnsmasq.pid" ] && break; sleep 0.1; done
    DNSMASQ_PID=$(cat "$W/dnsmasq.pid" 2>/dev/null)
}

net_down() {
    if [ -n "$DNSMASQ_PID" ] && [ "$(cat /proc/"$DNSMASQ_PID"/comm 2>/dev/null)" = dnsmasq ]; then
        kill "$DNSMASQ_PID" 2>/dev/null
    fi
    ip netns delete "$NS" 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# rlxc's tools first on PATH, its templates where the tools look for them

rlxc_setup() {
    # Wrappers, not links: bound over /usr/bin/lxc-X a link would make rlxc believe it is
    # installed in /usr (it finds its templates next to /proc/self/exe).
    for t in "$PREFIX"/bin/lxc-*; do
        [ -e "$t" ] || continue
        printf '#!/bin/sh\nexec %s "$@"\n' "$t" >"$W/bin-rlxc/$(basename "$t")"
        chmod +x "$W/bin-rlxc/$(basename "$t")"
    done
    # Every LXC tool rlxc does not install fails loudly instead of falling back to /usr/bin.
    for t in /usr/bin/lxc-*; do
        n=$(basename "$t")
        case $n in lxc-test-*) continue ;; esac
        [ -e "$W/bin-rlxc/$n" ] && continue
        printf '#!/bin/sh\necho "%s: not installed by rlxc (%s)" >&2\nexit 127\n' "$n" "$PREFIX" >"$W/bin-rlxc/$n"
        chmod +x "$W/bin-rlxc/$n"
    done
    if [ -n "$(ls -A "$PREFIX/share/rlxc/templates" 2>/dev/null)" ]; then
        mkdir -p "$W/templates"
        cp -a /usr/share/lxc/templates/. "$W/templates/"
        cp -a "$PREFIX/share/rlxc/templates/." "$W/templates/"
    fi
}

# ---------------------------------------------------------------------------------------------
# leftovers between tests

containers() { ls -A /var/lib/lxc 2>/dev/null | sort; }

clean_leftovers() { # IMPL BEFORE-LIST TEST
    local impl=$1 before=$2 bin=/usr/bin n
    [ "$impl" = rlxc ] && bin=$W/bin-rlxc
    for n in $(containers | comm -13 "$before" -); do
        [ -e "/var/lib/lxc/$n/config" ] || [ -d "/var/lib/lxc/$n" ] || continue
        # Only the test's own containers: others may use /var/lib/lxc at the same time.
        grep -qF -- "$n" "/usr/bin/lxc-test-$3" 2>/dev/null || { say "$impl: not touching $n (not named by the test)"; continue; }
        say "$impl: removing leftover container $n"
        nsenter --net="/run/netns/$NS" timeout 30 "$bin/lxc-stop" -n "$n" -k >/dev/null 2>&1
        # a monitor the tool could not stop was started by this test: end it by pid
        for p in $(pgrep -f "^\[lxc monitor\] /var/lib/lxc $n\$"); do kill -9 "$p" 2>/dev/null; done
        nsenter --net="/run/netns/$NS" timeout 30 "$bin/lxc-destroy" -n "$n" -f >/dev/null 2>&1
        if [ -d "/var/lib/lxc/$n" ]; then
            grep -o " /var/lib/lxc/$n[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
            rm -rf --one-file-system "/var/lib/lxc/$n"
        fi
    done
}

# LXC's cgroups at the hierarchy roots: lxc.monitor.NAME, lxc.payload.NAME, lxc.pivot.
lxc_cgroups() { ls -d /sys/fs/cgroup/*/lxc.* /sys/fs/cgroup/lxc.* 2>/dev/null | sort; }

clean_cgroups() { # IMPL BEFORE-LIST TEST: report and remove the empty cgroups the test left
    local impl=$1 before=$2 d n
    for d in $(lxc_cgroups | comm -13 "$before" -); do
        n=${d##*/}
        case $n in
        lxc.pivot) ;;
        lxc.monitor.* | lxc.payload.*)
            n=${n#lxc.monitor.}; n=${n#lxc.payload.}; n=${n%-[0-9]*}
            # only the test's own containers: others may run containers at the same time
            grep -qF -- "$n" "/usr/bin/lxc-test-$3" 2>/dev/null || continue ;;
        *) continue ;;
        esac
        say "$impl: lxc-test-$3 left cgroup $d"
        echo "$3 $d" >>"$W/cgroups-left.$impl"
        find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        [ -d "$d" ] && say "$impl: could not remove cgroup $d (not empty)"
    done
}

cleanup() {
    trap '' INT TERM HUP
    say "cleaning up"
    net_down
    restore_host
    if [ "$KEEP_LOGS" = 0 ]; then rm -rf "$W"; else say "work dir kept: $W"; fi
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM HUP

# ---------------------------------------------------------------------------------------------

# Runs one test inside the test netns, in a private mount namespace: /sys/class/net shows that
# netns (LXC checks the bridge there), and for rlxc its templates cover Debian's.
cat >"$W/inns.sh" <<'EOF'
set -e
# A sysfs of the test netns on /sys (LXC looks for the bridge in /sys/class/net), with the host's
# submounts (cgroups, securityfs, ...) bound back on it. A whole fresh sysfs, not binds over
# /sys/class/net: the kernel lets unprivileged containers mount sysfs only while some sysfs in
# the namespace is fully visible.
old=$(mktemp -d "$W/sys.XXXXXX")
mount --rbind /sys "$old"
umount -l /sys
mount -t sysfs sysfs /sys
awk -v o="$old/" 'index($5, o) == 1 { print substr($5, length(o) + 1) }' /proc/self/mountinfo | sort |
    awk 'BEGIN { last = "" } last == "" || index($0, last "/") != 1 { print; last = $0 }' |
    while read -r sub; do
        [ -d "/sys/$sub" ] && mount --rbind "$old/$sub" "/sys/$sub"
    done
umount -l "$old"; rmdir "$old"
[ -z "$TMPL" ] || mount --bind "$TMPL" /usr/share/lxc/templates
# rlxc: its tools (or the loud stubs) bound over /usr/bin/lxc-*, because tests that switch user
# (`sudo -i -u`) get a fresh PATH and would otherwise run Debian's tools.
if [ -n "$RLXC_BIN" ]; then
    for f in /usr/bin/lxc-*; do
        n=${f##*/}
        case $n in lxc-test-*) continue ;; esac
        [ -e "$RLXC_BIN/$n" ] && mount --bind "$RLXC_BIN/$n" "$f"
    done
    # lxc-test-usernic runs LXC's helper by path: rlxc's setuid lxc-user-nic over it.
    if [ -n "$RLXC_USER_NIC" ] && [ -e /usr/libexec/lxc/lxc-user-nic ]; then
        mount --bind "$RLXC_USER_NIC" /usr/libexec/lxc/lxc-user-nic
    fi
fi
# On this shared machine a test leaked a read-only devpts onto the host's /dev/pts (and later the
# host's devpts superblock became read-only), which makes every console setup fail. Then this
# namespace gets its own devpts instance and /dev/ptmx: same for LXC and rlxc, host untouched.
if awk '$5 == "/dev/pts" { l = $0 } END { exit !(l ~ / - devpts [^ ]+ ro,/) }' /proc/self/mountinfo; then
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
    mount --bind /dev/pts/ptmx /dev/ptmx
fi
set +e
exec timeout -k 10 "$TO" "$1"
EOF

if awk '$5 == "/dev/pts" { l = $0 } END { exit !(l ~ / - devpts [^ ]+ ro,/) }' /proc/self/mountinfo; then
    say "WARNING: the host's /dev/pts is a read-only devpts (leaked by some test, not ours):"
    say "WARNING: the tests get their own devpts instance in their namespaces; the host keeps it"
fi
snapshot
net_up || { say "cannot set up the netns $NS with lxcbr0 and dnsmasq"; exit 2; }
case " $IMPLS " in *" rlxc "*)
    rlxc_setup
    [ -x "$PREFIX/bin/rlxc" ] || say "WARNING: $PREFIX/bin/rlxc is missing: every rlxc test will fail (make install PREFIX=$PREFIX)"
    ;;
esac

run_one() { # IMPL TEST -> sets RES
    local impl=$1 t=$2 log=$LOGS/$1/$2.log before=$W/containers.before rc start end path
    containers >"$before"
    lxc_cgroups >"$W/cgroups.before"
    path=/usr/sbin:/usr/bin:/sbin:/bin
    [ "$impl" = rlxc ] && path=$W/bin-rlxc:$path
    start=$(date +%s.%N)
    local tmpl= rbin=
    [ "$impl" = rlxc ] && [ -d "$W/templates" ] && tmpl=$W/templates
    [ "$impl" = rlxc ] && rbin=$W/bin-rlxc
    nsenter --net="/run/netns/$NS" unshare --mount --propagation slave \
        env -i PATH="$path" HOME=/root TERM=dumb LANG=C.UTF-8 W="$W" TMPL="$tmpl" RLXC_BIN="$rbin" TO="$TIMEOUT" \
        RLXC_USER_NIC="$([ "$impl" = rlxc ] && [ -x "$PREFIX/libexec/rlxc/lxc-user-nic" ] && echo "$PREFIX/libexec/rlxc/lxc-user-nic")" \
        sh "$W/inns.sh" "/usr/bin/lxc-test-$t" </dev/null >"$log" 2>&1
    rc=$?
    end=$(date +%s.%N)
    clean_leftovers "$impl" "$before" "$t"
    clean_cgroups "$impl" "$W/cgroups.before" "$t"
    local secs; secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    if [ $rc = 0 ]; then
        RES="pass"; grep -q '^SKIP' "$log" && RES="skip"
    elif [ $rc = 124 ] || [ $rc = 137 ]; then RES="TIMEOUT"
    else RES="FAIL($rc)"
    fi
    RES="$RES ${secs}s"
}

declare -A R
for t in "${TESTS[@]}"; do
    [ -x "/usr/bin/lxc-test-$t" ] || { say "no such test lxc-test-$t"; continue; }
    for impl in $IMPLS; do
        say "$impl: lxc-test-$t"
        run_one "$impl" "$t"
        R[$impl,$t]=$RES
        say "$impl: lxc-test-$t: $RES"
    done
done

# ---------------------------------------------------------------------------------------------
# report

echo
echo "LXC shell tests (lxc-tests $(dpkg-query -W -f='${Version}' lxc-tests 2>/dev/null)), $(date -u '+%Y-%m-%d %H:%M') UTC, timeout ${TIMEOUT}s"
printf '%-24s %-18s %-18s %s\n' test "LXC 5.0.2" rlxc "target"
printf '%-24s %-18s %-18s %s\n' ------------------------ ------------------ ------------------ ------
declare -A PASS FAIL SKIP
tfail=0
for t in "${TESTS[@]}"; do
    [ -x "/usr/bin/lxc-test-$t" ] || continue
    tgt=""; case " $TARGETS " in *" $t "*) tgt=yes ;; esac
    printf '%-24s %-18s %-18s %s\n' "$t" "${R[lxc,$t]:--}" "${R[rlxc,$t]:--}" "$tgt"
    for impl in $IMPLS; do
        case ${R[$impl,$t]} in pass*) PASS[$impl]=$(( ${PASS[$impl]:-0} + 1 )) ;;
        skip*) SKIP[$impl]=$(( ${SKIP[$impl]:-0} + 1 )) ;;
        *) FAIL[$impl]=$(( ${FAIL[$impl]:-0} + 1 )); [ "$impl" = rlxc ] && [ -n "$tgt" ] && tfail=$((tfail + 1)) ;;
        esac
    done
done
echo
for impl in $IMPLS; do
    left=$(cat "$W/cgroups-left.$impl" 2>/dev/null | awk '{print $1}' | sort | uniq -c | awk '{printf "%s%s (%s dirs)", sep, $2, $1; sep=", "}')
    label=$impl; [ "$impl" = lxc ] && label=LXC
    echo "cgroups left at the hierarchy roots (removed by this runner): $label: ${left:-none}"
done
echo "logs: $LOGS/<impl>/<test>.log"
case " $IMPLS " in *" lxc "*) echo "LXC: ${PASS[lxc]:-0} passed, ${FAIL[lxc]:-0} failed, ${SKIP[lxc]:-0} skipped" ;; esac
case " $IMPLS " in *" rlxc "*)
    echo "rlxc targets failing: $tfail; rlxc skipped: ${SKIP[rlxc]:-0}"
    echo "${PASS[rlxc]:-0} passed, ${FAIL[rlxc]:-0} failed"
    [ $tfail = 0 ] || exit 1
    ;;
esac
exit 0
