// Analyzers reading a stem instead of the mix (src/analyzers/input.hpp): the parameter pulls the
// stems analyzer into the plan, the chosen signal is what the analyzer's features see, the Song
// Map's provenance names the input, and long files (segments) still work. Synthetic signals only.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <random>
#include <span>
#include <vector>

#include "analyzers/input.hpp"
#include "harmony/engine.hpp"

using namespace harmony;
using namespace harmony::analyzers;

namespace {

/// A feature that keeps every mono sample it is fed.
class Recorder : public features::StreamFeature {
public:
    struct Config {
        std::string key() const { return "rec"; }
    };
    Recorder(features::FeatureCache& /*cache*/, const Config& /*cfg*/) {}
    void on_mono(std::span<const float> x) override { samples.insert(samples.end(), x.begin(), x.end()); }
    std::vector<float> samples;
};

/// Chords (C major triad), a bass line, a vibrato lead and noise-burst drums on the beat.
AudioBuffer band(double seconds, int rate = 22050) {
    AudioBuffer b;
    b.sample_rate_hz = rate;
    b.channels = 2;
    const auto n = static_cast<std::size_t>(seconds * rate);
    b.samples.assign(2 * n, 0.0f);
    std::mt19937 rng(5);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    const double pi = std::numbers::pi;
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / rate;
        double x = 0.1 * (std::sin(2 * pi * 261.6 * t) + std::sin(2 * pi * 329.6 * t) + std::sin(2 * pi * 392.0 * t));
        x += 0.2 * std::sin(2 * pi * 65.4 * t);
        x += 0.15 * std::sin(2 * pi * 523.3 * t + 3.0 * std::sin(2 * pi * 5.5 * t));
        x += 0.4 * std::exp(-std::fmod(t, 0.5) * 40.0) * noise(rng);
        b.samples[2 * i] = static_cast<float>(x);
        b.samples[2 * i + 1] = static_cast<float>(0.9 * x);
    }
    return b;
}

std::string param_text(const Provenance& p, const std::string& name) {
    auto it = p.params.find(name);
    if (it == p.params.end()) return "(absent)";
    const auto* s = std::get_if<std::string>(&it->second);
    return s ? *s : "(not a string)";
}

}  // namespace

