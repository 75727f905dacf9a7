#!/usr/bin/env bash
# Evaluation in bounded memory (issue 24): peak RSS and tokens/s of `squint eval` on BF16 synthetic checkpoints
# with Llama-3-8B layer shapes (1 and 2 layers: two sizes, so the working set on top of the stored weights shows
# whether it grows with the model) and Llama-3.2-1B shapes (hidden 2048, MLP 8192, 32/8 heads, tied, 16 layers),
# against llama.cpp (node-llama-cpp's prebuilt CPU build, bench/eval/llama_speed.mjs) on squint's F16 GGUF of the
# same checkpoint: same windows of the same ids, same threads. Medians of RUNS runs, the two runtimes alternating
# within each run, so load from other processes hits both alike; the ratio is taken within each run.
#   bench/eval/run.sh [OUT_DIR]
#   env: RUNS (3), THREADS (2), SEQ (64), WINDOWS (2), MODELS ("8b-1 8b-2 1b"), KEEP=1 keeps the models
# Needs build/squint, node_modules, GNU time, about 16 GB of free disk under OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SQ=${SQUINT_BIN:-$ROOT/build/squint}
OUT=${1:-/tmp/squint-bench-eval}
RUNS=${RUNS:-3} THREADS=${THREADS:-2} SEQ=${SEQ:-64} WINDOWS=${WINDOWS:-2} MODELS=${MODELS:-"8b-1 8b-2 1b"}
SHARED=${SQUINT_SHARED:-$ROOT/../../shared}
[ -d "$SHARED/models/stories260K" ] || SHARED=/work/shared
TOK=$SHARED/models/stories260K   # 512 ids, all inside the synthetics' 128256-entry vocabulary
TEXT=$SHARED/data/tinystories/eval.txt
mkdir -p "$OUT"

synth_args() {
  case $1 in
    8b-1) echo "--preset llama3-8b --layers 1" ;;
    8b-2) echo "--preset llama3-8b --layers 2" ;;
    1b) echo "--preset llama3-8b --layers 16 --hidden 2048 --intermediate 8192 --heads 32 --kv-heads 8 --tied" ;;
    *) echo "unknown model $1" >&2; exit 2 ;;
  esac
}

"$SQ" -q tokenize "$TOK" --text "$TEXT" --eval-text --json -o "$OUT/ids.json"
RESULTS=$OUT/results.jsonl
: > "$RESULTS"
for M in $MODELS; do
  D=$OUT/$M
  if [ ! -f "$D/config.json" ]; then
    # shellcheck disable=SC2046
    "$SQ" -q synth "$D" $(synth_args "$M") --dtype bfloat16 -f
    cp "$TOK/tokenizer.model" "$TOK/tokenizer_config.json" "$D/"
  fi
  [ -f "$D.gguf" ] || "$SQ" -q quantize "$D" --format gguf --type F16 -o "$D.gguf"
  STORED=$(du -b "$D"/*.safetensors | awk '{s += $1} END {printf "%.0f", s}')
  for r in $(seq "$RUNS"); do
    /usr/bin/time -f "maxrss_kb %M" "$SQ" -j "$THREADS" eval "$D" --text "$TEXT" --seq-len "$SEQ" --samples "$WINDOWS" \
      --tokenizer "$TOK" -o "$OUT/$M.eval.json" 2> "$OUT/$M.squint.err"
    S_TPS=$(grep -o '[0-9.]* tokens/s' "$OUT/$M.squint.err" | tail -1 | cut -d' ' -f1)
    S_RSS=$(grep maxrss_kb "$OUT/$M.squint.err" | awk '{print $2}')
    /usr/bin/time -f "maxrss_kb %M" node bench/eval/llama_speed.mjs "$D.gguf" "$OUT/ids.json" "$OUT/$M.eval.json" \
      "$THREADS" > "$OUT/$M.llama.json" 2> "$OUT/$M.llama.err"
    L_TPS=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['tokens_per_s'])" "$OUT/$M.llama.json")
    L_RSS=$(grep maxrss_kb "$OUT/$M.llama.err" | awk '{print $2}')
    echo "{\"model\": \"$M\", \"run\": $r, \"stored_bytes\": $STORED, \"squint_tps\": $S_TPS, \"squint_rss_kb\": $S_RSS, \"llama_tps\": $L_TPS, \"llama_rss_kb\": $L_RSS}" | tee -a "$RESULTS"
  done
  [ "${KEEP:-0}" = 1 ] || rm -rf "$D" "$D.gguf"
done
python3 - "$RESULTS" "$THREADS" "$SEQ" "$WINDOWS" <<'PY'
import json, statistics as st, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"\n{sys.argv[4]} windows of {sys.argv[3]} tokens, {sys.argv[2]} threads; medians over runs")
print("| model | stored (BF16) | squint peak RSS | RSS − stored | llama.cpp peak RSS | squint tok/s | llama.cpp tok/s | ratio |")
print("|---|---|---|---|---|---|---|---|")
for m in dict.fromkeys(r["model"] for r in rows):
    rs = [r for r in rows if r["model"] == m]
    med = lambda k: st.median(r[k] for r in rs)
    stored = rs[0]["stored_bytes"] / 2**20
    s_rss, l_rss = med("squint_rss_kb") / 1024, med("llama_rss_kb") / 1024
    ratio = st.median(r["squint_tps"] / r["llama_tps"] for r in rs)
    print(f"| {m} | {stored:.0f} MiB | {s_rss:.0f} MiB | {s_rss - stored:.0f} MiB | {l_rss:.0f} MiB | "
          f"{med('squint_tps'):.1f} | {med('llama_tps'):.1f} | {ratio:.2f} |")
PY
