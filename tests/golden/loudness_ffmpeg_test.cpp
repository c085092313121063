// The loudness analyzer against `ffmpeg -af ebur128=peak=sample+true` (the issue's reference):
// integrated loudness, loudness range, sample peak, max momentary and max short-term within
// 0.1 LU / 0.1 dB on synthesised files — stereo and mono, 32/44.1/48 kHz, a loud (clipped, true
// peak above 0 dBFS) and a quiet one. ffmpeg prints one decimal, so its figures carry +-0.05 of
// rounding themselves.
//
// True peak follows ITU-R BS.1770-4 Annex 2 (4x oversampling below 96 kHz, libebur128), while
// ffmpeg upsamples to 192 kHz, so the two differ by design. Both interpolators read at or below
// the true inter-sample peak; the 4x one may under-read by up to -20 log10(cos(pi/8)) = 0.688 dB,
// the bound Annex 2 gives for a 4x-oversampled meter (a sinusoid at half the sampling rate whose
// peak falls midway between two interpolated points). So the test holds
//   ffmpeg - 0.688 - 0.05  <=  true peak  <=  ffmpeg + 0.1
// (0.05: ffmpeg's rounding; the upper 0.1: rounding plus the passband ripple of the 4x filter,
// which never reads high by more than a few hundredths of a dB on these files), and true peak >=
// sample peak, which BS.1770-4's meter guarantees.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <regex>
#include <sstream>

#include "dsp/synth.hpp"
#include "harmony/engine.hpp"
#include "io/wav_writer.hpp"
#include "support/test_support.hpp"

using namespace harmony;

namespace {

struct Reference {
    double integrated = NAN, lra = NAN, sample_peak = NAN, true_peak = NAN, max_m = -1e9, max_s = -1e9;
};

Reference ffmpeg_ebur128(const std::string& file) {
    auto r = test::run_command({"ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", file, "-af",
                                "ebur128=peak=sample+true:framelog=info", "-f", "null", "-"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Reference ref;
    std::istringstream in(r.err);
    std::string line;
    const std::regex frame(R"(M:\s*(-?[0-9.]+|-inf|nan)\s+S:\s*(-?[0-9.]+|-inf|nan))");
    const std::regex integ(R"(^\s*I:\s*(-?[0-9.]+) LUFS)");
    const std::regex lra(R"(^\s*LRA:\s*(-?[0-9.]+) LU)");
    const std::regex peak(R"(^\s*Peak:\s*(-?[0-9.]+|-inf) dBFS)");
    bool summary = false, in_true_peak = false;  // the summary's "Peak:" lines: sample, then true
    std::smatch m;
    while (std::getline(in, line)) {
        if (line.find("Summary:") != std::string::npos) summary = true;
        if (!summary && std::regex_search(line, m, frame)) {
            if (m[1] != "-inf" && m[1] != "nan") ref.max_m = std::max(ref.max_m, std::stod(m[1]));
            if (m[2] != "-inf" && m[2] != "nan") ref.max_s = std::max(ref.max_s, std::stod(m[2]));
        }
        if (!summary) continue;
        if (std::regex_search(line, m, integ)) ref.integrated = std::stod(m[1]);
        if (std::regex_search(line, m, lra)) ref.lra = std::stod(m[1]);
        if (line.find("Sample peak:") != std::string::npos) in_true_peak = false;
        if (line.find("True peak:") != std::string::npos) in_true_peak = true;
        if (std::regex_search(line, m, peak)) (in_true_peak ? ref.true_peak : ref.sample_peak) = std::stod(m[1]);
    }
    return ref;
}

// Demo music, `channels` channels (the second a delayed, quieter copy), scaled by `gain`, with
// a quiet intro so the loudness range is not trivially zero.
std::vector<float> program(int rate, int channels, double seconds, float gain) {
    auto d = dsp::synth::make_demo_track(seconds, 124.0, rate);
    const size_t n = d.samples.size();
    for (size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / rate;
        d.samples[i] *= gain * static_cast<float>(t < 6.0 ? 0.2 : 1.0);
    }
    std::vector<float> out(n * static_cast<size_t>(channels));
    for (size_t i = 0; i < n; ++i)
        for (int c = 0; c < channels; ++c) {
            const size_t src = (c == 0 || i < 37) ? i : i - 37;
            out[i * static_cast<size_t>(channels) + static_cast<size_t>(c)] =
                std::clamp(d.samples[src] * (c == 0 ? 1.0f : 0.7f), -1.0f, 1.0f);
        }
    return out;
}

struct Case {
    const char* name;
    int rate;
    int channels;
    float gain;
};

}  // namespace

TEST(LoudnessVsFfmpeg, WithinATenthOnSynthesisedFilesTruePeakWithinBs1770Bound) {
    if (!test::have_program("ffmpeg")) GTEST_SKIP() << "ffmpeg CLI not installed";
    test::TempDir dir;
    const Case cases[] = {{"stereo44", 44100, 2, 1.0f},
                          {"mono48", 48000, 1, 1.0f},
                          {"stereo32", 32000, 2, 0.8f},
                          {"loud", 44100, 2, 3.0f},
                          {"quiet", 48000, 2, 0.02f}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const std::string file = dir.file(std::string(c.name) + ".wav");
        ASSERT_TRUE(io::write_wav16(file, program(c.rate, c.channels, 20.0, c.gain), c.channels, c.rate).ok());
        const Reference ref = ffmpeg_ebur128(file);
        ASSERT_TRUE(std::isfinite(ref.integrated) && std::isfinite(ref.lra) && std::isfinite(ref.sample_peak) &&
                    std::isfinite(ref.true_peak));
        Engine engine;
        AnalysisRequest req;
        req.only = {"loudness"};
        auto map = engine.analyze_file(file, req);
        ASSERT_TRUE(map.ok()) << map.error().message;
        ASSERT_TRUE(map->loudness);
        const Loudness& l = *map->loudness;
        constexpr double kTol = 0.1;  // the issue's bound (the differences seen are <= 0.05: ffmpeg rounds to 0.1)
        EXPECT_NEAR(l.integrated_lufs, ref.integrated, kTol);
        EXPECT_NEAR(l.loudness_range_lu, ref.lra, kTol);
        EXPECT_NEAR(l.sample_peak_dbfs, ref.sample_peak, kTol);
        const double max_under_read_db = -20.0 * std::log10(std::cos(std::numbers::pi / 8.0));  // 0.688
        EXPECT_GE(l.true_peak_dbtp, ref.true_peak - max_under_read_db - 0.05);
        EXPECT_LE(l.true_peak_dbtp, ref.true_peak + kTol);
        EXPECT_GE(l.true_peak_dbtp, l.sample_peak_dbfs - 1e-9);
        EXPECT_NEAR(l.max_momentary_lufs, ref.max_m, kTol);
        EXPECT_NEAR(l.max_short_term_lufs, ref.max_s, kTol);
        EXPECT_NEAR(l.replaygain_track_gain_db, -18.0 - l.integrated_lufs, 1e-9);
        std::printf(
            "[ loudness ] %-8s I %.2f/%.1f  LRA %.2f/%.1f  SP %.2f/%.1f  TP %.2f/%.1f  M %.2f/%.1f  S %.2f/%.1f\n",
            c.name, l.integrated_lufs, ref.integrated, l.loudness_range_lu, ref.lra, l.sample_peak_dbfs,
            ref.sample_peak, l.true_peak_dbtp, ref.true_peak, l.max_momentary_lufs, ref.max_m, l.max_short_term_lufs,
            ref.max_s);
    }
}
