#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz: clang, ASan + UBSan, a build dir of their own) and runs
# each for a bounded time from its committed seed corpus. Fails when any target finds a crash, a
# leak, undefined behaviour, a timeout or a broken invariant; the input that did it is kept in
# build-fuzz/artifacts/<target>/ (replay: build-fuzz/tests/fuzz/<target> FILE).
#   usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#     SECONDS  per target (default 60)
#     TARGET   some of: request_target http_request multipart options job_id decoder (default all)
#   env: HARMONY_FUZZ_BUILD (build dir, default build-fuzz), HARMONY_FUZZ_JOBS (build jobs, default nproc)
# The working corpus (seeds plus what the runs found) grows in build-fuzz/corpus/<target>/ and is
# reused by the next run; only the seeds in tests/fuzz/corpus/ are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
all=(request_target http_request multipart options job_id decoder)
targets=("$@")
((${#targets[@]} == 0)) && targets=("${all[@]}")
build="${HARMONY_FUZZ_BUILD:-build-fuzz}"

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (scripts/setup.sh installs it)" >&2; exit 2; }
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
echo "== fuzz: build ($build)"
# -O1 with line tables: fast to build, assertions kept (no NDEBUG), readable stack traces.
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DHARMONY_FUZZ=ON -DHARMONY_BUILD_TESTS=OFF -DHARMONY_BUILD_BENCH=OFF -DHARMONY_BUILD_APP=OFF \
  "${launcher[@]}" >/dev/null
cmake --build "$build" --target harmony_fuzz -j "${HARMONY_FUZZ_JOBS:-$(nproc)}"

max_len() {
  case "$1" in
    decoder) echo 32768 ;;
    http_request | multipart) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

# Scratch files of the targets (a job store, uploads, decoded inputs) on tmpfs when there is one,
# removed at the end even after a crash (a crashing target cannot clean up after itself).
scratch_base=/tmp
[[ -d /dev/shm && -w /dev/shm ]] && scratch_base=/dev/shm
export HARMONY_FUZZ_TMP="$(mktemp -d "$scratch_base/harmony-fuzz-run-XXXXXX")"
trap 'rm -rf "$HARMONY_FUZZ_TMP"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
summary=()
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  seeds="tests/fuzz/corpus/$t"
  [[ -x "$bin" && -d "$seeds" ]] || { echo "fuzz: unknown target '$t'" >&2; exit 2; }
  work="$build/corpus/$t"
  art="$build/artifacts/$t"
  mkdir -p "$work" "$art"
  log="$build/fuzz-$t.log"
  echo "== fuzz: $t for ${seconds}s"
  rc=0
  # New inputs go to $work (first directory); the seeds are read, never written.
  "$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 -malloc_limit_mb=2048 -max_len="$(max_len "$t")" \
    -print_final_stats=1 -artifact_prefix="$art/" "$work" "$seeds" >"$log" 2>&1 || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
  line="$t: ${execs:-?} executions, coverage ${cov:-?} edges, exit $rc"
  summary+=("$line")
  if ((rc != 0)); then
    failed+=("$t")
    echo "fuzz: $t FAILED (exit $rc); log $log, inputs in $art/:" >&2
    grep -E 'ERROR|SUMMARY|invariant|runtime error|==[0-9]+==' "$log" | head -20 >&2 || true
    ls "$art" >&2
  fi
  echo "$line"
done
echo "== fuzz summary"
printf '  %s\n' "${summary[@]}"
if ((${#failed[@]} > 0)); then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no crashes"
