// Harmony nn — the arithmetic kernels (declared in kernels.hpp). This file is compiled twice:
// as part of harmony_core for the x86-64 baseline (HARMONY_NN_ISA undefined -> baseline) and, on
// x86-64, as the object harmony_nn_avx2 with -mavx2 -mfma -DHARMONY_NN_ISA=avx2. Each compilation
// puts its functions in kernels::<isa> and sees Eigen under the namespace harmony_nn_eigen_<isa>,
// so the two objects share no inline function: the linker can never pick an AVX2-compiled copy of
// one for the baseline path (tests/nn_isa_symbols.sh checks it).
#ifndef HARMONY_NN_ISA
#define HARMONY_NN_ISA baseline
#endif
#define HARMONY_NN_CAT2(a, b) a##b
#define HARMONY_NN_CAT(a, b) HARMONY_NN_CAT2(a, b)
#define HARMONY_NN_STR2(a) #a
#define HARMONY_NN_STR(a) HARMONY_NN_STR2(a)
#define Eigen HARMONY_NN_CAT(harmony_nn_eigen_, HARMONY_NN_ISA)

#include <algorithm>
#include <cmath>

#include "nn/eigen.hpp"
#include "nn/kernels.hpp"

namespace harmony::nn::kernels::HARMONY_NN_ISA {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatMap = Eigen::Map<RowMatrix>;
using ConstMatMap = Eigen::Map<const RowMatrix>;
using ConstVecMap = Eigen::Map<const Eigen::VectorXf>;
using ConstRowVecMap = Eigen::Map<const Eigen::RowVectorXf>;
using ArrayMap = Eigen::Map<Eigen::ArrayXf>;
using ConstArrayMap = Eigen::Map<const Eigen::ArrayXf>;

// im2col is built a few output rows at a time so its buffer stays near L2 size (256 KiB) whatever
// the input length: memory does not grow with the track.
constexpr std::int64_t kColumnTileFloats = 64 * 1024;

void linear(const float* x, std::int64_t rows, std::int64_t in, const float* weight, const float* bias,
            std::int64_t out, float* y) {
    MatMap result(y, rows, out);
    result.noalias() = ConstMatMap(x, rows, in) * ConstMatMap(weight, out, in).transpose();
    result.rowwise() += ConstRowVecMap(bias, out);
}

void conv2d(const Conv2dShape& s, const float* weight_data, const float* bias, const float* x, float* y) {
    const std::int64_t k = s.cin * s.kh * s.kw, positions = s.ho * s.wo;
    if (positions == 0) return;
    MatMap out(y, s.cout, positions);
    const ConstMatMap weight(weight_data, s.cout, k);
    if (s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.ph == 0 && s.pw == 0) {
        out.noalias() = weight * ConstMatMap(x, s.cin, positions);  // pointwise: no im2col
    } else {
        const std::int64_t wo = s.wo;
        const std::int64_t rows_per_tile = std::clamp<std::int64_t>(kColumnTileFloats / (k * wo), 1, s.ho);
        RowMatrix col(k, rows_per_tile * wo);
        for (std::int64_t oh0 = 0; oh0 < s.ho; oh0 += rows_per_tile) {
            const std::int64_t nrows = std::min(rows_per_tile, s.ho - oh0), n = nrows * wo;
            const std::int64_t ld = col.cols();
            for (std::int64_t ci = 0; ci < s.cin; ++ci) {
                for (std::int64_t ki = 0; ki < s.kh; ++ki) {
                    for (std::int64_t kj = 0; kj < s.kw; ++kj) {
                        float* dst_row = col.data() + ((ci * s.kh + ki) * s.kw + kj) * ld;
                        // Input column iw = ow * sw + off lies inside [0, w) for ow in [lo, hi).
                        const std::int64_t off = kj * s.dw - s.pw;
                        const std::int64_t lo = std::min(wo, off >= 0 ? 0 : (-off + s.sw - 1) / s.sw);
                        const std::int64_t hi =
                            std::clamp<std::int64_t>(s.w - 1 - off >= 0 ? (s.w - 1 - off) / s.sw + 1 : 0, lo, wo);
                        for (std::int64_t r = 0; r < nrows; ++r) {
                            float* dst = dst_row + r * wo;
                            const std::int64_t ih = (oh0 + r) * s.sh - s.ph + ki * s.dh;
                            if (ih < 0 || ih >= s.h) {
                                for (std::int64_t i = 0; i < wo; ++i) dst[i] = 0.0f;
                                continue;
                            }
                            const float* src = x + (ci * s.h + ih) * s.w + off;
                            for (std::int64_t i = 0; i < lo; ++i) dst[i] = 0.0f;
                            if (s.sw == 1) {
                                for (std::int64_t i = lo; i < hi; ++i) dst[i] = src[i];
                            } else {
                                for (std::int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * s.sw];
                            }
                            for (std::int64_t i = hi; i < wo; ++i) dst[i] = 0.0f;
                        }
                    }
                }
            }
            out.middleCols(oh0 * wo, n).noalias() = weight * col.leftCols(n);
        }
    }
    out.colwise() += ConstVecMap(bias, s.cout);
}

void gru(const float* x, std::int64_t steps, std::int64_t in, std::int64_t hidden, const float* w_ih_data,
         const float* w_hh_data, const float* b_ih, const float* b_hh_data, bool reverse, float* y,
         std::int64_t y_stride) {
    const std::int64_t h3 = 3 * hidden;
    // All input projections at once (one GEMM); only the recurrent part is sequential.
    RowMatrix gates_in(steps, h3);
    gates_in.noalias() = ConstMatMap(x, steps, in) * ConstMatMap(w_ih_data, h3, in).transpose();
    gates_in.rowwise() += ConstRowVecMap(b_ih, h3);
    const ConstMatMap w_hh(w_hh_data, h3, hidden);
    const ConstVecMap b_hh(b_hh_data, h3);
    Eigen::VectorXf h = Eigen::VectorXf::Zero(hidden), gates_h(h3);
    Eigen::ArrayXf r(hidden), z(hidden), n(hidden);
    for (std::int64_t s = 0; s < steps; ++s) {
        const std::int64_t t = reverse ? steps - 1 - s : s;
        gates_h.noalias() = w_hh * h;
        gates_h += b_hh;
        const float* gi = gates_in.data() + t * h3;
        r = (ConstArrayMap(gi, hidden) + gates_h.head(hidden).array()).logistic();
        z = (ConstArrayMap(gi + hidden, hidden) + gates_h.segment(hidden, hidden).array()).logistic();
        n = (ConstArrayMap(gi + 2 * hidden, hidden) + r * gates_h.tail(hidden).array()).tanh();
        h.array() = (1.0f - z) * n + z * h.array();
        ArrayMap(y + t * y_stride, hidden) = h.array();
    }
}

void elu(float* x, std::int64_t n, float alpha) {
    ArrayMap a(x, n);
    if (alpha >= 0.0f) {
        // max(x, 0) + alpha * (exp(min(x, 0)) - 1): x above zero exactly, alpha * (e^x - 1) below, in
        // one vectorised pass (Eigen 3.4's select() runs coefficient by coefficient, and its
        // vectorised expm1 costs an exp, a log and a division). exp(x) - 1 instead of expm1 loses
        // relative precision only where |x| < 2^-10 or so, ~1e-7 absolute: far inside the tolerance.
        a = a.max(0.0f) + alpha * (a.min(0.0f).exp() - 1.0f);
    } else {
        for (float& v : a) v = v > 0.0f ? v : alpha * std::expm1(v);
    }
}

void tanh(float* x, std::int64_t n) {
    ArrayMap a(x, n);
    a = a.tanh();
}

}  // namespace

extern const Table kTable;
const Table kTable{HARMONY_NN_STR(HARMONY_NN_ISA), &linear, &conv2d, &gru, &elu, &tanh};

}  // namespace harmony::nn::kernels::HARMONY_NN_ISA
