#!/usr/bin/env bash
# The lvm storage backend, in ../shared/tools/vm-run: this host's kernel has no device-mapper.
# The guest image gets lvm2 and thin-provisioning-tools (in its own cache, so the other VM
# scripts' image is not rebuilt); the tests make their own volume group on a loop device and
# remove it. Needs the installed tools (`make install PROFILE=debug PREFIX=$PWD/target/prefix`).
#   tests/vm/lvm.sh            # from the repository root
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
. tests/vm/lib.sh
bin=$(test_binary lvm.sh rlxc-suite storage_lvm)
need_installed_tools lvm.sh
export VM_RUN_CACHE=${VM_RUN_LVM_CACHE:-/var/cache/vm-run-lvm}
export VM_RUN_EXTRA_PACKAGES="lvm2 thin-provisioning-tools"
exec "${VM_RUN:-$ROOT/../shared/tools/vm-run}" --timeout "${VM_TIMEOUT:-900}" --modules dm_mod,dm_snapshot,dm_thin_pool \
  --share "$ROOT" --share "$(cd "$ROOT/../shared" && pwd)" -e CI -e RUST_BACKTRACE -e RLXC_PREFIX -- \
  "$bin" --ignored --test-threads=1
