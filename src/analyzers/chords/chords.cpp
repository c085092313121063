#include "analyzers/chords/chords.hpp"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <limits>
#include <map>

namespace harmony::analyzers {

namespace {

constexpr int kVersion = 3;
constexpr int kRunnersUp = 3;
// Units scored by the network at a time (its activations: 12 rotations x ~300 floats per unit).
constexpr size_t kBatch = 64;
// Emissions are kept as -log(p) in steps of 1/1024 nat (16 bits; p floored at 1e-12, 28.3 k steps).
constexpr double kCostStep = 1.0 / 1024.0;
constexpr double kMinProbability = 1e-12;

std::uint16_t quantise_cost(double p) {
    const double c = -std::log(std::max(p, kMinProbability)) / kCostStep;
    return static_cast<std::uint16_t>(std::clamp(std::lround(c), 0L, 65535L));
}

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
            input_param("input", "signal the chords are read from"),
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
    c.input = input_from_name(p.get_string("input")).value_or(Input::kMix);
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
    if (cfg_.input == Input::kMix) cache.get<features::Chroma>(chords::chroma_config());
}

Result<void> ChordsAnalyzer::analyze(Context& ctx) const {
    using namespace chords;
    const auto in = input_features(ctx, cfg_.input,
                                   [](features::FeatureCache& c) { c.get<features::Chroma>(chords::chroma_config()); });
    if (!in) return in.error();
    const auto* chroma = in->features().find<features::Chroma>(chroma_config());
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

    // Posteriors reduced to the vocabulary (states root * V + v, then N), scored in batches of
    // kBatch units and kept as quantised negative log-probabilities (2 bytes per state), so the
    // memory per unit is that and the 16-bit back-pointer: 1.6 KB per half beat in `full`.
    const int nc = cfg_.net->n_classes();
    const int nv = static_cast<int>(vocabulary_classes(cfg_.vocabulary).size());
    const int ns = 12 * nv + 1;
    const auto uns = static_cast<size_t>(ns);
    std::vector<int> map_class(static_cast<size_t>(nc));
    for (int q = 0; q < nc; ++q) map_class[static_cast<size_t>(q)] = reduce_class(cfg_.vocabulary, q);
    const size_t nu = f.units.size();
    std::vector<std::uint16_t> cost(nu * uns);
    {
        std::vector<float> lp;
        std::vector<double> p(uns);
        const auto row = static_cast<size_t>(12 * nc + 1);
        for (size_t b0 = 0; b0 < nu; b0 += kBatch) {
            const size_t b1 = std::min(nu, b0 + kBatch);
            cfg_.net->log_posteriors(f, b0, b1, cfg_.prior_correction, lp);
            for (size_t u = b0; u < b1; ++u) {
                std::fill(p.begin(), p.end(), 0.0);
                if (f.silent[u]) {
                    p.back() = 1.0;
                } else {
                    const float* l = lp.data() + (u - b0) * row;
                    for (int r = 0; r < 12; ++r)
                        for (int q = 0; q < nc; ++q)
                            p[static_cast<size_t>(r * nv + map_class[static_cast<size_t>(q)])] +=
                                std::exp(static_cast<double>(l[r * nc + q]));
                    p.back() += std::exp(static_cast<double>(l[row - 1]));
                }
                for (size_t s = 0; s < uns; ++s) cost[u * uns + s] = quantise_cost(p[s]);
            }
            if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cancelled");
        }
    }
    ctx.report(0.7);
    auto emit = [&](size_t u, int s) { return -kCostStep * cost[u * uns + static_cast<size_t>(s)]; };
    auto post = [&](size_t u, int s) { return std::exp(emit(u, s)); };

    // Viterbi: emission log-posterior, a change costs change_penalty (+ offbeat_penalty off the beat).
    std::vector<int> path(nu, ns - 1);
    if (nu > 0) {
        std::vector<double> score(uns), next(uns);
        // Back-pointers as 16-bit state indices (ns = 397 at most): 0.8 KB per half beat.
        std::vector<std::uint16_t> back(nu * uns, 0);
        for (int s = 0; s < ns; ++s) score[static_cast<size_t>(s)] = emit(0, s);
        for (size_t u = 1; u < nu; ++u) {
            const int best = static_cast<int>(std::max_element(score.begin(), score.end()) - score.begin());
            const double pen = cfg_.change_penalty + (on_beat[u] ? 0.0 : cfg_.offbeat_penalty);
            const double jump = score[static_cast<size_t>(best)] - pen;
            for (int s = 0; s < ns; ++s) {
                const double stay = score[static_cast<size_t>(s)];
                const bool j = jump > stay;
                next[static_cast<size_t>(s)] = (j ? jump : stay) + emit(u, s);
                back[u * uns + static_cast<size_t>(s)] = static_cast<std::uint16_t>(j ? best : s);
            }
            std::swap(score, next);
        }
        int s = static_cast<int>(std::max_element(score.begin(), score.end()) - score.begin());
        for (size_t u = nu; u-- > 0;) {
            path[u] = s;
            s = back[u * uns + static_cast<size_t>(s)];
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
            for (int s = 0; s < ns; ++s) mean[static_cast<size_t>(s)] += d * post(u, s);
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

void ChordsAnalyzer::merge(const std::vector<pipeline::SegmentResult>& segs, const MergeInfo& /*info*/,
                           SongMap& out) const {
    // The cut between two segments: the middle of their overlap (keep_to of the first), moved to
    // the nearest merged beat within a second, so a chord change at the cut stays on the grid.
    std::vector<double> beats;
    if (out.beats) beats = out.beats->times_s;
    std::sort(beats.begin(), beats.end());
    auto snap = [&](double t) {
        const auto it = std::lower_bound(beats.begin(), beats.end(), t);
        double best = t, gap = 1.0;
        if (it != beats.end() && *it - t < gap) best = *it, gap = *it - t;
        if (it != beats.begin() && t - *(it - 1) < gap) best = *(it - 1);
        return best;
    };
    Chords c;
    bool any = false;
    for (size_t i = 0; i < segs.size(); ++i) {
        const auto& s = segs[i];
        if (!s.map.chords) continue;
        if (!any) c.vocabulary = s.map.chords->vocabulary;
        any = true;
        const double lo = i == 0 ? -std::numeric_limits<double>::infinity() : snap(segs[i - 1].keep_to_s);
        const double hi = i + 1 == segs.size() ? std::numeric_limits<double>::infinity() : snap(s.keep_to_s);
        for (const auto& seg : s.map.chords->segments) {
            ChordSegment x = seg;
            x.start_s = std::max(x.start_s, lo);
            x.end_s = std::min(x.end_s, hi);
            if (x.end_s <= x.start_s) continue;
            if (!c.segments.empty() && c.segments.back().label == x.label &&
                std::abs(c.segments.back().end_s - x.start_s) < 1e-6) {
                auto& last = c.segments.back();
                const double a = last.end_s - last.start_s, b = x.end_s - x.start_s;
                last.confidence = (last.confidence * a + x.confidence * b) / (a + b);
                if (b > a) last.runners_up = x.runners_up;
                last.end_s = x.end_s;
            } else {
                c.segments.push_back(std::move(x));
            }
        }
    }
    if (!any) return;
    double conf = 0.0, dur = 0.0;
    for (const auto& x : c.segments) {
        conf += x.confidence * (x.end_s - x.start_s);
        dur += x.end_s - x.start_s;
    }
    c.confidence = dur > 0 ? std::clamp(conf / dur, 0.0, 1.0) : 0.0;
    out.chords = std::move(c);
}

}  // namespace harmony::analyzers
