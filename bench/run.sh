#!/bin/sh
# rlxc vs LXC benchmark, one interleaved run. As root:
#   bench/run.sh [--runs N] [--prefix DIR] [--lxc-bindir DIR] [--batch N] [--density [N]] [--only rlxc|lxc] [--json FILE]
# See bench/README.md.
exec /usr/bin/python3 "$(dirname "$0")/bench.py" "$@"
