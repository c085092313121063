// minimal: analyse a file (or, with no argument, a click track over an A minor chord that it
// writes itself) with the installed Harmony library and print its BPM and key.
#include <harmony/engine.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <numbers>
#include <vector>

// 10 s, 44.1 kHz, mono 16-bit WAV: clicks at 120 BPM over A3 + C4 + E4.
static void write_click_track(const char* path) {
    constexpr double kTwoPi = 2 * std::numbers::pi;
    const int rate = 44100, n = 10 * rate;
    std::vector<int16_t> pcm(n);
    for (int i = 0; i < n; ++i) {
        const double t = double(i) / rate, since_beat = std::fmod(t, 0.5);
        double x = 0.1 * (std::sin(kTwoPi * 220.0 * t) + std::sin(kTwoPi * 261.63 * t) + std::sin(kTwoPi * 329.63 * t));
        x += 0.5 * std::exp(-since_beat * 60.0) * std::sin(kTwoPi * 1000.0 * since_beat);
        pcm[i] = int16_t(std::lrint(std::clamp(x, -1.0, 1.0) * 32767));
    }
    // The 44-byte header of a PCM WAV ("RIFF", "WAVE", "fmt ", "data" as little-endian words).
    const uint32_t bytes = uint32_t(n) * 2,
                   header[] = {0x46464952,     36 + bytes,         0x45564157,   0x20746d66, 16,   1 | 1 << 16,
                               uint32_t(rate), uint32_t(rate) * 2, 2 | 16 << 16, 0x61746164, bytes};
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(header), sizeof header);
    f.write(reinterpret_cast<const char*>(pcm.data()), bytes);
}

int main(int argc, char** argv) {
    const char* path = argc > 1 ? argv[1] : "minimal-click.wav";
    if (argc <= 1) write_click_track(path);
    harmony::Engine engine;
    auto map = engine.analyze_file(path, {.only = {"tempo", "key"}, .params = {}});
    if (!map) {
        std::fprintf(stderr, "minimal: %s\n", map.error().message.c_str());
        return 1;
    }
    const auto& tempo = map->tempo;
    const auto& key = map->key;
    if (tempo && tempo->bpm)
        std::printf("bpm: %.2f\n", *tempo->bpm);
    else
        std::printf("bpm: none\n");
    if (key && key->key)
        std::printf("key: %s (%s)\n", key->key->label.c_str(), key->key->camelot.c_str());
    else
        std::printf("key: none\n");
    return 0;
}
