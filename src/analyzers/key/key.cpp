#include "analyzers/key/key.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "analyzers/key/key_model.hpp"
#include "core/key_notation.hpp"

namespace harmony::analyzers {

namespace {

using key::Pc12;
using key::Scores24;

constexpr int kVersion = 3;

// Pitched audio below min_tonality (version 3): both the bass profile's contrast and the frames'
// contrast at least these. Measured: white, brown and pink noise and noise bursts 0.10-0.29 and
// 0.25-0.40; Essentia's dubstep clip 0.35 and 0.58, its techno loop 0.47 and 0.76, hip-hop 0.47 and
// 0.98; every other real clip of ../shared/data at least 0.26 and 0.49.
constexpr double kPitchedBassContrast = 0.33;
constexpr double kPitchedFrameContrast = 0.45;

features::Chroma::Config chroma_config() {
    return {};
}

const char* kModeNames[7] = {"ionian", "dorian", "phrygian", "lydian", "mixolydian", "aeolian", "locrian"};
constexpr int kMajorScale[7] = {0, 2, 4, 5, 7, 9, 11};

double sum12(const Pc12& v) {
    return std::accumulate(v.begin(), v.end(), 0.0);
}

Pc12 normalised(const Pc12& v) {
    const double s = sum12(v);
    Pc12 out{};
    if (s <= 0.0) return out;
    for (size_t i = 0; i < 12; ++i) out[i] = v[i] / s;
    return out;
}

/// Triad templates: best-matching major/minor triad of one frame (index as for keys) and its fit.
std::pair<int, double> best_triad(const Pc12& c) {
    const Pc12 z = key::zscore(c);
    int best = -1;
    double best_s = 0.0;
    for (int r = 0; r < 12; ++r) {
        for (int minor = 0; minor < 2; ++minor) {
            const int third = minor ? 3 : 4;
            const double s = z[static_cast<size_t>(r)] + z[static_cast<size_t>((r + third) % 12)] +
                             z[static_cast<size_t>((r + 7) % 12)];
            if (s > best_s) {
                best_s = s;
                best = key::key_index(r, minor != 0);
            }
        }
    }
    return {best, best_s};
}

Scores24 softmax(const Scores24& s, double temperature) {
    Scores24 p{};
    const double mx = *std::max_element(s.begin(), s.end());
    double sum = 0.0;
    for (size_t i = 0; i < 24; ++i) sum += (p[i] = std::exp((s[i] - mx) / temperature));
    for (auto& v : p) v /= sum;
    return p;
}

int argmax24(const Scores24& s) {
    return static_cast<int>(std::max_element(s.begin(), s.end()) - s.begin());
}

KeyName key_name(int index) {
    return core::make_key_name(key::key_pc(index), key::key_minor(index));
}

std::string fmt(double v, int digits = 3) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Evidence and estimators

KeyEvidence key_evidence(const KeyFrames& f, size_t begin, size_t end) {
    KeyEvidence e;
    end = std::min(end, f.treble.size());
    double max_energy = 0.0;
    for (size_t i = begin; i < end; ++i) max_energy = std::max(max_energy, f.energy[i]);
    const double gate = max_energy * 1e-4;
    for (size_t i = begin; i < end; ++i) {
        if (f.energy[i] <= gate || f.energy[i] <= 0.0) continue;
        const double mt = *std::max_element(f.treble[i].begin(), f.treble[i].end());
        const double mb = *std::max_element(f.bass[i].begin(), f.bass[i].end());
        if (mt <= 0.0) continue;
        Pc12 both{};
        for (size_t k = 0; k < 12; ++k) {
            e.treble[k] += f.treble[i][k] / mt;
            if (mb > 0.0) e.bass[k] += f.bass[i][k] / mb;
            both[k] = f.treble[i][k] / mt + (mb > 0.0 ? 0.5 * f.bass[i][k] / mb : 0.0);
        }
        const auto [chord, fit] = best_triad(both);
        if (chord >= 0) e.chord_hist[static_cast<size_t>(chord)] += fit;
        e.frames += 1.0;
    }
    return e;
}

namespace {

/// Linear key scores of a trained weight set (see key_model.hpp).
Scores24 linear_scores(const KeyEvidence& e, const key::model::Weights& w) {
    Scores24 out{};
    const Pc12 zt = key::zscore(e.treble);
    const Pc12 zb = key::zscore(e.bass);
    double chord_total = 0.0;
    for (double v : e.chord_hist) chord_total += v;
    for (int t = 0; t < 12; ++t) {
        for (int m = 0; m < 2; ++m) {
            double s = w.bias[m];
            for (int j = 0; j < 12; ++j) {
                const auto r = static_cast<size_t>((t + j) % 12);
                s += w.treble[m][j] * zt[r] + w.bass[m][j] * zb[r];
                if (chord_total > 0.0)
                    s += (w.chord[m][j] * e.chord_hist[r] + w.chord[m][12 + j] * e.chord_hist[12 + r]) / chord_total;
            }
            out[static_cast<size_t>(key::key_index(t, m == 1))] = s;
        }
    }
    bool any_profile = false;
    for (double p : w.profile) any_profile |= p != 0.0;
    if (any_profile) {
        Pc12 mix{};
        const Pc12 nt = normalised(e.treble), nb = normalised(e.bass);
        for (size_t k = 0; k < 12; ++k) mix[k] = nt[k] + key::model::kBassMix * nb[k];
        const auto& profiles = key::key_profiles();
        for (size_t p = 0; p < profiles.size() && p < 5; ++p) {
            if (w.profile[p] == 0.0) continue;
            const Scores24 c = key::correlate(profiles[p], mix);
            for (size_t i = 0; i < 24; ++i) out[i] += w.profile[p] * c[i];
        }
    }
    if (w.chord_fn != 0.0) {
        const Scores24 fn = chord_scores(e);
        for (size_t i = 0; i < 24; ++i) out[i] += w.chord_fn * fn[i];
    }
    return out;
}

}  // namespace

Scores24 learned_scores(const KeyEvidence& e) {
    return linear_scores(e, key::model::kLearned);
}

Scores24 chord_scores(const KeyEvidence& e) {
    // Diatonic function weights of the triads in a key (relative root, minor?, weight).
    struct Fn {
        int root;
        bool minor;
        double w;
    };
    static const Fn kMajor[] = {{0, false, 1.0}, {7, false, 0.9}, {5, false, 0.8}, {9, true, 0.6},
                                {2, true, 0.6},  {4, true, 0.4},  {10, false, 0.2}};
    static const Fn kMinor[] = {{0, true, 1.0},  {7, false, 0.7},  {5, true, 0.7}, {8, false, 0.6},
                                {3, false, 0.5}, {10, false, 0.5}, {7, true, 0.4}};
    Scores24 out{};
    double total = 0.0;
    for (double v : e.chord_hist) total += v;
    if (total <= 0.0) return out;
    for (int t = 0; t < 12; ++t) {
        double sM = 0.0, sm = 0.0;
        for (const auto& f : kMajor) sM += f.w * e.chord_hist[static_cast<size_t>(key::key_index(t + f.root, f.minor))];
        for (const auto& f : kMinor) sm += f.w * e.chord_hist[static_cast<size_t>(key::key_index(t + f.root, f.minor))];
        out[static_cast<size_t>(t)] = sM / total;
        out[static_cast<size_t>(t + 12)] = sm / total;
    }
    return out;
}

Scores24 ensemble_scores(const KeyEvidence& e) {
    // The trained combination: learned treble/bass profiles and chord weights + weighted
    // published-profile correlations + the fixed chord-function estimator.
    return linear_scores(e, key::model::kEnsemble);
}

// ---------------------------------------------------------------------------------------------
// Analyzer

const AnalyzerInfo& KeyAnalyzer::describe() {
    static const AnalyzerInfo info{
        "key",
        kVersion,
        "Tuning, global key with Camelot/Open Key, runners-up, key changes, church mode; profile + chord + learned "
        "ensemble on a tuned harmonic chroma",
        {},
        {"key"},
        {
            {"method",
             "which estimator decides the global key",
             ParamType::kString,
             std::string("ensemble"),
             0,
             0,
             {"ensemble", "learned", "chords", "krumhansl", "temperley", "shaath", "edma", "bgate"}},
            {"reference_hz",
             "A4 reference in Hz; 0 = estimate the tuning from the audio",
             ParamType::kDouble,
             0.0,
             0.0,
             500.0,
             {}},
            {"segments", "detect key changes (key segments over time)", ParamType::kBool, true, 0, 0, {}},
            {"min_segment_s", "shortest key segment reported, seconds", ParamType::kDouble, 16.0, 2.0, 600.0, {}},
            {"change_penalty",
             "log-probability cost of a key change between 2-second blocks",
             ParamType::kDouble,
             20.0,
             0.0,
             1000.0,
             {}},
            {"min_tonality", "below this tonality score the answer is 'no key'", ParamType::kDouble, 0.4, 0.0, 1.0, {}},
            input_param("input", "signal the key is read from"),
        }};
    return info;
}

Result<KeyAnalyzer::Config> KeyAnalyzer::configure(const ParamSet& p) {
    Config c;
    c.method = p.get_string("method");
    c.reference_hz = p.get_double("reference_hz");
    c.segments = p.get_bool("segments");
    c.min_segment_s = p.get_double("min_segment_s");
    c.change_penalty = p.get_double("change_penalty");
    c.min_tonality = p.get_double("min_tonality");
    c.input = input_from_name(p.get_string("input")).value_or(Input::kMix);
    // A given reference must be a plausible A4: within a semitone and a half of 440 Hz (Baroque
    // 415 Hz and the 466 Hz of some early music included); anything else is a typo.
    if (c.reference_hz != 0.0 && (c.reference_hz < 400.0 || c.reference_hz > 480.0))
        return make_error(ErrorCode::kInvalidArgument,
                          "key.reference_hz must be 0 (estimate the tuning) or an A4 between 400 and 480 Hz, got " +
                              fmt(c.reference_hz, 2));
    return c;
}

void KeyAnalyzer::plan(features::FeatureCache& cache) const {
    if (cfg_.input == Input::kMix) cache.get<features::Chroma>(chroma_config());
}

namespace {

struct Decision {
    Scores24 scores{};
    Scores24 prob{};
    int best = 0;
};

Decision decide(const KeyEvidence& e, const std::string& method) {
    Decision d;
    if (method == "ensemble") {
        d.scores = ensemble_scores(e);
    } else if (method == "learned") {
        d.scores = learned_scores(e);
    } else if (method == "chords") {
        d.scores = chord_scores(e);
        for (auto& v : d.scores) v *= 10.0;
    } else {
        Pc12 mix{};
        const Pc12 nt = normalised(e.treble), nb = normalised(e.bass);
        for (size_t k = 0; k < 12; ++k) mix[k] = nt[k] + key::model::kBassMix * nb[k];
        for (const auto& p : key::key_profiles())
            if (method == p.name) d.scores = key::correlate(p, mix);
        for (auto& v : d.scores) v *= 10.0;
    }
    d.prob = softmax(d.scores, key::model::kTemperature);
    d.best = argmax24(d.scores);
    return d;
}

/// Church-mode reading: the diatonic collection that best fits the chroma, read from the tonic.
std::optional<ModalKey> modal_reading(const Pc12& chroma, int key_index, double key_conf) {
    const Pc12 n = normalised(chroma);
    std::array<double, 12> fit{};
    for (int s = 0; s < 12; ++s)
        for (int d : kMajorScale) fit[static_cast<size_t>(s)] += n[static_cast<size_t>((s + d) % 12)];
    std::array<int, 12> order{};
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return fit[static_cast<size_t>(a)] > fit[static_cast<size_t>(b)]; });
    const int scale = order[0];
    const int tonic = key::key_pc(key_index);
    int degree = -1;
    for (int d = 0; d < 7; ++d)
        if ((scale + kMajorScale[d]) % 12 == tonic) degree = d;
    ModalKey m;
    m.tonic = core::pitch_class_name(tonic);
    const double margin = fit[static_cast<size_t>(order[0])] - fit[static_cast<size_t>(order[1])];
    if (degree < 0) {  // tonic outside the best collection (e.g. harmonic minor): plain major/minor
        m.mode = key::key_minor(key_index) ? "aeolian" : "ionian";
        m.confidence = std::clamp(key_conf * 0.5, 0.0, 1.0);
    } else {
        m.mode = kModeNames[degree];
        m.confidence = std::clamp(key_conf * std::min(1.0, margin * 10.0), 0.0, 1.0);
    }
    m.label = m.tonic + " " + m.mode;
    return m;
}

}  // namespace

