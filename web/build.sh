#!/usr/bin/env bash
# Builds the static site into OUT_DIR: page, worker and squint's core as WebAssembly (SIMD128). No CDN, no
# network at run time: serve OUT_DIR from any static host (or web/serve.py OUT_DIR PORT).
set -euo pipefail
OUT=${1:?usage: web/build.sh OUT_DIR}
cd "$(dirname "$0")/.."
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}   # Debian's emscripten needs node-acorn from here
B=${SQUINT_WASM_BUILD:-build-wasm}
emcmake cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node;--no-experimental-fetch" >/dev/null
cmake --build "$B" -j"${JOBS:-$(nproc)}" --target squint_web squint_node
mkdir -p "$OUT"
cp web/index.html web/app.js web/worker.mjs web/style.css "$B/squint.mjs" "$B/squint.wasm" "$OUT/"
echo "site in $OUT"
