#!/usr/bin/env bash
# squint tokenize vs the Hugging Face library on the four real tokenizer.json files (scripts/test.sh stage).
set -euo pipefail
cd "$(dirname "$0")/../.."
export SQUINT_BIN=${SQUINT_BIN:-build/squint}
node --test tests/tokenize/
