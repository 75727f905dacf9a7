#!/usr/bin/env bash
# The one sanitizer build (clang, ASan+UBSan, plus libFuzzer coverage instrumentation when SQUINT_FUZZ=ON):
# scripts/test-sanitize.sh runs the Catch2 suite from it and tests/fuzz/run.sh the fuzz targets, so CI compiles
# core for both only once. core/ at -O1 with line tables (fast to build, readable reports, tests still quick);
# native/ and tests/ at -O0, which halves their compile time.
# usage: scripts/build-sanitize.sh TARGET...   (build dir: $ASAN_BUILD, default build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${ASAN_BUILD:-build-asan}
CXX_SAN=${SANITIZE_CXX:-clang++-14}
command -v "$CXX_SAN" >/dev/null || CXX_SAN=clang++
CC_SAN=${CXX_SAN/clang++/clang}
# Configured every time (cheap, and an existing folder gets these options too). A folder made by an older
# script with another generator or compiler is refused by cmake itself: remove it and run again.
CC=$CC_SAN CXX=$CXX_SAN cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
  -DSQUINT_NATIVE_OPT=-O0 -DSQUINT_TESTS_OPT=-O0 -DSQUINT_SANITIZE=ON -DSQUINT_FUZZ=ON ${SANITIZE_CMAKE_ARGS:-} >/dev/null
cmake --build "$B" -j"${JOBS:-$(nproc)}" --target "$@"
