#!/usr/bin/env bash
# Name clashes that only CI's unity build would see (CMakeLists.txt: SQUINT_UNITY), found in about a minute
# without building: each target's sources are checked as ONE file (g++ -fsyntax-only), a superset of every
# batch of 8 CMake may form, so a clash found later by a batch that shifted is found here first.
# usage: scripts/check-unity.sh   (exit 1 and the clashes when there are any)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f CMakeLists.txt && -d core ]] || { echo "check-unity: run it from a squint checkout's scripts/" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/generated" && echo '#define SQUINT_BUILD_ID "check"' > "$tmp/generated/squint_build_id.h"
flags=(-std=c++20 -fsyntax-only -fmax-errors=50 -Icore -Inative -Itests -I"$tmp/generated" -isystem /usr/include/eigen3
       -DSQUINT_CLI='"x"' -DSQUINT_SHARED_DIR='"x"' -DSQUINT_SOURCE_DIR='"x"' $(pkg-config --cflags libpcre2-8 libutf8proc))
status=0
for target in core core/text native tests; do
  case $target in
    core) files=$(ls core/*/*.cpp core/*/*/*.cpp 2>/dev/null | grep -v '^core/text/') ;;
    core/text) files=$(ls core/text/*.cpp) ;;
    native) files=$(ls native/*.cpp | grep -v '^native/main.cpp$') ;;
    tests) files=$(ls tests/*.cpp) ;;
  esac
  one="$tmp/${target//\//_}.cpp"
  for f in $files; do echo "#include \"$PWD/$f\""; done > "$one"
  if ! g++ "${flags[@]}" "$one" 2> "$one.err"; then
    echo "unity clash in $target:"; grep -E "error:" "$one.err" | sed "s#$PWD/##" | head -20; status=1
  fi
done
[[ $status == 0 ]] && echo "no unity clashes (core, core/text, native, tests)"
exit $status
