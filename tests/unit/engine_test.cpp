// Engine façade: request validation, progress, cancellation, provenance, the registry.
#include <gtest/gtest.h>

#include <stop_token>

#include "dsp/synth.hpp"
#include "harmony/engine.hpp"
#include "io/wav_writer.hpp"
#include "support/test_support.hpp"

using namespace harmony;

namespace {
std::string write_demo(const test::TempDir& dir, double seconds = 6.0) {
    const auto demo = dsp::synth::make_demo_track(seconds);
    const std::string path = dir.file("demo.wav");
    EXPECT_TRUE(io::write_wav16(path, demo.samples, 1, demo.rate_hz).ok());
    return path;
}
}  // namespace

TEST(Engine, RegistryListsAnalyzersWithVersionsAndParams) {
    const auto& all = Engine::analyzers();
    ASSERT_FALSE(all.empty());
    for (const auto& a : all) {
        EXPECT_FALSE(a.id.empty());
        EXPECT_GE(a.version, 1);
        EXPECT_FALSE(a.produces.empty()) << a.id;
        for (const auto& p : a.params) EXPECT_FALSE(p.doc.empty()) << a.id << "." << p.name;
    }
}

TEST(Engine, UnknownAnalyzerAndBadParametersAreRejected) {
    auto r = Engine::resolve({{"no_such_analyzer"}, {}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find("no_such_analyzer"), std::string::npos);

    auto p = Engine::resolve({{"loudness"}, {{"loudness.nope", "1"}}});
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);

    auto q = Engine::resolve({{}, {{"missing_dot", "1"}}});
    ASSERT_FALSE(q.ok());
}

TEST(Engine, DependenciesComeBeforeDependents) {
    auto order = Engine::resolve({});
    ASSERT_TRUE(order.ok());
    for (const auto& a : Engine::analyzers()) {
        const auto pos = std::find(order->begin(), order->end(), a.id) - order->begin();
        for (const auto& dep : a.depends_on) {
            const auto dpos = std::find(order->begin(), order->end(), dep) - order->begin();
            EXPECT_LT(dpos, pos) << dep << " must run before " << a.id;
        }
    }
}

TEST(Engine, ProgressIsMonotonicAndEndsAtOne) {
    test::TempDir dir;
    const auto path = write_demo(dir);
    std::vector<Progress> seen;
    EngineOptions o;
    o.progress = [&](const Progress& p) { seen.push_back(p); };
    Engine engine(o);
    auto map = engine.analyze_file(path);
    ASSERT_TRUE(map.ok()) << map.error().message;
    ASSERT_GE(seen.size(), 2u);
    for (size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i].fraction, seen[i - 1].fraction);
    EXPECT_DOUBLE_EQ(seen.back().fraction, 1.0);
    EXPECT_EQ(seen.front().stage, "decode");
}

TEST(Engine, CancellationStopsWithCancelled) {
    test::TempDir dir;
    const auto path = write_demo(dir);
    std::stop_source stop;
    EngineOptions o;
    o.stop = stop.get_token();
    stop.request_stop();
    Engine engine(o);
    auto map = engine.analyze_file(path);
    ASSERT_FALSE(map.ok());
    EXPECT_EQ(map.error().code, ErrorCode::kCancelled);
}

TEST(Engine, ResultCarriesAudioInfoAndProvenance) {
    test::TempDir dir;
    const auto path = write_demo(dir, 4.0);
    Engine engine;
    auto map = engine.analyze_file(path, {{"loudness"}, {}});
    ASSERT_TRUE(map.ok()) << map.error().message;
    EXPECT_NEAR(map->audio.duration_s, 4.0, 1e-6);
    EXPECT_EQ(map->audio.sample_rate_hz, 44100);
    EXPECT_EQ(map->audio.channels, 1);
    EXPECT_EQ(map->audio.codec, "pcm_s16le");
    EXPECT_EQ(map->audio.content_hash.rfind("xxh128:", 0), 0u);
    ASSERT_TRUE(map->loudness.has_value());
    EXPECT_EQ(map->loudness->provenance.analyzer, "loudness");
    EXPECT_GE(map->loudness->provenance.version, 1);
    EXPECT_FALSE(map->tempo.has_value());  // not requested
}

TEST(Engine, SameContentSameHashWhateverTheName) {
    test::TempDir dir;
    const auto path = write_demo(dir, 2.0);
    const auto copy = dir.file("renamed copy ü.wav");
    test::write_file(copy, test::read_file(path));
    Engine engine;
    auto a = engine.analyze_file(path, {{"loudness"}, {}});
    auto b = engine.analyze_file(copy, {{"loudness"}, {}});
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->audio.content_hash, b->audio.content_hash);
}

TEST(Engine, DemoTrackIsFoundAtItsTempoMeterAndKey) {
    // The quick start analyses this track: its Song Map must be right.
    test::TempDir dir;
    const std::string path = write_demo(dir, 30.0);
    Engine engine;
    auto map = engine.analyze_file(path);
    ASSERT_TRUE(map.ok()) << map.error().message;
    ASSERT_TRUE(map->tempo && map->tempo->bpm);
    EXPECT_NEAR(*map->tempo->bpm, 120.0, 0.6);
    ASSERT_TRUE(map->meter);
    EXPECT_EQ(map->meter->label, "4/4");
    ASSERT_TRUE(map->key && map->key->key);
    EXPECT_EQ(map->key->key->label, "A minor");
    EXPECT_EQ(map->key->key->camelot, "8A");
}
