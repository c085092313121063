#!/usr/bin/env bash
# Batch throughput of `harmony analyze DIR --jobs N` (issue 6, "Measured"): makes N 4-minute
# stereo MP3s from `harmony demo` (each resampled by a different factor, so tempo, key and bytes
# differ) in a cache directory outside the repository, analyses them with an empty library, and
# prints tracks per hour and peak RSS (the whole process, and one worker alone).
#
#   bench/batch/run.sh                 # 8 tracks, --jobs 2, build/harmony
#   N=16 JOBS=2 HARMONY_BIN=build-lib/harmony bench/batch/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-8}
JOBS=${JOBS:-2}
BIN=${HARMONY_BIN:-build/harmony}
# The DJ analysis (tempo, beats/downbeats/meter, key, loudness); ONLY= (empty) runs every analyzer.
ONLY=${ONLY-tempo,beats,key,loudness}
only=()
[[ -n $ONLY ]] && only=(--only "$ONLY")
CACHE=${HARMONY_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/harmony-bench}/batch-mp3
[[ -x "$BIN" ]] || { echo "batch bench: $BIN not built" >&2; exit 2; }
command -v ffmpeg >/dev/null || { echo "batch bench: ffmpeg not installed" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "batch bench: /usr/bin/time not installed (apt-get install time)" >&2; exit 2; }

mkdir -p "$CACHE"
if [[ ! -f "$CACHE/demo.wav" ]]; then "$BIN" demo --seconds 60 -o "$CACHE/demo.wav" 2>/dev/null; fi
for i in $(seq 1 "$N"); do
  f="$CACHE/track$(printf %03d "$i").mp3"
  [[ -f "$f" ]] && continue
  factor=$(awk -v i="$i" -v n="$N" 'BEGIN { printf "%.4f", 0.92 + 0.16 * (i - 1) / (n > 1 ? n - 1 : 1) }')
  ffmpeg -nostdin -loglevel error -y -stream_loop -1 -i "$CACHE/demo.wav" -t 240 \
    -af "asetrate=44100*${factor},aresample=44100,aecho=0.6:0.3:${i}0:0.3" -ac 2 -c:a libmp3lame -b:a 192k "$f"
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/in"
for i in $(seq 1 "$N"); do ln -s "$CACHE/track$(printf %03d "$i").mp3" "$dir/in/"; done

rss_of() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
wall_of() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + p[k]; print s }' "$1"; }

/usr/bin/time -v "$BIN" analyze "$dir/in" "${only[@]}" --jobs "$JOBS" --library "$dir/lib.sqlite" -q 2>"$dir/batch.log" || {
  cat "$dir/batch.log" >&2; exit 1; }
/usr/bin/time -v "$BIN" analyze "$CACHE/track001.mp3" "${only[@]}" --no-library --jobs 1 -q 2>"$dir/one.log" >/dev/null

cpu_of() { awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$1"; }
wall=$(wall_of "$dir/batch.log")
cpu=$(cpu_of "$dir/batch.log")
rss=$(rss_of "$dir/batch.log")
rss1=$(rss_of "$dir/one.log")
summary=$(grep -a '^harmony: .* files in' "$dir/batch.log" || true)
awk -v n="$N" -v j="$JOBS" -v w="$wall" -v c="$cpu" -v r="$rss" -v r1="$rss1" -v cores="$(nproc)" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  printf "batch: %d x 4-min MP3 (192 kb/s stereo), --jobs %d on %d cores: %.1f s wall\n", n, j, cores, w
  printf "throughput: %.0f tracks/hour (%.2f s wall per track; load average %s during the run)\n", n * 3600 / w, w / n, load
  printf "cpu: %.2f s per track (user+sys) = %.0f tracks/hour per busy core\n", c / n, n * 3600 / c
  printf "peak RSS: %.0f MB for the batch process (%d workers); %.0f MB for one worker alone\n", r / 1024, j, r1 / 1024
}'
echo "$summary"
