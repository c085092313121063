#include <cassert>
#include <cmath>

#include "nn/kernels.hpp"
#include "nn/layers.hpp"

namespace harmony::nn {

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
    const std::int64_t steps = x.dim(0), hidden = cfg_.hidden_size;
    const std::int64_t dirs = cfg_.bidirectional ? 2 : 1;
    const kernels::Table& k = kernels::active();
    Tensor input = x;
    for (std::int64_t layer = 0; layer < cfg_.num_layers; ++layer) {
        Tensor output({steps, hidden * dirs});
        for (std::int64_t d = 0; d < dirs; ++d) {
            const Direction& dir = dirs_[layer * dirs + d];
            k.gru(input.data(), steps, input.dim(1), hidden, dir.w_ih.data(), dir.w_hh.data(), dir.b_ih.data(),
                  dir.b_hh.data(), d == 1, output.data() + d * hidden, hidden * dirs);
        }
        input = std::move(output);
    }
    return input;
}

}  // namespace harmony::nn
