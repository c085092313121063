#include "analyzers/loudness/loudness.hpp"

#include <ebur128.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace harmony::analyzers {

namespace {
constexpr double kReplayGainReferenceLufs = -18.0;  // ReplayGain 2.0
double to_db(double linear) {
    return linear > 0 ? 20.0 * std::log10(linear) : -std::numeric_limits<double>::infinity();
}
double finite_or(double v, double fallback) {
    return std::isfinite(v) ? v : fallback;
}
}  // namespace

struct LoudnessMeter::Impl {
    ebur128_state* state = nullptr;
    std::vector<ebur128_state*> retired;  // meters of earlier segments (rate/channel changes)
    int channels = 0;
    int rate = 0;
    size_t block = 0;    // 100 ms in frames: momentary/short-term are read at this rate
    size_t pending = 0;  // frames since the last read
    double max_momentary = -std::numeric_limits<double>::infinity();
    double max_short_term = -std::numeric_limits<double>::infinity();
    bool any = false;

    ~Impl() {
        if (state) ebur128_destroy(&state);
        for (auto* s : retired) ebur128_destroy(&s);
    }
    void open(int ch, int r) {
        if (state) retired.push_back(state);
        state = ebur128_init(static_cast<unsigned>(ch), static_cast<unsigned long>(r),
                             EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_TRUE_PEAK | EBUR128_MODE_SAMPLE_PEAK |
                                 EBUR128_MODE_M | EBUR128_MODE_S);
        channels = ch;
        rate = r;
        block = static_cast<size_t>(std::max(1, r / 10));
        pending = 0;
    }
    void read_window() {
        double m = 0.0, s = 0.0;
        if (ebur128_loudness_momentary(state, &m) == EBUR128_SUCCESS && std::isfinite(m))
            max_momentary = std::max(max_momentary, m);
        if (ebur128_loudness_shortterm(state, &s) == EBUR128_SUCCESS && std::isfinite(s))
            max_short_term = std::max(max_short_term, s);
    }
};

LoudnessMeter::LoudnessMeter(features::FeatureCache&, const Config&) : impl_(std::make_unique<Impl>()) {}
LoudnessMeter::~LoudnessMeter() = default;

void LoudnessMeter::on_native(std::span<const float> interleaved, int channels, int rate_hz) {
    Impl& m = *impl_;
    if (!m.state || channels != m.channels || rate_hz != m.rate) m.open(channels, rate_hz);
    if (!m.state) return;
    m.any = true;
    size_t frames = interleaved.size() / static_cast<size_t>(channels);
    const float* p = interleaved.data();
    while (frames > 0) {
        const size_t n = std::min(frames, m.block - m.pending);
        ebur128_add_frames_float(m.state, p, n);
        p += n * static_cast<size_t>(channels);
        frames -= n;
        m.pending += n;
        if (m.pending == m.block) {
            m.read_window();
            m.pending = 0;
        }
    }
}

void LoudnessMeter::finish() {}

bool LoudnessMeter::result(Loudness& out) const {
    const Impl& m = *impl_;
    if (!m.any || !m.state) return false;
    std::vector<ebur128_state*> all = m.retired;
    all.push_back(m.state);
    double integrated = 0.0, range = 0.0;
    ebur128_loudness_global_multiple(all.data(), all.size(), &integrated);
    ebur128_loudness_range_multiple(all.data(), all.size(), &range);
    double true_peak = 0.0, sample_peak = 0.0;
    for (auto* s : all) {
        for (unsigned c = 0; c < s->channels; ++c) {
            double tp = 0.0, sp = 0.0;
            if (ebur128_true_peak(s, c, &tp) == EBUR128_SUCCESS) true_peak = std::max(true_peak, tp);
            if (ebur128_sample_peak(s, c, &sp) == EBUR128_SUCCESS) sample_peak = std::max(sample_peak, sp);
        }
    }
    out.silent = !std::isfinite(integrated);
    // JSON has no infinities: silence reports the floor of the meter (-70 LUFS, the absolute gate).
    out.integrated_lufs = finite_or(integrated, -70.0);
    out.loudness_range_lu = finite_or(range, 0.0);
    out.true_peak_dbtp = finite_or(to_db(true_peak), -200.0);
    out.sample_peak_dbfs = finite_or(to_db(sample_peak), -200.0);
    out.max_momentary_lufs = finite_or(m.max_momentary, -70.0);
    out.max_short_term_lufs = finite_or(m.max_short_term, -70.0);
    out.replaygain_track_gain_db = out.silent ? 0.0 : kReplayGainReferenceLufs - integrated;
    out.replaygain_track_peak = true_peak;
    out.confidence = out.silent ? 0.0 : 1.0;
    return true;
}

const AnalyzerInfo& LoudnessAnalyzer::info() const {
    static const AnalyzerInfo info{"loudness",
                                   1,
                                   "EBU R128 integrated loudness, loudness range, true peak, max momentary/short-term, "
                                   "ReplayGain 2.0 (libebur128)",
                                   {},
                                   {"loudness"},
                                   {}};
    return info;
}

void LoudnessAnalyzer::plan(features::FeatureCache& cache, const ParamSet&) const {
    cache.get<LoudnessMeter>();
}

Result<void> LoudnessAnalyzer::analyze(AnalysisContext& ctx) const {
    auto* meter = ctx.features.find<LoudnessMeter>();
    if (meter == nullptr) return make_error(ErrorCode::kInternal, "loudness meter was not planned");
    Loudness l;
    if (!meter->result(l)) return make_error(ErrorCode::kNoAudioData, "no audio reached the loudness meter");
    ctx.song.loudness = std::move(l);
    return {};
}

}  // namespace harmony::analyzers
