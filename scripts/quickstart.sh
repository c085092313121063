#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a Song Map:
#   installs the dependencies (apt), builds Harmony, and analyses FILE(s) — or, with no file,
#   a demo track that Harmony synthesises itself — printing the Song Map as JSON.
#   usage: scripts/quickstart.sh [FILE...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target harmony -j "$(nproc)"
if (($# == 0)); then
  build/harmony demo -o build/harmony-demo.wav
  set -- build/harmony-demo.wav
fi
exec build/harmony analyze "$@"
