#include "nn/layers.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "nn/kernels.hpp"

namespace harmony::nn {
namespace {

Error bad_config(std::string_view prefix, const std::string& what) {
    return make_error(ErrorCode::kInvalidArgument, "layer '" + std::string(prefix) + "': " + what);
}

std::int64_t conv_out(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p, std::int64_t d) {
    const std::int64_t span = d * (k - 1) + 1;
    if (in + 2 * p < span) return 0;
    return (in + 2 * p - span) / s + 1;
}

/// Folds BatchNorm `bn` (weight, bias, running_mean, running_var [cout]) into a conv whose weight is
/// [cout, k] and bias [cout].
Result<void> fold_batchnorm(const WeightFile& w, std::string_view bn, float eps, Tensor& weight, Tensor& bias) {
    const std::int64_t cout = weight.dim(0), k = weight.dim(1);
    auto gamma = w.tensor(tensor_name(bn, "weight"), {cout});
    if (!gamma) return gamma.error();
    auto beta = w.tensor(tensor_name(bn, "bias"), {cout});
    if (!beta) return beta.error();
    auto mean = w.tensor(tensor_name(bn, "running_mean"), {cout});
    if (!mean) return mean.error();
    auto var = w.tensor(tensor_name(bn, "running_var"), {cout});
    if (!var) return var.error();
    for (std::int64_t o = 0; o < cout; ++o) {
        const double scale = (*gamma)[o] / std::sqrt(static_cast<double>((*var)[o]) + eps);
        for (std::int64_t i = 0; i < k; ++i) weight[o * k + i] = static_cast<float>(weight[o * k + i] * scale);
        bias[o] = static_cast<float>((bias[o] - (*mean)[o]) * scale + (*beta)[o]);
    }
    return {};
}

template <typename Reduce, typename Finish>
Tensor pool2d(const Tensor& x, const Pool2dConfig& cfg, float init, Reduce reduce, Finish finish) {
    assert(x.rank() == 3);
    const std::int64_t c = x.dim(0), h = x.dim(1), w = x.dim(2);
    const std::int64_t kh = cfg.kernel[0], kw = cfg.kernel[1];
    const std::int64_t sh = cfg.stride[0] > 0 ? cfg.stride[0] : kh, sw = cfg.stride[1] > 0 ? cfg.stride[1] : kw;
    const std::int64_t ph = cfg.padding[0], pw = cfg.padding[1];
    assert(kh >= 1 && kw >= 1 && ph >= 0 && pw >= 0);
    const std::int64_t ho = conv_out(h, kh, sh, ph, 1), wo = conv_out(w, kw, sw, pw, 1);
    Tensor y({c, ho, wo});
    float* out = y.data();
    if (kw == 1 && sw == 1 && pw == 0) {
        // Pooling along H only (the beat network's): whole rows at a time, which vectorises.
        for (std::int64_t ci = 0; ci < c; ++ci) {
            const float* plane = x.data() + ci * h * w;
            for (std::int64_t oh = 0; oh < ho; ++oh, out += wo) {
                const std::int64_t h0 = oh * sh - ph, h1 = std::min(h0 + kh, h);
                std::fill(out, out + wo, init);
                for (std::int64_t ih = std::max<std::int64_t>(h0, 0); ih < h1; ++ih) {
                    const float* row = plane + ih * w;
                    for (std::int64_t iw = 0; iw < wo; ++iw) out[iw] = reduce(out[iw], row[iw]);
                }
                for (std::int64_t iw = 0; iw < wo; ++iw) out[iw] = finish(out[iw]);
            }
        }
        return y;
    }
    for (std::int64_t ci = 0; ci < c; ++ci) {
        const float* plane = x.data() + ci * h * w;
        for (std::int64_t oh = 0; oh < ho; ++oh) {
            const std::int64_t h0 = oh * sh - ph, h1 = std::min(h0 + kh, h);
            for (std::int64_t ow = 0; ow < wo; ++ow) {
                const std::int64_t w0 = ow * sw - pw, w1 = std::min(w0 + kw, w);
                float acc = init;
                for (std::int64_t ih = std::max<std::int64_t>(h0, 0); ih < h1; ++ih)
                    for (std::int64_t iw = std::max<std::int64_t>(w0, 0); iw < w1; ++iw)
                        acc = reduce(acc, plane[ih * w + iw]);
                *out++ = finish(acc);
            }
        }
    }
    return y;
}

/// outer x n x inner view of x around `axis`.
void split_axis(const Tensor& x, int axis, std::int64_t& outer, std::int64_t& n, std::int64_t& inner) {
    const int rank = static_cast<int>(x.rank());
    if (axis < 0) axis += rank;
    assert(axis >= 0 && axis < rank);
    outer = 1;
    inner = 1;
    for (int i = 0; i < axis; ++i) outer *= x.dim(i);
    for (int i = axis + 1; i < rank; ++i) inner *= x.dim(i);
    n = x.dim(axis);
}

template <bool kLog>
void softmax_impl(Tensor& x, int axis) {
    std::int64_t outer, n, inner;
    split_axis(x, axis, outer, n, inner);
    for (std::int64_t o = 0; o < outer; ++o) {
        for (std::int64_t i = 0; i < inner; ++i) {
            float* v = x.data() + o * n * inner + i;
            float m = -std::numeric_limits<float>::infinity();
            for (std::int64_t k = 0; k < n; ++k) m = std::max(m, v[k * inner]);
            double sum = 0.0;
            for (std::int64_t k = 0; k < n; ++k) sum += std::exp(static_cast<double>(v[k * inner] - m));
            if constexpr (kLog) {
                const float lse = m + static_cast<float>(std::log(sum));
                for (std::int64_t k = 0; k < n; ++k) v[k * inner] -= lse;
            } else {
                for (std::int64_t k = 0; k < n; ++k)
                    v[k * inner] = static_cast<float>(std::exp(static_cast<double>(v[k * inner] - m)) / sum);
            }
        }
    }
}

}  // namespace

std::string tensor_name(std::string_view prefix, std::string_view name) {
    if (prefix.empty()) return std::string(name);
    std::string s(prefix);
    s += '.';
    s += name;
    return s;
}

// ---------------------------------------------------------------------------------------------
Result<Linear> Linear::load(const WeightFile& w, std::string_view prefix, const LinearConfig& cfg) {
    if (cfg.in_features <= 0 || cfg.out_features <= 0) return bad_config(prefix, "features must be positive");
    Linear l;
    l.cfg_ = cfg;
    auto weight = w.tensor(tensor_name(prefix, "weight"), {cfg.out_features, cfg.in_features});
    if (!weight) return weight.error();
    l.weight_ = std::move(*weight);
    if (cfg.bias) {
        auto bias = w.tensor(tensor_name(prefix, "bias"), {cfg.out_features});
        if (!bias) return bias.error();
        l.bias_ = std::move(*bias);
    } else {
        l.bias_ = Tensor({cfg.out_features});
    }
    return l;
}

Tensor Linear::forward(const Tensor& x) const {
    assert((x.rank() == 1 || x.rank() == 2) && x.shape().back() == cfg_.in_features);
    const std::int64_t rows = x.rank() == 1 ? 1 : x.dim(0);
    Tensor y(x.rank() == 1 ? Shape{cfg_.out_features} : Shape{rows, cfg_.out_features});
    kernels::active().linear(x.data(), rows, cfg_.in_features, weight_.data(), bias_.data(), cfg_.out_features,
                             y.data());
    return y;
}

// ---------------------------------------------------------------------------------------------
Result<Conv2d> Conv2d::load(const WeightFile& w, std::string_view prefix, const Conv2dConfig& cfg) {
    if (cfg.in_channels <= 0 || cfg.out_channels <= 0) return bad_config(prefix, "channels must be positive");
    for (int i = 0; i < 2; ++i)
        if (cfg.kernel[i] < 1 || cfg.stride[i] < 1 || cfg.dilation[i] < 1 || cfg.padding[i] < 0)
            return bad_config(prefix, "kernel, stride and dilation must be >= 1, padding >= 0");
    Conv2d c;
    c.cfg_ = cfg;
    const std::int64_t k = cfg.in_channels * cfg.kernel[0] * cfg.kernel[1];
    auto weight =
        w.tensor(tensor_name(prefix, "weight"), {cfg.out_channels, cfg.in_channels, cfg.kernel[0], cfg.kernel[1]});
    if (!weight) return weight.error();
    c.weight_ = std::move(weight->reshape({cfg.out_channels, k}));
    if (cfg.bias) {
        auto bias = w.tensor(tensor_name(prefix, "bias"), {cfg.out_channels});
        if (!bias) return bias.error();
        c.bias_ = std::move(*bias);
    } else {
        c.bias_ = Tensor({cfg.out_channels});
    }
    if (!cfg.fold_batchnorm.empty()) {
        auto folded = fold_batchnorm(w, cfg.fold_batchnorm, cfg.batchnorm_eps, c.weight_, c.bias_);
        if (!folded) return folded.error();
    }
    return c;
}

Tensor Conv2d::forward(const Tensor& x) const {
    assert(x.rank() == 3 && x.dim(0) == cfg_.in_channels);
    kernels::Conv2dShape s{.cin = cfg_.in_channels,
                           .cout = cfg_.out_channels,
                           .h = x.dim(1),
                           .w = x.dim(2),
                           .kh = cfg_.kernel[0],
                           .kw = cfg_.kernel[1],
                           .sh = cfg_.stride[0],
                           .sw = cfg_.stride[1],
                           .ph = cfg_.padding[0],
                           .pw = cfg_.padding[1],
                           .dh = cfg_.dilation[0],
                           .dw = cfg_.dilation[1],
                           .ho = 0,
                           .wo = 0};
    s.ho = conv_out(s.h, s.kh, s.sh, s.ph, s.dh);
    s.wo = conv_out(s.w, s.kw, s.sw, s.pw, s.dw);
    Tensor y({s.cout, s.ho, s.wo});
    kernels::active().conv2d(s, weight_.data(), bias_.data(), x.data(), y.data());
    return y;
}

Result<Conv1d> Conv1d::load(const WeightFile& w, std::string_view prefix, const Conv1dConfig& cfg) {
    if (cfg.in_channels <= 0 || cfg.out_channels <= 0) return bad_config(prefix, "channels must be positive");
    if (cfg.kernel < 1 || cfg.stride < 1 || cfg.dilation < 1 || cfg.padding < 0)
        return bad_config(prefix, "kernel, stride and dilation must be >= 1, padding >= 0");
    Conv1d c;
    c.cfg_ = cfg;
    c.impl_.cfg_ =
        Conv2dConfig{cfg.in_channels,   cfg.out_channels, {1, cfg.kernel},    {1, cfg.stride},  {0, cfg.padding},
                     {1, cfg.dilation}, cfg.bias,         cfg.fold_batchnorm, cfg.batchnorm_eps};
    auto weight = w.tensor(tensor_name(prefix, "weight"), {cfg.out_channels, cfg.in_channels, cfg.kernel});
    if (!weight) return weight.error();
    c.impl_.weight_ = std::move(weight->reshape({cfg.out_channels, cfg.in_channels * cfg.kernel}));
    if (cfg.bias) {
        auto bias = w.tensor(tensor_name(prefix, "bias"), {cfg.out_channels});
        if (!bias) return bias.error();
        c.impl_.bias_ = std::move(*bias);
    } else {
        c.impl_.bias_ = Tensor({cfg.out_channels});
    }
    if (!cfg.fold_batchnorm.empty()) {
        auto folded = fold_batchnorm(w, cfg.fold_batchnorm, cfg.batchnorm_eps, c.impl_.weight_, c.impl_.bias_);
        if (!folded) return folded.error();
    }
    return c;
}

Tensor Conv1d::forward(const Tensor& x) const {
    assert(x.rank() == 2 && x.dim(0) == cfg_.in_channels);
    Tensor y = impl_.forward(x.reshaped({x.dim(0), 1, x.dim(1)}));
    y.reshape({y.dim(0), y.dim(2)});
    return y;
}

// ---------------------------------------------------------------------------------------------
Result<BatchNorm> BatchNorm::load(const WeightFile& w, std::string_view prefix, std::int64_t channels, float eps) {
    if (channels <= 0) return bad_config(prefix, "channels must be positive");
    BatchNorm bn;
    bn.scale_ = Tensor({channels, 1});
    bn.shift_ = Tensor({channels});
    for (std::int64_t c = 0; c < channels; ++c) bn.scale_[c] = 1.0f;
    auto folded = fold_batchnorm(w, prefix, eps, bn.scale_, bn.shift_);
    if (!folded) return folded.error();
    bn.scale_.reshape({channels});
    return bn;
}

void BatchNorm::forward_inplace(Tensor& x) const {
    const std::int64_t c = scale_.numel();
    assert(x.rank() >= 1 && x.dim(0) == c);
    const std::int64_t inner = c > 0 ? x.numel() / c : 0;
    for (std::int64_t ci = 0; ci < c; ++ci) {
        float* v = x.data() + ci * inner;
        const float a = scale_[ci], b = shift_[ci];
        for (std::int64_t i = 0; i < inner; ++i) v[i] = v[i] * a + b;
    }
}

// ---------------------------------------------------------------------------------------------
void relu(Tensor& x) {
    for (float& v : x.values()) v = v > 0.0f ? v : 0.0f;
}

void elu(Tensor& x, float alpha) {
    kernels::active().elu(x.data(), x.numel(), alpha);
}

void tanh(Tensor& x) {
    kernels::active().tanh(x.data(), x.numel());
}

void sigmoid(Tensor& x) {
    // Both branches keep exp's argument <= 0: no overflow for large |v|.
    for (float& v : x.values()) {
        if (v >= 0.0f) {
            v = 1.0f / (1.0f + std::exp(-v));
        } else {
            const float e = std::exp(v);
            v = e / (1.0f + e);
        }
    }
}

void softmax(Tensor& x, int axis) {
    softmax_impl<false>(x, axis);
}
void log_softmax(Tensor& x, int axis) {
    softmax_impl<true>(x, axis);
}

// ---------------------------------------------------------------------------------------------
Tensor max_pool2d(const Tensor& x, const Pool2dConfig& cfg) {
    return pool2d(
        x, cfg, -std::numeric_limits<float>::infinity(), [](float a, float b) { return b > a ? b : a; },
        [](float a) { return a; });
}

Tensor avg_pool2d(const Tensor& x, const Pool2dConfig& cfg) {
    const float inv = 1.0f / static_cast<float>(cfg.kernel[0] * cfg.kernel[1]);
    return pool2d(
        x, cfg, 0.0f, [](float a, float b) { return a + b; }, [inv](float a) { return a * inv; });
}

Tensor max_pool1d(const Tensor& x, std::int64_t kernel, std::int64_t stride, std::int64_t padding) {
    assert(x.rank() == 2);
    Tensor y = max_pool2d(x.reshaped({x.dim(0), 1, x.dim(1)}), Pool2dConfig{{1, kernel}, {1, stride}, {0, padding}});
    return y.reshape({y.dim(0), y.dim(2)});
}

Tensor avg_pool1d(const Tensor& x, std::int64_t kernel, std::int64_t stride, std::int64_t padding) {
    assert(x.rank() == 2);
    Tensor y = avg_pool2d(x.reshaped({x.dim(0), 1, x.dim(1)}), Pool2dConfig{{1, kernel}, {1, stride}, {0, padding}});
    return y.reshape({y.dim(0), y.dim(2)});
}

}  // namespace harmony::nn
