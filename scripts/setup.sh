#!/usr/bin/env bash
# Installs every Debian package Harmony needs to build, run and test.
# Idempotent: when everything is present it does nothing (no apt-get call).
#   scripts/setup.sh          build + runtime + test dependencies (clang, its libFuzzer runtime and
#                             llvm-symbolizer for scripts/fuzz.sh; the web app: node, npm, chromium
#                             for its browser tests, and `npm ci` of app/package-lock.json)
#   scripts/setup.sh --bench  also the benchmark's peers and corpus renderer
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev libsoxr-dev
  libfftw3-dev libebur128-dev libtag1-dev libsqlite3-dev libxml2-dev libpq-dev
  nlohmann-json3-dev libvalijson-dev libcli11-dev libspdlog-dev libfmt-dev
  libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev libxxhash-dev libboost-dev libeigen3-dev postgresql
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format ffmpeg python3 python3-jsonschema
  clang libclang-rt-14-dev llvm
  chromium
)
# The web app (app/) is built with node and npm; use the machine's own when present.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
if [[ "${1:-}" == "--bench" ]]; then
  pkgs+=(
    aubio-tools libaubio-dev libqm-dsp-dev
    python3-numpy python3-scipy python3-matplotlib python3-mir-eval python3-mido python3-sklearn
    fluidsynth fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont
    sox libsox-fmt-all lame vorbis-tools time
  )
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#pkgs[@]} packages present"
else
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web app's packages, exactly as locked (again only when the lock file changed).
app="$(dirname "$0")/../app"
if [[ -f "$app/package-lock.json" ]] &&
   ! cmp -s "$app/package-lock.json" "$app/node_modules/.package-lock.json.installed" 2>/dev/null; then
  echo "setup: npm ci (app/)"
  (cd "$app" && npm ci --no-audit --no-fund --loglevel=error &&
    cp package-lock.json node_modules/.package-lock.json.installed)
fi