Result<void> KeyAnalyzer::analyze(Context& ctx) const {
    const auto in =
        input_features(ctx, cfg_.input, [](features::FeatureCache& c) { c.get<features::Chroma>(chroma_config()); });
    if (!in) return in.error();
    const auto* chroma = in->features().find<features::Chroma>(chroma_config());
    if (chroma == nullptr) return make_error(ErrorCode::kInternal, "key chroma was not planned");
    const std::string& method = cfg_.method;
    const double reference_hz = cfg_.reference_hz;

    Key out;
    // 1. Tuning first: every later step folds the fine chroma with it.
    const auto est = chroma->tuning();
    if (reference_hz > 0.0) {
        out.tuning.a4_hz = reference_hz;
        out.tuning.cents = 1200.0 * std::log2(reference_hz / 440.0);
        out.tuning.confidence = 1.0;
    } else {
        out.tuning.a4_hz = est.a4_hz;
        out.tuning.cents = est.cents;
        out.tuning.confidence = est.confidence;
    }
    const double fold_cents = std::remainder(out.tuning.cents, 100.0);

    KeyFrames frames;
    frames.frame_rate_hz = chroma->frame_rate_hz();
    const auto n = static_cast<size_t>(chroma->frames());
    frames.treble.resize(n);
    frames.bass.resize(n);
    frames.energy.resize(n);
    double energy_sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
        frames.treble[i] = chroma->fold(chroma->treble(static_cast<std::int64_t>(i)), fold_cents);
        frames.bass[i] = chroma->fold(chroma->bass(static_cast<std::int64_t>(i)), fold_cents);
        frames.energy[i] = chroma->total_energy(static_cast<std::int64_t>(i));
        energy_sum += frames.energy[i];
    }
    if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cancelled");
    ctx.report(0.3);
    out.tuning.confidence = std::clamp(out.tuning.confidence, 0.0, 1.0);
    out.estimators.push_back({"tuning", fmt(out.tuning.a4_hz, 2) + " Hz (" + fmt(out.tuning.cents, 1) + " cents)",
                              out.tuning.confidence, reference_hz > 0.0 ? "given" : "peak-deviation histogram"});

    // 2. Silence / no tonal content.
    const double mean_energy = n ? energy_sum / static_cast<double>(n) : 0.0;
    if (n == 0 || mean_energy < 1e-9) {
        out.no_key_reason = "silence";
        out.confidence = 0.0;
        ctx.out.key = std::move(out);
        return {};
    }
    const KeyEvidence global = key_evidence(frames, 0, n);
    const Decision d = decide(global, method);

    // Tonality: how strongly the chroma fits its best key, and how pitched the spectrum is.
    Pc12 mix{};
    {
        const Pc12 nt = normalised(global.treble), nb = normalised(global.bass);
        for (size_t k = 0; k < 12; ++k) mix[k] = nt[k] + key::model::kBassMix * nb[k];
    }
    // Chroma contrast (coefficient of variation of the global treble profile: flat for noise and
    // most drums) and the concentration of the peaks' tuning deviations (pitched, steady partials).
    double contrast = 0.0;
    {
        const Pc12 nt = normalised(global.treble);
        double var = 0.0;
        for (double v : nt) var += (v - 1.0 / 12.0) * (v - 1.0 / 12.0);
        contrast = std::sqrt(var / 12.0) * 12.0;
    }
    // Pitch evidence that survives a flat global profile: the bass profile's contrast (a wobble
    // bass holds one note while its filter sweeps) and the energy-weighted contrast of single
    // frames (a chord or note at a time, even when the global mix averages them out). Noise has
    // neither (below).
    double bass_contrast = 0.0;
    {
        const Pc12 nb = normalised(global.bass);
        double var = 0.0;
        for (double v : nb) var += (v - 1.0 / 12.0) * (v - 1.0 / 12.0);
        bass_contrast = std::sqrt(var / 12.0) * 12.0;
    }
    double frame_contrast = 0.0, fw = 0.0;
    for (size_t i = 0; i < n; ++i) {
        for (const Pc12* pc : {&frames.treble[i], &frames.bass[i]}) {
            double tot = 0.0;
            for (double v : *pc) tot += v;
            if (tot <= 1e-12) continue;
            double var = 0.0;
            for (double v : *pc) var += (v / tot - 1.0 / 12.0) * (v / tot - 1.0 / 12.0);
            frame_contrast += frames.energy[i] * std::sqrt(var / 12.0) * 12.0;
            fw += frames.energy[i];
        }
    }
    if (fw > 0) frame_contrast /= fw;
    const double tonality =
        std::clamp(0.3 * std::min(1.0, contrast / 0.35) + 0.7 * std::min(1.0, est.confidence / 0.3), 0.0, 1.0);
    out.estimators.push_back({"tonality", fmt(tonality), tonality,
                              "chroma contrast " + fmt(contrast) + ", tuning concentration " + fmt(est.confidence) +
                                  ", bass contrast " + fmt(bass_contrast) + ", frame contrast " + fmt(frame_contrast)});

    // 3. Per-estimator breakdown.
    {
        const Scores24 learned = learned_scores(global);
        const Scores24 chords = chord_scores(global);
        const int lb = argmax24(learned), cb = argmax24(chords);
        out.estimators.push_back({"learned_profile", key_name(lb).label, softmax(learned, 1.0)[static_cast<size_t>(lb)],
                                  method == "learned" ? "chosen" : "ensemble member"});
        out.estimators.push_back({"chord_functions", key_name(cb).label,
                                  std::clamp(chords[static_cast<size_t>(cb)], 0.0, 1.0),
                                  method == "chords" ? "chosen" : "ensemble member"});
        for (const auto& p : key::key_profiles()) {
            const Scores24 c = key::correlate(p, mix);
            const int b = argmax24(c);
            out.estimators.push_back({p.name, key_name(b).label, std::clamp(c[static_cast<size_t>(b)], 0.0, 1.0),
                                      method == p.name ? "chosen" : "ensemble member"});
        }
    }

    // Below min_tonality the key still goes out, with its probability times the tonality as the
    // confidence (so under min_tonality), when the audio is pitched (DJ software gives a wobble-bass
    // track a key with a low confidence); "no key" is kept for audio without pitch.
    const bool pitched = bass_contrast >= kPitchedBassContrast && frame_contrast >= kPitchedFrameContrast;
    const bool weak = tonality < cfg_.min_tonality;
    if ((weak && !pitched) || global.frames < 3) {
        out.no_key_reason = global.frames < 3 ? "too little pitched audio" : "no tonal centre (percussive or atonal)";
        out.confidence = 0.0;
        out.estimators.push_back({"ensemble", "no key", tonality, "below min_tonality"});
        ctx.out.key = std::move(out);
        return {};
    }

    // 4. Global key, confidence, runners-up, notation.
    out.key = key_name(d.best);
    out.confidence = std::clamp(d.prob[static_cast<size_t>(d.best)], 0.0, 1.0);
    if (weak) out.confidence *= tonality;  // below min_tonality, so under 0.4
    out.compatible_camelot = core::compatible_camelot(key::key_pc(d.best), key::key_minor(d.best));
    {
        std::array<int, 24> order{};
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(),
                  [&](int a, int b) { return d.scores[static_cast<size_t>(a)] > d.scores[static_cast<size_t>(b)]; });
        for (int i = 1; i <= 4; ++i)
            out.candidates.push_back(
                {key_name(order[static_cast<size_t>(i)]), d.prob[static_cast<size_t>(order[static_cast<size_t>(i)])]});
    }
    out.estimators.push_back({"ensemble", out.key->label, out.confidence,
                              std::string(method == "ensemble" ? "chosen" : "not used") +
                                  (weak ? "; low tonality, pitched: confidence x tonality" : "")});
    if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cancelled");
    ctx.report(0.6);

    // 5. Key segments: Viterbi over 24 keys on ~2 s blocks, local evidence from a sliding window.
    const double duration = static_cast<double>(n) / frames.frame_rate_hz;
    if (cfg_.segments && !weak && duration > 2.0 * cfg_.min_segment_s) {
        const size_t block = std::max<size_t>(1, static_cast<size_t>(std::lround(2.0 * frames.frame_rate_hz)));
        const size_t nb = (n + block - 1) / block;
        const size_t half = 6;  // blocks each side: ~26 s window
        std::vector<Scores24> loglik(nb);
        for (size_t b = 0; b < nb; ++b) {
            const size_t lo = (b >= half ? b - half : 0) * block;
            const size_t hi = std::min(n, (b + half + 1) * block);
            const Decision local = decide(key_evidence(frames, lo, hi), method);
            for (size_t k = 0; k < 24; ++k) loglik[b][k] = std::log(std::max(local.prob[k], 1e-12));
        }
        const double penalty = cfg_.change_penalty;
        std::vector<std::array<int, 24>> back(nb);
        Scores24 acc = loglik[0];
        for (size_t b = 1; b < nb; ++b) {
            const int best_prev = argmax24(acc);
            Scores24 next{};
            for (size_t k = 0; k < 24; ++k) {
                const double stay = acc[k];
                const double sw = acc[static_cast<size_t>(best_prev)] - penalty;
                back[b][k] = stay >= sw ? static_cast<int>(k) : best_prev;
                next[k] = std::max(stay, sw) + loglik[b][k];
            }
            acc = next;
        }
        std::vector<int> path(nb);
        path[nb - 1] = argmax24(acc);
        for (size_t b = nb - 1; b > 0; --b) path[b - 1] = back[b][static_cast<size_t>(path[b])];
        // Runs, then merge runs shorter than min_segment_s into their longer neighbour.
        struct Run {
            size_t b0, b1;
            int key;
        };
        std::vector<Run> runs;
        for (size_t b = 0; b < nb; ++b) {
            if (runs.empty() || runs.back().key != path[b])
                runs.push_back({b, b + 1, path[b]});
            else
                runs.back().b1 = b + 1;
        }
        const double block_s = static_cast<double>(block) / frames.frame_rate_hz;
        const double min_len = cfg_.min_segment_s;
        bool merged = true;
        while (merged && runs.size() > 1) {
            merged = false;
            size_t shortest = 0;
            for (size_t r = 1; r < runs.size(); ++r)
                if (runs[r].b1 - runs[r].b0 < runs[shortest].b1 - runs[shortest].b0) shortest = r;
            if (static_cast<double>(runs[shortest].b1 - runs[shortest].b0) * block_s >= min_len) break;
            size_t into;
            if (shortest == 0)
                into = 1;
            else if (shortest + 1 == runs.size())
                into = shortest - 1;
            else
                into = (runs[shortest - 1].b1 - runs[shortest - 1].b0 >= runs[shortest + 1].b1 - runs[shortest + 1].b0)
                           ? shortest - 1
                           : shortest + 1;
            runs[into].b0 = std::min(runs[into].b0, runs[shortest].b0);
            runs[into].b1 = std::max(runs[into].b1, runs[shortest].b1);
            runs.erase(runs.begin() + static_cast<std::ptrdiff_t>(shortest));
            for (size_t r = 1; r < runs.size();) {  // join equal neighbours
                if (runs[r].key == runs[r - 1].key) {
                    runs[r - 1].b1 = runs[r].b1;
                    runs.erase(runs.begin() + static_cast<std::ptrdiff_t>(r));
                } else {
                    ++r;
                }
            }
            merged = true;
        }
        if (runs.size() > 1) {
            for (const auto& r : runs) {
                const size_t f0 = r.b0 * block, f1 = std::min(n, r.b1 * block);
                const Decision seg = decide(key_evidence(frames, f0, f1), method);
                KeySegment s;
                s.start_s = static_cast<double>(f0) / frames.frame_rate_hz;
                s.end_s = std::min(duration, static_cast<double>(f1) / frames.frame_rate_hz);
                s.key = key_name(seg.best);
                s.confidence = std::clamp(seg.prob[static_cast<size_t>(seg.best)], 0.0, 1.0);
                if (!out.segments.empty() && out.segments.back().key.label == s.key.label)
                    out.segments.back().end_s = s.end_s;
                else
                    out.segments.push_back(s);
            }
        }
    }
    if (out.segments.size() <= 1) {
        out.segments.clear();
        out.segments.push_back({0.0, duration, *out.key, out.confidence});
    } else {
        out.estimators.push_back({"key_changes", std::to_string(out.segments.size() - 1) + " change(s)", out.confidence,
                                  "HMM/Viterbi over 2 s blocks"});
    }
    if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cancelled");
    ctx.report(0.9);

    // 6. Church mode beside the major/minor answer.
    out.modal = modal_reading(mix, d.best, out.confidence);
    ctx.out.key = std::move(out);
    return {};
}

