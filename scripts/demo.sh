#!/usr/bin/env bash
# Set-up and the main job end to end on the embedded default: install, build, generate the demo model,
# analyse it, plan to a budget, quantize to MLX format and check the SQNR gate.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
OUT=${OUT:-build/demo}
mkdir -p "$OUT"
S=build/squint
$S synth "$OUT/model" --preset demo --seed 42 --force
$S inspect "$OUT/model" | tail -4
$S analyze "$OUT/model" -o "$OUT/analysis.json" --sqnr-table
if $S plan --help >/dev/null 2>&1; then
  $S plan "$OUT/analysis.json" --bpw 4.0 -o "$OUT/plan.json"
fi
if $S quantize --help >/dev/null 2>&1; then
  $S quantize "$OUT/model" --plan "$OUT/plan.json" -o "$OUT/model-mlx" --force
  $S gate "$OUT/model" "$OUT/model-mlx"
fi
echo "demo done: outputs in $OUT"
