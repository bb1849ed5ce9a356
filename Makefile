# rlxc: build, install, demo and the whole test suite.
#   make deps      install the Debian packages and cargo tools rlxc needs (root, idempotent)
#   make demo      deps + release build + install into target/prefix + the main job (busybox)
#   make check     the whole test suite (what .ci/run runs): lint, tests, LXC's shell tests, fuzz, VM
#   make install   PREFIX=/usr/local (DESTDIR honoured)

PREFIX ?= /usr/local
PROFILE ?= release
DESTDIR ?=
CARGO ?= cargo
TEST_PREFIX := $(CURDIR)/target/prefix

# Debian packages: build needs, runtime helpers, and Debian's LXC as the reference we test against.
DEB_PACKAGES := build-essential pkg-config libseccomp-dev libcap-dev busybox-static iproute2 \
	iputils-ping bridge-utils dnsmasq-base uidmap tmux strace apparmor lxc lxc-tests lxc-dev \
	python3-lxc hyperfine zstd debootstrap btrfs-progs rsync e2fsprogs python3 util-linux sudo kmod xz-utils wget gnupg skopeo umoci jq

.PHONY: all build deps install demo check test lint fuzz-check vm-check compat bench clean

all: build

build:
	$(CARGO) build --release --workspace

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@# vm-run needs qemu-system-x86; the machine's backported qemu-utils conflicts with bookworm's
	@# qemu, so take both from bookworm.
	@dpkg-query -W -f='$${Status}\n' qemu-system-x86 2>/dev/null | grep -q '^install ok installed' || \
		{ apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades qemu-system-x86 \
		qemu-utils/bookworm qemu-system-common/bookworm; }
	@rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install --locked cargo-fuzz

# init.lxc is bind-mounted into containers whose rootfs may have no libc: link it statically.
# Its own target dir and an explicit --target keep the static RUSTFLAGS away from the main build.
HOST_TRIPLE := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
STATIC_INIT := target/static/$(HOST_TRIPLE)/$(PROFILE)/init-lxc

install:
	$(CARGO) build $(if $(filter release,$(PROFILE)),--release) --workspace
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build $(if $(filter release,$(PROFILE)),--release) \
		-p rlxc-init --target $(HOST_TRIPLE) --target-dir target/static
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/rlxc
	install -m 0755 target/$(PROFILE)/rlxc $(DESTDIR)$(PREFIX)/bin/rlxc
	for t in $$(target/$(PROFILE)/rlxc tools); do ln -sf rlxc $(DESTDIR)$(PREFIX)/bin/$$t; done
	install -m 0755 $(STATIC_INIT) $(DESTDIR)$(PREFIX)/sbin/init.lxc
	@# lxc-user-nic is setuid root (as LXC's): users' containers get veth devices through it,
	@# within the quotas of /etc/lxc/lxc-usernet. The start path looks for it here.
	install -d $(DESTDIR)$(PREFIX)/libexec/rlxc
	install -m 4755 target/$(PROFILE)/lxc-user-nic $(DESTDIR)$(PREFIX)/libexec/rlxc/lxc-user-nic
	rm -rf $(DESTDIR)$(PREFIX)/share/rlxc/templates $(DESTDIR)$(PREFIX)/share/rlxc/config
	cp -r templates $(DESTDIR)$(PREFIX)/share/rlxc/templates
	cp -r config $(DESTDIR)$(PREFIX)/share/rlxc/config
	chmod 0755 $(DESTDIR)$(PREFIX)/share/rlxc/templates/* 2>/dev/null || true

demo: deps
	$(MAKE) install PREFIX=$(TEST_PREFIX)
	./bench/demo.sh $(TEST_PREFIX)

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test:
	$(MAKE) install PREFIX=$(TEST_PREFIX)
	rm -f target/skipped.txt
	$(CARGO) test --workspace --no-fail-fast -- --test-threads=1
	@if [ -s target/skipped.txt ]; then echo "=== skipped tests:"; cat target/skipped.txt; fi

fuzz-check:
	./fuzz/run-bounded.sh

vm-check:
	./tests/vm/run.sh
	./tests/vm/net.sh
	./tests/vm/ovs.sh
	./tests/vm/security.sh
	./tests/vm/apparmor_mount.sh
	./tests/vm/unpriv_cgroup2.sh
	./tests/vm/selinux.sh
	./tests/vm/storage.sh
	@# Debian bookworm (systemd) boots, runs apt and shuts down cleanly in the pure cgroup2 VM.
	$(CARGO) test --test distro_debian -- --ignored --exact debian_in_the_cgroup2_vm

# LXC's own shell tests (package lxc-tests) against rlxc and Debian's LXC, side by side (~5 min).
compat:
	$(MAKE) install PREFIX=$(TEST_PREFIX)
	./tests/compat/run.sh --prefix $(TEST_PREFIX)

# rlxc vs Debian's LXC, interleaved, ratios (release build).
bench:
	$(MAKE) install PREFIX=$(CURDIR)/target/bench-prefix
	./bench/run.sh --prefix target/bench-prefix

check: deps lint test compat fuzz-check vm-check

clean:
	$(CARGO) clean
