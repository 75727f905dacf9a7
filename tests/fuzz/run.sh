#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz/fuzz_<name>.cpp, built by CMake with SQUINT_FUZZ=ON in the shared
# sanitizer build, see scripts/build-sanitize.sh) for FUZZ_SECONDS each (default 20, to keep CI under 30 min; a longer local run is
# FUZZ_SECONDS=600). Fails on any crash, leak or UB report; prints executions per target.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-20}
B=${ASAN_BUILD:-build-asan}
scripts/build-sanitize.sh fuzz_all >/dev/null
python3 tests/fuzz/make_seeds.py "$B/fuzz/seeds"
status=0
for src in tests/fuzz/fuzz_*.cpp; do
  t=$(basename "$src" .cpp); t=${t#fuzz_}
  corpus="$B/fuzz/corpus/$t"
  mkdir -p "$corpus"
  cp -n "$B/fuzz/seeds/$t/"* "$corpus/" 2>/dev/null || true
  # Inputs that once crashed a target (kept as regressions) are part of every run's corpus.
  cp -n tests/fuzz/regressions/$t/* "$corpus/" 2>/dev/null || true
  log="$B/fuzz/fuzz_$t.log"
  if ! "$B/fuzz/fuzz_$t" -max_total_time="$SECS" -max_len=8192 -rss_limit_mb=2048 -timeout=10 \
       -artifact_prefix="$B/fuzz/crash-$t-" "$corpus" 2>"$log"; then
    echo "fuzz_$t FAILED:"; tail -40 "$log"; status=1
  else
    execs=$(grep -Eo "Done [0-9]+ runs" "$log" | grep -Eo "[0-9]+" || echo "?")
    echo "fuzz_$t: $execs executions in ${SECS}s, no crash"
  fi
done
exit $status
