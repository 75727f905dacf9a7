#!/usr/bin/env bash
# Builds the libFuzzer targets (clang 14 + ASan/UBSan) over core/ and runs each for FUZZ_SECONDS (default
# 30; CI keeps it short, a longer local run is FUZZ_SECONDS=600). Fails on any crash, leak or UB report.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-30}
OUT=${FUZZ_BUILD:-build-fuzz}
CXX=${FUZZ_CXX:-clang++-14}
command -v "$CXX" >/dev/null || CXX=clang++
mkdir -p "$OUT"
python3 tests/fuzz/make_seeds.py "$OUT/seeds"
CORE=$(ls core/io/*.cpp core/quant/*.cpp core/analysis/*.cpp core/plan/*.cpp core/util/*.cpp core/synth/*.cpp core/text/*.cpp)
LIBS="-lpcre2-8 -lutf8proc"  # core/text (native-only) needs them
FLAGS="-std=c++20 -O1 -g -ffp-contract=off -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Icore -I/usr/include/eigen3"
# core once as objects, then one binary per target
mkdir -p "$OUT/obj"
objs=()
for f in $CORE; do
  o="$OUT/obj/$(echo "$f" | tr / _).o"
  if [ ! -f "$o" ] || [ "$f" -nt "$o" ]; then $CXX $FLAGS -fsanitize=fuzzer-no-link -c "$f" -o "$o"; fi
  objs+=("$o")
done
status=0
for t in safetensors checkpoint plan mlx tokenizer_json gguf; do
  $CXX $FLAGS "tests/fuzz/fuzz_$t.cpp" "${objs[@]}" $LIBS -o "$OUT/fuzz_$t"
  mkdir -p "$OUT/corpus/$t"
  cp -n "$OUT/seeds/$t/"* "$OUT/corpus/$t/" 2>/dev/null || true
  # Inputs that once crashed a target (kept as regressions) are part of every run's corpus.
  cp -n tests/fuzz/regressions/$t/* "$OUT/corpus/$t/" 2>/dev/null || true
  echo "== fuzz_$t for ${SECS}s"
  if ! "$OUT/fuzz_$t" -max_total_time="$SECS" -max_len=8192 -rss_limit_mb=2048 -timeout=10 \
       -artifact_prefix="$OUT/crash-$t-" "$OUT/corpus/$t" 2>"$OUT/fuzz_$t.log"; then
    echo "fuzz_$t FAILED:"; tail -40 "$OUT/fuzz_$t.log"; status=1
  else
    grep -E "^#[0-9]+.*(DONE|pulse)" "$OUT/fuzz_$t.log" | tail -1
  fi
done
exit $status
