#!/bin/sh
# rlxc vs LXC benchmark, one interleaved run. As root:
#   bench/run.sh [--runs N] [--prefix DIR] [--lxc-bindir DIR] [--batch N] [--density [N]] [--only rlxc|lxc] [--json FILE]
# See bench/README.md. The bench runs in a private (slave) mount namespace: a mount either
# implementation leaks stays out of the host's, and dies with the bench.
export BENCH_PRIVATE_MNTNS=1
exec unshare --mount --propagation slave /usr/bin/python3 "$(dirname "$0")/bench.py" "$@"
