#!/usr/bin/env bash
# Network tests that need kernel features this host lacks (ipvlan, vlan, mac80211_hwsim), run
# inside ../shared/tools/vm-run. Builds the rlxc-net test binary on the host, runs it in the VM.
#   tests/vm/net.sh            # from the repository root
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(cargo test -p rlxc-net --test netns --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n1)
[ -x "$bin" ] || { echo "net.sh: cannot build the rlxc-net netns test binary" >&2; exit 1; }
exec "${VM_RUN:-$PWD/../shared/tools/vm-run}" --modules mac80211_hwsim -e CI=true -- "$bin" --include-ignored --test-threads=1 \
  ipvlan_and_vlan wireless_phys veth_on_bridge
