#!/usr/bin/env bash
# Where the CPU time of a full default analysis goes, per stage (bench/README.md, "Where the time
# goes"): callgrind instruction counts (repeatable, unlike timings on a shared machine), inclusive
# cost per stage function, converted to approximate CPU-seconds with the measured user+sys time.
#   usage: bench/profile/run.sh [AUDIO_FILE]   (default: a 4-minute 192 kbps stereo MP3 made from
#          `harmony demo --seconds 240`)
#   env:   BUILD=build-prof (a Release build with -g, made if absent), OUT=$BUILD/profile
# Needs valgrind and ffmpeg. Takes about 15 minutes for the 4-minute file (callgrind runs ~50x
# slower than native).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build-prof}
out=${OUT:-$build/profile}
mkdir -p "$out"

if [[ ! -x $build/harmony ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-g \
    -DHARMONY_BUILD_TESTS=OFF -DHARMONY_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$build" --target harmony >/dev/null

file=${1:-}
if [[ -z $file ]]; then
  file=$out/demo240.mp3
  if [[ ! -f $file ]]; then
    "$build/harmony" demo --seconds 240 -o "$out/demo240.wav" 2>/dev/null
    ffmpeg -nostdin -v error -y -i "$out/demo240.wav" -ac 2 -b:a 192k "$file"
  fi
fi

echo "== CPU time, 3 runs (user+sys s, max RSS KiB): $build/harmony analyze $file"
cpu=()
for i in 1 2 3; do
  /usr/bin/time -f "%U %S %M" -o "$out/time.txt" "$build/harmony" analyze "$file" >/dev/null
  read -r u s rss <"$out/time.txt"
  cpu+=("$(echo "$u + $s" | bc)")
  echo "run $i: user $u sys $s = ${cpu[-1]} s, max RSS $rss KiB"
done
median=$(printf '%s\n' "${cpu[@]}" | sort -n | sed -n 2p)
echo "median: $median CPU-s"

# Valgrind 3.19 stops on RDTSCP, which libhwy (loaded by libavcodec via libjxl) runs at start-up.
libs=$out/libs
mkdir -p "$libs"
hwy=$(ldconfig -p | awk '/libhwy\.so\.1 / && !found {print $NF; found = 1}')  # no early exit: SIGPIPE
[[ -n $hwy && ! -f $libs/libhwy.so.1 ]] && python3 bench/profile/patch_rdtscp.py "$hwy" "$libs/libhwy.so.1"

echo "== callgrind (several minutes)"
LD_LIBRARY_PATH=$libs valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
  "$build/harmony" analyze "$file" >/dev/null 2>"$out/callgrind.log"
callgrind_annotate --inclusive=yes "$out/callgrind.out" >"$out/callgrind_inclusive.txt"
python3 bench/profile/stages.py "$out/callgrind.out" "$median" | tee "$out/stages.md"
echo "(inclusive listing: $out/callgrind_inclusive.txt)"
