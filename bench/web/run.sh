#!/usr/bin/env bash
# The inspector page (headless Chromium) against the native CLI on the same synthetic BF16 checkpoints, in
# one run: params/s of `squint analyze` (-j2 and -j1), of the core as wasm in node (bench/wasm's entry), of
# the page with 1 and 2 workers, and the renderer's peak memory against the file size. Three sizes (real
# Llama-3-8B layer shapes): 4 or 2 layers + vocab 32000 (2.27 GB, 1135M params; 1.40 GB, 698M) and 1 layer +
# vocab 1024 (0.45 GB), to show the page's memory follows its read windows, not the file.
# Usage: bench/web/run.sh [RUNS]   (BENCH_MODELS=DIR to keep the models between runs; run under nice on a
# shared machine and say so with the figures)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-3}
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
ROOT=build/bench-web-root
[ -n "${BENCH_NO_BUILD:-}" ] || web/build.sh "$ROOT/squint" >/dev/null
[ -x build/squint ] || { echo "build/squint missing: build the CLI first" >&2; exit 2; }
M=${BENCH_MODELS:-/tmp/squint-bench-web}
mkdir -p "$M"
models=()
for lv in 4:32000 2:32000 1:1024; do
  d="$M/l${lv%%:*}-v${lv##*:}"
  [ -f "$d/config.json" ] || build/squint -q synth "$d" --preset llama3-8b --layers "${lv%%:*}" --vocab "${lv##*:}" -f
  models+=("$d")
done
# Native timings (wall clock, files already in the page cache after the first run), as JSON for bench.mjs.
NATIVE=$(mktemp)
trap 'rm -f "$NATIVE"; [ -z "${SERVER:-}" ] || kill "$SERVER" 2>/dev/null || true' EXIT
{
  echo '{'
  sep=''
  for d in "${models[@]}"; do
    build/squint -q analyze "$d" -o "$NATIVE.a" >/dev/null  # warms the page cache, gives params and bytes
    read -r params bytes < <(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["model"]; print(m["params"], m["bytes"])' "$NATIVE.a")
    printf '%s"%s": {"params": %s, "bytes": %s' "$sep" "$d" "$params" "$bytes"
    for j in 1 2; do
      ts=()
      for _ in $(seq "$RUNS"); do
        t0=$(date +%s.%N); build/squint -q -j$j analyze "$d" -o /dev/null >/dev/null; t1=$(date +%s.%N)
        ts+=("$(python3 -c "print($t1 - $t0)")")
      done
      printf ', "j%s": [%s]' "$j" "$(IFS=,; echo "${ts[*]}")"
    done
    echo '}'
    sep=','
  done
  echo '}'
} > "$NATIVE"
rm -f "$NATIVE.a"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 web/serve.py "$ROOT" "$PORT" & SERVER=$!
for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/squint/index.html" 2>/dev/null && break; sleep 0.1; done
node bench/web/bench.mjs "http://127.0.0.1:$PORT/squint/index.html" "$RUNS" "$NATIVE" "${models[@]}"
