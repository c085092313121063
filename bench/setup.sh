#!/usr/bin/env bash
# Sets up the benchmark: Debian packages (scripts/setup.sh --bench), the Queen Mary DSP peer
# wrapper (g++ against libqm-dsp-dev) and essentia.js from npm (pinned by package-lock.json).
# Idempotent; safe to run again.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/../scripts/setup.sh" --bench

qm="$here/peers/qm"
mkdir -p "$qm/build"
if [[ ! -x "$qm/build/qm_peer" || "$qm/qm_peer.cpp" -nt "$qm/build/qm_peer" ]]; then
  echo "bench setup: building peers/qm/build/qm_peer"
  g++ -O2 -std=c++17 -Wall -I/usr/include/qm-dsp -o "$qm/build/qm_peer" "$qm/qm_peer.cpp" -lqm-dsp
fi

es="$here/peers/essentia"
if [[ ! -d "$es/node_modules/essentia.js" ]]; then
  echo "bench setup: installing essentia.js (npm ci)"
  (cd "$es" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "bench setup: ready (aubio $(dpkg-query -W -f='${Version}' aubio-tools)," \
     "libqm-dsp $(dpkg-query -W -f='${Version}' libqm-dsp0 2>/dev/null || echo '?')," \
     "essentia.js $(node -p "require('$es/node_modules/essentia.js/package.json').version"))"
