#!/usr/bin/env bash
# Full DJ analysis speed (issue "Engine v2", Measured): `harmony analyze F` (tempo, beats,
# downbeats, meter, key, loudness) of a 4-minute 192 kbps stereo MP3 against `ffmpeg` decoding the
# same file to 22.05 kHz mono, in the same run, alternating, N times each. Prints the median CPU
# (user+sys) and wall seconds of each, and the ratios. Optionally a second harmony binary
# (BASE=path) is timed in the same rounds, for before/after figures.
# The DJ analysis is --only tempo,beats,key,loudness (downbeats and meter come with beats); the
# performer analyzers (sections, chords, ...) have their own budgets: ONLY= (empty) times them all.
#   usage: bench/speed/dj_analysis.sh [FILE]      env: N=7, HARMONY_BIN=build/harmony, BASE=, THREADS=2,
#                                                      ONLY=tempo,beats,key,loudness
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-7}
BIN=${HARMONY_BIN:-build/harmony}
THREADS=${THREADS:-2}
ONLY=${ONLY-tempo,beats,key,loudness}
only=()
[[ -n $ONLY ]] && only=(--only "$ONLY")
CACHE=${HARMONY_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/harmony-bench}/speed
mkdir -p "$CACHE"
file=${1:-$CACHE/demo240-192k.mp3}
if [[ ! -f $file ]]; then
  "$BIN" demo --seconds 240 -o "$CACHE/demo240.wav" 2>/dev/null
  ffmpeg -nostdin -v error -y -i "$CACHE/demo240.wav" -ac 2 -c:a libmp3lame -b:a 192k "$file"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {  # label, command...: appends "cpu wall" to $tmp/label
  local label=$1
  shift
  /usr/bin/time -f "%U %S %e" -o "$tmp/t" "$@" >/dev/null 2>&1
  awk '{ printf "%.3f %.3f\n", $1 + $2, $3 }' "$tmp/t" >>"$tmp/$label"
}
for _ in $(seq 1 "$N"); do
  run ffmpeg ffmpeg -nostdin -v error -i "$file" -ac 1 -ar 22050 -f f32le -y /dev/null
  run harmony "$BIN" analyze "$file" "${only[@]}" --no-library --threads "$THREADS" -o /dev/null
  [[ -n ${BASE:-} ]] && run base "$BASE" analyze "$file" "${only[@]}" -o /dev/null
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A cpu wall
for l in ffmpeg harmony base; do
  [[ -f $tmp/$l ]] || continue
  cpu[$l]=$(cut -d' ' -f1 "$tmp/$l" | median)
  wall[$l]=$(cut -d' ' -f2 "$tmp/$l" | median)
done
echo "file: $file ($N runs each, alternating; load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-28s %8s %8s\n' "" "CPU s" "wall s"
printf '%-28s %8s %8s\n' "ffmpeg decode (22.05k mono)" "${cpu[ffmpeg]}" "${wall[ffmpeg]}"
printf '%-28s %8s %8s\n' "harmony ($THREADS threads)" "${cpu[harmony]}" "${wall[harmony]}"
echo "(analyzers: ${ONLY:-all})"
[[ -n ${BASE:-} ]] && printf '%-28s %8s %8s\n' "base ($BASE)" "${cpu[base]}" "${wall[base]}"
awk -v h="${wall[harmony]}" -v f="${wall[ffmpeg]}" 'BEGIN { printf "wall ratio harmony / ffmpeg: %.2f\n", h / f }'
