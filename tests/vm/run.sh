#!/usr/bin/env bash
# The pure-cgroup2 / AppArmor part of the suite, run inside ../shared/tools/vm-run.
set -euo pipefail
echo "vm-check: no VM tests yet"
