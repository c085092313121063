#include "analyzers/chords/chord_features.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "analyzers/chords/chord_labels.hpp"

namespace harmony::analyzers::chords {

namespace {
#include "analyzers/chords/chords_model.inc"

// A unit whose pooled chroma (treble + bass votes, peak amplitudes of the unnormalised 8192-point
// spectrum) stays below this is silent: a full-scale sine votes ~1e3, -90 dBFS ~3e-2.
constexpr double kSilentVotes = 3e-2;
// ... or below this fraction of the track's mean.
constexpr double kSilentRelative = 1e-3;
}  // namespace

features::Chroma::Config chroma_config() {
    features::Chroma::Config c;
    c.n_fft = 8192;
    c.hop = 2048;
    return c;
}

std::vector<double> unit_boundaries(const std::vector<double>& beats, double duration_s, double fallback_s) {
    std::vector<double> b;
    duration_s = std::max(duration_s, 0.0);
    std::vector<double> bt;
    for (double t : beats)
        if (t > 0.0 && t < duration_s && (bt.empty() || t > bt.back() + 1e-3)) bt.push_back(t);
    if (bt.size() < 2) {
        const int n = std::max(1, static_cast<int>(std::ceil(duration_s / fallback_s)));
        for (int i = 0; i <= n; ++i) b.push_back(std::min(duration_s, i * fallback_s));
        if (b.size() >= 2 && b[b.size() - 1] - b[b.size() - 2] < 1e-9) b.pop_back();
        return b;
    }
    std::vector<double> iv;
    for (size_t i = 1; i < bt.size(); ++i) iv.push_back(bt[i] - bt[i - 1]);
    std::nth_element(iv.begin(), iv.begin() + static_cast<std::ptrdiff_t>(iv.size() / 2), iv.end());
    const double half = std::max(0.05, 0.5 * iv[iv.size() / 2]);
    // Before the first beat: back from it in half-beat steps; a remainder under half a step joins.
    std::vector<double> pre;
    for (double t = bt.front() - half; t > 0.5 * half; t -= half) pre.push_back(t);
    b.push_back(0.0);
    for (auto it = pre.rbegin(); it != pre.rend(); ++it) b.push_back(*it);
    for (size_t i = 0; i + 1 < bt.size(); ++i) {
        b.push_back(bt[i]);
        b.push_back(0.5 * (bt[i] + bt[i + 1]));
    }
    b.push_back(bt.back());
    for (double t = bt.back() + half; t < duration_s - 0.5 * half; t += half) b.push_back(t);
    b.push_back(duration_s);
    return b;
}

UnitFeatures unit_features(const features::Chroma& chroma, double cents, const std::vector<double>& bounds) {
    UnitFeatures out;
    const std::int64_t nf = chroma.frames();
    const double fps = chroma.frame_rate_hz();
    std::vector<std::array<double, 24>> frames(static_cast<size_t>(std::max<std::int64_t>(nf, 0)));
    double ref = 0.0;
    for (std::int64_t i = 0; i < nf; ++i) {
        const auto t = chroma.fold(chroma.treble(i), cents);
        const auto b = chroma.fold(chroma.bass(i), cents);
        auto& f = frames[static_cast<size_t>(i)];
        for (size_t k = 0; k < 12; ++k) {
            f[k] = t[k];
            f[12 + k] = b[k];
            ref += t[k] + b[k];
        }
    }
    ref = nf > 0 ? ref / static_cast<double>(nf) : 0.0;
    const size_t nu = bounds.size() < 2 ? 0 : bounds.size() - 1;
    out.units.resize(nu);
    out.silent.resize(nu);
    for (size_t u = 0; u < nu; ++u) {
        // Frames centred inside the unit; at least the nearest frame.
        auto lo = static_cast<std::int64_t>(std::ceil(bounds[u] * fps - 1e-9));
        auto hi = static_cast<std::int64_t>(std::ceil(bounds[u + 1] * fps - 1e-9));
        lo = std::clamp<std::int64_t>(lo, 0, nf);
        hi = std::clamp<std::int64_t>(hi, 0, nf);
        if (hi <= lo && nf > 0) {
            lo = std::clamp<std::int64_t>(
                static_cast<std::int64_t>(std::lround(0.5 * (bounds[u] + bounds[u + 1]) * fps)), 0, nf - 1);
            hi = lo + 1;
        }
        std::array<double, 24> m{};
        for (std::int64_t i = lo; i < hi; ++i)
            for (size_t k = 0; k < 24; ++k) m[k] += frames[static_cast<size_t>(i)][k];
        const double n = std::max<double>(1.0, static_cast<double>(hi - lo));
        for (auto& v : m) v /= n;
        double st = 0.0, sb = 0.0, mt = 0.0, mb = 0.0;
        for (size_t k = 0; k < 12; ++k) {
            st += m[k];
            sb += m[12 + k];
            mt = std::max(mt, m[k]);
            mb = std::max(mb, m[12 + k]);
        }
        auto& x = out.units[u];
        const double floor_v = 0.02 * ref + 1e-12;
        for (size_t k = 0; k < 12; ++k) {
            x[k] = static_cast<float>(m[k] / (mt + floor_v));
            x[12 + k] = static_cast<float>(m[12 + k] / (mb + floor_v));
        }
        const double r = ref + 1e-12;
        x[24] = static_cast<float>(std::log10(st / r + 1e-3));
        x[25] = static_cast<float>(std::log10(sb / r + 1e-3));
        out.silent[u] = (st + sb) < kSilentVotes || (st + sb) < kSilentRelative * ref;
    }
    return out;
}

Result<ChordNet> ChordNet::load(const nn::WeightFile& w) {
    if (w.model_name() != "chords") return w.error("expected a 'chords' model, found '" + w.model_name() + "'");
    const auto nc = static_cast<std::int64_t>(model_classes().size());
    const auto* e1 = w.find("fc1.weight");
    const auto* e2 = w.find("fc2.weight");
    if (!e1 || e1->shape.size() != 2 || !e2 || e2->shape.size() != 2)
        return w.error("the chord model needs 2-d tensors fc1.weight and fc2.weight");
    const std::int64_t in = e1->shape[1];
    const std::int64_t hidden1 = e1->shape[0];
    const std::int64_t hidden2 = e2->shape[0];
    if (in % kUnitDims != 0 || (in / kUnitDims) % 2 != 1 || in / kUnitDims > 2 * kMaxContext + 1 || hidden1 < 1 ||
        hidden1 > 4096 || hidden2 < 1 || hidden2 > 4096)
        return w.error("fc1.weight/fc2.weight shapes do not describe a chord model (input " + std::to_string(in) +
                       ", an odd number of " + std::to_string(kUnitDims) + "-value units, at most " +
                       std::to_string(2 * kMaxContext + 1) + ")");
    auto fc1 = nn::Linear::load(w, "fc1", {in, hidden1, true});
    if (!fc1) return fc1.error();
    auto fc2 = nn::Linear::load(w, "fc2", {hidden1, hidden2, true});
    if (!fc2) return fc2.error();
    auto fc3 = nn::Linear::load(w, "fc3", {hidden2, nc + 1, true});
    if (!fc3) return fc3.error();
    auto prior = w.tensor("prior.log", {nc + 1});
    if (!prior) return prior.error();
    if (auto all = w.expect_all_used(); !all) return all.error();
    ChordNet net;
    net.log_prior_.assign(prior.value().data(), prior.value().data() + nc + 1);
    net.fc1_ = std::move(fc1.value());
    net.fc2_ = std::move(fc2.value());
    net.fc3_ = std::move(fc3.value());
    net.n_classes_ = static_cast<int>(nc);
    net.context_ = static_cast<int>((in / kUnitDims - 1) / 2);
    return net;
}

void ChordNet::log_posteriors(const UnitFeatures& f, size_t begin, size_t end, double prior_correction,
                              std::vector<float>& out) const {
    const auto total = static_cast<std::int64_t>(f.units.size());
    end = std::min(end, f.units.size());
    const int nc = n_classes_;
    const auto row_len = static_cast<size_t>(12 * nc + 1);
    out.assign(begin < end ? (end - begin) * row_len : 0, 0.0f);
    if (begin >= end) return;
    const auto nu = static_cast<std::int64_t>(end - begin);
    const auto first = static_cast<std::int64_t>(begin);
    // One batch of 12 rotations per unit: row (u * 12 + r).
    const int ctx = context_;
    const std::int64_t input_dims = (2 * ctx + 1) * kUnitDims;
    nn::Tensor x({nu * 12, input_dims});
    float* px = x.data();
    for (std::int64_t u = 0; u < nu; ++u) {
        for (int r = 0; r < 12; ++r) {
            float* row = px + (u * 12 + r) * input_dims;
            for (int c = -ctx; c <= ctx; ++c) {
                const std::int64_t v = std::clamp<std::int64_t>(first + u + c, 0, total - 1);
                const auto& src = f.units[static_cast<size_t>(v)];
                float* dst = row + (c + ctx) * kUnitDims;
                for (int k = 0; k < 12; ++k) {
                    dst[k] = src[static_cast<size_t>((k + r) % 12)];
                    dst[12 + k] = src[static_cast<size_t>(12 + (k + r) % 12)];
                }
                dst[24] = src[24];
                dst[25] = src[25];
            }
        }
    }
    nn::Tensor h = fc1_.forward(x);
    nn::relu(h);
    h = fc2_.forward(h);
    nn::relu(h);
    const nn::Tensor y = fc3_.forward(h);  // [nu * 12, nc + 1]
    const float* py = y.data();
    for (std::int64_t u = 0; u < nu; ++u) {
        float* lp = out.data() + static_cast<size_t>(u) * row_len;
        double nsum = 0.0;
        for (int r = 0; r < 12; ++r) {
            const float* row = py + (u * 12 + r) * (nc + 1);
            for (int q = 0; q < nc; ++q)
                lp[r * nc + q] = row[q] - static_cast<float>(prior_correction * log_prior_[static_cast<size_t>(q)]);
            nsum += row[nc];
        }
        lp[row_len - 1] = static_cast<float>(nsum / 12.0 - prior_correction * log_prior_.back());
        const float mx = *std::max_element(lp, lp + row_len);
        double z = 0.0;
        for (size_t i = 0; i < row_len; ++i) z += std::exp(static_cast<double>(lp[i] - mx));
        const auto lz = static_cast<float>(mx + std::log(z));
        for (size_t i = 0; i < row_len; ++i) lp[i] -= lz;
    }
}

Result<std::shared_ptr<const ChordNet>> shipped_model() {
    static const Result<std::shared_ptr<const ChordNet>> model = []() -> Result<std::shared_ptr<const ChordNet>> {
        auto w =
            nn::WeightFile::from_memory(kChordsModel, sizeof kChordsModel, "src/analyzers/chords/chords_model.inc");
        if (!w) return w.error();
        auto net = ChordNet::load(w.value());
        if (!net) return net.error();
        return std::make_shared<const ChordNet>(std::move(net.value()));
    }();
    return model;
}

const std::string& shipped_model_hash() {
    static const std::string h = [] {
        auto w = nn::WeightFile::from_memory(kChordsModel, sizeof kChordsModel, "chords");
        return w ? w.value().hash() : std::string();
    }();
    return h;
}

}  // namespace harmony::analyzers::chords
