// Bar-phase decoding (src/analyzers/rhythm/bars.cpp): the HMM over bar positions (beats.bar_phase=hmm) on synthetic
// accent sequences (a steady bar, a bar cut short, noise), the downbeat confidence, and an off-beat-heavy synthetic
// groove (a reggae one-drop with skank chords on every off-beat) through the engine.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "analyzers/rhythm/bars.hpp"
#include "dsp/synth.hpp"
#include "harmony/engine.hpp"

using namespace harmony;
namespace synth = harmony::dsp::synth;

namespace {

/// z-scored-like accents: `hi` on the positions where pos == 0, `lo` elsewhere, plus noise.
std::vector<double> accents(const std::vector<int>& pos, double hi, double lo, double noise, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> n(0.0, noise);
    std::vector<double> a;
    for (int p : pos) a.push_back((p == 0 ? hi : lo) + (noise > 0 ? n(rng) : 0.0));
    return a;
}

std::vector<int> counting(size_t n, int m, int first) {
    std::vector<int> p;
    for (size_t i = 0; i < n; ++i) p.push_back((first + static_cast<int>(i)) % m);
    return p;
}

}  // namespace

TEST(RhythmBarPhase, SteadyBarsAreCounted) {
    for (int m : {2, 3, 4, 5, 7}) {
        for (int first = 0; first < m; ++first) {
            const auto truth = counting(120, m, first);
            const auto got = rhythm::decode_bar_positions(accents(truth, 2.0, -0.5, 0.8, 7), m);
            EXPECT_EQ(got, truth) << "m " << m << " first " << first;
        }
    }
}

TEST(RhythmBarPhase, ABarCutShortMovesThePhase) {
    // 16 bars of 4, one bar of 2 (a 2/4 bar, as in many Beatles songs), 16 bars of 4.
    std::vector<int> truth = counting(64, 4, 0);
    truth.push_back(0);
    truth.push_back(1);
    const auto rest = counting(64, 4, 0);
    truth.insert(truth.end(), rest.begin(), rest.end());
    const auto got = rhythm::decode_bar_positions(accents(truth, 2.0, -0.5, 0.5, 3), 4);
    ASSERT_EQ(got.size(), truth.size());
    size_t wrong = 0;
    for (size_t i = 0; i < truth.size(); ++i) wrong += got[i] != truth[i] ? 1 : 0;
    // At most the two beats of the short bar itself are labelled differently.
    EXPECT_LE(wrong, 2u);
    // A single fold over the track is right on one side of the short bar only.
    EXPECT_EQ(got.back(), truth.back());
    EXPECT_EQ(got.front(), truth.front());
}

TEST(RhythmBarPhase, NoisyAccentsDoNotJumpAround) {
    // Weak evidence: the decoder must keep one phase rather than follow every noisy beat.
    const auto truth = counting(200, 4, 1);
    const auto got = rhythm::decode_bar_positions(accents(truth, 0.6, -0.2, 1.0, 11), 4);
    size_t jumps = 0;
    for (size_t i = 1; i < got.size(); ++i) jumps += got[i] != (got[i - 1] + 1) % 4 ? 1 : 0;
    EXPECT_LE(jumps, 2u);
    size_t right = 0;
    for (size_t i = 0; i < got.size(); ++i) right += got[i] == truth[i] ? 1 : 0;
    EXPECT_GE(right, 180u);
}

TEST(RhythmBarPhase, EdgeCases) {
    EXPECT_TRUE(rhythm::decode_bar_positions({}, 4).empty());
    EXPECT_EQ(rhythm::decode_bar_positions({1.0, 2.0, 3.0}, 1), (std::vector<int>{0, 0, 0}));
    EXPECT_EQ(rhythm::decode_bar_positions({3.0}, 4).size(), 1u);
    // Non-finite accents never crash and give positions in range.
    const auto g = rhythm::decode_bar_positions({NAN, 1.0, INFINITY, -INFINITY, 0.0}, 4);
    for (int p : g) EXPECT_TRUE(p >= 0 && p < 4);
}

