#!/usr/bin/env bash
# The whole Catch2 suite under AddressSanitizer + UndefinedBehaviorSanitizer (run by scripts/test.sh). The same
# build also holds the fuzz targets (tests/fuzz/run.sh runs them next without compiling core again).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${ASAN_BUILD:-build-asan}
scripts/build-sanitize.sh squint squint_tests fuzz_all
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$B" --output-on-failure -j"${JOBS:-$(nproc)}"
