#!/usr/bin/env bash
# The main job: create a busybox container, start it, run a command in it, stop and destroy it,
# with the rlxc tools installed in the prefix given as $1 (default /usr/local).
# Uses a private lxcpath so nothing touches /var/lib/lxc; everything is removed at the end,
# also on failure.
set -euo pipefail
prefix=${1:-/usr/local}
bin=$prefix/bin
[ -x "$bin/rlxc" ] || { echo "demo: rlxc is not installed in $prefix" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "demo: must run as root (containers are privileged)" >&2; exit 1; }

lxcpath=$(mktemp -d /tmp/rlxc-demo.XXXXXX)
name=demo
cleanup() {
    "$bin/lxc-stop" -P "$lxcpath" -n "$name" -k >/dev/null 2>&1 || true
    "$bin/lxc-destroy" -P "$lxcpath" -n "$name" -f >/dev/null 2>&1 || true
    rm -rf "$lxcpath"
}
trap cleanup EXIT

step() { printf '\n$ %s\n' "$*"; "$@"; }

"$bin/rlxc" --version
step "$bin/lxc-create" -P "$lxcpath" -n "$name" -t busybox
step "$bin/lxc-start" -P "$lxcpath" -n "$name"
step "$bin/lxc-info" -P "$lxcpath" -n "$name"
step "$bin/lxc-attach" -P "$lxcpath" -n "$name" -- /bin/sh -c 'echo "hello from $(hostname), pid 1 is $(cat /proc/1/comm)"; uname -r'
step "$bin/lxc-ls" -P "$lxcpath" -f
step "$bin/lxc-stop" -P "$lxcpath" -n "$name"
step "$bin/lxc-info" -P "$lxcpath" -n "$name" -s
step "$bin/lxc-destroy" -P "$lxcpath" -n "$name"
printf '\ndemo: create -> start -> attach -> stop -> destroy: OK\n'
