#!/usr/bin/env bash
# The installed library as a user gets it: `cmake --install` into a temporary prefix, then
#   - the public headers are self-contained (each compiles alone against the prefix, no src/);
#   - examples/minimal builds with find_package(harmony) and with pkg-config (harmony.pc);
#   - both run: on a demo track from `harmony demo`, and on the click track they synthesise.
#   usage: scripts/check_install.sh [BUILD_DIR]   (default: build, already built)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cxx=${CXX:-c++}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
if grep -rn '#include "' "$prefix/include/harmony" | grep -v '#include "harmony/'; then
  echo "check_install: a public header includes a header that is not installed" >&2
  exit 1
fi
for h in "$prefix"/include/harmony/*.hpp; do
  echo "#include <harmony/${h##*/}>" | "$cxx" -std=c++20 -fsyntax-only -I"$prefix/include" -x c++ -
done

cmake -S examples/minimal -B "$tmp/minimal" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/minimal" >/dev/null
pc=$(find "$prefix" -name harmony.pc)
# shellcheck disable=SC2046  # pkg-config's flags are meant to split
"$cxx" -std=c++20 -O2 examples/minimal/main.cpp -o "$tmp/minimal-pc" \
  $(PKG_CONFIG_PATH="${pc%/*}" pkg-config --cflags --libs harmony)

"$build/harmony" demo -o "$tmp/demo.wav" >/dev/null 2>&1
out=$("$tmp/minimal/minimal" "$tmp/demo.wav")
clicks=$(cd "$tmp" && ./minimal-pc)
echo "check_install: demo.wav: ${out//$'\n'/, }; click track: ${clicks//$'\n'/, }"
grep -q '^bpm: [0-9]' <<<"$out" && grep -q '^key: [A-G]' <<<"$out"
grep -q '^bpm: 1[12][0-9]' <<<"$clicks"
echo "check_install: passed"
