#include "nn/tensor.hpp"

#include <cassert>
#include <utility>

namespace harmony::nn {

std::string shape_to_string(std::span<const std::int64_t> shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ",";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

std::int64_t shape_numel(std::span<const std::int64_t> shape) noexcept {
    constexpr std::int64_t kLimit = std::int64_t{1} << 40;
    std::int64_t n = 1;
    for (std::int64_t d : shape) {
        if (d < 0 || d > kLimit) return -1;
        n *= d;
        if (n > kLimit) return -1;
    }
    return n;
}

Tensor::Tensor(Shape shape) : shape_(std::move(shape)) {
    const std::int64_t n = shape_numel(shape_);
    assert(n >= 0);
    data_.assign(static_cast<std::size_t>(n), 0.0f);
}

Tensor::Tensor(Shape shape, std::vector<float> data) : shape_(std::move(shape)), data_(std::move(data)) {
    assert(shape_numel(shape_) == static_cast<std::int64_t>(data_.size()));
}

Tensor& Tensor::reshape(Shape shape) {
    assert(shape_numel(shape) == numel());
    shape_ = std::move(shape);
    return *this;
}

Tensor Tensor::reshaped(Shape shape) const {
    Tensor t = *this;
    t.reshape(std::move(shape));
    return t;
}

Tensor transpose2d(const Tensor& x) {
    assert(x.rank() == 2);
    const std::int64_t r = x.dim(0), c = x.dim(1);
    Tensor y({c, r});
    const float* src = x.data();
    float* dst = y.data();
    for (std::int64_t i = 0; i < r; ++i)
        for (std::int64_t j = 0; j < c; ++j) dst[j * r + i] = src[i * c + j];
    return y;
}

}  // namespace harmony::nn
