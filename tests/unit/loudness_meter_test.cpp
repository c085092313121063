// The loudness analyzer's own BS.1770-4 meter (K-weighting, 100 ms blocks, gating) against
// libebur128, the reference implementation it replaced on the runtime path: integrated loudness,
// max momentary and max short-term loudness, and sample peak, on synthetic signals over the
// sample rates and channel layouts a decoder delivers (mono to 7.1; libebur128's default channel
// map: L R C LFE Ls Rs, surrounds weighted +1.5 dB, the LFE and channels past the sixth not
// counted; 4 channels as L R Ls Rs, 5 as L R C Ls Rs).
//
// Tolerances: the integrated loudness goes through a 0.01 LU histogram (constant memory on any
// length), so it may differ by one bin: 0.011 LU. Max momentary and short-term are read from the
// same 100 ms block energies in both, and the two filters differ only by rounding (double
// precision, direct form I biquads here, one direct form II 4th-order section there): 0.001 LU.
// Sample peaks are exact.
#include <ebur128.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "harmony/engine.hpp"

using namespace harmony;

namespace {

struct Reference {
    double integrated = 0, max_m = -HUGE_VAL, max_s = -HUGE_VAL, sample_peak = 0;
};

Reference libebur128(const std::vector<float>& x, int channels, int rate) {
    ebur128_state* st = ebur128_init(static_cast<unsigned>(channels), static_cast<unsigned long>(rate),
                                     EBUR128_MODE_I | EBUR128_MODE_S | EBUR128_MODE_SAMPLE_PEAK);
    Reference r;
    const size_t block = static_cast<size_t>((rate + 5) / 10), frames = x.size() / static_cast<size_t>(channels);
    for (size_t f = 0; f + block <= frames; f += block) {  // the momentary/short-term reads every 100 ms
        ebur128_add_frames_float(st, x.data() + f * static_cast<size_t>(channels), block);
        double m = 0, s = 0;
        if (ebur128_loudness_momentary(st, &m) == EBUR128_SUCCESS && std::isfinite(m)) r.max_m = std::max(r.max_m, m);
        if (ebur128_loudness_shortterm(st, &s) == EBUR128_SUCCESS && std::isfinite(s)) r.max_s = std::max(r.max_s, s);
    }
    ebur128_loudness_global(st, &r.integrated);
    for (unsigned c = 0; c < static_cast<unsigned>(channels); ++c) {
        double p = 0;
        ebur128_sample_peak(st, c, &p);
        r.sample_peak = std::max(r.sample_peak, p);
    }
    ebur128_destroy(&st);
    return r;
}

// Programme-like material: each channel a different mix of tones and noise, with level steps
// of up to 30 dB every ~1.3 s (so the relative gate and the momentary/short-term maxima matter)
// and a quiet passage below the absolute gate.
std::vector<float> programme(int channels, int rate, double seconds, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    std::uniform_real_distribution<double> level(-30.0, 0.0);
    const size_t frames = static_cast<size_t>(seconds * rate), step = static_cast<size_t>(1.3 * rate);
    std::vector<float> x(frames * static_cast<size_t>(channels));
    double gain = 0.3;
    for (size_t i = 0; i < frames; ++i) {
        if (i % step == 0) gain = (i / step == 3) ? 1e-4 : 0.5 * std::pow(10.0, level(rng) / 20.0);
        const double t = static_cast<double>(i) / rate;
        for (int c = 0; c < channels; ++c) {
            const double f = 55.0 * (c + 1) + 20.0 * c * c;  // 55 Hz (below the RLB corner) upwards
            const double v = 0.6 * std::sin(2.0 * std::numbers::pi * f * t) +
                             0.3 * std::sin(2.0 * std::numbers::pi * 3100.0 * t + c) + 0.2 * noise(rng);
            x[i * static_cast<size_t>(channels) + static_cast<size_t>(c)] = static_cast<float>(gain * v);
        }
    }
    return x;
}

struct Case {
    int channels, rate;
};

class LoudnessMeterVsLibebur128 : public ::testing::TestWithParam<Case> {};

TEST_P(LoudnessMeterVsLibebur128, SameFigures) {
    const auto [channels, rate] = GetParam();
    const auto x = programme(channels, rate, 12.0, static_cast<unsigned>(channels * 1000 + rate));
    const Reference ref = libebur128(x, channels, rate);
    Engine engine;
    auto map = engine.analyze_pcm(x, channels, rate, {{"loudness"}, {}});
    ASSERT_TRUE(map.ok()) << map.error().message;
    ASSERT_TRUE(map->loudness.has_value());
    const Loudness& l = *map->loudness;
    ASSERT_TRUE(std::isfinite(ref.integrated));
    EXPECT_NEAR(l.integrated_lufs, ref.integrated, 0.011);
    EXPECT_NEAR(l.max_momentary_lufs, ref.max_m, 0.001);
    EXPECT_NEAR(l.max_short_term_lufs, ref.max_s, 0.001);
    EXPECT_NEAR(l.sample_peak_dbfs, 20.0 * std::log10(ref.sample_peak), 1e-9);
}

INSTANTIATE_TEST_SUITE_P(RatesAndLayouts, LoudnessMeterVsLibebur128,
                         ::testing::Values(Case{1, 44100}, Case{2, 44100}, Case{2, 48000}, Case{2, 22050},
                                           Case{2, 11025}, Case{1, 8000}, Case{2, 96000}, Case{2, 192000},
                                           Case{4, 48000}, Case{5, 48000}, Case{6, 48000}, Case{8, 44100}),
                         [](const auto& info) {
                             return std::to_string(info.param.channels) + "ch_" + std::to_string(info.param.rate);
                         });

// A loud passage, then digital silence for minutes: the filter state decays to exact zero (no
// subnormal slow-down, no residue), and the silent blocks fall below the absolute gate.
TEST(LoudnessMeter, FadeToSilenceKeepsTheLoudPartsLoudness) {
    const int rate = 44100;
    auto x = programme(2, rate, 6.0, 7);
    const Reference loud = libebur128(x, 2, rate);
    x.resize(x.size() + static_cast<size_t>(180 * rate) * 2, 0.0f);
    Engine engine;
    auto map = engine.analyze_pcm(x, 2, rate, {{"loudness"}, {}});
    ASSERT_TRUE(map.ok()) << map.error().message;
    EXPECT_NEAR(map->loudness->integrated_lufs, loud.integrated, 0.011);
    EXPECT_FALSE(map->loudness->silent);
}

}  // namespace
