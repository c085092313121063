// Key analyzer on real recordings from ../shared/data (skipped when the data is absent).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "analyzers/key/key.hpp"
#include "harmony/engine.hpp"
#include "io/decoder.hpp"

#include "support/test_support.hpp"

using namespace harmony;

namespace {

std::optional<Key> analyze_file(const std::string& rel) {
    const std::string path = test::shared_data_dir() + "/" + rel;
    if (!std::filesystem::exists(path)) return std::nullopt;
    auto x = io::decode_to_mono(path, 22050);
    if (!x) return std::nullopt;
    AnalysisRequest req;
    req.only = {"key"};
    Engine engine;
    auto song = engine.analyze_pcm(x.value(), 1, 22050, req);
    if (!song || !song->key) return std::nullopt;
    return song->key;
}

}  // namespace

TEST(KeyRealClips, GuitarSetIsEbMajor) {
    const auto k = analyze_file("guitarset1/audio/00_BN1-129-Eb_comp_mic.wav");
    if (!k) GTEST_SKIP() << "shared data not available";
    ASSERT_TRUE(k->key.has_value());
    EXPECT_EQ(k->key->label, "Eb major");
    EXPECT_EQ(k->key->camelot, "5B");
}

TEST(KeyRealClips, SaxScaleInDMinor) {
    const auto k = analyze_file("essentia-audio/recorded/359628__mtg__sax-tenor-d-minor.wav");
    if (!k) GTEST_SKIP() << "shared data not available";
    ASSERT_TRUE(k->key.has_value());
    EXPECT_EQ(k->key->label, "D minor");
}

TEST(KeyRealClips, GuitarTunedTo432Hz) {
    for (const char* f :
         {"essentia-audio/recorded/Guitar-A4-432-1.ogg", "essentia-audio/recorded/Guitar-A4-432-2.ogg"}) {
        const auto k = analyze_file(f);
        if (!k) GTEST_SKIP() << "shared data not available";
        EXPECT_NEAR(k->tuning.a4_hz, 432.0, 2.0) << f;
    }
}
