// Source separation (src/analyzers/stems): the stems sum back to the mix, silence gives silent
// stems, mono and 96 kHz inputs, seams between blocks, the files written, and failures that leave
// the rest of the Song Map intact. Synthetic signals only.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <span>
#include <numbers>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyzers/stems/mask_model.hpp"
#include "analyzers/stems/separation.hpp"
#include "harmony/engine.hpp"
#include "io/decoder.hpp"
#include "io/flac_writer.hpp"

using namespace harmony;
namespace st = harmony::analyzers::stems;
namespace fs = std::filesystem;

namespace {

/// A small band: a sustained chord, a bass line, a vibrato lead and noise-burst drums.
AudioBuffer band(double seconds, int rate, int channels, unsigned seed = 1) {
    AudioBuffer b;
    b.sample_rate_hz = rate;
    b.channels = channels;
    const auto n = static_cast<std::size_t>(seconds * rate);
    b.samples.assign(n * static_cast<std::size_t>(channels), 0.0f);
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    const double pi = std::numbers::pi;
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / rate;
        const double beat = std::fmod(t, 0.5);
        double x = 0.1 * (std::sin(2 * pi * 261.6 * t) + std::sin(2 * pi * 329.6 * t) + std::sin(2 * pi * 392.0 * t));
        x += 0.2 * std::sin(2 * pi * (std::fmod(t, 2.0) < 1.0 ? 55.0 : 73.4) * t);
        x += 0.15 * std::sin(2 * pi * 660.0 * t + 3.0 * std::sin(2 * pi * 5.5 * t));
        const double drum = 0.3 * std::exp(-beat * 40.0) * noise(rng);
        for (int c = 0; c < channels; ++c)
            b.samples[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)] =
                static_cast<float>(x * (c == 0 ? 1.0 : 0.8) + drum);
    }
    return b;
}

struct Collected {
    std::array<std::vector<float>, 4> stems;
    std::size_t max_block_frames = 0;
};

Collected run(const AudioBuffer& mix, const st::SeparationConfig& cfg) {
    Collected out;
    std::int64_t expect = 0;
    auto r = st::separate(
        mix, cfg,
        [&](std::int64_t start, const std::array<std::vector<float>, 4>& s, std::size_t frames) -> Result<void> {
            EXPECT_EQ(start, expect);
            expect += static_cast<std::int64_t>(frames);
            out.max_block_frames = std::max(out.max_block_frames, frames);
            for (std::size_t k = 0; k < 4; ++k) {
                EXPECT_EQ(s[k].size(), frames * static_cast<std::size_t>(mix.channels));
                out.stems[k].insert(out.stems[k].end(), s[k].begin(), s[k].end());
            }
            return {};
        });
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(static_cast<std::size_t>(expect), mix.frames());
    return out;
}

double rms(const std::vector<float>& x) {
    double e = 0;
    for (float v : x) e += static_cast<double>(v) * v;
    return x.empty() ? 0.0 : std::sqrt(e / static_cast<double>(x.size()));
}

double max_sum_error(const AudioBuffer& mix, const Collected& c) {
    double worst = 0.0;
    for (std::size_t i = 0; i < mix.samples.size(); ++i) {
        const double s = static_cast<double>(c.stems[0][i]) + c.stems[1][i] + c.stems[2][i] + c.stems[3][i];
        worst = std::max(worst, std::abs(s - mix.samples[i]));
    }
    return worst;
}

