#!/usr/bin/env bash
# Regenerates docs/quality.md: the quality lab (`squint sweep`) on stories260K and tinystories-3M, every
# uniform size from 3 to 6 bits, each objective with default and flat priors, KL and median PPL vs uniform
# with the matched-noise spread, and the cost of the sweep per million parameters.
#   bench/quality/quality.sh            (SQUINT=build/squint, WORK=build/quality, OBJECTIVES=..., SAMPLES_3M=...)
set -euo pipefail
cd "$(dirname "$0")/../.."
S=${SQUINT:-build/squint}
W=${WORK:-build/quality}
OBJ=${OBJECTIVES:-nrmse,params,mse,params-mse}
OBJ_3M=${OBJECTIVES_3M:-nrmse,mse,params-mse}
SH=../shared
TEXT=$SH/data/tinystories/eval.txt
mkdir -p "$W"
run() {  # run NAME MODEL SAMPLES MIN_BPW MAX_BPW OBJECTIVES
  local t0=$(date +%s.%N)
  $S -q sweep "$SH/models/$2" --text "$TEXT" --seq-len 256 --samples "$3" --objectives "$6" --priors roles,flat \
     --min-bpw "$4" --max-bpw "$5" --noise-seeds 3 -o "$W/$1.json" --plot "$W/$1.svg" 2> "$W/$1.log"
  local t1=$(date +%s.%N)
  python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$t1" > "$W/$1.seconds"
  cut -d' ' -f1-3 /proc/loadavg > "$W/$1.load"  # the cost figures mean little without the machine's load
}
run stories260K stories260K 0 6.0 9.0 "$OBJ"
run tinystories-3M tinystories-3M "${SAMPLES_3M:-16}" 3.1 7.1 "$OBJ_3M"
python3 bench/quality/render.py "$W" stories260K tinystories-3M > docs/quality.md
cp "$W/stories260K.svg" docs/quality-stories260K.svg
cp "$W/tinystories-3M.svg" docs/quality-tinystories-3M.svg
echo "wrote docs/quality.md" >&2
