#!/usr/bin/env bash
# CTest entry of the web app's tests (label: app).
#   ctest.sh unit                                   component tests (vitest)
#   ctest.sh e2e HARMONY_BIN OUT_DIR EMBEDDED       browser tests in Debian's chromium
# Exit 77 (skipped) only when node or chromium is not installed; everything else that is missing
# (the app's packages, a binary built without the app) is a failure: scripts/setup.sh installs
# them and the build then embeds the app.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node is not installed (scripts/setup.sh installs it)"
  exit 77
fi
if [[ ! -x node_modules/.bin/vitest ]]; then
  echo "FAIL: app/node_modules is missing: run scripts/setup.sh (npm ci)"
  exit 1
fi
case "${1:-}" in
  unit)
    exec node_modules/.bin/vitest run --reporter=verbose
    ;;
  e2e)
    bin="$2" out="$3" embedded="${4:-}"
    if [[ -z "${CHROMIUM:-}" ]] && ! command -v chromium >/dev/null 2>&1; then
      echo "SKIP: chromium is not installed (scripts/setup.sh installs it)"
      exit 77
    fi
    if [[ "$embedded" != "ON" && "$embedded" != "1" ]]; then
      echo "FAIL: $bin was built without the web app (node_modules absent at configure time): re-run cmake"
      exit 1
    fi
    exec node e2e/run.mjs --harmony "$bin" --out "$out"
    ;;
  *)
    echo "usage: $0 unit | e2e HARMONY_BIN OUT_DIR EMBEDDED" >&2
    exit 2
    ;;
esac