TEST(RhythmBarPhase, ReggaeSkankKeepsTheBeatAndTheBar) {
    // One-drop at 76 BPM: skank chords (short, bright) on every off-beat, kick and rim on beat 3,
    // bass on 1 and 3 with the chord changing every bar, hi-hat on the beats. The loudest onsets
    // are off the beat.
    constexpr int kRate = 22050;
    const double bpm = 76.0, T = 60.0 / bpm;
    const int bars = 20;
    std::vector<float> x(static_cast<size_t>((bars * 4 * T + 2.0) * kRate), 0.0f);
    std::uint32_t rng = 5;
    const double t0 = 0.5;
    const int roots[4] = {57, 62, 64, 57};  // A D E A
    std::vector<double> beats, downbeats;
    for (int b = 0; b < bars; ++b) {
        const int root = roots[b % 4];
        for (int k = 0; k < 4; ++k) {
            const double t = t0 + (b * 4 + k) * T;
            beats.push_back(t);
            if (k == 0) downbeats.push_back(t);
            synth::add_hihat(x, kRate, t, rng, 0.08f);
            if (k == 2) {
                synth::add_kick(x, kRate, t, 0.7f);
                synth::add_snare(x, kRate, t, rng, 0.3f);
            }
            if (k == 0 || k == 2) synth::add_harmonic_note(x, kRate, t, 0.9 * T, synth::midi_to_hz(root - 24), 0.35f);
            const double off = t + T / 2;
            for (int iv : {0, 4, 7})
                synth::add_harmonic_note(x, kRate, off, 0.12, synth::midi_to_hz(root + iv), 0.22f, 8);
        }
    }
    auto hits = [](const std::vector<double>& ref, const std::vector<double>& est) {
        size_t h = 0;
        for (double r : ref)
            for (double e : est)
                if (r > 5.0 && std::abs(e - r) <= 0.07) {
                    ++h;
                    break;
                }
        return h;
    };
    size_t ref_beats = 0, ref_down = 0;
    for (double b : beats) ref_beats += b > 5.0 ? 1 : 0;
    for (double d : downbeats) ref_down += d > 5.0 ? 1 : 0;
    Engine engine;
    // Automatic octave: 76 or the eighth-note level 152 (what many listeners tap to a one-drop);
    // either way every true beat is a tracked beat, never the off-beat skank alone.
    AnalysisRequest req;
    req.only = {"tempo", "beats"};
    auto song = engine.analyze_pcm(x, 1, kRate, req);
    ASSERT_TRUE(song.ok()) << song.error().message;
    ASSERT_TRUE(song->tempo && song->tempo->bpm && song->beats && song->downbeats);
    const double got = *song->tempo->bpm;
    EXPECT_TRUE(std::abs(got / bpm - 1.0) < 0.04 || std::abs(got / (2 * bpm) - 1.0) < 0.04) << got;
    EXPECT_GE(hits(beats, song->beats->times_s), ref_beats * 9 / 10) << "beats on the off-beat?";
    // The beat level pinned by a DJ range: the beat and the bar (downbeat on the bass and the
    // chord change, not on the drop of beat 3).
    req.params["tempo.min_bpm"] = "50";
    req.params["tempo.max_bpm"] = "100";
    for (const char* decoder : {"fold", "hmm"}) {
        SCOPED_TRACE(decoder);
        req.params["beats.bar_phase"] = decoder;
        song = engine.analyze_pcm(x, 1, kRate, req);
        ASSERT_TRUE(song.ok()) << song.error().message;
        ASSERT_TRUE(song->tempo && song->tempo->bpm && song->beats && song->downbeats);
        EXPECT_NEAR(*song->tempo->bpm, bpm, 0.01 * bpm);
        EXPECT_GE(hits(beats, song->beats->times_s), ref_beats * 9 / 10) << "beats on the off-beat?";
        EXPECT_GE(hits(downbeats, song->downbeats->times_s), ref_down * 9 / 10) << "bar phase";
    }
    EXPECT_GE(song->downbeats->confidence, 0.0);
    EXPECT_LE(song->downbeats->confidence, 1.0);
}
