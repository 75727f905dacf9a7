#!/usr/bin/env bash
# The whole Catch2 suite under AddressSanitizer + UndefinedBehaviorSanitizer (run by scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${ASAN_BUILD:-build-asan}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSQUINT_SANITIZE=ON >/dev/null
cmake --build "$B" -j"${JOBS:-$(nproc)}" --target squint squint_tests
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$B" --output-on-failure -j"${JOBS:-$(nproc)}"
