// Development tool (not part of the library): decodes audio files and writes the beat network's
// input (features::BeatSpectrogram: the log-band spectrogram the engine computes) as raw float32,
// frame-major [frames, bands], for tools/train_beats/train.py. One JSON line per file on stdout.
// Build: tools/train_beats/build_dump.sh (needs build/libharmony.a).
// Usage: dump_beat_features < list.tsv > index.jsonl   (list lines: AUDIO<TAB>OUT.f32)
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "features/beat_spectrogram.hpp"
#include "io/decoder.hpp"

using namespace harmony;

int main() {
    const int rate = 22050;
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream ls(line);
        std::string audio, out;
        if (!std::getline(ls, audio, '\t') || !std::getline(ls, out)) continue;
        auto x = io::decode_to_mono(audio, rate);
        if (!x) {
            std::fprintf(stderr, "%s: decode failed\n", audio.c_str());
            continue;
        }
        features::FeatureCache cache(rate);
        auto& spec = cache.get<features::BeatSpectrogram>();
        const auto& s = x.value();
        for (size_t i = 0; i < s.size(); i += 65536)
            cache.on_mono(std::span<const float>(s.data() + i, std::min<size_t>(65536, s.size() - i)));
        cache.finish();
        FILE* f = std::fopen(out.c_str(), "wb");
        if (!f) {
            std::fprintf(stderr, "%s: cannot write\n", out.c_str());
            return 1;
        }
        std::fwrite(spec.data().data(), sizeof(float), spec.data().size(), f);
        std::fclose(f);
        std::printf("{\"file\":\"%s\",\"out\":\"%s\",\"frames\":%zu,\"bands\":%d,\"frame_rate\":%.6f}\n", audio.c_str(),
                    out.c_str(), spec.frames(), spec.bands(), spec.frame_rate_hz());
        std::fflush(stdout);
    }
    return 0;
}
