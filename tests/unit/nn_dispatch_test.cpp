// src/nn instruction-set dispatch (kernels.hpp): the process reports the kernels it chose, and the
// baseline and AVX2+FMA kernels agree on every layer shape the networks use. The PyTorch parity
// tests (NnParity, BeatNet, NotesLearned, Stems.LearnedModelMatchesPyTorch) run on whichever path
// the process chose; tests/CMakeLists.txt runs them a second time with HARMONY_NN_ISA=baseline.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "nn/kernels.hpp"

using namespace harmony::nn;

namespace {

bool cpu_has_avx2_fma() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

std::vector<float> random_values(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 0.5f);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

// The parity tests' tolerance, applied between the two paths.
void expect_close(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    for (std::size_t i = 0; i < a.size(); ++i)
        ASSERT_LE(std::abs(a[i] - b[i]), 1e-5 + 1e-4 * std::abs(b[i])) << what << " at " << i;
}

}  // namespace

TEST(NnDispatch, ReportsTheInstructionSetItChose) {
    const char* forced = std::getenv("HARMONY_NN_ISA");
    const bool force_baseline = forced != nullptr && std::strcmp(forced, "baseline") == 0;
#ifdef HARMONY_NN_HAVE_AVX2
    const bool built_with_avx2 = true;
#else
    const bool built_with_avx2 = false;
#endif
    const bool avx2 = built_with_avx2 && cpu_has_avx2_fma();
    EXPECT_EQ(kernels::table(kernels::Isa::kAvx2) != nullptr, avx2);
    ASSERT_NE(kernels::table(kernels::Isa::kBaseline), nullptr);
    EXPECT_STREQ(kernels::table(kernels::Isa::kBaseline)->name, "baseline");
    const std::string expected = avx2 && !force_baseline ? "avx2" : "baseline";
    EXPECT_EQ(std::string(kernels::active_isa()), expected);
    EXPECT_EQ(&kernels::active(), kernels::table(expected == "avx2" ? kernels::Isa::kAvx2 : kernels::Isa::kBaseline));
    RecordProperty("nn_isa", expected);
}

TEST(NnDispatch, BaselineAndAvx2KernelsAgree) {
    const kernels::Table* base = kernels::table(kernels::Isa::kBaseline);
    const kernels::Table* avx2 = kernels::table(kernels::Isa::kAvx2);
    if (avx2 == nullptr) GTEST_SKIP() << "this build or CPU has no AVX2+FMA kernels";

    // Linear, odd sizes (vector tails on both paths).
    {
        const std::int64_t rows = 37, in = 61, out = 23;
        auto x = random_values(rows * in, 1), w = random_values(out * in, 2), b = random_values(out, 3);
        std::vector<float> y0(rows * out), y1(rows * out);
        base->linear(x.data(), rows, in, w.data(), b.data(), out, y0.data());
        avx2->linear(x.data(), rows, in, w.data(), b.data(), out, y1.data());
        expect_close(y1, y0, "linear");
    }
    // Conv2d 3x3 padded, dilated, strided; a 1x5 dilated "conv1d" as the beat TCN runs; a pointwise one.
    // {cin, cout, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo}
    const kernels::Conv2dShape shapes[] = {
        {3, 16, 21, 333, 3, 3, 1, 1, 1, 1, 1, 1, 21, 333},    // 3x3, padded
        {5, 7, 19, 40, 3, 2, 2, 3, 2, 1, 2, 3, 10, 13},       // strided and dilated both ways
        {16, 16, 1, 1500, 1, 5, 1, 1, 0, 16, 1, 8, 1, 1500},  // a TCN layer: kernel 5, dilation 8
        {16, 2, 1, 777, 1, 1, 1, 1, 0, 0, 1, 1, 1, 777},      // pointwise
    };
    unsigned seed = 10;
    for (const auto& s : shapes) {
        const std::int64_t k = s.cin * s.kh * s.kw;
        auto x = random_values(s.cin * s.h * s.w, ++seed), w = random_values(s.cout * k, ++seed);
        auto b = random_values(s.cout, ++seed);
        std::vector<float> y0(s.cout * s.ho * s.wo), y1(y0.size());
        base->conv2d(s, w.data(), b.data(), x.data(), y0.data());
        avx2->conv2d(s, w.data(), b.data(), x.data(), y1.data());
        expect_close(y1, y0, "conv2d " + std::to_string(s.kh) + "x" + std::to_string(s.kw));
    }
    // GRU, both directions, written interleaved as a bidirectional layer is.
    {
        const std::int64_t steps = 300, in = 40, hidden = 33;
        auto x = random_values(steps * in, 30), w_ih = random_values(3 * hidden * in, 31);
        auto w_hh = random_values(3 * hidden * hidden, 32), b_ih = random_values(3 * hidden, 33);
        auto b_hh = random_values(3 * hidden, 34);
        for (float& v : w_hh) v *= 0.3f;  // a stable recurrence, as trained weights are
        for (bool reverse : {false, true}) {
            std::vector<float> y0(steps * 2 * hidden, -7.0f), y1(y0.size(), -7.0f);
            base->gru(x.data(), steps, in, hidden, w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data(), reverse,
                      y0.data() + hidden, 2 * hidden);
            avx2->gru(x.data(), steps, in, hidden, w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data(), reverse,
                      y1.data() + hidden, 2 * hidden);
            expect_close(y1, y0, reverse ? "gru reverse" : "gru forward");
            for (std::int64_t t = 0; t < steps; ++t) ASSERT_EQ(y1[t * 2 * hidden], -7.0f) << "wrote outside its half";
        }
    }
}
