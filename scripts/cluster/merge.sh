#!/bin/sh
# Joins the N part files of a split analysis (written as OUT_DIR/part-K-of-N.json by the Slurm array tasks
# or the Kubernetes Indexed Job pods) into OUT_DIR/analysis.json: byte-identical to one `squint analyze` run.
# squint refuses a missing, repeated or foreign part (another model, options or squint build) in one line.
#   scripts/cluster/merge.sh OUT_DIR N
# SQUINT: the squint binary (default: squint on PATH).
set -eu
out=${1:?usage: merge.sh OUT_DIR N}
n=${2:?usage: merge.sh OUT_DIR N}
exec "${SQUINT:-squint}" analyze --merge "$out"/part-*-of-"$n".json -o "$out/analysis.json"
