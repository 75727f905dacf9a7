#!/usr/bin/env bash
# wasm (node, SIMD128 and scalar builds) vs native single-thread analysis throughput on the same synthetic
# tensors (real Llama-3-8B layer shapes, BF16, 18 configs). Medians of RUNS. Usage: bench/wasm/bench.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-3}
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
for v in simd:ON nosimd:OFF; do
  name=${v%%:*} flag=${v##*:}
  emcmake cmake -S . -B build-wasm-$name -DCMAKE_BUILD_TYPE=Release -DSQUINT_WASM_SIMD=$flag >/dev/null
  cmake --build build-wasm-$name -j"$(nproc)" --target squint_node >/dev/null
done
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j"$(nproc)" --target squint bench_analyze >/dev/null
M=${BENCH_MODEL:-/tmp/squint-bench-wasm}
[ -d "$M" ] || build/squint -q synth "$M" --preset llama3-8b --layers 1 --vocab 1024
native=$(for i in $(seq "$RUNS"); do build/squint -q -j1 analyze "$M" -o /dev/null 2>/dev/null; done; build/bench_analyze "$M" "$RUNS" | awk '/analyze, 1 thread/ {print $4}')
node bench/wasm/bench.mjs "$RUNS" "$native"
