#!/usr/bin/env bash
# squint vs llama.cpp's own mixes at the same size, measured in llama.cpp itself (issue 13). One command:
#   bench/gguf/mixes.sh        (SQUINT=build/squint LLQ=build/gguf_llama_quantize WORK=build/gguf-mixes
#                               SAMPLES=16 SEQ=256 MIXES=Q3_K_M,Q4_K_M,Q5_K_M,Q6_K,Q8_0 MODELS="tinystories-3M stories260K"
#                               FRESH=1 to remake the float GGUFs and llama.cpp mixes and drop cached evaluations
#                               KINDS="default nrmse-roles" squint settings to plan, see below)
# For each model: float → F32 GGUF (squint), each mix with the real llama_model_quantize (no imatrix), the exact
# tensor bytes of each mix, squint plans at exactly that budget (the default, params-mse with flat priors, and
# the old default, nrmse with role priors), squint's GGUF of each plan, then KL(float ‖ model) / top-1 / PPL of every file in node-llama-cpp on
# squint's token ids and windows (bench/gguf/eval_llama.mjs). Writes the benchmark section of docs/gguf.md
# (between the gguf-bench markers). Heavy: run it once, under nice, on an otherwise quiet machine.
# KINDS (default "default nrmse-roles", the run above): data-free settings default (params-mse/flat), nrmse-roles,
# params-mse-roles, mse-flat, mse-roles, residual, norm (analyze --norm-weights, --objective norm); not data-free, reading
# CALIB (default ../shared/data/tinystories/train.txt, never the evaluation text): calibrated (analyze --calibrate
# CALIB, --objective calibrated) and select (plan --calibrate CALIB --select-text CALIB: measured selection among
# the settings' optima and uniform types). The docs table shows the not-data-free rows apart, labelled.
set -euo pipefail
cd "$(dirname "$0")/../.."
S=${SQUINT:-build/squint}
LLQ=${LLQ:-build/gguf_llama_quantize}
W=${WORK:-build/gguf-mixes}
SAMPLES=${SAMPLES:-16}
SEQ=${SEQ:-256}
MIXES=${MIXES:-Q3_K_M,Q4_K_M,Q5_K_M,Q6_K,Q8_0}
MODELS=${MODELS:-tinystories-3M stories260K}
KINDS=${KINDS:-default nrmse-roles}
SH=../shared
CALIB=${CALIB:-$SH/data/tinystories/train.txt}
for b in "$S" "$LLQ"; do [ -x "$b" ] || { echo "error: $b not built (cmake --build build)" >&2; exit 2; }; done
[ "${FRESH:-0}" = 1 ] && rm -rf "$W"
mkdir -p "$W"
python3 bench/gguf/mixes.py prepare "$SH/data/tinystories/eval.txt" "$W/eval.txt"

for model in $MODELS; do
  M=$SH/models/$model D=$W/$model
  mkdir -p "$D"
  echo "== $model" >&2
  # Inputs are made once (FRESH=1 remakes them), so a rerun after a squint change evaluates only squint's files.
  [ -s "$D/f32.gguf" ] || $S -q quantize "$M" --format gguf --type F32 -o "$D/f32.gguf"
  $S -q analyze "$M" --format gguf -o "$D/analysis.json"
  case " $KINDS " in *" norm "*) $S -q analyze "$M" --format gguf --norm-weights -o "$D/analysis-norm.json" ;; esac
  case " $KINDS " in *" calibrated "*) $S -q analyze "$M" --format gguf --calibrate "$CALIB" --calibrate-seq-len "$SEQ" -o "$D/analysis-calibrated.json" ;; esac
  $S -q tokenize "$M" --text "$W/eval.txt" --json -o "$D/tokens.json"
  $S -q eval "$D/f32.gguf" --text "$W/eval.txt" --seq-len "$SEQ" --samples "$SAMPLES" --tokenizer "$M" -o "$D/squint-eval.json"
  files=()
  for mix in ${MIXES//,/ }; do
    [ -s "$D/llama-$mix.gguf" ] ||
      "$LLQ" "$D/f32.gguf" "$D/llama-$mix.gguf" "$mix" 2> "$D/llama-$mix.log" || { cat "$D/llama-$mix.log" >&2; exit 1; }
    $S -q inspect "$D/llama-$mix.gguf" -o "$D/llama-$mix.inspect.json" > /dev/null
    files+=("$D/llama-$mix.gguf")
    budget=$(python3 bench/gguf/mixes.py budget "$D/llama-$mix.inspect.json" "$D/analysis.json")
    for kind in $KINDS; do
      src=$D/analysis.json extra=()  # default: params-mse with flat priors; nrmse-roles: the default before 2026-12-02
      case $kind in
        default) ;;
        nrmse-roles) extra=(--objective nrmse --prior-set roles) ;;
        params-mse-roles) extra=(--prior-set roles) ;;
        mse-flat) extra=(--objective mse) ;;
        mse-roles) extra=(--objective mse --prior-set roles) ;;
        residual) extra=(--objective residual) ;;
        norm) src=$D/analysis-norm.json extra=(--objective norm) ;;
        calibrated) src=$D/analysis-calibrated.json extra=(--objective calibrated) ;;
        select) src=$M extra=(--format gguf --calibrate "$CALIB" --calibrate-seq-len "$SEQ" --select-text "$CALIB" --select-seq-len "$SEQ") ;;
        *) echo "error: unknown kind $kind" >&2; exit 2 ;;
      esac
      out=$D/squint-$kind-$mix
      rm -f "$out.missing"
      $S -q plan "$src" --budget "$budget" "${extra[@]}" -o "$out.plan.json" 2> "$out.plan.log" || { cat "$out.plan.log" >&2; exit 1; }
      if $S -q quantize "$M" --format gguf --plan "$out.plan.json" -o "$out.gguf" --force 2> "$out.log"; then
        $S -q inspect "$out.gguf" -o "$out.inspect.json" > /dev/null
        files+=("$out.gguf")
      else
        # The quantized GGUF writer is not in this build: record why, keep the llama.cpp rows.
        tail -1 "$out.log" > "$out.missing"
      fi
    done
  done
  python3 bench/gguf/mixes.py rows "$D" "$MIXES" "${KINDS// /,}" "Mixes made by llama.cpp's llama_model_quantize from the F32 GGUF; squint plans at the matching budget."
  node bench/gguf/eval_llama.mjs --threads 1 --ids "$D/tokens.json" --windows "$D/squint-eval.json" --ref "$D/f32.gguf" \
       -o "$D/eval.json" "${files[@]}"
done

python3 bench/gguf/mixes.py docs docs/gguf.md "$W" $MODELS
echo "wrote docs/gguf.md (benchmark section)" >&2