/// A WAV file's format and float samples (the 44-byte header the analyzer writes).
struct Wav {
    int format = 0, channels = 0, rate = 0, bits = 0;
    std::vector<float> samples;
};
Wav read_wav(const std::string& path) {
    Wav w;
    std::ifstream f(path, std::ios::binary);
    std::vector<char> d((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (d.size() < 44 || std::memcmp(d.data(), "RIFF", 4) != 0 || std::memcmp(d.data() + 36, "data", 4) != 0) return w;
    auto u16 = [&](std::size_t o) {
        return static_cast<int>(static_cast<unsigned char>(d[o]) | static_cast<unsigned char>(d[o + 1]) << 8);
    };
    std::uint32_t size;
    std::memcpy(&size, d.data() + 40, 4);
    w.format = u16(20);
    w.channels = u16(22);
    std::memcpy(&w.rate, d.data() + 24, 4);
    w.bits = u16(34);
    if (size != d.size() - 44) return Wav{};
    w.samples.resize(size / 4);
    std::memcpy(w.samples.data(), d.data() + 44, size);
    return w;
}

fs::path scratch(const std::string& name) {
    auto p = fs::temp_directory_path() / ("harmony-stems-test-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(p);
    return p;
}

}  // namespace

TEST(Stems, SumBackToTheMix) {
    const auto mix = band(7.3, 44100, 2);
    st::SeparationConfig cfg;
    cfg.block_s = 2.0;  // several blocks and seams
    const auto c = run(mix, cfg);
    EXPECT_LT(max_sum_error(mix, c), 1e-6);
    // Every stem took something of this band, none took everything.
    for (std::size_t k = 0; k < 3; ++k) {
        EXPECT_GT(rms(c.stems[k]), 0.01 * rms(mix.samples)) << st::kStemNames[k];
        EXPECT_LT(rms(c.stems[k]), rms(mix.samples)) << st::kStemNames[k];
    }
}

TEST(Stems, SilenceGivesSilentStems) {
    AudioBuffer mix;
    mix.sample_rate_hz = 44100;
    mix.channels = 2;
    mix.samples.assign(2 * 44100 * 3, 0.0f);
    const auto c = run(mix, {});
    for (const auto& s : c.stems)
        for (float v : s) ASSERT_EQ(v, 0.0f);
}

TEST(Stems, ShortAndEmptyInputs) {
    for (std::size_t frames : {0, 1, 100, 5000}) {
        AudioBuffer mix = band(1.0, 22050, 1);
        mix.samples.resize(frames);
        const auto c = run(mix, {});
        EXPECT_LT(max_sum_error(mix, c), 1e-6) << frames;
    }
}

TEST(Stems, SeamsMatchAnUnchunkedSeparation) {
    // Blocks of 2 s against one block for the whole 9 s: around every seam (±50 ms) the difference
    // of each stem must stay 80 dB below the mix's RMS (no click, no level step).
    const auto mix = band(9.0, 44100, 2, 7);
    st::SeparationConfig whole, chunked;
    whole.block_s = 60.0;
    chunked.block_s = 2.0;
    const auto a = run(mix, whole), b = run(mix, chunked);
    ASSERT_EQ(b.max_block_frames, 88064u);  // 2 s on the 1024-sample hop grid
    const double ref = rms(mix.samples);
    double worst_db = -300.0;
    for (std::size_t seam = 88064; seam < mix.frames(); seam += 88064)
        for (std::size_t k = 0; k < 4; ++k) {
            double e = 0.0;
            std::size_t n = 0;
            for (std::size_t i = seam - 2205; i < std::min(mix.frames(), seam + 2205); ++i)
                for (std::size_t ch = 0; ch < 2; ++ch, ++n) {
                    const double d = a.stems[k][2 * i + ch] - b.stems[k][2 * i + ch];
                    e += d * d;
                }
            worst_db =
                std::max(worst_db, 10.0 * std::log10(e / static_cast<double>(n) + 1e-30) - 20.0 * std::log10(ref));
        }
    RecordProperty("worst_seam_error_db", std::to_string(worst_db));
    EXPECT_LT(worst_db, -80.0);
}

TEST(Stems, AnalyzerWritesMonoStemsForAMonoFile) {
    const auto dir = scratch("mono");
    const auto mix = band(4.0, 44100, 1);
    Engine engine;
    AnalysisRequest req;
    req.only = {"stems", "tempo"};
    req.params["stems.dir"] = dir.string();
    auto map = engine.analyze_pcm(mix, req);
    ASSERT_TRUE(map.ok()) << map.error().message;
    ASSERT_TRUE(map->stems.has_value());
    ASSERT_TRUE(map->tempo.has_value());
    EXPECT_EQ(map->stems->channels, 1);
    EXPECT_EQ(map->stems->sample_rate_hz, 44100);
    EXPECT_EQ(map->stems->model, "hpss-median");
    EXPECT_EQ(map->stems->format, "wav-f32");
    ASSERT_EQ(map->stems->stems.size(), 4u);
    std::vector<double> sum(mix.samples.size(), 0.0);
    for (std::size_t k = 0; k < 4; ++k) {
        const auto& s = map->stems->stems[k];
        EXPECT_EQ(s.name, st::kStemNames[k]);
        EXPECT_NEAR(s.duration_s, 4.0, 1e-9);
        EXPECT_GE(s.quality, 0.0);
        EXPECT_LE(s.quality, 1.0);
        const auto w = read_wav(s.file);
        EXPECT_EQ(w.format, 3);
        EXPECT_EQ(w.channels, 1);
        EXPECT_EQ(w.rate, 44100);
        EXPECT_EQ(w.bits, 32);
        ASSERT_EQ(w.samples.size(), mix.samples.size()) << s.file;  // sample-aligned, same length
        for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += w.samples[i];
    }
    double worst = 0.0;
    for (std::size_t i = 0; i < sum.size(); ++i) worst = std::max(worst, std::abs(sum[i] - mix.samples[i]));
    EXPECT_LT(worst, 1e-6);
    EXPECT_FALSE(fs::exists(dir / "vocals.wav.tmp"));
    fs::remove_all(dir);
}

TEST(Stems, AnalyzerAt96kHzStereo) {
    const auto mix = band(3.0, 96000, 2);
    Engine engine;
    AnalysisRequest req;
    req.only = {"stems"};
    auto map = engine.analyze_pcm(mix, req);
    ASSERT_TRUE(map.ok()) << map.error().message;
    ASSERT_TRUE(map->stems.has_value());
    EXPECT_EQ(map->stems->sample_rate_hz, 96000);
    EXPECT_EQ(map->stems->channels, 2);
    EXPECT_EQ(map->stems->format, "");  // no dir: separated, not written
    for (const auto& s : map->stems->stems) EXPECT_TRUE(s.file.empty());
    EXPECT_EQ(st::stft_size_for(96000), 8192);
    EXPECT_EQ(st::stft_size_for(44100), 4096);
    // And the separation itself sums back at 96 kHz.
    EXPECT_LT(max_sum_error(mix, run(mix, {})), 1e-6);
}

namespace {
/// A file decoded by the project's FFmpeg decoder at its own rate: codec, layout, samples.
struct Decoded {
    std::string codec;
    int rate = 0, channels = 0;
    std::vector<float> samples;
};
Decoded decode_native(const std::string& path) {
    Decoded d;
    io::DecodeCallbacks cb;
    cb.on_open = [&](const io::SourceInfo& s) { d.codec = s.codec; };
    cb.on_native = [&](std::span<const float> x, int channels, int rate) {
        d.channels = channels;
        d.rate = rate;
        d.samples.insert(d.samples.end(), x.begin(), x.end());
    };
    auto r = io::decode_file(path, {}, cb);
    EXPECT_TRUE(r.ok()) << path << ": " << (r.ok() ? "" : r.error().message);
    return d;
}
}  // namespace

TEST(Stems, FlacStemsReadBackAndSumToTheMixWithin24Bits) {
    // The same separation written as float WAV and as 24-bit FLAC: every FLAC sample is the WAV
    // sample rounded to 2^-23, and the four FLAC stems sum to the mix within 4 half steps.
    auto mix = band(4.0, 44100, 2, 7);
    for (auto& v : mix.samples) v *= 0.4f;  // within full scale: nothing clipped
    const auto wav_dir = scratch("flac-ref"), flac_dir = scratch("flac");
    Engine engine;
    std::array<std::optional<SongMap>, 2> maps;
    for (int k = 0; k < 2; ++k) {
        AnalysisRequest req;
        req.only = {"stems"};
        req.params["stems.dir"] = (k == 0 ? wav_dir : flac_dir).string();
        if (k == 1) req.params["stems.format"] = "flac";
        auto m = engine.analyze_pcm(mix, req);
        ASSERT_TRUE(m.ok()) << m.error().message;
        ASSERT_TRUE(m->stems.has_value());
        maps[static_cast<std::size_t>(k)] = std::move(m.value());
    }
    const auto& flac = *maps[1]->stems;
    EXPECT_EQ(flac.format, "flac-s24");
    EXPECT_EQ(maps[0]->stems->format, "wav-f32");
    constexpr double kHalfStep = 0.5 / 8388608.0;
    std::vector<double> sum(mix.samples.size(), 0.0);
    for (std::size_t s = 0; s < 4; ++s) {
        const auto& st = flac.stems[s];
        EXPECT_EQ(st.file, (flac_dir / (std::string(st::kStemNames[s]) + ".flac")).string());
        EXPECT_EQ(st.clipped_samples, 0);
        EXPECT_EQ(st.model, "hpss-median");
        EXPECT_EQ(st.model_version, 1);
        const auto ref = read_wav(maps[0]->stems->stems[s].file);
        const auto got = decode_native(st.file);
        EXPECT_EQ(got.codec, "flac");
        EXPECT_EQ(got.rate, 44100);
        EXPECT_EQ(got.channels, 2);
        ASSERT_EQ(got.samples.size(), mix.samples.size()) << st.file;  // sample-aligned, same length
        ASSERT_EQ(ref.samples.size(), got.samples.size());
        double worst = 0.0;
        for (std::size_t i = 0; i < got.samples.size(); ++i) {
            worst = std::max(worst, std::abs(static_cast<double>(got.samples[i]) - ref.samples[i]));
            sum[i] += got.samples[i];
        }
        EXPECT_LE(worst, kHalfStep * 1.0001) << st.file;
        EXPECT_FALSE(fs::exists(st.file + ".tmp"));
    }
    double worst = 0.0;
    for (std::size_t i = 0; i < sum.size(); ++i) worst = std::max(worst, std::abs(sum[i] - mix.samples[i]));
    EXPECT_LT(worst, 4 * kHalfStep + 1e-6);
    // FLAC is smaller than float WAV (24 of 32 bits at most, then compressed).
    EXPECT_LT(fs::file_size(flac.stems[0].file), fs::file_size(maps[0]->stems->stems[0].file));
    fs::remove_all(wav_dir);
    fs::remove_all(flac_dir);
}

TEST(Stems, FlacWriterClipsAtFullScaleAndCountsIt) {
    const auto dir = scratch("flac-clip");
    fs::create_directories(dir);
    const std::string path = (dir / "x.flac").string();
    {
        io::FlacWriter w;
        ASSERT_TRUE(w.open(path, 1, 8000).ok());
        std::vector<float> x(10000, 0.25f);
        x[10] = 1.5f;
        x[20] = -2.0f;
        x[30] = std::numeric_limits<float>::quiet_NaN();
        x[40] = 1.0f;  // one step above the largest 24-bit value
        ASSERT_TRUE(w.append(x.data(), x.size()).ok());
        ASSERT_TRUE(w.close().ok());
        EXPECT_EQ(w.clipped(), 4);
    }
    const auto d = decode_native(path);
    ASSERT_EQ(d.samples.size(), 10000u);
    EXPECT_FLOAT_EQ(d.samples[0], 0.25f);
    EXPECT_FLOAT_EQ(d.samples[10], 8388607.0f / 8388608.0f);
    EXPECT_FLOAT_EQ(d.samples[20], -1.0f);
    EXPECT_FLOAT_EQ(d.samples[30], 0.0f);
    // An unwritable place: a clear error, no file left behind.
    io::FlacWriter bad;
    auto r = bad.open((dir / "x.flac" / "y.flac").string(), 2, 44100);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kIoError);
    EXPECT_NE(r.error().message.find("y.flac"), std::string::npos);
    fs::remove_all(dir);
}

TEST(Stems, OffByDefaultAndValidated) {
    auto ids = Engine::resolve({});
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(std::find(ids->begin(), ids->end(), "stems"), ids->end());
    AnalysisRequest bad;
    bad.only = {"stems"};
    bad.params["stems.method"] = "demucs";
    EXPECT_FALSE(Engine::resolve(bad).ok());
}

TEST(Stems, UnwritableFolderFailsClearlyAndTheRestIsProduced) {
    const auto file = scratch("not-a-dir");
    { std::ofstream(file) << "x"; }
    Engine engine;
    AnalysisRequest req;
    req.only = {"stems", "tempo", "loudness"};
    req.params["stems.dir"] = (file / "sub").string();  // a path under a regular file
    auto map = engine.analyze_pcm(band(4.0, 44100, 2), req);
    ASSERT_TRUE(map.ok()) << map.error().message;
    EXPECT_FALSE(map->stems.has_value());
    EXPECT_TRUE(map->tempo.has_value());
    EXPECT_TRUE(map->loudness.has_value());
    bool warned = false;
    for (const auto& w : map->audio.warnings) warned = warned || w.find("stems failed: stems: cannot create") == 0;
    EXPECT_TRUE(warned);
    fs::remove_all(file);
}

TEST(Stems, MissingOrCorruptModelFailsClearlyAndTheRestIsProduced) {
    const auto bad = scratch("corrupt.hnn");
    { std::ofstream(bad) << "HRMNYNN\0 not a weight file"; }
    for (const std::string& path : {std::string("/nonexistent/stems_mask.hnn"), bad.string()}) {
        Engine engine;
        AnalysisRequest req;
        req.only = {"stems", "loudness"};
        req.params["stems.method"] = "learned";
        req.params["stems.model"] = path;
        ASSERT_TRUE(Engine::resolve(req).ok());  // not a usage error: the rest can still run
        auto map = engine.analyze_pcm(band(3.0, 44100, 2), req);
        ASSERT_TRUE(map.ok()) << map.error().message;
        EXPECT_FALSE(map->stems.has_value());
        EXPECT_TRUE(map->loudness.has_value());
        bool warned = false;
        for (const auto& w : map->audio.warnings)
            warned = warned || (w.find("stems failed: ") == 0 && w.find(path) != std::string::npos);
        EXPECT_TRUE(warned) << path;
    }
    fs::remove_all(bad);
}

namespace {
double rss_mb() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return 0.0;
}
}  // namespace

