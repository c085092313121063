// Harmony nn — layers. Plain C++ modules: each one loads its named tensors from a WeightFile
// (PyTorch state_dict names under a prefix: "conv1" -> "conv1.weight", "conv1.bias") with every
// shape checked against its config, then runs forward() on unbatched tensors:
//   Conv1d  [C, T]      Conv2d / pooling  [C, H, W]      Linear  [N, F] (or [F])      GRU  [T, F]
// There is no batch dimension: the engine analyses one track at a time, and analyzers run in
// parallel above this layer, so everything here is single-threaded (EIGEN_DONT_PARALLELIZE).
// forward() on a tensor of the wrong rank or channel count is a programmer error (assert).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "harmony/error.hpp"
#include "nn/tensor.hpp"
#include "nn/weights.hpp"

namespace harmony::nn {

/// "prefix.name", or "name" when prefix is empty.
std::string tensor_name(std::string_view prefix, std::string_view name);

// ---------------------------------------------------------------------------------------------
// Linear: y = x W^T + b. Weight [out, in], bias [out].
struct LinearConfig {
    std::int64_t in_features = 0;
    std::int64_t out_features = 0;
    bool bias = true;
};

class Linear {
public:
    static Result<Linear> load(const WeightFile& w, std::string_view prefix, const LinearConfig& cfg);
    Tensor forward(const Tensor& x) const;  // [N, in] -> [N, out]; [in] -> [out]
    const LinearConfig& config() const noexcept { return cfg_; }

private:
    LinearConfig cfg_;
    Tensor weight_, bias_;
};

// ---------------------------------------------------------------------------------------------
// Convolutions (cross-correlation, as PyTorch), groups = 1, zero padding. A BatchNorm that follows
// the convolution can be folded into its weights at load time (fold_batchnorm = its prefix).
struct Conv1dConfig {
    std::int64_t in_channels = 0;
    std::int64_t out_channels = 0;
    std::int64_t kernel = 1;
    std::int64_t stride = 1;
    std::int64_t padding = 0;
    std::int64_t dilation = 1;
    bool bias = true;
    std::string fold_batchnorm{};  // prefix of a BatchNorm1d applied after this conv ("" = none)
    float batchnorm_eps = 1e-5f;
};

struct Conv2dConfig {
    std::int64_t in_channels = 0;
    std::int64_t out_channels = 0;
    std::int64_t kernel[2] = {1, 1};  // (height, width) as PyTorch (kH, kW)
    std::int64_t stride[2] = {1, 1};
    std::int64_t padding[2] = {0, 0};
    std::int64_t dilation[2] = {1, 1};
    bool bias = true;
    std::string fold_batchnorm{};  // prefix of a BatchNorm2d applied after this conv ("" = none)
    float batchnorm_eps = 1e-5f;
};

class Conv2d {
public:
    static Result<Conv2d> load(const WeightFile& w, std::string_view prefix, const Conv2dConfig& cfg);
    Tensor forward(const Tensor& x) const;  // [Cin, H, W] -> [Cout, Hout, Wout]
    const Conv2dConfig& config() const noexcept { return cfg_; }

private:
    friend class Conv1d;
    Conv2dConfig cfg_;
    Tensor weight_;  // [Cout, Cin * kH * kW], BatchNorm folded in
    Tensor bias_;    // [Cout] (zeros when the conv has no bias and no BatchNorm)
};

class Conv1d {
public:
    static Result<Conv1d> load(const WeightFile& w, std::string_view prefix, const Conv1dConfig& cfg);
    Tensor forward(const Tensor& x) const;  // [Cin, T] -> [Cout, Tout]
    const Conv1dConfig& config() const noexcept { return cfg_; }

private:
    Conv1dConfig cfg_;
    Conv2d impl_;  // a 1 x k two-dimensional convolution over a [Cin, 1, T] view
};

// ---------------------------------------------------------------------------------------------
// BatchNorm (inference: running statistics) over channel 0 of [C, ...]: weight, bias,
// running_mean, running_var [C]. Prefer folding it into the preceding conv.
class BatchNorm {
public:
    static Result<BatchNorm> load(const WeightFile& w, std::string_view prefix, std::int64_t channels,
                                  float eps = 1e-5f);
    void forward_inplace(Tensor& x) const;
    Tensor forward(Tensor x) const {
        forward_inplace(x);
        return x;
    }
    const Tensor& scale() const noexcept { return scale_; }
    const Tensor& shift() const noexcept { return shift_; }

private:
    Tensor scale_, shift_;  // y = x * scale + shift
};

// ---------------------------------------------------------------------------------------------
// Activations, in place. softmax / log_softmax normalise along `axis` (negative counts from the end).
void relu(Tensor& x);
void elu(Tensor& x, float alpha = 1.0f);
void tanh(Tensor& x);
void sigmoid(Tensor& x);
void softmax(Tensor& x, int axis = -1);
void log_softmax(Tensor& x, int axis = -1);

// ---------------------------------------------------------------------------------------------
// Pooling, floor mode. Stride 0 means "= kernel" (PyTorch's default). Average pooling counts the
// zero padding (PyTorch's count_include_pad=True); max pooling ignores it.
struct Pool2dConfig {
    std::int64_t kernel[2] = {1, 1};
    std::int64_t stride[2] = {0, 0};
    std::int64_t padding[2] = {0, 0};
};
Tensor max_pool2d(const Tensor& x, const Pool2dConfig& cfg);  // [C, H, W]
Tensor avg_pool2d(const Tensor& x, const Pool2dConfig& cfg);  // [C, H, W]
Tensor max_pool1d(const Tensor& x, std::int64_t kernel, std::int64_t stride = 0, std::int64_t padding = 0);  // [C, T]
Tensor avg_pool1d(const Tensor& x, std::int64_t kernel, std::int64_t stride = 0, std::int64_t padding = 0);  // [C, T]

// ---------------------------------------------------------------------------------------------
// GRU as torch.nn.GRU (gate order r, z, n; batch_first or unbatched sequence [T, F], h0 = 0).
// Tensors weight_ih_l{k}[_reverse] [3H, in], weight_hh_l{k} [3H, H], bias_ih_l{k}, bias_hh_l{k} [3H].
// Output [T, H] or, bidirectional, [T, 2H] (forward then backward, as PyTorch).
struct GruConfig {
    std::int64_t input_size = 0;
    std::int64_t hidden_size = 0;
    std::int64_t num_layers = 1;
    bool bidirectional = false;
    bool bias = true;
};

class Gru {
public:
    static Result<Gru> load(const WeightFile& w, std::string_view prefix, const GruConfig& cfg);
    Tensor forward(const Tensor& x) const;
    const GruConfig& config() const noexcept { return cfg_; }

private:
    struct Direction {
        Tensor w_ih, w_hh, b_ih, b_hh;
    };
    GruConfig cfg_;
    std::vector<Direction> dirs_;  // layer-major: l0 forward, l0 reverse, l1 forward, ...
};

}  // namespace harmony::nn
