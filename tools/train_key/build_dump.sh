#!/bin/sh
# Builds the development feature dumper against build-key/libharmony.a.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-key}
g++ -O2 -std=c++20 -Wall -Wextra -I"$ROOT/src" -I"$ROOT/include" "$ROOT/tools/train_key/dump_chroma.cpp" \
    "$BUILD/libharmony.a" $(pkg-config --libs libavformat libavcodec libavutil libswresample soxr fftw3f libebur128 libxxhash) \
    -lpthread -o "$BUILD/dump_chroma"
echo "$BUILD/dump_chroma"
