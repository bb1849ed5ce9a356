#!/usr/bin/env bash
# veth on an Open vSwitch bridge, in ../shared/tools/vm-run: this host's kernel has no
# openvswitch module. The guest image gets Debian's openvswitch-switch; the test starts its own
# ovsdb-server and ovs-vswitchd inside a test network namespace and stops them.
#   tests/vm/ovs.sh            # from the repository root
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
bin=$(test_binary ovs.sh rlxc-net netns)
export VM_RUN_EXTRA_PACKAGES="openvswitch-switch"
exec "${VM_RUN:-$PWD/../shared/tools/vm-run}" --modules openvswitch -e CI=true -- "$bin" --include-ignored \
  --test-threads=1 --exact veth_on_an_openvswitch_bridge
