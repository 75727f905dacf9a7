#!/bin/bash
# Submits a squint analysis split into N parts as a Slurm job array, and the merge that runs once every part
# succeeded; prints the two job ids. OUT_DIR/analysis.json is the result.
#   scripts/cluster/slurm/submit.sh N MODEL OUT_DIR [squint analyze options, e.g. --format gguf]
# Extra sbatch flags (partition, account, ...): SBATCH_FLAGS="--partition=cpu --account=me".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:?usage: submit.sh N MODEL OUT_DIR [squint analyze options]}
model=${2:?usage: submit.sh N MODEL OUT_DIR [squint analyze options]}
out=${3:?usage: submit.sh N MODEL OUT_DIR [squint analyze options]}
shift 3
# shellcheck disable=SC2086  # SBATCH_FLAGS is a list of flags
array=$(sbatch --parsable ${SBATCH_FLAGS:-} --array="1-$n" "$here/analyze.sbatch" "$model" "$out" "$@")
array=${array%%;*}  # --parsable prints "id" or "id;cluster"
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_FLAGS:-} --job-name=squint-merge --dependency="afterok:$array" \
  --output="squint-merge-%j.log" "$here/../merge.sh" "$out" "$n")
echo "analysis: job array $array ($n parts), merge: job ${merge%%;*} -> $out/analysis.json"
