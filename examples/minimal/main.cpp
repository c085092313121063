// minimal: analyse a file — or, with no argument, a click track over an A minor chord that it
// synthesises in memory (Engine::analyze_pcm) — with the installed Harmony library, and print its
// BPM and key.
#include <harmony/engine.hpp>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

// 10 s, 44.1 kHz mono: clicks at 120 BPM over A3 + C4 + E4.
static harmony::AudioBuffer click_track() {
    constexpr double kTwoPi = 2 * std::numbers::pi;
    harmony::AudioBuffer a;
    a.sample_rate_hz = 44100;
    a.channels = 1;
    for (int i = 0; i < 10 * a.sample_rate_hz; ++i) {
        const double t = double(i) / a.sample_rate_hz, since_beat = std::fmod(t, 0.5);
        double x = 0.1 * (std::sin(kTwoPi * 220.0 * t) + std::sin(kTwoPi * 261.63 * t) + std::sin(kTwoPi * 329.63 * t));
        x += 0.5 * std::exp(-since_beat * 60.0) * std::sin(kTwoPi * 1000.0 * since_beat);
        a.samples.push_back(float(x));
    }
    return a;
}

int main(int argc, char** argv) {
    harmony::Engine engine;
    const harmony::AnalysisRequest request{.only = {"tempo", "key"}, .params = {}};
    auto map = argc > 1 ? engine.analyze_file(argv[1], request) : engine.analyze_pcm(click_track(), request);
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
