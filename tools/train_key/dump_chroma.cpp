// Development tool (not part of the library): decodes files and prints the key analyzer's
// per-frame tuned 12-bin chroma (treble and bass) as JSON lines, for tools/train_key/train.py.
// Build: tools/train_key/build_dump.sh (needs build-key/libharmony.a).
// Usage: dump_chroma [--harmonics N] [--decay D] [--power P] [--tmin HZ] [--tmax HZ] FILE... > features.jsonl
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "features/chroma.hpp"
#include "io/decoder.hpp"

using namespace harmony;

int main(int argc, char** argv) {
    features::Chroma::Config cfg;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--harmonics") && i + 1 < argc)
            cfg.harmonics = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--decay") && i + 1 < argc)
            cfg.harmonic_decay = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--power") && i + 1 < argc)
            cfg.magnitude_power = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--validate"))
            cfg.validate_subharmonics = true;
        else if (!std::strcmp(argv[i], "--no-validate"))
            cfg.validate_subharmonics = false;
        else if (!std::strcmp(argv[i], "--tmin") && i + 1 < argc)
            cfg.treble_min_hz = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--tmax") && i + 1 < argc)
            cfg.treble_max_hz = std::atof(argv[++i]);
        else
            files.emplace_back(argv[i]);
    }
    const int rate = 22050;
    for (const auto& f : files) {
        auto x = io::decode_to_mono(f, rate);
        if (!x) {
            std::fprintf(stderr, "%s: decode failed\n", f.c_str());
            continue;
        }
        features::FeatureCache cache(rate);
        auto& c = cache.get<features::Chroma>(cfg);
        const auto& s = x.value();
        for (size_t i = 0; i < s.size(); i += 65536)
            cache.on_mono(std::span<const float>(s.data() + i, std::min<size_t>(65536, s.size() - i)));
        cache.finish();
        const auto t = c.tuning();
        std::printf("{\"file\":\"%s\",\"cents\":%.3f,\"tuning_conf\":%.4f,\"fps\":%.5f,\"duration\":%.3f", f.c_str(),
                    t.cents, t.confidence, c.frame_rate_hz(), static_cast<double>(s.size()) / rate);
        for (int band = 0; band < 2; ++band) {
            std::printf(",\"%s\":[", band == 0 ? "treble" : "bass");
            for (std::int64_t i = 0; i < c.frames(); ++i) {
                const auto v = c.fold(band == 0 ? c.treble(i) : c.bass(i), t.cents);
                std::printf("%s[", i ? "," : "");
                for (int k = 0; k < 12; ++k) std::printf("%s%.4g", k ? "," : "", v[static_cast<size_t>(k)]);
                std::printf("]");
            }
            std::printf("]");
        }
        std::printf(",\"tonal\":[");
        for (std::int64_t i = 0; i < c.frames(); ++i) std::printf("%s%.4g", i ? "," : "", c.tonal_energy(i));
        std::printf("],\"total\":[");
        for (std::int64_t i = 0; i < c.frames(); ++i) std::printf("%s%.4g", i ? "," : "", c.total_energy(i));
        std::printf("]}\n");
        std::fflush(stdout);
    }
    return 0;
}
