// The learned beat/downbeat front end (src/analyzers/rhythm/beat_net.*): parity with PyTorch on a
// random-weight model (tests/data/nn/beat_tcn.*, tools/nn/make_test_models.py), chunked inference
// equal to one pass, clear errors for bad weight files, and the shipped model on synthetic click
// and drum tracks with accented downbeats.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "analyzers/rhythm/beat_net.hpp"
#include "analyzers/tempo/tempo.hpp"
#include "dsp/synth.hpp"
#include "harmony/engine.hpp"
#include "nn/weights.hpp"
#include "support/test_support.hpp"

using namespace harmony;
namespace synth = harmony::dsp::synth;
using harmony::test::after;
using harmony::test::f_measure;

namespace {

std::string fixture(const std::string& name) {
    return std::string(HARMONY_SOURCE_DIR) + "/tests/data/nn/" + name;
}

}  // namespace

TEST(BeatNet, MatchesPyTorch) {
    auto w = nn::WeightFile::from_file(fixture("beat_tcn.hnn"));
    ASSERT_TRUE(w.ok()) << w.error().message;
    auto net = rhythm::BeatNet::load(w.value());
    ASSERT_TRUE(net.ok()) << net.error().message;
    auto io = nn::WeightFile::from_file(fixture("beat_tcn.io.hnn"));
    ASSERT_TRUE(io.ok()) << io.error().message;
    auto x = io.value().tensor("input");
    auto y = io.value().tensor("output");
    ASSERT_TRUE(x.ok() && y.ok());
    const std::int64_t t = x.value().dim(2);
    const nn::Tensor out = net.value().forward(x.value().reshaped({rhythm::BeatNet::kBands, t}));
    ASSERT_EQ(out.dim(0), 2);
    ASSERT_EQ(out.dim(1), t);
    double worst = 0.0;
    for (std::int64_t i = 0; i < out.numel(); ++i) {
        const double e = y.value()[static_cast<size_t>(i)], a = out[static_cast<size_t>(i)];
        worst = std::max(worst, std::abs(a - e) - (1e-5 + 1e-4 * std::abs(e)));
    }
    EXPECT_LE(worst, 0.0);
}

TEST(BeatNet, ChunkedRunEqualsOnePass) {
    auto w = nn::WeightFile::from_file(fixture("beat_tcn.hnn"));
    ASSERT_TRUE(w.ok());
    auto net = rhythm::BeatNet::load(w.value());
    ASSERT_TRUE(net.ok());
    const size_t frames = 2600;  // > chunk + 2 x receptive field: interior chunks get context on both sides
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(0.0f, 4.0f);
    std::vector<float> spec(frames * rhythm::BeatNet::kBands);
    for (auto& v : spec) v = u(rng);
    const auto whole = net.value().run(spec, frames);
    const auto chunked = net.value().run(spec, 300);
    ASSERT_EQ(whole.beat.size(), frames);
    ASSERT_EQ(chunked.beat.size(), frames);
    for (size_t i = 0; i < frames; ++i) {
        ASSERT_NEAR(whole.beat[i], chunked.beat[i], 1e-5) << i;
        ASSERT_NEAR(whole.downbeat[i], chunked.downbeat[i], 1e-5) << i;
    }
}

TEST(BeatNet, BadWeightFilesAreClearErrors) {
    std::string hash;
    auto missing = rhythm::load_beat_net("/nonexistent/beats.hnn", &hash);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ErrorCode::kFileNotFound);
    // a valid weight file of another model: the first tensor the TCN needs is named
    auto other = rhythm::load_beat_net(fixture("linear.hnn"), &hash);
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().code, ErrorCode::kModelInvalid);
    EXPECT_NE(other.error().message.find("conv1.weight"), std::string::npos) << other.error().message;
    auto corrupt = rhythm::load_beat_net(fixture("bad_hash.hnn"), &hash);
    ASSERT_FALSE(corrupt.ok());
    EXPECT_EQ(corrupt.error().code, ErrorCode::kModelInvalid);
    // through the analyzer's parameters: the request fails with the loader's message
    AnalysisRequest req;
    req.only = {"tempo", "beats"};
    req.params["tempo.model"] = fixture("linear.hnn");
    const auto t = synth::make_rhythm_track({});
    Engine engine;
    auto song = engine.analyze_pcm(t.samples, 1, t.rate_hz, req);
    ASSERT_FALSE(song.ok());
    EXPECT_NE(song.error().message.find("conv1.weight"), std::string::npos) << song.error().message;
    // "none" and "" mean no model
    auto none = rhythm::load_beat_net("none", &hash);
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(none.value(), nullptr);
}

