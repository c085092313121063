// Harmony nn — the arithmetic kernels behind the layers, compiled once per instruction set and
// chosen once at run time (src/nn/README.md, "Instruction sets").
//
// kernels.cpp is the one source: CMake compiles it for the x86-64 baseline (namespace
// kernels::baseline, in harmony_core) and, on x86-64, again with -mavx2 -mfma (namespace
// kernels::avx2, its own object). Both see Eigen under a namespace of their own, so no inline
// function is shared between the two objects (tests/nn_isa_symbols.sh checks the AVX2 object).
// The layers call active(): AVX2+FMA when the CPU has both, unless HARMONY_NN_ISA=baseline.
// Kernels take raw pointers and sizes only: outputs are allocated by the caller (layers.cpp),
// so no container code is instantiated inside the per-ISA objects.
#pragma once

#include <cstdint>
#include <string_view>

namespace harmony::nn::kernels {

/// Everything a convolution needs: sizes in PyTorch's terms, output sizes already computed.
struct Conv2dShape {
    std::int64_t cin, cout, h, w;
    std::int64_t kh, kw, sh, sw, ph, pw, dh, dw;
    std::int64_t ho, wo;
};

struct Table {
    const char* name;  // "baseline" or "avx2"
    /// y[rows, out] = x[rows, in] * weight[out, in]^T + bias[out]
    void (*linear)(const float* x, std::int64_t rows, std::int64_t in, const float* weight, const float* bias,
                   std::int64_t out, float* y);
    /// y[cout, ho, wo] = conv(x[cin, h, w], weight[cout, cin*kh*kw]) + bias[cout] (im2col in tiles + GEMM)
    void (*conv2d)(const Conv2dShape& s, const float* weight, const float* bias, const float* x, float* y);
    /// One GRU direction over x[steps, in]: writes h_t to y + t * y_stride (hidden floats each).
    void (*gru)(const float* x, std::int64_t steps, std::int64_t in, std::int64_t hidden, const float* w_ih,
                const float* w_hh, const float* b_ih, const float* b_hh, bool reverse, float* y, std::int64_t y_stride);
    /// In place over n floats: x > 0 ? x : alpha * expm1(x); tanh. Eigen's vectorised expm1 and tanh
    /// (a few ulp from libm's, far inside the parity tolerance). (nn::sigmoid stays scalar: it is
    /// on no hot path, and Eigen's logistic leaves a denormal, not 0, far below zero.)
    void (*elu)(float* x, std::int64_t n, float alpha);
    void (*tanh)(float* x, std::int64_t n);
};

enum class Isa { kBaseline, kAvx2 };

/// The table for `isa`, or nullptr when this build or this CPU lacks it.
const Table* table(Isa isa) noexcept;
/// The table the layers use, chosen on first use: the best the CPU supports, or the baseline when
/// the environment variable HARMONY_NN_ISA is "baseline".
const Table& active() noexcept;
/// active().name
std::string_view active_isa() noexcept;

}  // namespace harmony::nn::kernels
