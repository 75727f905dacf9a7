#!/usr/bin/env bash
# The whole test suite: native (Catch2 via ctest), sanitizers + fuzz smoke runs (one shared clang build), the
# tokenizer vs Hugging Face, GGUF files in llama.cpp, wasm (Catch2 under node), and the page in headless
# Chromium. README's test command; .ci/run calls exactly this. Each stage prints its wall time; CI must stay
# under 30 minutes on 2 cores, so a new stage has to be lean (see CONTRIBUTING.md).
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$SECONDS
# Every build below (Release, sanitizers, wasm) compiles in unity batches: ~3.5x less CPU (CMakeLists.txt).
export SQUINT_UNITY=${SQUINT_UNITY:-ON}
# CPU seconds (user + sys) of everything this script ran so far: with 2 cores, a stage's wall time on a loaded
# machine says little, its CPU time says what it costs CI.
TIMES=$(mktemp); trap 'rm -f "$TIMES"' EXIT
cpu_s() { times >"$TIMES"; CPU=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, k, /[ms]/); printf "%d", u[1] * 60 + u[2] + k[1] * 60 + k[2] }' "$TIMES"); }
stage_done() { cpu_s; echo "== $1: $((SECONDS - $2)) s, $((CPU - $3)) s CPU (total $((SECONDS - T0)) s)"; }
t=$SECONDS; cpu_s; c=$CPU; scripts/deps.sh; stage_done deps $t $c
JOBS=${JOBS:-$(nproc)}
t=$SECONDS; cpu_s; c=$CPU
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
# Only what the stages run (benchmarks but the llama_model_quantize driver the GGUF tests use are not built).
cmake --build build -j"$JOBS" --target squint squint_tests gguf_llama_quantize
ctest --test-dir build --output-on-failure -j"$JOBS"
stage_done native $t $c
for stage in scripts/test-sanitize.sh tests/fuzz/run.sh tests/tokenize/run.sh tests/gguf/run.sh web/test.sh; do
  echo "== $stage"
  t=$SECONDS; cpu_s; c=$CPU; bash "$stage"; stage_done "$stage" $t $c
done
