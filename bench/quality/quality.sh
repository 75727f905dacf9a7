#!/usr/bin/env bash
# Regenerates docs/quality.md: the quality lab (`squint sweep`) on stories260K and tinystories-3M, every
# uniform size from 3 to 6 bits, each objective with default and flat priors, KL and median PPL vs uniform
# with the matched-noise spread, and the cost of the sweep per million parameters.
#   bench/quality/quality.sh            (SQUINT=build/squint, WORK=build/quality, OBJECTIVES=..., SAMPLES_3M=...)
set -euo pipefail
cd "$(dirname "$0")/../.."
S=${SQUINT:-build/squint}
W=${WORK:-build/quality}
OBJ=${OBJECTIVES:-nrmse,params,mse,params-mse,residual}
OBJ_3M=${OBJECTIVES_3M:-nrmse,mse,params-mse,residual}
SH=../shared
TEXT=$SH/data/tinystories/eval.txt
mkdir -p "$W"
CAL=$SH/data/tinystories/train.txt  # calibration text: the training split (eval.txt stays held out)
run() {  # run NAME MODEL SAMPLES MIN_BPW MAX_BPW OBJECTIVES PRIORS [EXTRA SWEEP ARGS...]
  local name=$1 model=$2 samples=$3 lo=$4 hi=$5 obj=$6 pri=$7
  shift 7
  local t0=$(date +%s.%N)
  $S -q sweep "$SH/models/$model" --text "$TEXT" --seq-len 256 --samples "$samples" --objectives "$obj" --priors "$pri" \
     --min-bpw "$lo" --max-bpw "$hi" --noise-seeds 3 -o "$W/$name.json" --plot "$W/$name.svg" "$@" 2> "$W/$name.log"
  local t1=$(date +%s.%N)
  python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$t1" > "$W/$name.seconds"
  cut -d' ' -f1-3 /proc/loadavg > "$W/$name.load"  # the cost figures mean little without the machine's load
}
S3=${SAMPLES_3M:-16}
run stories260K stories260K 0 6.0 9.0 "$OBJ" roles,flat
run tinystories-3M tinystories-3M "$S3" 3.1 7.1 "$OBJ_3M" roles,flat
# The column-weighted objectives need analyses of their own (one weighting per analysis): flat priors,
# params-mse beside them from the same run.
run stories260K-norm stories260K 0 6.0 9.0 params-mse,norm flat
run stories260K-calibrated stories260K 0 6.0 9.0 params-mse,calibrated flat --calibrate "$CAL" --calibrate-samples 32 --calibrate-seq-len 256
run tinystories-3M-norm tinystories-3M "$S3" 3.1 7.1 params-mse,norm flat
run tinystories-3M-calibrated tinystories-3M "$S3" 3.1 7.1 params-mse,calibrated flat --calibrate "$CAL" --calibrate-samples 32 --calibrate-seq-len 256
# Cost of the column weights: the analysis alone, with --norm-weights and with --calibrate (tinystories-3M).
cost() { local t0=$(date +%s.%N); $S -q analyze "$SH/models/tinystories-3M" "$@" -o "$W/cost.json"; python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$t0" "$(date +%s.%N)"; }
{ echo "plain $(cost)"; echo "norm $(cost --norm-weights)"; echo "calibrated $(cost --calibrate "$CAL" --calibrate-samples 32 --calibrate-seq-len 256)"; cut -d' ' -f1 /proc/loadavg; } > "$W/analyze-cost.txt"
python3 bench/quality/render.py "$W" stories260K tinystories-3M \
  --weighted stories260K-norm stories260K-calibrated tinystories-3M-norm tinystories-3M-calibrated > docs/quality.md
for n in stories260K tinystories-3M stories260K-norm stories260K-calibrated tinystories-3M-norm tinystories-3M-calibrated; do
  cp "$W/$n.svg" "docs/quality-$n.svg"
done
echo "wrote docs/quality.md" >&2
