// Development tool (not part of the library): decodes audio files and writes the learned note
// model's input (src/analyzers/notes/logspec.hpp, LogSpectrum::normalized()) for
// tools/train_notes/train.py: one raw little-endian float32 file per input, [frames][264].
// Build: tools/train_notes/build_dump.sh (needs build/libharmony.a).
// Usage: dump_notes_features < list.tsv   (list lines: AUDIO<TAB>OUT.f32)
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "analyzers/notes/logspec.hpp"
#include "io/decoder.hpp"

using namespace harmony;

int main() {
    const int rate = 22050;
    std::string line;
    int failed = 0;
    while (std::getline(std::cin, line)) {
        std::istringstream ls(line);
        std::string audio, out;
        if (!std::getline(ls, audio, '\t') || !std::getline(ls, out)) continue;
        auto x = io::decode_to_mono(audio, rate);
        if (!x) {
            std::fprintf(stderr, "%s: decode failed\n", audio.c_str());
            ++failed;
            continue;
        }
        features::FeatureCache cache(rate);
        auto& spec = cache.get<analyzers::notes::LogSpectrum>(analyzers::notes::LogSpecConfig{});
        const auto& s = x.value();
        for (size_t i = 0; i < s.size(); i += 65536)
            cache.on_mono(std::span<const float>(s.data() + i, std::min<size_t>(65536, s.size() - i)));
        cache.finish();
        const auto v = spec.normalized();
        FILE* f = std::fopen(out.c_str(), "wb");
        if (f == nullptr || std::fwrite(v.data(), sizeof(float), v.size(), f) != v.size()) {
            std::fprintf(stderr, "%s: write failed\n", out.c_str());
            ++failed;
        }
        if (f != nullptr) std::fclose(f);
        std::printf("%s\t%lld\n", out.c_str(), static_cast<long long>(spec.frames()));
        std::fflush(stdout);
    }
    return failed == 0 ? 0 : 1;
}
