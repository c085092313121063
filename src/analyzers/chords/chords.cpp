#include "analyzers/chords/chords.hpp"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <limits>
#include <map>

namespace harmony::analyzers {

namespace {

constexpr int kVersion = 1;
constexpr int kRunnersUp = 3;

std::string fmt(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

}  // namespace

const AnalyzerInfo& ChordsAnalyzer::describe() {
    static const AnalyzerInfo info{
        "chords",
        kVersion,
        "Chord timeline on the beat grid: Harte labels (maj/min, sevenths, extended with inversions), display "
        "names, root, quality, bass, confidence and runners-up; learned model over a tuned chroma, Viterbi decoding",
        {"beats"},
        {"chords"},
        {
            {"vocabulary",
             "chord vocabulary: majmin (24 + N), sevenths (maj, min, 7, maj7, min7), full (18 qualities and "
             "inversions)",
             ParamType::kString,
             std::string("full"),
             0,
             0,
             {"majmin", "sevenths", "full"}},
            {"change_penalty", "log-probability cost of a chord change", ParamType::kDouble, 1.5, 0.0, 100.0, {}},
            {"offbeat_penalty",
             "extra log-probability cost of a change between two beats",
             ParamType::kDouble,
             3.0,
             0.0,
             100.0,
             {}},
            {"reference_hz", "A4 reference in Hz; 0 = estimate the tuning", ParamType::kDouble, 0.0, 0.0, 500.0, {}},
            {"prior_correction",
             "exponent of the class-frequency correction (0 = the network's posteriors, 1 = flat prior)",
             ParamType::kDouble,
             0.0,
             0.0,
             1.0,
             {}},
            {"model",
             "weight file of the acoustic model; empty = the shipped model",
             ParamType::kString,
             std::string(""),
             0,
             0,
             {}},
        }};
    return info;
}

Result<ChordsAnalyzer::Config> ChordsAnalyzer::configure(const ParamSet& p) {
    Config c;
    c.vocabulary = chords::vocabulary_from_name(p.get_string("vocabulary")).value_or(chords::Vocabulary::kFull);
    c.change_penalty = p.get_double("change_penalty");
    c.offbeat_penalty = p.get_double("offbeat_penalty");
    c.reference_hz = p.get_double("reference_hz");
    c.prior_correction = p.get_double("prior_correction");
    if (c.reference_hz != 0.0 && (c.reference_hz < 400.0 || c.reference_hz > 480.0))
        return make_error(ErrorCode::kInvalidArgument,
                          "chords.reference_hz must be 0 (estimate the tuning) or an A4 between 400 and 480 Hz, got " +
                              fmt(c.reference_hz));
    const std::string path = p.get_string("model");
    if (path.empty()) {
        auto m = chords::shipped_model();
        if (!m) return m.error();
        c.net = m.value();
        c.model_hash = chords::shipped_model_hash();
    } else {
        auto w = nn::WeightFile::from_file(path);
        if (!w) return w.error();
        auto net = chords::ChordNet::load(w.value());
        if (!net) return net.error();
        c.net = std::make_shared<const chords::ChordNet>(std::move(net.value()));
        c.model_hash = w.value().hash();
    }
    return c;
}

void ChordsAnalyzer::plan(features::FeatureCache& cache) const {
    cache.get<features::Chroma>(chords::chroma_config());
}

Result<void> ChordsAnalyzer::analyze(Context& ctx) const {
    using namespace chords;
    const auto* chroma = ctx.features.find<features::Chroma>(chroma_config());
    if (chroma == nullptr) return make_error(ErrorCode::kInternal, "chord chroma was not planned");
    const double cents =
        cfg_.reference_hz > 0.0 ? 1200.0 * std::log2(cfg_.reference_hz / 440.0) : chroma->tuning().cents;
    const double fold_cents = std::remainder(cents, 100.0);

    double duration = ctx.inputs.audio.duration_s;
    if (chroma->frames() > 0) duration = std::max(duration, (chroma->frames() - 1) / chroma->frame_rate_hz());
    std::vector<double> beats;
    if (ctx.inputs.beats) beats = ctx.inputs.beats->times_s;
    const auto bounds = unit_boundaries(beats, duration);
    // Which unit boundaries are beats (a change there costs no off-beat penalty).
    std::vector<bool> on_beat(bounds.size(), true);
    if (beats.size() >= 2) {
        std::vector<double> sorted = beats;
        std::sort(sorted.begin(), sorted.end());
        for (size_t i = 0; i < bounds.size(); ++i) {
            const auto it = std::lower_bound(sorted.begin(), sorted.end(), bounds[i] - 1e-6);
            on_beat[i] = it != sorted.end() && std::abs(*it - bounds[i]) < 1e-6;
        }
    }
    const UnitFeatures f = unit_features(*chroma, fold_cents, bounds);
    ctx.report(0.3);
    if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cancelled");
    const auto lp = cfg_.net->log_posteriors(f, cfg_.prior_correction);
    ctx.report(0.7);

    // Posteriors reduced to the vocabulary: states root * V + v, then N.
    const int nc = cfg_.net->n_classes();
    const int nv = static_cast<int>(vocabulary_classes(cfg_.vocabulary).size());
    const int ns = 12 * nv + 1;
    std::vector<int> map_class(static_cast<size_t>(nc));
    for (int q = 0; q < nc; ++q) map_class[static_cast<size_t>(q)] = reduce_class(cfg_.vocabulary, q);
    const size_t nu = lp.size();
    std::vector<std::vector<float>> post(nu, std::vector<float>(static_cast<size_t>(ns), 0.0f));
    for (size_t u = 0; u < nu; ++u) {
        auto& p = post[u];
        if (f.silent[u]) {
            p.back() = 1.0f;
            continue;
        }
        for (int r = 0; r < 12; ++r)
            for (int q = 0; q < nc; ++q)
                p[static_cast<size_t>(r * nv + map_class[static_cast<size_t>(q)])] +=
                    std::exp(lp[u][static_cast<size_t>(r * nc + q)]);
        p.back() += std::exp(lp[u].back());
    }

    // Viterbi: emission log-posterior, a change costs change_penalty (+ offbeat_penalty off the beat).
    std::vector<int> path(nu, ns - 1);
    if (nu > 0) {
        std::vector<double> score(static_cast<size_t>(ns)), next(static_cast<size_t>(ns));
        // Back-pointers as 16-bit state indices (ns = 397 at most): 0.8 KB per half beat.
        std::vector<std::vector<std::uint16_t>> back(nu, std::vector<std::uint16_t>(static_cast<size_t>(ns), 0));
        auto emit = [&](size_t u, int s) {
            return std::log(std::max(static_cast<double>(post[u][static_cast<size_t>(s)]), 1e-12));
        };
        for (int s = 0; s < ns; ++s) score[static_cast<size_t>(s)] = emit(0, s);
        for (size_t u = 1; u < nu; ++u) {
            const int best = static_cast<int>(std::max_element(score.begin(), score.end()) - score.begin());
            const double pen = cfg_.change_penalty + (on_beat[u] ? 0.0 : cfg_.offbeat_penalty);
            const double jump = score[static_cast<size_t>(best)] - pen;
            for (int s = 0; s < ns; ++s) {
                const double stay = score[static_cast<size_t>(s)];
                const bool j = jump > stay;
                next[static_cast<size_t>(s)] = (j ? jump : stay) + emit(u, s);
                back[u][static_cast<size_t>(s)] = static_cast<std::uint16_t>(j ? best : s);
            }
            std::swap(score, next);
        }
        int s = static_cast<int>(std::max_element(score.begin(), score.end()) - score.begin());
        for (size_t u = nu; u-- > 0;) {
            path[u] = s;
            s = back[u][static_cast<size_t>(s)];
        }
    }

    auto chord_of = [&](int s) {
        Chord c;
        if (s == ns - 1) return c;
        const auto& cls = vocabulary_classes(cfg_.vocabulary)[static_cast<size_t>(s % nv)];
        c.root = s / nv;
        c.quality = cls.quality;
        c.bass_interval = cls.bass_interval;
        return c;
    };
    Chords out;
    out.vocabulary = std::string(vocabulary_name(cfg_.vocabulary));
    double conf_sum = 0.0, dur_sum = 0.0;
    for (size_t a = 0; a < nu;) {
        size_t b = a;
        while (b < nu && path[b] == path[a]) ++b;
        std::vector<double> mean(static_cast<size_t>(ns), 0.0);
        double w = 0.0;
        for (size_t u = a; u < b; ++u) {
            const double d = bounds[u + 1] - bounds[u];
            for (int s = 0; s < ns; ++s) mean[static_cast<size_t>(s)] += d * post[u][static_cast<size_t>(s)];
            w += d;
        }
        if (w > 0)
            for (auto& v : mean) v /= w;
        const Chord c = chord_of(path[a]);
        ChordSegment seg;
        seg.start_s = bounds[a];
        seg.end_s = bounds[b];
        seg.label = to_harte(c);
        seg.confidence = std::clamp(mean[static_cast<size_t>(path[a])], 0.0, 1.0);
        seg.name = to_display(c);
        if (!c.is_none()) {
            seg.root = note_name(c.root);
            seg.quality = std::string(qualities()[static_cast<size_t>(c.quality)].harte);
            seg.bass = note_name(c.bass_pc());
        }
        std::vector<int> order(static_cast<size_t>(ns));
        for (int s = 0; s < ns; ++s) order[static_cast<size_t>(s)] = s;
        std::partial_sort(order.begin(), order.begin() + kRunnersUp + 1, order.end(),
                          [&](int x, int y) { return mean[static_cast<size_t>(x)] > mean[static_cast<size_t>(y)]; });
        for (int k = 0, n = 0; k <= kRunnersUp && n < kRunnersUp; ++k) {
            const int s = order[static_cast<size_t>(k)];
            if (s == path[a]) continue;
            seg.runners_up.push_back({to_harte(chord_of(s)), std::clamp(mean[static_cast<size_t>(s)], 0.0, 1.0)});
            ++n;
        }
        conf_sum += seg.confidence * w;
        dur_sum += w;
        out.segments.push_back(std::move(seg));
        a = b;
    }
    out.confidence = dur_sum > 0 ? std::clamp(conf_sum / dur_sum, 0.0, 1.0) : 0.0;
    ctx.out.chords = std::move(out);
    ctx.report(1.0);
    return {};
}

}  // namespace harmony::analyzers
