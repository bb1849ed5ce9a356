#!/usr/bin/env bash
# LXC's lxc-test-apparmor-mount (Debian's lxc-tests) against rlxc's tools, run as a user in a
# hybrid-cgroup VM with AppArmor (../shared/tools/vm-run --cgroup hybrid): the test needs v1
# cgroup directories to hand to its user, AppArmor with mount mediation, and a bridge lxcbr0.
# Needs the installed tools first: `make install PROFILE=debug PREFIX=$PWD/target/prefix`.
#
# The VM is throwaway, so the script may set it up freely: rlxc's AppArmor profiles loaded,
# lxcbr0, and a `sudo` stand-in (the VM has no sudo) that runs `sudo -i -u USER CMD...` as
# that user with rlxc's tools first on PATH.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VM_RUN=${VM_RUN:-$ROOT/../shared/tools/vm-run}
P=$ROOT/target/prefix
[ -x "$P/bin/rlxc" ] || { echo "vm apparmor-mount: run make install PROFILE=debug PREFIX=\$PWD/target/prefix first" >&2; exit 1; }
[ -x /usr/bin/lxc-test-apparmor-mount ] || { echo "vm apparmor-mount: lxc-tests is not installed" >&2; exit 1; }
mkdir -p "$ROOT/target/vm-lxc-tests"
cp /usr/bin/lxc-test-apparmor-mount "$ROOT/target/vm-lxc-tests/"

script=$(mktemp "$ROOT/target/vm-aamount.XXXXXX.sh")
trap 'rm -f "$script"' EXIT
cat >"$script" <<EOF
set -eu
cat >/usr/local/bin/sudo <<'SHIM'
#!/bin/sh
[ "\$1" = -i ] && [ "\$2" = -u ] || { echo "sudo stand-in: only 'sudo -i -u USER CMD...'" >&2; exit 1; }
u=\$3; shift 3
home=\$(getent passwd "\$u" | cut -d: -f6)
cd "\$home" 2>/dev/null || cd /
exec setpriv --reuid="\$u" --regid="\$(id -g "\$u")" --init-groups \\
    env -i HOME="\$home" USER="\$u" LOGNAME="\$u" SHELL=/bin/sh PATH="$P/bin:/usr/sbin:/usr/bin:/sbin:/bin" "\$@"
SHIM
chmod 0755 /usr/local/bin/sudo
for f in $P/share/rlxc/config/apparmor/profiles/*; do
    apparmor_parser -r -I $P/share/rlxc/config/apparmor -I /etc/apparmor.d "\$f"
done
ip link add lxcbr0 type bridge
ip addr add 198.51.100.1/24 dev lxcbr0
ip link set lxcbr0 up
mkdir -p /etc/lxc
echo "vm apparmor-mount: kernel \$(uname -r), LSMs: \$(cat /sys/kernel/security/lsm)"
PATH=$P/bin:\$PATH bash $ROOT/target/vm-lxc-tests/lxc-test-apparmor-mount
EOF
exec "$VM_RUN" --cgroup hybrid --timeout "${VM_TIMEOUT:-600}" --share "$ROOT" --share "$(cd "$ROOT/../shared" && pwd)" \
    -e CI -e RUST_BACKTRACE -- bash "$script"
