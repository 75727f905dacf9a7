#!/usr/bin/env bash
# The whole test suite: native (Catch2 via ctest), sanitizers + fuzz smoke runs (one shared clang build), the
# tokenizer vs Hugging Face, GGUF files in llama.cpp, wasm (Catch2 under node), and the page in headless
# Chromium. README's test command; .ci/run calls exactly this. Each stage prints its wall time; CI must stay
# under 30 minutes on 2 cores, so a new stage has to be lean (see CONTRIBUTING.md).
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$SECONDS
stage_done() { echo "== $1: $((SECONDS - $2)) s (total $((SECONDS - T0)) s)"; }
t=$SECONDS; scripts/deps.sh; stage_done deps $t
JOBS=${JOBS:-$(nproc)}
t=$SECONDS
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$JOBS"
ctest --test-dir build --output-on-failure -j"$JOBS"
stage_done native $t
for stage in scripts/test-sanitize.sh tests/fuzz/run.sh tests/tokenize/run.sh tests/gguf/run.sh web/test.sh; do
  echo "== $stage"
  t=$SECONDS; bash "$stage"; stage_done "$stage" $t
done
