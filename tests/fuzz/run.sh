#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz/fuzz_<name>.cpp, built by CMake with SQUINT_FUZZ=ON in the shared
# sanitizer build, see scripts/build-sanitize.sh). Fails on any crash, leak or UB report; prints executions.
#
# Two modes, because a gate and a search want different things:
# - default (the test suite, CI): a fixed number of executions (FUZZ_RUNS, default 150000, ~10-20 s per target
#   on 2 cores) from a fixed seed over the generated seeds + tests/fuzz/regressions/: the same inputs every run,
#   so the gate is reproducible and a red CI is a regression, not the luck of the draw.
# - exploration: FUZZ_SECONDS=N runs each target for N seconds from a random seed (FUZZ_SEED to fix it). Do this
#   before landing a parser change (e.g. FUZZ_SECONDS=300); every crash it finds is fixed and its input added to
#   tests/fuzz/regressions/<target>/, which makes it part of the gate. FUZZ_ONLY="plan gguf" runs some targets.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${ASAN_BUILD:-build-asan}
scripts/build-sanitize.sh fuzz_all >/dev/null
python3 tests/fuzz/make_seeds.py "$B/fuzz/seeds"
if [[ -n "${FUZZ_SECONDS:-}" ]]; then
  limit=(-max_total_time="$FUZZ_SECONDS" -seed="${FUZZ_SEED:-0}"); what="${FUZZ_SECONDS}s"
else
  limit=(-runs="${FUZZ_RUNS:-150000}" -seed="${FUZZ_SEED:-1}"); what="a fixed-seed run"
fi
status=0
for src in tests/fuzz/fuzz_*.cpp; do
  t=$(basename "$src" .cpp); t=${t#fuzz_}
  [[ -n "${FUZZ_ONLY:-}" && " $FUZZ_ONLY " != *" $t "* ]] && continue
  corpus="$B/fuzz/corpus/$t"
  # The gate starts from the same corpus every time (a kept corpus would change what a fixed seed explores).
  [[ -z "${FUZZ_SECONDS:-}" ]] && rm -rf "$corpus"
  mkdir -p "$corpus"
  cp -n "$B/fuzz/seeds/$t/"* "$corpus/" 2>/dev/null || true
  # Inputs that once crashed a target (kept as regressions) are part of every run's corpus.
  cp -n tests/fuzz/regressions/$t/* "$corpus/" 2>/dev/null || true
  log="$B/fuzz/fuzz_$t.log"
  start=$SECONDS
  if ! "$B/fuzz/fuzz_$t" "${limit[@]}" -max_len=8192 -rss_limit_mb=2048 -timeout=10 \
       -artifact_prefix="$B/fuzz/crash-$t-" "$corpus" 2>"$log"; then
    echo "fuzz_$t FAILED:"; grep -v -E "^#[0-9]+" "$log" | tail -40; status=1
  else
    execs=$(grep -Eo "Done [0-9]+ runs" "$log" | grep -Eo "[0-9]+" || echo "?")
    echo "fuzz_$t: $execs executions ($what, $((SECONDS - start)) s), no crash"
  fi
done
exit $status
