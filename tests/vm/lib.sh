# Shared by the tests/vm/*.sh scripts that run one integration test target in the VM (sourced,
# from the repository root).

# test_binary SCRIPT PACKAGE TARGET: build the test binary of TARGET in PACKAGE here on the host
# (the guest runs host binaries through the shared tree) and print its path.
test_binary() {
    local bin
    bin=$(cargo test -p "$2" --test "$3" --no-run --message-format=json 2>/dev/null |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n1)
    [ -x "$bin" ] || { echo "$1: cannot build the $3 test binary of $2" >&2; exit 1; }
    echo "$bin"
}

# need_installed_tools SCRIPT: the container tests use the tools installed in target/prefix.
need_installed_tools() {
    [ -x "$PWD/target/prefix/bin/rlxc" ] ||
        { echo "$1: run make install PROFILE=debug PREFIX=\$PWD/target/prefix first" >&2; exit 1; }
}
