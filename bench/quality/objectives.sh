#!/usr/bin/env bash
# Does the plan beat uniform quantization at matched size, and which objective is best? End-to-end on a
# real model: for budgets between uniform 3-bit g64 and uniform 4-bit g64, plan with each objective,
# convert, and measure perplexity. Prints a markdown table (mean and median PPL).
#   bench/quality/objectives.sh [MODEL] [TEXT] [SEQ_LEN] [OBJECTIVES...]
set -euo pipefail
cd "$(dirname "$0")/../.."
S=${SQUINT:-build/squint}
MODEL=${1:-../shared/models/stories260K}
TEXT=${2:-../shared/data/tinystories/tinystories_val_head.txt}
SEQ=${3:-256}
shift $(( $# < 3 ? $# : 3 ))
OBJECTIVES=("$@")
[ ${#OBJECTIVES[@]} -gt 0 ] || OBJECTIVES=(nrmse params)
W=${WORK:-build/quality}
mkdir -p "$W"
$S -q analyze "$MODEL" -o "$W/analysis.json" ${FEATURES:+--features}

evalm() {  # evalm NAME MODEL_DIR -> prints "mean median"
  $S -q eval "$2" --text "$TEXT" --seq-len "$SEQ" -o "$W/$1.eval.json" >/dev/null
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(j['mean_ppl'], j['median_ppl'])" "$W/$1.eval.json"
}
size_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['totals']['bytes'])" "$1"; }
convert() {  # convert NAME PLAN
  $S -q quantize "$MODEL" --plan "$2" -o "$W/$1" --force
}

echo "| model | bytes | bpw | mean PPL | median PPL |"
echo "|---|---|---|---|---|"
read -r m md < <(evalm float "$MODEL"); echo "| float | - | - | $m | $md |"
for u in "3 64" "4 64"; do
  set -- $u
  $S -q plan "$W/analysis.json" --bits "$1" --group-sizes "$2" --min-safe -o "$W/u$1.plan.json" >/dev/null
  convert "u$1" "$W/u$1.plan.json"
  read -r m md < <(evalm "u$1" "$W/u$1")
  b=$(size_of "$W/u$1.plan.json"); echo "| uniform $1-bit g$2 | $b | $(python3 -c "print(round($b*8/$(python3 -c "import json; print(json.load(open('$W/analysis.json'))['model']['params'])"),3))") | $m | $md |"
done
lo=$(size_of "$W/u3.plan.json"); hi=$(size_of "$W/u4.plan.json")
for frac in 0 0.25 0.5 0.75 1; do
  B=$(python3 -c "print(int($lo + $frac*($hi-$lo)))")
  for obj in "${OBJECTIVES[@]}"; do
    n="p${frac}-$obj"
    $S -q plan "$W/analysis.json" --budget "$B" --objective "$obj" -o "$W/$n.plan.json" >/dev/null
    convert "$n" "$W/$n.plan.json"
    read -r m md < <(evalm "$n" "$W/$n")
    echo "| squint $obj @ $B B | $(size_of "$W/$n.plan.json") | - | $m | $md |"
  done
done
