#!/usr/bin/env bash
# Browser-side tests (run by scripts/test.sh): build the site (wasm), run the core's Catch2 suite as wasm
# under ctest, the Embind API under node:test, and the page in real headless Chromium. The site is served
# from a sub-folder (/squint/) to check it works as-is on a static host: relative paths only.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
ROOT=build/web-root
SITE=$ROOT/squint
web/build.sh "$SITE"
cmake --build "${SQUINT_WASM_BUILD:-build-wasm}" -j"${JOBS:-$(nproc)}" --target squint_core_tests_wasm
ctest --test-dir "${SQUINT_WASM_BUILD:-build-wasm}" --output-on-failure -j"${JOBS:-$(nproc)}"
export SQUINT_BIN=${SQUINT_BIN:-build/squint}
node --test web/tests/
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 web/serve.py "$ROOT" "$PORT" & SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/squint/index.html" 2>/dev/null && break; sleep 0.1; done
node web/tests/page.e2e.mjs "http://127.0.0.1:$PORT/squint/index.html"
node web/tests/hostile.e2e.mjs "http://127.0.0.1:$PORT/squint/index.html"
