#include <cassert>
#include <cmath>

#include "nn/eigen.hpp"
#include "nn/layers.hpp"

namespace harmony::nn {
namespace {

using detail::ConstMatMap;
using detail::ConstVecMap;
using detail::MatMap;
using detail::RowMatrix;

float sigmoid1(float v) {
    if (v >= 0.0f) return 1.0f / (1.0f + std::exp(-v));
    const float e = std::exp(v);
    return e / (1.0f + e);
}

}  // namespace

Result<Gru> Gru::load(const WeightFile& w, std::string_view prefix, const GruConfig& cfg) {
    if (cfg.input_size <= 0 || cfg.hidden_size <= 0 || cfg.num_layers <= 0)
        return make_error(
            ErrorCode::kInvalidArgument,
            "layer '" + std::string(prefix) + "': input_size, hidden_size and num_layers must be positive");
    Gru g;
    g.cfg_ = cfg;
    const std::int64_t h3 = 3 * cfg.hidden_size, dirs = cfg.bidirectional ? 2 : 1;
    for (std::int64_t layer = 0; layer < cfg.num_layers; ++layer) {
        const std::int64_t in = layer == 0 ? cfg.input_size : cfg.hidden_size * dirs;
        for (std::int64_t d = 0; d < dirs; ++d) {
            const std::string suffix = "_l" + std::to_string(layer) + (d == 1 ? "_reverse" : "");
            Direction dir;
            auto w_ih = w.tensor(tensor_name(prefix, "weight_ih" + suffix), {h3, in});
            if (!w_ih) return w_ih.error();
            auto w_hh = w.tensor(tensor_name(prefix, "weight_hh" + suffix), {h3, cfg.hidden_size});
            if (!w_hh) return w_hh.error();
            dir.w_ih = std::move(*w_ih);
            dir.w_hh = std::move(*w_hh);
            if (cfg.bias) {
                auto b_ih = w.tensor(tensor_name(prefix, "bias_ih" + suffix), {h3});
                if (!b_ih) return b_ih.error();
                auto b_hh = w.tensor(tensor_name(prefix, "bias_hh" + suffix), {h3});
                if (!b_hh) return b_hh.error();
                dir.b_ih = std::move(*b_ih);
                dir.b_hh = std::move(*b_hh);
            } else {
                dir.b_ih = Tensor({h3});
                dir.b_hh = Tensor({h3});
            }
            g.dirs_.push_back(std::move(dir));
        }
    }
    return g;
}

Tensor Gru::forward(const Tensor& x) const {
    assert(x.rank() == 2 && x.dim(1) == cfg_.input_size);
    const std::int64_t steps = x.dim(0), hidden = cfg_.hidden_size, h3 = 3 * hidden;
    const std::int64_t dirs = cfg_.bidirectional ? 2 : 1;
    Tensor input = x;
    RowMatrix gates_in(steps, h3);
    Eigen::VectorXf h(hidden), gates_h(h3);
    for (std::int64_t layer = 0; layer < cfg_.num_layers; ++layer) {
        const std::int64_t in = input.dim(1);
        Tensor output({steps, hidden * dirs});
        MatMap out(output.data(), steps, hidden * dirs);
        for (std::int64_t d = 0; d < dirs; ++d) {
            const Direction& dir = dirs_[layer * dirs + d];
            // All input projections at once (one GEMM); only the recurrent part is sequential.
            gates_in.noalias() =
                ConstMatMap(input.data(), steps, in) * ConstMatMap(dir.w_ih.data(), h3, in).transpose();
            gates_in.rowwise() += ConstVecMap(dir.b_ih.data(), h3).transpose();
            const ConstMatMap w_hh(dir.w_hh.data(), h3, hidden);
            const ConstVecMap b_hh(dir.b_hh.data(), h3);
            h.setZero();
            for (std::int64_t s = 0; s < steps; ++s) {
                const std::int64_t t = d == 0 ? s : steps - 1 - s;
                gates_h.noalias() = w_hh * h;
                gates_h += b_hh;
                const float* gi = gates_in.data() + t * h3;
                for (std::int64_t j = 0; j < hidden; ++j) {
                    const float r = sigmoid1(gi[j] + gates_h[j]);
                    const float z = sigmoid1(gi[hidden + j] + gates_h[hidden + j]);
                    const float n = std::tanh(gi[2 * hidden + j] + r * gates_h[2 * hidden + j]);
                    h[j] = (1.0f - z) * n + z * h[j];
                }
                out.row(t).segment(d * hidden, hidden) = h.transpose();
            }
        }
        input = std::move(output);
    }
    return input;
}

}  // namespace harmony::nn
