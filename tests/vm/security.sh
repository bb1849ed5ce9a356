#!/usr/bin/env bash
# The AppArmor part of the security suite, run inside ../shared/tools/vm-run (Debian bookworm
# VM with AppArmor enabled and apparmor_parser installed). Test binaries are built here on the
# host and run in ONE boot, serially (the VM is emulated and slow). Needs the installed tools:
# `make install PROFILE=debug PREFIX=$PWD/target/prefix` first.
#
#   tests/vm/security.sh                      AppArmor container tests + process-level confinement
#   VM_FILTER=generated tests/vm/security.sh  only tests whose name contains "generated"
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VM_RUN=${VM_RUN:-$ROOT/../shared/tools/vm-run}
VM_FILTER=${VM_FILTER:-}
VM_TIMEOUT=${VM_TIMEOUT:-900}

json=$(cargo test --no-run -p rlxc-suite --test security_apparmor --message-format=json 2>/dev/null)
secjson=$(cargo test --no-run -p rlxc-security --test confine_process --message-format=json 2>/dev/null)
bins=$(printf '%s\n%s\n' "$json" "$secjson" | grep -o '"executable":"[^"]*"' | sed 's/"executable":"//; s/"$//' | sort -u)
if [ -z "$bins" ]; then
    echo "vm security: no test binaries built (cargo test --no-run failed?)" >&2
    exit 1
fi
[ -x "$ROOT/target/prefix/bin/rlxc" ] || { echo "vm security: run make install PROFILE=debug PREFIX=\$PWD/target/prefix first" >&2; exit 1; }

script=$(mktemp "$ROOT/target/vm-security.XXXXXX.sh")
trap 'rm -f "$script"' EXIT
{
    echo 'set -u; rc=0; cd '"$ROOT"
    echo 'echo "vm security: kernel $(uname -r), LSMs: $(cat /sys/kernel/security/lsm)"'
    echo 'mkdir -p /var/cache/lxc/apparmor'
    for b in $bins; do
        echo "echo '=== $(basename "$b")'; $b --test-threads=1 $VM_FILTER || rc=1"
    done
    # LXC's own shell test, with rlxc's tools first on PATH (copied from Debian's lxc-tests).
    if [ "${VM_LXC_SHELL_TESTS:-1}" = 1 ] && [ -x /usr/bin/lxc-test-procsys ]; then
        mkdir -p "$ROOT/target/vm-lxc-tests"
        cp /usr/bin/lxc-test-procsys "$ROOT/target/vm-lxc-tests/"
        echo "echo '=== lxc-test-procsys (rlxc tools first on PATH)'"
        echo "PATH=$ROOT/target/prefix/bin:\$PATH bash $ROOT/target/vm-lxc-tests/lxc-test-procsys && echo 'lxc-test-procsys: PASS' || { echo 'lxc-test-procsys: FAIL'; rc=1; }"
    fi
    echo 'exit $rc'
} >"$script"
exec "$VM_RUN" --timeout "$VM_TIMEOUT" --share "$ROOT" --share "$(cd "$ROOT/../shared" && pwd)" \
    -e CI -e RUST_BACKTRACE -e RLXC_PREFIX -- bash "$script"
