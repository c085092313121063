// Harmony nn — a dense float32 tensor, row-major (C order), no batch dimension by convention.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace harmony::nn {

using Shape = std::vector<std::int64_t>;

/// "[8,1,3,3]" — used in error messages.
std::string shape_to_string(std::span<const std::int64_t> shape);

/// Product of the dimensions; -1 when a dimension is negative or the product overflows 2^40.
std::int64_t shape_numel(std::span<const std::int64_t> shape) noexcept;

class Tensor {
public:
    Tensor() = default;
    /// Zero-filled tensor of the given shape (dimensions must be >= 0: programmer error otherwise).
    explicit Tensor(Shape shape);
    Tensor(Shape shape, std::vector<float> data);  // data.size() must equal numel(shape)
    static Tensor zeros(std::initializer_list<std::int64_t> shape) { return Tensor(Shape(shape)); }

    const Shape& shape() const noexcept { return shape_; }
    std::int64_t dim(std::size_t i) const noexcept { return shape_[i]; }
    std::size_t rank() const noexcept { return shape_.size(); }
    std::int64_t numel() const noexcept { return static_cast<std::int64_t>(data_.size()); }
    bool empty() const noexcept { return data_.empty(); }

    float* data() noexcept { return data_.data(); }
    const float* data() const noexcept { return data_.data(); }
    std::span<float> values() noexcept { return data_; }
    std::span<const float> values() const noexcept { return data_; }
    float& operator[](std::size_t i) noexcept { return data_[i]; }
    float operator[](std::size_t i) const noexcept { return data_[i]; }

    /// Same data, new shape of the same element count (programmer error otherwise).
    Tensor& reshape(Shape shape);
    Tensor reshaped(Shape shape) const;

private:
    Shape shape_;
    std::vector<float> data_;
};

/// [R, C] -> [C, R].
Tensor transpose2d(const Tensor& x);

}  // namespace harmony::nn
