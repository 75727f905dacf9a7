#!/bin/sh
# One part of a squint analysis in a pod of a Kubernetes Indexed Job (analyze-job.yaml): part K of N with
# K = JOB_COMPLETION_INDEX + 1 (the index Kubernetes gives each pod, from 0) and N = PARTS (the Job's
# completions). A pod that is evicted or fails restarts with --resume and continues from its journal.
# Environment: JOB_COMPLETION_INDEX (set by Kubernetes), PARTS, MODEL, OUT_DIR, ANALYZE_OPTIONS (optional,
# e.g. "--format gguf"), THREADS (optional), SQUINT (optional: the binary, default squint on PATH).
set -eu
: "${JOB_COMPLETION_INDEX:?not a pod of an Indexed Job (completionMode: Indexed sets JOB_COMPLETION_INDEX)}"
: "${PARTS:?set PARTS to the Job's completions}"
: "${MODEL:?set MODEL to the model folder}"
: "${OUT_DIR:?set OUT_DIR to a folder every pod writes to}"
if [ "$JOB_COMPLETION_INDEX" -ge "$PARTS" ]; then
  echo "analyze-part.sh: index $JOB_COMPLETION_INDEX is not below PARTS=$PARTS (completions and PARTS must agree)" >&2
  exit 2
fi
k=$((JOB_COMPLETION_INDEX + 1))
mkdir -p "$OUT_DIR"
# shellcheck disable=SC2086  # ANALYZE_OPTIONS is a list of flags
exec "${SQUINT:-squint}" -j "${THREADS:-0}" analyze "$MODEL" --part "$k/$PARTS" --resume \
  -o "$OUT_DIR/part-$k-of-$PARTS.json" ${ANALYZE_OPTIONS:-}
