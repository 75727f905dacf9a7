#!/usr/bin/env bash
# squint's GGUF files in a real llama.cpp (node-llama-cpp's prebuilt CPU build, see ../shared/spec/gguf.md).
# Needs build/squint; about a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SQUINT_BIN=${SQUINT_BIN:-build/squint}
node --test tests/gguf/
