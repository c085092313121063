#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "dsp/stft.hpp"
#include "dsp/synth.hpp"

using namespace harmony;

TEST(Stft, FrameCountAndCentringMatchLibrosaConvention) {
    std::vector<float> x(10000, 0.0f);
    std::int64_t frames = 0;
    dsp::StreamingStft stft(1024, 256, dsp::Window::kHann, [&](std::span<const float>, std::int64_t) { ++frames; });
    stft.push(x);
    stft.finish();
    EXPECT_EQ(frames, 1 + 10000 / 256);
}

TEST(Stft, BlockSizeDoesNotChangeTheResult) {
    const auto demo = dsp::synth::make_demo_track(3.0, 120.0, 22050);
    auto run = [&](size_t block) {
        std::vector<float> sums;
        dsp::StreamingStft stft(2048, 220, dsp::Window::kHann, [&](std::span<const float> m, std::int64_t) {
            double s = 0;
            for (float v : m) s += v;
            sums.push_back(static_cast<float>(s));
        });
        for (size_t i = 0; i < demo.samples.size(); i += block)
            stft.push({demo.samples.data() + i, std::min(block, demo.samples.size() - i)});
        stft.finish();
        return sums;
    };
    const auto a = run(1);
    const auto b = run(4096);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_FLOAT_EQ(a[i], b[i]);
}

TEST(Stft, SinePeaksAtItsBin) {
    const int rate = 22050, n = 2048;
    std::vector<float> x(rate);
    const double f = 1000.0;
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(2 * std::numbers::pi * f * i / rate));
    int peak_bin = -1;
    dsp::StreamingStft stft(n, 512, dsp::Window::kHann, [&](std::span<const float> m, std::int64_t k) {
        if (k != 10) return;
        peak_bin = static_cast<int>(std::max_element(m.begin(), m.end()) - m.begin());
    });
    stft.push(x);
    stft.finish();
    EXPECT_NEAR(peak_bin, f * n / rate, 1.0);
}
