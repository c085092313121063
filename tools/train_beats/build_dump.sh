#!/bin/sh
# Builds the development feature dumper against build/libharmony.a (BUILD=... to use another).
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
g++ -O2 -std=c++20 -Wall -Wextra -I"$ROOT/src" -I"$ROOT/include" "$ROOT/tools/train_beats/dump_features.cpp" \
    "$BUILD/libharmony.a" $(pkg-config --libs libavformat libavcodec libavutil libswresample soxr fftw3f libebur128 libxxhash) \
    -lpthread -o "$BUILD/dump_beat_features"
echo "$BUILD/dump_beat_features"
