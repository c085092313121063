#include "analyzers/stems/mask_model.hpp"

#include <algorithm>
#include <cmath>

namespace harmony::analyzers::stems {

Result<MaskModel> MaskModel::load(const std::string& path) {
    auto w = nn::WeightFile::from_file(path);
    if (!w) return w.error();
    if (w->model_name() != "stems-mask")
        return make_error(ErrorCode::kModelInvalid,
                          "stems model (" + path + "): a '" + w->model_name() + "' model, not 'stems-mask'");
    MaskModel m;
    // The width is the file's (fc1.weight [hidden, input bins]): the shipped model and the tiny
    // test model share this code.
    const auto* fc1w = w->find("fc1.weight");
    const std::int64_t hidden = fc1w != nullptr && fc1w->shape.size() == 2 ? fc1w->shape[0] : 0;
    if (hidden < 2 || hidden > 4096 || hidden % 2 != 0)
        return make_error(ErrorCode::kModelInvalid, "stems model (" + path + "): fc1.weight must be [hidden (even), " +
                                                        std::to_string(kInputBins) + "]");
    const int h = static_cast<int>(hidden);
    auto mean = w->tensor("input_mean", {kInputBins});
    if (!mean) return mean.error();
    auto sd = w->tensor("input_std", {kInputBins});
    if (!sd) return sd.error();
    auto fc1 = nn::Linear::load(*w, "fc1", {kInputBins, h, true});
    if (!fc1) return fc1.error();
    auto gru = nn::Gru::load(*w, "gru", {h, h / 2, 1, true, true});
    if (!gru) return gru.error();
    auto fc2 = nn::Linear::load(*w, "fc2", {2 * h, h, true});
    if (!fc2) return fc2.error();
    auto fc3 = nn::Linear::load(*w, "fc3", {h, 4 * kModelBins, true});
    if (!fc3) return fc3.error();
    if (auto all = w->expect_all_used(); !all) return all.error();
    m.mean_ = std::move(*mean);
    m.std_ = std::move(*sd);
    m.fc1_ = std::move(*fc1);
    m.gru_ = std::move(*gru);
    m.fc2_ = std::move(*fc2);
    m.fc3_ = std::move(*fc3);
    m.hidden_ = h;
    m.hash_ = w->hash();
    m.version_ = static_cast<int>(w->model_version());
    return m;
}

void MaskModel::masks(const std::vector<float>& mag, std::size_t T, int K, int rate_hz, int n_fft,
                      std::vector<float>& out) const {
    const auto nearest = [](double f, double bin_hz, int count) {
        return std::clamp(static_cast<int>(std::lround(f / bin_hz)), 0, count - 1);
    };
    const double in_hz = static_cast<double>(rate_hz) / n_fft, model_hz = static_cast<double>(kModelRate) / kModelFft;
    // Features: the model's bins read from the nearest bin of this STFT, scaled to the model's
    // window sum (a magnitude grows with the window length).
    const float scale = static_cast<float>(kModelFft) / static_cast<float>(n_fft);
    nn::Tensor x({static_cast<std::int64_t>(T), kInputBins});
    for (int j = 0; j < kInputBins; ++j) {
        const int k = nearest(j * model_hz, in_hz, K);
        const float mu = mean_.data()[j], sd = std_.data()[j];
        for (std::size_t t = 0; t < T; ++t)
            x.data()[t * kInputBins + static_cast<std::size_t>(j)] =
                (std::log1p(scale * mag[static_cast<std::size_t>(k) * T + t]) - mu) / sd;
    }
    const int h = hidden_;
    nn::Tensor a = fc1_.forward(x);
    nn::tanh(a);
    const nn::Tensor g = gru_.forward(a);
    nn::Tensor cat({static_cast<std::int64_t>(T), 2 * h});
    for (std::size_t t = 0; t < T; ++t) {
        std::copy_n(a.data() + t * h, h, cat.data() + t * 2 * h);
        std::copy_n(g.data() + t * h, h, cat.data() + t * 2 * h + h);
    }
    nn::Tensor b = fc2_.forward(cat);
    nn::relu(b);
    const nn::Tensor logits = fc3_.forward(b);  // [T, 4 * kModelBins]
    out.assign(T * 4 * static_cast<std::size_t>(K), 0.0f);
    std::vector<int> src(static_cast<std::size_t>(K));
    for (int k = 0; k < K; ++k) src[static_cast<std::size_t>(k)] = nearest(k * in_hz, model_hz, kModelBins);
    for (std::size_t t = 0; t < T; ++t) {
        const float* l = logits.data() + t * 4 * kModelBins;
        float* o = out.data() + t * 4 * static_cast<std::size_t>(K);
        for (int k = 0; k < K; ++k) {
            const int q = src[static_cast<std::size_t>(k)];
            float v[4], mx = -1e30f, sum = 0.0f;
            for (int s = 0; s < 4; ++s) mx = std::max(mx, v[s] = l[s * kModelBins + q]);
            for (float& e : v) sum += (e = std::exp(e - mx));
            for (int s = 0; s < 4; ++s) o[static_cast<std::size_t>(s * K + k)] = v[s] / sum;
        }
    }
}

}  // namespace harmony::analyzers::stems
