// EngineOptions::max_duration_s: longer audio fails with kLimitExceeded before any analysis
// result; audio within the limit is analysed as usual.
#include <gtest/gtest.h>

#include <vector>

#include "dsp/synth.hpp"
#include "harmony/engine.hpp"

using namespace harmony;

TEST(EngineLimits, AudioLongerThanMaxDurationIsRefused) {
    const auto demo = dsp::synth::make_demo_track(3.0);
    EngineOptions o;
    o.max_duration_s = 2.0;
    Engine engine(o);
    auto r = engine.analyze_pcm(demo.samples, 1, demo.rate_hz, {{"loudness"}, {}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kLimitExceeded) << r.error().message;
    EXPECT_NE(r.error().message.find("limit of 2 s"), std::string::npos) << r.error().message;
    EXPECT_EQ(error_code_name(ErrorCode::kLimitExceeded), "limit_exceeded");

    o.max_duration_s = 4.0;
    auto ok = Engine(o).analyze_pcm(demo.samples, 1, demo.rate_hz, {{"loudness"}, {}});
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_TRUE(ok->loudness.has_value());
}