void KeyAnalyzer::merge(const std::vector<pipeline::SegmentResult>& segs, const MergeInfo& info, SongMap& out) const {
    using namespace pipeline;
    const std::string& method = info.method;
    const double total = info.total_kept_s;
    const Key* first = nullptr;
    std::map<std::string, double> weight, conf, dur;
    std::map<std::string, const KeyName*> names;
    double keyed = 0.0, tuning_w = 0.0, tuning_conf = 0.0;
    double cs = 0.0, cc = 0.0;  // circular mean of the tuning offsets (cents wrap at +-50)
    std::map<std::string, double> modal_weight;
    std::map<std::string, const ModalKey*> modal_example;
    Key k;
    for (const auto& s : segs) {
        if (!s.map.key) continue;
        const Key& sk = *s.map.key;
        if (!first) first = &sk;
        const double w = kept(s);
        k.estimators.push_back(
            {window_name(s), sk.key ? sk.key->label : "no key", sk.confidence, sk.key ? "" : sk.no_key_reason});
        const double tw = w * std::max(1e-3, sk.tuning.confidence);
        const double ang = 2.0 * M_PI * sk.tuning.cents / 100.0;
        cs += tw * std::sin(ang);
        cc += tw * std::cos(ang);
        tuning_w += tw;
        tuning_conf += w * sk.tuning.confidence;
        if (!sk.key) continue;
        keyed += w;
        weight[sk.key->label] += w * std::max(0.05, sk.confidence);
        conf[sk.key->label] += w * sk.confidence;
        dur[sk.key->label] += w;
        if (!names.count(sk.key->label)) names[sk.key->label] = &*sk.key;
        if (sk.modal) {
            modal_weight[sk.modal->label] += w * std::max(0.05, sk.modal->confidence);
            if (!modal_example.count(sk.modal->label)) modal_example[sk.modal->label] = &*sk.modal;
        }
        for (const auto& seg : sk.segments) {
            KeySegment c = seg;
            c.start_s = std::max(c.start_s, s.keep_from_s);
            c.end_s = std::min(c.end_s, s.keep_to_s);
            if (c.end_s <= c.start_s) continue;
            if (!k.segments.empty() && k.segments.back().key.label == c.key.label &&
                std::abs(k.segments.back().end_s - c.start_s) < 1e-6) {
                auto& last = k.segments.back();
                const double a = last.end_s - last.start_s, b = c.end_s - c.start_s;
                last.confidence = (last.confidence * a + c.confidence * b) / (a + b);
                last.end_s = c.end_s;
            } else {
                k.segments.push_back(c);
            }
        }
    }
    if (!first) return;
    if (tuning_w > 0) {
        k.tuning.cents = std::atan2(cs, cc) * 100.0 / (2.0 * M_PI);
        k.tuning.a4_hz = 440.0 * std::pow(2.0, k.tuning.cents / 1200.0);
        k.tuning.confidence = total > 0 ? std::clamp(tuning_conf / total, 0.0, 1.0) : 0.0;
    }
    k.estimators.push_back(
        {"tuning", pipeline::fmt("%.2f", k.tuning.a4_hz) + " Hz (" + pipeline::fmt("%.1f", k.tuning.cents) + " cents)",
         k.tuning.confidence, "duration- and confidence-weighted circular mean of the segments"});
    if (total <= 0 || keyed < 0.25 * total) {
        k.key.reset();
        k.no_key_reason = first->no_key_reason.empty() ? "no key in most of the file" : first->no_key_reason;
        k.confidence = 0.0;
        k.segments.clear();
        k.estimators.push_back({"segment_vote", "no key", 0.0,
                                "key found in " + pipeline::fmt("%.0f", total > 0 ? 100.0 * keyed / total : 0.0) +
                                    " % of the audio (needs 25 %)"});
        out.key = std::move(k);
        return;
    }
    double wsum = 0.0;
    for (const auto& [label, w] : weight) wsum += w;
    const std::string best = std::max_element(weight.begin(), weight.end(), [](const auto& a, const auto& b) {
                                 return a.second < b.second;
                             })->first;
    k.key = *names[best];
    const double share = weight[best] / wsum;
    k.confidence = std::clamp(conf[best] / dur[best] * share * keyed / total, 0.0, 1.0);
    for (const auto& [label, w] : weight)
        if (label != best) k.candidates.push_back({*names[label], w / wsum});
    std::sort(k.candidates.begin(), k.candidates.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
    if (k.candidates.size() > 5) k.candidates.resize(5);
    for (const auto& s : segs)
        if (s.map.key && s.map.key->key && s.map.key->key->label == best) {
            k.compatible_camelot = s.map.key->compatible_camelot;
            break;
        }
    if (!modal_weight.empty()) {
        const auto mb = std::max_element(modal_weight.begin(), modal_weight.end(), [](const auto& a, const auto& b) {
                            return a.second < b.second;
                        })->first;
        ModalKey mk = *modal_example[mb];
        double mt = 0.0;
        for (const auto& [label, w] : modal_weight) mt += w;
        mk.confidence = std::clamp(mk.confidence * modal_weight[mb] / mt, 0.0, 1.0);
        k.modal = mk;
    }
    k.estimators.push_back({"segment_vote", best, std::clamp(share, 0.0, 1.0),
                            "chosen: the key held longest (weighted by confidence) across the segments"});
    k.estimators.push_back({"key_changes",
                            std::to_string(k.segments.empty() ? 0 : k.segments.size() - 1) + " change(s)", k.confidence,
                            method});
    out.key = std::move(k);
}

}  // namespace harmony::analyzers
