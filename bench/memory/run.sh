#!/usr/bin/env bash
# Peak RSS of decoding + feature extraction + analysis: a 4-minute file vs 1-hour and 10-hour files.
# Files longer than 7.5 minutes are analysed in 5-minute segments (--segment, src/pipeline/segments.hpp),
# so the analysis should need the same memory whatever the length.
# Both are FLAC, 44.1 kHz stereo, made from Harmony's own demo track (looped), cached outside the
# repository. Usage: bench/memory/run.sh [--only a,b,...]   (default: all analyzers)
# Prints one Markdown table; needs /usr/bin/time (apt: time).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${HARMONY_BIN:-build/harmony}
cache=${HARMONY_BENCH_CACHE:-$HOME/.cache/harmony-bench}/memory
mkdir -p "$cache"
only=()
[[ "${1:-}" == "--only" ]] && only=(--only "$2")
if [[ ! -s "$cache/long-10h.flac" ]]; then
  "$bin" demo -o "$cache/demo.wav" --seconds 60 2>/dev/null
  ffmpeg -nostdin -loglevel error -y -stream_loop 3 -i "$cache/demo.wav" -t 240 -ac 2 -c:a flac "$cache/short-4min.flac"
  ffmpeg -nostdin -loglevel error -y -stream_loop -1 -i "$cache/demo.wav" -t 36000 -ac 2 -c:a flac "$cache/long-10h.flac.tmp.flac"
  mv "$cache/long-10h.flac.tmp.flac" "$cache/long-10h.flac"
fi
if [[ ! -s "$cache/one-hour.flac" ]]; then
  ffmpeg -nostdin -loglevel error -y -stream_loop -1 -i "$cache/demo.wav" -t 3600 -ac 2 -c:a flac "$cache/one-hour.tmp.flac"
  mv "$cache/one-hour.tmp.flac" "$cache/one-hour.flac"
fi
echo "| file | audio | command | wall s | peak RSS MB |"
echo "|---|---|---|---|---|"
for f in short-4min one-hour long-10h; do
  for mode in decode analyze; do
    if [[ $mode == decode ]]; then cmd=("$bin" decode "$cache/$f.flac"); else cmd=("$bin" analyze "${only[@]}" --no-library -q --compact "$cache/$f.flac"); fi
    /usr/bin/time -f "%e %M" -o "$cache/time.txt" "${cmd[@]}" >/dev/null
    read -r wall rss <"$cache/time.txt"
    echo "| $f.flac | $(case $f in long-10h) echo '10 h' ;; one-hour) echo '1 h' ;; *) echo '4 min' ;; esac) | harmony $mode ${only[*]} | $wall | $((rss / 1024)) |"
  done
done
