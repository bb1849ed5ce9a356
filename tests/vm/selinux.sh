#!/usr/bin/env bash
# The SELinux part of the security suite, in ../shared/tools/vm-run: neither this host nor the
# default VM runs SELinux. The guest image gets Debian's reference policy (selinux-policy-default)
# and the kernel boots with SELinux as its LSM, permissive (the guest's files are unlabeled);
# the script mounts selinuxfs and loads the policy, then runs the ignored SELinux test of
# tests/security_container.rs. The image is kept in its own cache so the other VM scripts' image
# is not rebuilt. Needs the installed tools (`make install PROFILE=debug PREFIX=$PWD/target/prefix`).
#   tests/vm/selinux.sh            # from the repository root
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
. tests/vm/lib.sh
bin=$(test_binary selinux.sh rlxc-suite security_container)
need_installed_tools selinux.sh
# The guest has no C compiler: build the static probe the test copies into its containers here.
mkdir -p target/security-probe
cp tests/probes/security_probe.c target/security-probe/probe.c
cc -static -O1 -o target/security-probe/probe target/security-probe/probe.c
export VM_RUN_CACHE=${VM_RUN_SELINUX_CACHE:-/var/cache/vm-run-selinux}
export VM_RUN_EXTRA_PACKAGES="selinux-policy-default policycoreutils"
export VM_RUN_KERNEL_ARGS="lsm=lockdown,capability,selinux selinux=1 enforcing=0"
script='set -eu
mount -t selinuxfs selinuxfs /sys/fs/selinux
load_policy
echo "vm selinux: LSMs $(cat /sys/kernel/security/lsm), enforce=$(cat /sys/fs/selinux/enforce), context $(tr -d "\\0" < /proc/self/attr/current)"
exec "$0" --ignored --test-threads=1 --exact selinux_labels_init_its_keyring_and_attached_processes'
exec "${VM_RUN:-$ROOT/../shared/tools/vm-run}" --timeout "${VM_TIMEOUT:-600}" --share "$ROOT" \
  --share "$(cd "$ROOT/../shared" && pwd)" -e CI -e RUST_BACKTRACE -e RLXC_PREFIX -- bash -c "$script" "$bin"
