// Development tool (not part of the library): decodes audio files and prints the chord analyzer's
// per-unit features (src/analyzers/chords/chord_features.hpp) over a given beat grid, as JSON
// lines, for tools/train_chords/train.py. The beats come from the ground truth at training time;
// the analyzer uses the beats analyzer's grid at run time.
// Build: tools/train_chords/build_dump.sh (needs build/libharmony.a).
// Usage: dump_features < list.tsv > features.jsonl   (list lines: AUDIO<TAB>BEATS.txt; the beats
// file holds one beat time in seconds per line)
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "analyzers/chords/chord_features.hpp"
#include "io/decoder.hpp"

using namespace harmony;

int main() {
    const int rate = 22050;
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream ls(line);
        std::string audio, beats_path;
        if (!std::getline(ls, audio, '\t') || !std::getline(ls, beats_path)) continue;
        std::vector<double> beats;
        std::ifstream bf(beats_path);
        for (double t; bf >> t;) beats.push_back(t);
        auto x = io::decode_to_mono(audio, rate);
        if (!x) {
            std::fprintf(stderr, "%s: decode failed\n", audio.c_str());
            continue;
        }
        features::FeatureCache cache(rate);
        auto& c = cache.get<features::Chroma>(analyzers::chords::chroma_config());
        const auto& s = x.value();
        for (size_t i = 0; i < s.size(); i += 65536)
            cache.on_mono(std::span<const float>(s.data() + i, std::min<size_t>(65536, s.size() - i)));
        cache.finish();
        const auto t = c.tuning();
        const double duration = static_cast<double>(s.size()) / rate;
        const auto bounds = analyzers::chords::unit_boundaries(beats, duration);
        const auto f = analyzers::chords::unit_features(c, t.cents, bounds);
        std::printf("{\"file\":\"%s\",\"cents\":%.3f,\"duration\":%.4f,\"bounds\":[", audio.c_str(), t.cents, duration);
        for (size_t i = 0; i < bounds.size(); ++i) std::printf("%s%.4f", i ? "," : "", bounds[i]);
        std::printf("],\"silent\":[");
        for (size_t i = 0; i < f.silent.size(); ++i) std::printf("%s%d", i ? "," : "", f.silent[i] ? 1 : 0);
        std::printf("],\"units\":[");
        for (size_t u = 0; u < f.units.size(); ++u) {
            std::printf("%s[", u ? "," : "");
            for (int k = 0; k < analyzers::chords::kUnitDims; ++k)
                std::printf("%s%.5g", k ? "," : "", f.units[u][static_cast<size_t>(k)]);
            std::printf("]");
        }
        std::printf("]}\n");
        std::fflush(stdout);
    }
    return 0;
}
