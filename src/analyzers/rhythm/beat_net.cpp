#include "analyzers/rhythm/beat_net.hpp"

#include <algorithm>
#include <cmath>

namespace harmony::rhythm {

namespace {
#include "analyzers/rhythm/beat_model.inc"  // kBeatModel: tools/train_beats/train.py --ship

constexpr int kPooledBands = ((BeatNet::kBands - 2) / 3 - 2) / 3;
}  // namespace

Result<BeatNet> BeatNet::load(const nn::WeightFile& w) {
    BeatNet net;
    nn::Conv2dConfig c1{
        .in_channels = 1, .out_channels = 8, .kernel = {3, 3}, .padding = {0, 1}, .fold_batchnorm = "bn1"};
    auto conv1 = nn::Conv2d::load(w, "conv1", c1);
    if (!conv1) return conv1.error();
    nn::Conv2dConfig c2{
        .in_channels = 8, .out_channels = kChannels, .kernel = {3, 3}, .padding = {0, 1}, .fold_batchnorm = "bn2"};
    auto conv2 = nn::Conv2d::load(w, "conv2", c2);
    if (!conv2) return conv2.error();
    nn::Conv2dConfig c3{
        .in_channels = kChannels, .out_channels = kChannels, .kernel = {kPooledBands, 1}, .fold_batchnorm = "bn3"};
    auto conv3 = nn::Conv2d::load(w, "conv3", c3);
    if (!conv3) return conv3.error();
    net.conv1_ = std::move(conv1.value());
    net.conv2_ = std::move(conv2.value());
    net.conv3_ = std::move(conv3.value());
    for (int i = 0; i < kLayers; ++i) {
        const std::int64_t d = std::int64_t{1} << i;
        nn::Conv1dConfig c{.in_channels = kChannels,
                           .out_channels = kChannels,
                           .kernel = kKernel,
                           .padding = (kKernel / 2) * d,
                           .dilation = d,
                           .fold_batchnorm = "tbn." + std::to_string(i)};
        auto conv = nn::Conv1d::load(w, "tcn." + std::to_string(i), c);
        if (!conv) return conv.error();
        net.tcn_.push_back(std::move(conv.value()));
    }
    auto out = nn::Conv1d::load(w, "out", {.in_channels = kChannels, .out_channels = 2, .kernel = 1});
    if (!out) return out.error();
    net.out_ = std::move(out.value());
    if (auto all = w.expect_all_used(); !all) return all.error();
    return net;
}

nn::Tensor BeatNet::forward(const nn::Tensor& spec) const {
    const std::int64_t t = spec.dim(1);
    nn::Tensor x = spec.reshaped({1, kBands, t});
    const nn::Pool2dConfig pool{.kernel = {3, 1}};
    x = conv1_.forward(x);
    nn::elu(x);
    x = nn::max_pool2d(x, pool);
    x = conv2_.forward(x);
    nn::elu(x);
    x = nn::max_pool2d(x, pool);
    x = conv3_.forward(x);
    nn::elu(x);
    x.reshape({kChannels, t});
    for (const auto& conv : tcn_) {
        nn::Tensor y = conv.forward(x);
        nn::elu(y);
        for (std::int64_t i = 0; i < x.numel(); ++i) x[static_cast<size_t>(i)] += y[static_cast<size_t>(i)];
    }
    return out_.forward(x);
}

BeatActivations BeatNet::run(const std::vector<float>& spec, size_t chunk_frames) const {
    BeatActivations a;
    const size_t n = spec.size() / kBands;
    a.beat.assign(n, 0.0);
    a.downbeat.assign(n, 0.0);
    chunk_frames = std::max<size_t>(chunk_frames, 1);
    const auto ctx = static_cast<size_t>(kReceptiveHalf);
    for (size_t start = 0; start < n; start += chunk_frames) {
        const size_t end = std::min(n, start + chunk_frames);
        const size_t lo = start > ctx ? start - ctx : 0;
        const size_t hi = std::min(n, end + ctx);
        const size_t len = hi - lo;
        nn::Tensor x({kBands, static_cast<std::int64_t>(len)});
        for (size_t i = 0; i < len; ++i)
            for (int b = 0; b < kBands; ++b)
                x[static_cast<size_t>(b) * len + i] = spec[(lo + i) * kBands + static_cast<size_t>(b)];
        const nn::Tensor y = forward(x);
        for (size_t i = start; i < end; ++i) {
            a.beat[i] = 1.0 / (1.0 + std::exp(-static_cast<double>(y[i - lo])));
            a.downbeat[i] = 1.0 / (1.0 + std::exp(-static_cast<double>(y[len + i - lo])));
        }
    }
    return a;
}

Result<std::shared_ptr<const BeatNet>> load_beat_net(const std::string& which, std::string* hash) {
    if (which.empty() || which == "none") return std::shared_ptr<const BeatNet>();
    auto w = which == "builtin"
                 ? nn::WeightFile::from_memory(kBeatModel, sizeof kBeatModel, "src/analyzers/rhythm/beat_model.inc")
                 : nn::WeightFile::from_file(which);
    if (!w) return w.error();
    auto net = BeatNet::load(w.value());
    if (!net) return net.error();
    if (hash) *hash = w.value().hash();
    return std::make_shared<const BeatNet>(std::move(net.value()));
}

}  // namespace harmony::rhythm
