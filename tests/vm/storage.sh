#!/usr/bin/env bash
# The block-device storage backends, lvm and nbd, in ../shared/tools/vm-run: this host's kernel
# has neither device-mapper nor nbd. The guest image gets lvm2, thin-provisioning-tools, fdisk and
# qemu-utils (in a cache of its own, so the other VM scripts' image is not rebuilt); the tests
# make their own volume group on a loop device and their own qcow2 image, and remove them.
# One boot runs both targets. Needs the installed tools
# (`make install PROFILE=debug PREFIX=$PWD/target/prefix`).
#   tests/vm/storage.sh            # from the repository root
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
. tests/vm/lib.sh
lvm=$(test_binary storage.sh rlxc-suite storage_lvm)
nbd=$(test_binary storage.sh rlxc-suite storage_nbd)
need_installed_tools storage.sh
export VM_RUN_CACHE=${VM_RUN_STORAGE_CACHE:-/var/cache/vm-run-storage}
export VM_RUN_EXTRA_PACKAGES="lvm2 thin-provisioning-tools qemu-utils fdisk"
exec "${VM_RUN:-$ROOT/../shared/tools/vm-run}" --timeout "${VM_TIMEOUT:-900}" \
  --modules dm_mod,dm_snapshot,dm_thin_pool,nbd \
  --share "$ROOT" --share "$(cd "$ROOT/../shared" && pwd)" -e CI -e RUST_BACKTRACE -e RLXC_PREFIX -- \
  bash -c 'rc=0; for b in "$@"; do echo "=== $(basename "$b")"; "$b" --ignored --test-threads=1 || rc=1; done; exit $rc' \
  storage "$lvm" "$nbd"