TEST(StemInput, NamesRoundTripAndTheParameterIsValidated) {
    for (auto in : {Input::kMix, Input::kVocals, Input::kDrums, Input::kBass, Input::kOther, Input::kHarmonic,
                    Input::kAccompaniment})
        EXPECT_EQ(input_from_name(input_name(in)), in);
    EXPECT_FALSE(input_from_name("piano").has_value());
    AnalysisRequest bad;
    bad.only = {"chords"};
    bad.params["chords.input"] = "piano";
    auto r = Engine::resolve(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(StemInput, TheMixIsTheDefaultAndAStemPullsInTheSeparation) {
    auto plain = Engine::resolve({});
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(std::find(plain->begin(), plain->end(), "stems"), plain->end());
    for (const auto& [param, reader] :
         std::vector<std::pair<std::string, std::string>>{{"chords.input", "chords"},
                                                          {"key.input", "key"},
                                                          {"beats.input", "beats"},
                                                          {"notes.melody_input", "notes"},
                                                          {"notes.bass_input", "notes"}}) {
        AnalysisRequest req;
        req.only = {reader};
        req.params[param] = "harmonic";
        auto ids = Engine::resolve(req);
        ASSERT_TRUE(ids.ok()) << param << ": " << ids.error().message;
        const auto stems = std::find(ids->begin(), ids->end(), "stems");
        const auto at = std::find(ids->begin(), ids->end(), reader);
        ASSERT_NE(stems, ids->end()) << param;
        EXPECT_LT(stems - ids->begin(), at - ids->begin()) << param << ": the separation runs first";
        req.params[param] = "mix";
        ids = Engine::resolve(req);
        ASSERT_TRUE(ids.ok());
        EXPECT_EQ(std::find(ids->begin(), ids->end(), "stems"), ids->end()) << param;
    }
}

TEST(StemInput, FeaturesSeeExactlyTheChosenStems) {
    // Four distinguishable stems at the analysis rate: constants 1, 10, 100, 1000 (different lengths).
    auto sig = std::make_shared<StemSignals>();
    sig->rate_hz = 22050;
    const std::array<float, 4> level = {1.0f, 10.0f, 100.0f, 1000.0f};
    const std::array<std::size_t, 4> length = {30000, 30000, 29990, 30000};
    for (std::size_t s = 0; s < 4; ++s) sig->mono[s].assign(length[s], level[s]);
    Artifacts artifacts;
    artifacts.put<StemSignals>("stems", sig);
    features::FeatureCache mix(22050);
    SongMap inputs, out;
    Context ctx{mix, inputs, out, artifacts, {}, {}, {}, true};
    const std::vector<std::pair<Input, float>> expect = {{Input::kVocals, 1.0f},      {Input::kDrums, 10.0f},
                                                         {Input::kBass, 100.0f},      {Input::kOther, 1000.0f},
                                                         {Input::kHarmonic, 1101.0f}, {Input::kAccompaniment, 1100.0f}};
    for (const auto& [in, value] : expect) {
        auto f = input_features(ctx, in, [](features::FeatureCache& c) { c.get<Recorder>(); });
        ASSERT_TRUE(f.ok()) << input_name(in) << ": " << f.error().message;
        EXPECT_NE(&f->features(), &mix);
        const auto* rec = f->features().find<Recorder>();
        ASSERT_NE(rec, nullptr);
        // As long as the longest stem it sums; past the bass stem's end only the others remain.
        ASSERT_EQ(rec->samples.size(), in == Input::kBass ? 29990u : 30000u) << input_name(in);
        EXPECT_FLOAT_EQ(rec->samples.front(), value) << input_name(in);
        const bool with_bass = in == Input::kHarmonic || in == Input::kAccompaniment;
        const float tail = with_bass ? value - 100.0f : value;
        EXPECT_FLOAT_EQ(rec->samples.back(), tail) << input_name(in);
    }
    // The mix is the engine's own cache, untouched.
    auto m = input_features(ctx, Input::kMix, [](features::FeatureCache& c) { c.get<Recorder>(); });
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(&m->features(), &mix);
    // No separation: a clear error, no crash.
    Artifacts none;
    Context bare{mix, inputs, out, none, {}, {}, {}, true};
    auto missing = input_features(bare, Input::kVocals, [](features::FeatureCache& c) { c.get<Recorder>(); });
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("stems"), std::string::npos);
}

TEST(StemInput, EveryReaderRunsOnItsStemAndTheSongMapSaysWhich) {
    const auto mix = band(12.0);
    Engine engine;
    AnalysisRequest req;
    req.only = {"chords", "key", "beats", "notes"};
    req.params = {{"chords.input", "harmonic"},
                  {"key.input", "accompaniment"},
                  {"beats.input", "drums"},
                  {"notes.melody_input", "vocals"},
                  {"notes.bass_input", "bass"}};
    auto map = engine.analyze_pcm(mix, req);
    ASSERT_TRUE(map.ok()) << map.error().message;
    for (const auto& w : map->audio.warnings) ADD_FAILURE() << "warning: " << w;
    ASSERT_TRUE(map->stems && map->chords && map->key && map->beats && map->notes && map->tempo);
    EXPECT_EQ(param_text(map->chords->provenance, "input"), "harmonic");
    EXPECT_EQ(param_text(map->key->provenance, "input"), "accompaniment");
    EXPECT_EQ(param_text(map->beats->provenance, "input"), "drums");
    EXPECT_EQ(param_text(map->notes->provenance, "melody_input"), "vocals");
    EXPECT_EQ(param_text(map->notes->provenance, "bass_input"), "bass");
    EXPECT_EQ(param_text(map->tempo->provenance, "input"), "(absent)");  // tempo has no choice: the mix
    EXPECT_FALSE(map->beats->times_s.empty());                           // two beats a second of drums
    EXPECT_FALSE(map->chords->segments.empty());
    // The same request on the mix: the mix is named, and no separation runs.
    AnalysisRequest on_mix;
    on_mix.only = req.only;
    auto m2 = engine.analyze_pcm(mix, on_mix);
    ASSERT_TRUE(m2.ok()) << m2.error().message;
    EXPECT_FALSE(m2->stems.has_value());
    EXPECT_EQ(param_text(m2->chords->provenance, "input"), "mix");
}

TEST(StemInput, LongFilesOnSegmentsStillReadTheWholeStem) {
    // Segments of 8 s: tempo (the mix) runs on segments, beats on the drum stem on the whole file,
    // with tempo's settings read back from its part.
    EngineOptions o;
    o.segment_s = 8.0;
    o.segment_overlap_s = 2.0;
    Engine engine(o);
    AnalysisRequest req;
    req.only = {"beats", "chords"};
    req.params = {{"beats.input", "drums"}, {"tempo.min_bpm", "80"}, {"tempo.max_bpm", "160"}};
    auto map = engine.analyze_pcm(band(30.0), req);
    ASSERT_TRUE(map.ok()) << map.error().message;
    for (const auto& w : map->audio.warnings) ADD_FAILURE() << "warning: " << w;
    ASSERT_TRUE(map->beats && map->chords && map->tempo);
    EXPECT_EQ(param_text(map->beats->provenance, "input"), "drums");
    ASSERT_GE(map->beats->times_s.size(), 20u);
    EXPECT_NEAR(map->beats->times_s.back(), 30.0, 2.0);  // beats over the whole file
}

TEST(StemInput, AFailedSeparationSkipsItsReadersWithAReasonAndTheRestIsProduced) {
    // The stems folder cannot be created (a path under a regular file): the separation fails, the
    // chords read from its stem are skipped with the reason, tempo and beats on the mix go on.
    const auto file = std::filesystem::temp_directory_path() /
                      ("harmony-stem-input-test-" + std::to_string(::getpid()) + "-not-a-dir");
    { std::ofstream(file) << "x"; }
    Engine engine;
    AnalysisRequest req;
    req.only = {"chords", "tempo"};
    req.params = {{"chords.input", "harmonic"}, {"stems.dir", (file / "sub").string()}};
    auto map = engine.analyze_pcm(band(6.0), req);
    ASSERT_TRUE(map.ok()) << map.error().message;
    EXPECT_FALSE(map->stems.has_value());
    EXPECT_FALSE(map->chords.has_value());
    EXPECT_TRUE(map->tempo.has_value());
    EXPECT_TRUE(map->beats.has_value());
    bool skipped = false;
    for (const auto& w : map->audio.warnings)
        skipped = skipped || (w.rfind("chords skipped", 0) == 0 && w.find("'stems'") != std::string::npos);
    EXPECT_TRUE(skipped);
    std::filesystem::remove(file);
}