// AddressSanitizer keeps freed blocks in a quarantine (256 MB by default), so the resident size
// there says nothing about live memory: the memory bounds are checked in the ordinary build.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRssMeaningful = false;
#else
constexpr bool kRssMeaningful = true;
#endif

TEST(Stems, TenMinuteFileInBoundedMemory) {
    // 10 minutes (8 kHz mono keeps the test fast; the block size in seconds, hence the working set
    // per second of audio, is the same at any rate): the resident memory while separating stays
    // within a few MB of what it was after the first block, and every block is at most block_s.
    const auto mix = band(600.0, 8000, 1, 3);
    const double before = rss_mb();
    double first = 0.0, peak = 0.0;
    std::size_t blocks = 0, frames_seen = 0;
    double worst = 0.0;
    auto r = st::separate(
        mix, {},
        [&](std::int64_t start, const std::array<std::vector<float>, 4>& s, std::size_t frames) -> Result<void> {
            for (std::size_t i = 0; i < frames; ++i) {
                const double sum = static_cast<double>(s[0][i]) + s[1][i] + s[2][i] + s[3][i];
                worst = std::max(worst, std::abs(sum - mix.samples[static_cast<std::size_t>(start) + i]));
            }
            frames_seen += frames;
            const double now = rss_mb();
            if (++blocks == 1) first = now;
            peak = std::max(peak, now);
            EXPECT_LE(frames, static_cast<std::size_t>(20.5 * 8000));
            return {};
        });
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(frames_seen, mix.frames());
    EXPECT_GE(blocks, 29u);
    EXPECT_LT(worst, 1e-6);
    RecordProperty("rss_growth_mb", std::to_string(peak - first));
    if (!kRssMeaningful) return;
    EXPECT_LT(peak - first, 8.0) << "before " << before << " MB, after the first block " << first << " MB";
    EXPECT_LT(peak - before, 64.0);
}
TEST(Stems, LearnedModelMatchesPyTorch) {
    // tests/data/stems/tiny_mask_parity.json: 8 frames of magnitudes and the masks PyTorch computed
    // for them with tests/data/stems/tiny_mask.hnn, the same architecture 4 wide (both written by
    // tools/train_stems/train.py --tiny-test-model).
    const std::string dir = std::string(HARMONY_SOURCE_DIR);
    std::ifstream f(dir + "/tests/data/stems/tiny_mask_parity.json");
    ASSERT_TRUE(f.good());
    const auto j = nlohmann::json::parse(f);
    auto model = st::MaskModel::load(dir + "/tests/data/stems/tiny_mask.hnn");
    ASSERT_TRUE(model.ok()) << model.error().message;
    const auto T = j["frames"].get<std::size_t>();
    const int K = j["bins"].get<int>();
    const auto flat = j["mag"].get<std::vector<float>>();  // [T][K]
    std::vector<float> mag(flat.size());
    for (std::size_t t = 0; t < T; ++t)
        for (int k = 0; k < K; ++k)
            mag[static_cast<std::size_t>(k) * T + t] =
                flat[t * static_cast<std::size_t>(K) + static_cast<std::size_t>(k)];
    std::vector<float> out;
    model->masks(mag, T, K, 44100, 4096, out);
    const auto bins = j["checked_bins"].get<std::vector<int>>();
    double worst = 0.0;
    for (std::size_t t = 0; t < T; ++t)
        for (std::size_t s = 0; s < 4; ++s)
            for (std::size_t b = 0; b < bins.size(); ++b) {
                const double want = j["masks"][t][s][b].get<double>();
                worst = std::max(
                    worst, std::abs(out[(t * 4 + s) * static_cast<std::size_t>(K) + static_cast<std::size_t>(bins[b])] -
                                    want));
            }
    EXPECT_LT(worst, 1e-4);
}

TEST(Stems, LearnedAndHybridSumBackToTheMix) {
    auto model = st::MaskModel::load(std::string(HARMONY_SOURCE_DIR) + "/tests/data/stems/tiny_mask.hnn");
    ASSERT_TRUE(model.ok()) << model.error().message;
    const auto mix = band(5.0, 44100, 2, 5);
    for (bool vocals_only : {false, true}) {
        st::SeparationConfig cfg;
        cfg.block_s = 2.0;
        cfg.model = &model.value();
        cfg.model_vocals_only = vocals_only;
        const auto c = run(mix, cfg);
        EXPECT_LT(max_sum_error(mix, c), 1e-6) << vocals_only;
        for (std::size_t k = 0; k < 4; ++k) EXPECT_LT(rms(c.stems[k]), 1.5 * rms(mix.samples)) << k;
    }
}
