#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (FUZZ_SECONDS each, default 20).
# Each target's corpus lives in corpus/TARGET (git-ignored); seeds/TARGET (committed) is read too.
set -euo pipefail
cd "$(dirname "$0")"
secs=${FUZZ_SECONDS:-20}
targets=$(cargo +nightly fuzz list 2>/dev/null || true)
if [ -z "$targets" ]; then echo "fuzz: no targets yet"; exit 0; fi
for t in $targets; do
  echo "fuzz: $t for ${secs}s"
  mkdir -p "corpus/$t"
  dirs=("corpus/$t")
  if [ -d "seeds/$t" ]; then dirs+=("seeds/$t"); fi
  # Safe Rust only: no sanitizer needed, and without ASan the runs are ~10x faster.
  cargo +nightly fuzz run --sanitizer "${FUZZ_SANITIZER:-none}" "$t" "${dirs[@]}" -- -max_total_time="$secs" -rss_limit_mb=2048 >"/tmp/fuzz-$t.log" 2>&1 || { tail -40 "/tmp/fuzz-$t.log"; exit 1; }
done
