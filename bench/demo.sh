#!/usr/bin/env bash
# The main job: validate a sample config (until the lifecycle lands).
set -euo pipefail
prefix=${1:-/usr/local}
"$prefix/bin/rlxc" --version
