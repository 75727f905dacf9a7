#!/usr/bin/env bash
# The whole test suite: native (Catch2 via ctest), sanitizers, fuzz smoke runs, GGUF files in llama.cpp, wasm (Catch2 under node),
# and the page in headless Chromium. README's test command; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
JOBS=${JOBS:-$(nproc)}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$JOBS"
ctest --test-dir build --output-on-failure -j"$JOBS"
for stage in scripts/test-sanitize.sh tests/fuzz/run.sh tests/tokenize/run.sh tests/gguf/run.sh web/test.sh; do
  echo "== $stage"
  bash "$stage"
done