TEST(BeatNet, ShippedModelOnAccentedClicksAndDrums) {
    std::string hash;
    auto shipped = rhythm::load_beat_net("builtin", &hash);
    ASSERT_TRUE(shipped.ok()) << shipped.error().message;
    EXPECT_EQ(hash.rfind("xxh64:", 0), 0u);
    for (const char* mix : {"0", "1"})  // learned downbeats only (the default with a model); beats too
        for (const bool clicks : {true, false})
            for (double bpm : {96.0, 124.0}) {
                SCOPED_TRACE(std::string(clicks ? "clicks " : "drums ") + std::to_string(bpm) + " nn_mix " + mix);
                synth::RhythmSpec s;
                s.bpm = bpm;
                s.clicks = clicks;
                s.pickup_beats = 1;  // the first downbeat is the second beat
                s.seconds = 30.0;
                const auto t = synth::make_rhythm_track(s);
                AnalysisRequest req;
                req.only = {"tempo", "beats"};
                req.params["tempo.model"] = "builtin";
                req.params["tempo.nn_mix"] = mix;
                req.params["tempo.min_bpm"] = "80";
                req.params["tempo.max_bpm"] = "160";
                Engine engine;
                auto song = engine.analyze_pcm(t.samples, 1, t.rate_hz, req);
                ASSERT_TRUE(song.ok()) << song.error().message;
                ASSERT_TRUE(song->tempo && song->tempo->bpm && song->beats && song->downbeats);
                EXPECT_NEAR(*song->tempo->bpm, bpm, 0.01 * bpm);
                EXPECT_GE(f_measure(after(t.beats, 5.0), after(song->beats->times_s, 5.0)), 0.95);
                EXPECT_GE(f_measure(after(t.downbeats, 5.0), after(song->downbeats->times_s, 5.0)), 0.9);
                ASSERT_TRUE(song->meter);
                EXPECT_EQ(song->meter->label, "4/4");
                EXPECT_NE(
                    song->tempo->decision.find(mix[0] == '0' ? "learned downbeats only" : "learned beat activation"),
                    std::string::npos);
            }
}

TEST(BeatNet, TheShippedModelIsTheDefaultAndAnEmptyModelTurnsItOff) {
    synth::RhythmSpec s;
    s.bpm = 110.0;
    s.pickup_beats = 1;
    s.seconds = 20.0;
    const auto t = synth::make_rhythm_track(s);
    for (const bool off : {false, true}) {
        SCOPED_TRACE(off ? "tempo.model=\"\"" : "defaults");
        AnalysisRequest req;
        req.only = {"tempo", "beats"};
        if (off) req.params["tempo.model"] = "";
        Engine engine;
        auto song = engine.analyze_pcm(t.samples, 1, t.rate_hz, req);
        ASSERT_TRUE(song.ok()) << song.error().message;
        ASSERT_TRUE(song->tempo && song->tempo->bpm && song->downbeats);
        EXPECT_NEAR(*song->tempo->bpm, 110.0, 1.1);
        EXPECT_EQ(song->tempo->decision.find("learned downbeats only") != std::string::npos, !off)
            << song->tempo->decision;
        EXPECT_GE(f_measure(after(t.downbeats, 5.0), after(song->downbeats->times_s, 5.0)), 0.9);
    }
}
