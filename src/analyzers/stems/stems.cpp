#include "analyzers/stems/stems.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "analyzers/input.hpp"
#include "io/flac_writer.hpp"
#include "io/resampler.hpp"

namespace harmony::analyzers {

namespace {

constexpr int kVersion = 2;  // 2: per-stem model and clipped_samples, FLAC (the WAV output is unchanged)
constexpr const char* kBaselineModel = "hpss-median";
constexpr int kBaselineModelVersion = 1;
constexpr const char* kDefaultMethod = "hpss-median";

/// A 32-bit float WAV written block by block: the header's sizes are patched on close, and the
/// file is written as DIR/name.wav.tmp and renamed into place only when complete.
class WavStream {
public:
    ~WavStream() {
        if (f_ != nullptr) {
            std::fclose(f_);
            std::error_code ec;
            std::filesystem::remove(tmp_, ec);
        }
    }
    Result<void> open(const std::string& path, int channels, int rate) {
        path_ = path;
        tmp_ = path + ".tmp";
        channels_ = channels;
        f_ = std::fopen(tmp_.c_str(), "wb");
        if (f_ == nullptr) return make_error(ErrorCode::kIoError, "stems: cannot write " + path);
        return header(rate);
    }
    Result<void> append(const float* x, std::size_t n) {
        bytes_ += n * sizeof(float);
        if (bytes_ > 0xFFFFFF00ULL) return make_error(ErrorCode::kLimitExceeded, "stems: too long for a WAV file");
        for (std::size_t i = 0; i < n; ++i) {  // little-endian IEEE float
            std::uint32_t b;
            std::memcpy(&b, x + i, sizeof b);
            const unsigned char c[4] = {static_cast<unsigned char>(b), static_cast<unsigned char>(b >> 8),
                                        static_cast<unsigned char>(b >> 16), static_cast<unsigned char>(b >> 24)};
            if (std::fwrite(c, 1, 4, f_) != 4) return make_error(ErrorCode::kIoError, "stems: write failed: " + path_);
        }
        return {};
    }
    Result<void> close() {
        // RIFF size and data size.
        bool ok = std::fseek(f_, 4, SEEK_SET) == 0 && put32(static_cast<std::uint32_t>(36 + bytes_)) &&
                  std::fseek(f_, 40, SEEK_SET) == 0 && put32(static_cast<std::uint32_t>(bytes_));
        ok = std::fclose(f_) == 0 && ok;
        f_ = nullptr;
        std::error_code ec;
        if (ok) std::filesystem::rename(tmp_, path_, ec);
        if (!ok || ec) {
            std::filesystem::remove(tmp_, ec);
            return make_error(ErrorCode::kIoError, "stems: cannot write " + path_);
        }
        return {};
    }

private:
    bool put32(std::uint32_t v) {
        const unsigned char b[4] = {static_cast<unsigned char>(v), static_cast<unsigned char>(v >> 8),
                                    static_cast<unsigned char>(v >> 16), static_cast<unsigned char>(v >> 24)};
        return std::fwrite(b, 1, 4, f_) == 4;
    }
    bool put16(std::uint16_t v) {
        const unsigned char b[2] = {static_cast<unsigned char>(v), static_cast<unsigned char>(v >> 8)};
        return std::fwrite(b, 1, 2, f_) == 2;
    }
    Result<void> header(int rate) {
        const auto ch = static_cast<std::uint16_t>(channels_);
        const bool ok = std::fwrite("RIFF", 1, 4, f_) == 4 && put32(36) && std::fwrite("WAVEfmt ", 1, 8, f_) == 8 &&
                        put32(16) && put16(3) && put16(ch) && put32(static_cast<std::uint32_t>(rate)) &&
                        put32(static_cast<std::uint32_t>(rate) * 4u * ch) &&
                        put16(static_cast<std::uint16_t>(4 * ch)) && put16(32) && std::fwrite("data", 1, 4, f_) == 4 &&
                        put32(0);
        if (!ok) return make_error(ErrorCode::kIoError, "stems: write failed: " + path_);
        return {};
    }
    std::FILE* f_ = nullptr;
    std::string path_, tmp_;
    int channels_ = 1;
    std::uint64_t bytes_ = 0;
};

/// One stem's file: 32-bit float WAV or 24-bit FLAC.
class StemFile {
public:
    Result<void> open(const std::string& path, int channels, int rate, bool flac) {
        if (flac) {
            flac_ = std::make_unique<io::FlacWriter>();
            return flac_->open(path, channels, rate);
        }
        wav_ = std::make_unique<WavStream>();
        return wav_->open(path, channels, rate);
    }
    Result<void> append(const float* x, std::size_t n) { return flac_ ? flac_->append(x, n) : wav_->append(x, n); }
    Result<void> close() { return flac_ ? flac_->close() : wav_->close(); }
    std::int64_t clipped() const { return flac_ ? flac_->clipped() : 0; }

private:
    std::unique_ptr<WavStream> wav_;
    std::unique_ptr<io::FlacWriter> flac_;
};

}  // namespace

const AnalyzerInfo& StemsAnalyzer::describe() {
    static const AnalyzerInfo info{
        "stems",
        kVersion,
        "Source separation into vocals, drums, bass and other (classical baseline: median-filter "
        "harmonic/percussive split, low-pass bass, long-median vocal estimate); stems written as WAV "
        "at the source rate with dir=DIR (harmony analyze --stems DIR)",
        {},
        {"stems"},
        {
            {"dir",
             "folder the four stems are written to as WAV (created); empty: separate without writing",
             ParamType::kString,
             std::string(""),
             0,
             0,
             {}},
            {"format",
             "file format of the stems: wav (32-bit float, bit-exact sum to the decoded mix) or flac (24-bit integer, "
             "lossless to 2^-24 of full scale; samples beyond full scale clipped)",
             ParamType::kString,
             std::string("wav"),
             0,
             0,
             {"wav", "flac"}},
            {"method",
             "separator: learned (the project's mask network), hybrid (its vocals, the classical split of the rest) or "
             "hpss-median (the classical baseline)",
             ParamType::kString,
             std::string(kDefaultMethod),
             0,
             0,
             {"learned", "hybrid", kBaselineModel}},
            {"model",
             "weight file of the learned separator (empty: the one built with Harmony)",
             ParamType::kString,
             std::string(""),
             0,
             0,
             {}},
            {"block_s",
             "length of the blocks separated one at a time, seconds",
             ParamType::kDouble,
             20.0,
             2.0,
             120.0,
             {}},
        }};
    return info;
}

Result<StemsAnalyzer::Config> StemsAnalyzer::configure(const ParamSet& p) {
    Config c;
    c.dir = p.get_string("dir");
    c.flac = p.get_string("format") == "flac";
    c.method = p.get_string("method");
    c.model_path = p.get_string("model");
    if (c.model_path.empty()) c.model_path = default_model_path();
    c.separation.block_s = p.get_double("block_s");
    return c;
}

std::string StemsAnalyzer::default_model_path() {
#ifdef HARMONY_STEMS_MODEL
    return HARMONY_STEMS_MODEL;
#else
    return "stems_mask.hnn";
#endif
}

StemsAnalyzer::StemsAnalyzer(Config c) : cfg_(std::move(c)) {
    if (cfg_.method != kBaselineModel) model_ = stems::MaskModel::load(cfg_.model_path);
}

Result<void> StemsAnalyzer::analyze(Context& ctx) const {
    stems::SeparationConfig sep = cfg_.separation;
    if (model_) {
        if (!*model_) return model_->error();
        sep.model = &model_->value();
        sep.model_vocals_only = cfg_.method == "hybrid";
    }
    const AudioBuffer* stereo = ctx.audio ? ctx.audio(AudioRequest{0, 2}) : nullptr;
    if (stereo == nullptr) return make_error(ErrorCode::kInternal, "stems: no audio");
    // A mono source arrives duplicated: separate and write it as mono.
    bool mono = stereo->channels == 2;
    for (std::size_t i = 0; mono && i + 1 < stereo->samples.size(); i += 2)
        mono = stereo->samples[i] == stereo->samples[i + 1];
    AudioBuffer mono_buf;
    if (mono) {
        mono_buf.sample_rate_hz = stereo->sample_rate_hz;
        mono_buf.channels = 1;
        mono_buf.samples.resize(stereo->frames());
        for (std::size_t i = 0; i < mono_buf.samples.size(); ++i) mono_buf.samples[i] = stereo->samples[2 * i];
    }
    const AudioBuffer& mix = mono ? mono_buf : *stereo;
    const int channels = mix.channels;

    std::array<std::unique_ptr<StemFile>, 4> writers;
    std::array<std::string, 4> paths;
    if (!cfg_.dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(cfg_.dir, ec);
        if (!std::filesystem::is_directory(cfg_.dir))
            return make_error(ErrorCode::kIoError, "stems: cannot create the folder " + cfg_.dir);
        for (std::size_t s = 0; s < 4; ++s) {
            paths[s] =
                (std::filesystem::path(cfg_.dir) / (std::string(stems::kStemNames[s]) + (cfg_.flac ? ".flac" : ".wav")))
                    .string();
            writers[s] = std::make_unique<StemFile>();
            if (auto r = writers[s]->open(paths[s], channels, mix.sample_rate_hz, cfg_.flac); !r) return r.error();
        }
    }
    // Every stem, mono at the analysis rate, for the analyzers that read a stem (input.hpp); only
    // when some analyzer of the run does (4 x 5.3 MB per minute at 22.05 kHz); the engine frees
    // it after its last reader.
    auto signals = std::make_shared<StemSignals>();
    signals->rate_hz = ctx.features.sample_rate_hz();
    std::array<std::unique_ptr<io::Resampler>, 4> to_mono;
    for (std::size_t s = 0; s < 4 && ctx.has_readers; ++s) {
        auto* dst = &signals->mono[s];
        dst->reserve(static_cast<std::size_t>(static_cast<double>(mix.frames()) * signals->rate_hz /
                                              std::max(1, mix.sample_rate_hz)) +
                     4096);  // no doubling as it grows
        to_mono[s] = std::make_unique<io::Resampler>(
            mix.sample_rate_hz, channels, signals->rate_hz, 1,
            [dst](std::span<const float> x) { dst->insert(dst->end(), x.begin(), x.end()); });
        if (!to_mono[s]->ok()) return make_error(ErrorCode::kInternal, "stems: cannot set up the resampler");
    }
    std::array<double, 4> energy{};
    double mix_energy = 0.0;
    auto sink = [&](std::int64_t start, const std::array<std::vector<float>, 4>& blocks,
                    std::size_t frames) -> Result<void> {
        const std::size_t n = frames * static_cast<std::size_t>(channels);
        for (std::size_t s = 0; s < 4; ++s) {
            for (std::size_t i = 0; i < n; ++i) energy[s] += static_cast<double>(blocks[s][i]) * blocks[s][i];
            if (to_mono[s]) to_mono[s]->push(std::span<const float>(blocks[s].data(), n));
            if (writers[s])
                if (auto r = writers[s]->append(blocks[s].data(), n); !r) return r.error();
        }
        const float* m = mix.samples.data() + static_cast<std::size_t>(start) * static_cast<std::size_t>(channels);
        for (std::size_t i = 0; i < n; ++i) mix_energy += static_cast<double>(m[i]) * m[i];
        return {};
    };
    stems::SeparationStats stats;
    if (auto r = stems::separate(mix, sep, sink, ctx.progress, ctx.stop, &stats); !r) return r.error();
    for (auto& w : writers)
        if (w)
            if (auto r = w->close(); !r) return r.error();
    if (ctx.has_readers) {
        for (auto& m : to_mono) m->flush();
        ctx.artifacts.put<StemSignals>("stems", std::move(signals));
    }

    Stems out;
    out.model = !model_ ? kBaselineModel : cfg_.method == "hybrid" ? "stems-mask+hpss-median" : "stems-mask";
    out.model_version = model_ ? (*model_)->version() : kBaselineModelVersion;
    out.sample_rate_hz = mix.sample_rate_hz;
    out.channels = channels;
    out.format = cfg_.dir.empty() ? "" : cfg_.flac ? "flac-s24" : "wav-f32";
    double weight = 0.0;
    for (std::size_t s = 0; s < 4; ++s) {
        Stem st;
        st.name = stems::kStemNames[s];
        st.file = paths[s];
        st.duration_s = mix.duration_s();
        st.energy_db =
            energy[s] > 0.0 && mix_energy > 0.0 ? std::max(-120.0, 10.0 * std::log10(energy[s] / mix_energy)) : -120.0;
        st.quality = stats.quality(s);
        // The hybrid method: the learned vocals, the classical split of the rest.
        const bool learned_stem = model_ && (cfg_.method != "hybrid" || s == 0);
        st.model = learned_stem ? "stems-mask" : kBaselineModel;
        st.model_version = learned_stem ? (*model_)->version() : kBaselineModelVersion;
        if (writers[s]) st.clipped_samples = writers[s]->clipped();
        out.confidence += st.quality * stats.mask_energy[s];
        weight += stats.mask_energy[s];
        out.stems.push_back(std::move(st));
    }
    out.confidence = weight > 0.0 ? out.confidence / weight : 0.0;
    ctx.out.stems = std::move(out);
    return {};
}

}  // namespace harmony::analyzers
