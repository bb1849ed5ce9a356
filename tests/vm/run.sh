#!/usr/bin/env bash
# The pure-cgroup2 / AppArmor part of the suite, run inside ../shared/tools/vm-run (a Debian
# bookworm VM with every cgroup2 controller and AppArmor). The test binaries are built here on
# the host (debug, shared into the guest through 9p) and run in ONE boot, serially (the VM is
# emulated and slow). Add an integration test target to VM_TESTS to run it there too.
#
#   tests/vm/run.sh                 build + run every target in VM_TESTS in the VM
#   VM_TESTS="cgroup_v2" tests/vm/run.sh
#   VM_FILTER=freeze tests/vm/run.sh   only tests whose name contains "freeze"
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VM_RUN=${VM_RUN:-$ROOT/../shared/tools/vm-run}
VM_TESTS=${VM_TESTS:-cgroup_v2 cgroup_container commands_cgroup2 tools_top lifecycle_config}
# Start/stop cycles of the leak test in the VM (spawning is ~35x slower there than here).
export RLXC_CG_CYCLES=${RLXC_CG_CYCLES:-5}
VM_FILTER=${VM_FILTER:-}
# Per target, the tests worth their time in the emulated VM (empty = all of the target).
# cgroup_container: the cgroup2 behaviour of real containers that cgroup_v2 cannot show (eBPF
# rules from the config and live updates through the monitor, the FREEZE command, pids.max, the
# auto-mount variants: pure cgroup2 pre-mounts cgroup2); the OOM hog, tool corner cases and the
# start/stop leak loop run on the host suite (container starts are slow in the emulated VM).
# lifecycle_config: a root-started container with lxc.idmap under AppArmor (its console pty
# belongs to the container's root, opened after the switch).
declare -A VM_SELECT=(
    [lifecycle_config]="idmap_runs_init_as_the_mapped_root"
    [cgroup_container]="pids_max_stops_a_fork_bomb cpu_quota_throttles_a_busy_loop ebpf_device_rules_apply_inside_the_container lxc_cgroup_devices_allow_updates_the_live_ebpf_program freeze_and_unfreeze mount_auto_cgroup_variants delegated_payload_lets_the_container_root_make_cgroups"
)
VM_TIMEOUT=${VM_TIMEOUT:-900}

args=()
for t in $VM_TESTS; do args+=(--test "$t"); done
# Unit tests of the eBPF wrappers run against the guest's kernel too.
json=$(cargo test --no-run -p rlxc-suite "${args[@]}" --message-format=json 2>/dev/null)
sysjson=$(cargo test --no-run -p rlxc-sys --lib --message-format=json 2>/dev/null)
all=$(printf '%s\n%s\n' "$json" "$sysjson" | grep -o '"executable":"[^"]*"' | sed 's/"executable":"//; s/"$//' | sort -u)
# Fast checks first, then the targets in VM_TESTS order (so a slow VM still runs the essentials).
bins=$(echo "$all" | grep '/rlxc_sys-' || true)
for t in $VM_TESTS; do bins="$bins $(echo "$all" | grep "/${t}-[0-9a-f]*$" || true)"; done
if [ -z "${bins// }" ]; then
    echo "vm-check: no test binaries built (cargo test --no-run failed?)" >&2
    exit 1
fi

script=$(mktemp "$ROOT/target/vm-check.XXXXXX.sh")
trap 'rm -f "$script"' EXIT
{
    echo 'set -u; rc=0; cd '"$ROOT"
    echo 'echo "vm-check: kernel $(uname -r), cgroup: $(stat -fc %T /sys/fs/cgroup)"'
    for b in $bins; do
        case "$b" in
        */rlxc_sys-*) echo "echo '=== $(basename "$b") (bpf)'; $b bpf --test-threads=1 || rc=1" ;;
        *)
            target=$(basename "$b" | sed 's/-[0-9a-f]*$//')
            sel=${VM_FILTER:-${VM_SELECT[$target]:-}}
            echo "echo '=== $(basename "$b")'; $b --test-threads=1 $sel || rc=1"
            ;;
        esac
    done
    echo 'exit $rc'
} >"$script"
echo "vm-check: running $(echo "$bins" | wc -w) test binaries in the VM"
# The container tests need the installed tools (target/prefix, `make install PREFIX=target/prefix`)
# and ../shared/tools/rootfs: share both trees.
exec "$VM_RUN" --timeout "$VM_TIMEOUT" --share "$ROOT" --share "$(cd "$ROOT/../shared" && pwd)" \
    -e CI -e RUST_BACKTRACE -e RLXC_CG_CYCLES -e RLXC_PREFIX -- bash "$script"
