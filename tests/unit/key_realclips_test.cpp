// Key analyzer on real recordings from ../shared/data. A test skips only when its clip is absent; with
// the clip present, any engine failure (decode, parameters, analysis, no key in the map) fails it.
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

struct Clip {
    bool present = false;  // the file exists in ../shared/data
    std::string error;     // set when the engine failed on it
    Key key;
};

Clip analyze_file(const std::string& rel) {
    Clip c;
    const std::string path = test::shared_data_dir() + "/" + rel;
    if (!std::filesystem::exists(path)) return c;
    c.present = true;
    auto x = io::decode_to_mono(path, 22050);
    if (!x) {
        c.error = "decode failed: " + x.error().message;
        return c;
    }
    AnalysisRequest req;
    req.only = {"key"};
    Engine engine;
    auto song = engine.analyze_pcm(x.value(), 1, 22050, req);
    if (!song) {
        c.error = "analysis failed: " + song.error().message;
        return c;
    }
    if (!song->key) {
        std::string w;
        for (const auto& s : song->audio.warnings) w += " " + s;
        c.error = "the Song Map has no key" + w;
        return c;
    }
    c.key = *song->key;
    return c;
}

// Skips when the clip is absent; fails (never skips) when it is present and the engine failed.
#define ANALYZE_CLIP(var, rel)                                                        \
    const Clip var = analyze_file(rel);                                               \
    if (!var.present) GTEST_SKIP() << "../shared/data not available (" << rel << ")"; \
    ASSERT_TRUE(var.error.empty()) << rel << ": " << var.error

}  // namespace

TEST(KeyRealClips, DubstepWobbleBassGetsALowConfidenceKey) {
    // Issue 20 item 10: Essentia's dubstep clip (a pitched wobble bass) got "no key" and so no key
    // tag; DJ tools give it a key with a low confidence. It has no key label: only the kind of
    // answer is checked.
    ANALYZE_CLIP(c, "essentia-audio/recorded/dubstep.flac");
    EXPECT_TRUE(c.key.key.has_value()) << c.key.no_key_reason;
    EXPECT_GT(c.key.confidence, 0.0);
    EXPECT_LT(c.key.confidence, 0.4);  // below min_tonality: probability x tonality
}

TEST(KeyRealClips, GuitarSetIsEbMajor) {
    ANALYZE_CLIP(c, "guitarset1/audio/00_BN1-129-Eb_comp_mic.wav");
    ASSERT_TRUE(c.key.key.has_value());
    EXPECT_EQ(c.key.key->label, "Eb major");  // the GuitarSet annotation
    EXPECT_EQ(c.key.key->camelot, "5B");
}

TEST(KeyRealClips, SaxScaleInDMinor) {
    ANALYZE_CLIP(c, "essentia-audio/recorded/359628__mtg__sax-tenor-d-minor.wav");
    ASSERT_TRUE(c.key.key.has_value());
    EXPECT_EQ(c.key.key->label, "D minor");  // the file name
}

TEST(KeyRealClips, GuitarTunedTo432Hz) {
    for (const char* f :
         {"essentia-audio/recorded/Guitar-A4-432-1.ogg", "essentia-audio/recorded/Guitar-A4-432-2.ogg"}) {
        ANALYZE_CLIP(c, f);
        // Bound (was 2 Hz, no stated reason): the claim is "tuned to 432 Hz, not to the standard 440".
        // Within 4 Hz of 432 (below the 436 Hz midpoint) a reading is nearer 432 than 440.
        EXPECT_NEAR(c.key.tuning.a4_hz, 432.0, 4.0) << f;
    }
}
