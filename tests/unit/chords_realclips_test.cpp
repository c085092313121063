// Chord analyzer on a real recording from ../shared/data: the GuitarSet take (solo acoustic guitar,
// Eb major, 129 bpm), against its JAMS chord annotation (the instructed chords), with the benchmark's
// chord peer on the same clip as the bar. Skips when the clip
// is absent; with the clip present, any engine failure fails the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analyzers/chords/chord_labels.hpp"
#include "harmony/engine.hpp"
#include "io/decoder.hpp"
#include "support/test_support.hpp"

using namespace harmony;
using namespace harmony::analyzers::chords;

namespace {

struct Ref {
    double start, end;
    int root;
    bool minor;
};

/// Root and major/minor of a Harte label as mir_eval's majmin rule reads it ("D#:sus2(7)/1" has no
/// third: -1, left out of the score).
int majmin_of(const std::string& label, int& root) {
    auto c = parse_harte(label.substr(0, label.find_first_of("(/")));
    if (!c.ok() || c.value().is_none()) return -1;
    root = c.value().root;
    return reduce_class(Vocabulary::kMajMin, c.value().quality);
}

}  // namespace

TEST(ChordsRealClips, GuitarSetTakeMatchesItsChords) {
    const std::string dir = test::shared_data_dir() + "/guitarset1";
    const std::string audio = dir + "/audio/00_BN1-129-Eb_comp_mic.wav";
    const std::string jams = dir + "/annotation/00_BN1-129-Eb_comp.jams";
    if (!std::filesystem::exists(audio) || !std::filesystem::exists(jams))
        GTEST_SKIP() << "../shared/data not available (guitarset1)";
    std::ifstream jf(jams);
    const auto doc = nlohmann::json::parse(jf);
    std::vector<Ref> ref;
    for (const auto& a : doc["annotations"]) {
        if (a["namespace"] != "chord") continue;
        for (const auto& o : a["data"]) {
            int root = -1;
            const int mm = majmin_of(o["value"].get<std::string>(), root);
            if (mm >= 0)
                ref.push_back(
                    {o["time"].get<double>(), o["time"].get<double>() + o["duration"].get<double>(), root, mm == 1});
        }
        break;  // the first chord annotation: the instructed chords
    }
    ASSERT_FALSE(ref.empty());
    auto x = io::decode_to_mono(audio, 22050);
    ASSERT_TRUE(x.ok()) << x.error().message;
    AnalysisRequest req;
    req.only = {"chords"};
    Engine engine;
    auto song = engine.analyze_pcm(x.value(), 1, 22050, req);
    ASSERT_TRUE(song.ok()) << song.error().message;
    ASSERT_TRUE(song->chords.has_value());
    // majmin agreement over the annotated time, sampled every 10 ms.
    double ok = 0, n = 0;
    for (const auto& r : ref)
        for (double t = r.start; t < r.end; t += 0.01) {
            n += 1;
            for (const auto& s : song->chords->segments)
                if (t >= s.start_s && t < s.end_s) {
                    int root = -1;
                    const int mm = majmin_of(s.label, root);
                    if (mm >= 0 && root == r.root && (mm == 1) == r.minor) ok += 1;
                    break;
                }
        }
    // The bar is the chord peer of the benchmark on the same clip: Essentia's ChordsDetection
    // (bench/peers/essentia/essentia_peer.js chords, scored with mir_eval.chord.majmin against the
    // same annotation) reaches 0.379. Harmony must be ahead of it by a clear margin (measured: 0.73;
    // the residue is strummed passing tones and sus2 colours read as their own chords).
    RecordProperty("majmin", std::to_string(ok / n));
    EXPECT_GE(ok / n, 0.379 + 0.2) << "majmin agreement " << ok / n;
}
