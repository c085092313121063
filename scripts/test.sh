#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a passing test suite:
#   installs the dependencies (apt), builds with -Wall -Wextra -Werror, runs every CTest test
#   (labels: unit, golden, server, accuracy, slow), installs to a temporary prefix and builds
#   examples/minimal against it (scripts/check_install.sh), runs the unit tests again under
#   AddressSanitizer + UndefinedBehaviorSanitizer, and checks formatting with clang-format.
#   usage: scripts/test.sh [--fast]   (--fast: skip the sanitizer build and the format check)
set -euo pipefail
cd "$(dirname "$0")/.."
fast=0
[[ "${1:-}" == "--fast" ]] && fast=1
jobs=$(nproc)

scripts/setup.sh

echo "== build (Release, -Werror)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DHARMONY_WERROR=ON >/dev/null
cmake --build build -j "$jobs"

echo "== tests"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 900

echo "== install + examples/minimal against the installed library"
scripts/check_install.sh build

if ((fast == 0)); then
  echo "== unit tests under ASan + UBSan"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHARMONY_WERROR=ON -DHARMONY_SANITIZE=ON \
    -DHARMONY_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan --target harmony_unit_tests -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -L unit --output-on-failure -j "$jobs" --timeout 900

  echo "== clang-format"
  git ls-files -z '*.cpp' '*.hpp' | xargs -0 clang-format --dry-run --Werror
  echo "clang-format: clean"
fi
echo "== all tests passed"
