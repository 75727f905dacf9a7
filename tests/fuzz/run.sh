#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz/fuzz_<name>.cpp, built by CMake with SQUINT_FUZZ=ON in the shared
# sanitizer build, see scripts/build-sanitize.sh). Fails on any crash, leak or UB report; prints executions.
#
# Two modes, because a gate and a search want different things:
# - default (the test suite, CI): a fixed number of executions (FUZZ_RUNS, default 300,000 per target: CI's 30 minutes hold 7 targets at ~40 s each) from a
#   fixed seed over the generated seeds + tests/fuzz/regressions/: the same inputs every run, so the gate is
#   reproducible and a red CI is a regression, not the luck of the draw.
# - exploration: FUZZ_SECONDS=N runs each target for N seconds from a random seed (FUZZ_SEED to fix it). Do this
#   before landing a parser change (e.g. FUZZ_SECONDS=300); every crash it finds is fixed and its input added to
#   tests/fuzz/regressions/<target>/, which makes it part of the gate. FUZZ_ONLY="plan gguf" runs some targets.
# Targets run FUZZ_JOBS at a time (default: one per core); each is one single-threaded process.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${ASAN_BUILD:-build-asan}
scripts/build-sanitize.sh fuzz_all >/dev/null
python3 tests/fuzz/make_seeds.py "$B/fuzz/seeds"
if [[ -n "${FUZZ_SECONDS:-}" ]]; then
  limit="-max_total_time=$FUZZ_SECONDS -seed=${FUZZ_SEED:-0}"; what="${FUZZ_SECONDS}s"
else
  limit="-runs=${FUZZ_RUNS:-300000} -seed=${FUZZ_SEED:-1}"; what="fixed seed"
fi
targets=()
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
  targets+=("$t")
done
# One target: its log, then a one-line result in $B/fuzz/result_<t> ("ok <execs> <seconds>" or "FAILED").
fuzz_one() {
  local t=$1 start=$SECONDS
  # shellcheck disable=SC2086  # $limit holds two flags
  if "$B/fuzz/fuzz_$t" $limit -max_len=8192 -rss_limit_mb=2048 -timeout=10 \
       -artifact_prefix="$B/fuzz/crash-$t-" "$B/fuzz/corpus/$t" 2>"$B/fuzz/fuzz_$t.log"; then
    echo "ok $(grep -Eo "Done [0-9]+ runs" "$B/fuzz/fuzz_$t.log" | grep -Eo "[0-9]+" || echo "?") $((SECONDS - start))" > "$B/fuzz/result_$t"
  else
    echo "FAILED" > "$B/fuzz/result_$t"
  fi
}
export -f fuzz_one
export B limit
rm -f "$B"/fuzz/result_*
printf '%s\n' "${targets[@]}" | xargs -P "${FUZZ_JOBS:-$(nproc)}" -I{} bash -c 'fuzz_one "$1"' _ {}
status=0
for t in "${targets[@]}"; do
  read -r r execs secs < "$B/fuzz/result_$t" || r=FAILED
  if [[ $r == ok ]]; then
    echo "fuzz_$t: $execs executions ($what, $secs s), no crash"
  else
    echo "fuzz_$t FAILED:"; grep -v -E "^#[0-9]+" "$B/fuzz/fuzz_$t.log" | tail -40; status=1
  fi
done
exit $status
