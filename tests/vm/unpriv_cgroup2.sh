#!/usr/bin/env bash
# A user's unprivileged container on a pure cgroup2 host (../shared/tools/vm-run, AppArmor on):
# the administrator delegates a cgroup to the user (as systemd's Delegate=yes does) and loads
# rlxc's AppArmor profiles; the user creates, starts, attaches, stops and destroys a busybox
# container. Checks: init runs as the mapped root on the host, the monitor and payload cgroups
# live below the delegated cgroup and are gone afterwards.
# Needs the installed tools first: `make install PROFILE=debug PREFIX=$PWD/target/prefix`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VM_RUN=${VM_RUN:-$ROOT/../shared/tools/vm-run}
P=$ROOT/target/prefix
[ -x "$P/bin/rlxc" ] || { echo "vm unpriv: run make install PROFILE=debug PREFIX=\$PWD/target/prefix first" >&2; exit 1; }
script=$(mktemp "$ROOT/target/vm-unpriv.XXXXXX.sh")
trap 'rm -f "$script"' EXIT
cat >"$script" <<EOF
set -eu
fail() { echo "vm unpriv: FAIL: \$*"; exit 1; }
for f in $P/share/rlxc/config/apparmor/profiles/*; do
    apparmor_parser -r -I $P/share/rlxc/config/apparmor -I /etc/apparmor.d "\$f"
done
useradd -m -s /bin/sh u2
usermod -v 700000-709999 -w 700000-709999 u2
uid=\$(id -u u2)
mkdir -p /home/u2/.config/lxc /run/user/\$uid
printf 'lxc.net.0.type = empty\nlxc.idmap = u 0 700000 10000\nlxc.idmap = g 0 700000 10000\n' >/home/u2/.config/lxc/default.conf
chown -R u2: /home/u2 /run/user/\$uid
mkdir /sys/fs/cgroup/u2
chown -R u2: /sys/fs/cgroup/u2
as_user() {
    sh -c 'echo \$\$ >/sys/fs/cgroup/u2/cgroup.procs; cd /home/u2; exec "\$@"' sh \\
        setpriv --reuid=u2 --regid=u2 --init-groups env -i HOME=/home/u2 XDG_RUNTIME_DIR=/run/user/\$uid \\
        PATH=$P/bin:/usr/sbin:/usr/bin:/sbin:/bin "\$@"
}
as_user lxc-create -t busybox -n c1 >/dev/null || fail "lxc-create"
as_user lxc-start -n c1 -d || fail "lxc-start"
pid=\$(as_user lxc-info -n c1 -p -H)
[ "\$(awk '/^Uid:/ { print \$2 }' /proc/\$pid/status)" = 700000 ] || fail "init does not run as 700000"
[ -d /sys/fs/cgroup/u2/lxc.payload.c1 ] && [ -d /sys/fs/cgroup/u2/lxc.monitor.c1 ] || fail "no cgroups below the delegated one"
[ "\$(as_user lxc-attach -n c1 -- id -u)" = 0 ] || fail "lxc-attach"
as_user lxc-stop -n c1 -k || fail "lxc-stop"
as_user lxc-destroy -n c1 >/dev/null || fail "lxc-destroy"
[ -z "\$(find /sys/fs/cgroup/u2 -mindepth 1 -type d)" ] || fail "cgroups left: \$(find /sys/fs/cgroup/u2 -mindepth 1 -type d)"
[ -z "\$(ls -A /home/u2/.local/share/lxc)" ] || fail "container files left"
echo "vm unpriv: PASS"
EOF
exec "$VM_RUN" --timeout "${VM_TIMEOUT:-600}" --share "$ROOT" --share "$(cd "$ROOT/../shared" && pwd)" -- bash "$script"
