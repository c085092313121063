#include "analyzers/loudness/loudness.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numbers>
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

namespace {
/// Largest |x| over a block. Non-negative floats order like their bit patterns, so the reduction
/// runs on integers, which GCC vectorises (a float max reduction it does not, for NaN's sake); a
/// NaN in the input (no decoder delivers one) reads as larger than any number and is dropped by the
/// caller's isfinite check.
float max_abs(const float* __restrict x, size_t n) {
    std::uint32_t m = 0;
    for (size_t i = 0; i < n; ++i) {
        std::uint32_t b;
        std::memcpy(&b, x + i, sizeof b);
        b &= 0x7fffffffu;
        m = b > m ? b : m;
    }
    float out;
    std::memcpy(&out, &m, sizeof out);
    return std::isfinite(out) ? out : 0.0f;
}

/// Largest |y| of one polyphase branch of the interpolator over a block: y[i] = sum_k h[k] x[i+11-k]
/// (x holds 11 samples of history before the block). The 12 taps accumulate in registers and the
/// outer loop vectorises (no store and reload of y per tap); AVX2 where the CPU has it.
[[gnu::target_clones("avx2", "default")]] float interpolated_peak(const float* __restrict h, const float* __restrict x,
                                                                  size_t frames) {
    std::uint32_t m = 0;
    for (size_t i = 0; i < frames; ++i) {
        float acc = 0.0f;
        for (size_t k = 0; k < 12; ++k) acc += h[k] * x[i + 11 - k];
        std::uint32_t b;
        std::memcpy(&b, &acc, sizeof b);
        b &= 0x7fffffffu;
        m = b > m ? b : m;
    }
    float out;
    std::memcpy(&out, &m, sizeof out);
    return std::isfinite(out) ? out : 0.0f;
}

}  // namespace

// True peak per ITU-R BS.1770-4 Annex 2: the signal oversampled 4x by the Annex's 48-tap
// polyphase interpolation filter (its Table 1: 4 phases of 12 taps), the largest absolute value of
// the interpolated and the original samples. From 96 kHz the phases 0 and 2 (2x) suffice and from
// 192 kHz none (the samples are as dense as 4 x 48 kHz). In float, one channel at a time over
// contiguous blocks, so the 12-tap loops vectorise: about 3x cheaper than libebur128's own
// true-peak mode (a scalar 49-tap interpolator) and than upsampling to 192 kHz with libswresample
// as ffmpeg does (src/analyzers/loudness/README.md has the figures).
class TruePeak {
public:
    void open(int channels, int rate) {
        channels_ = static_cast<size_t>(std::max(channels, 1));
        step_ = rate < 96000 ? 1 : rate < 192000 ? 2 : kPhases;
        history_.assign(channels_, std::vector<float>(kTaps - 1, 0.0f));
    }
    void add(const float* interleaved, size_t frames) {
        const size_t channels = channels_;
        for (size_t c = 0; c < channels; ++c) {
            auto& history = history_[c];  // kTaps - 1 samples of history, then this block
            history.resize(kTaps - 1 + frames);
            // Restrict-qualified local pointers: with the vectors used directly this ran 2.5x
            // slower (0.44 vs 0.18 CPU-s for 240 s of stereo).
            float* __restrict x = history.data();
            for (size_t i = 0; i < frames; ++i) x[kTaps - 1 + i] = interleaved[i * channels + c];
            float peak = max_abs(x + kTaps - 1, frames);
            sample_peak_ = std::max(sample_peak_, static_cast<double>(peak));
            for (size_t p = 0; step_ < kPhases && p < kPhases; p += step_)
                peak = std::max(peak, interpolated_peak(kFilter[p], x, frames));
            peak_ = std::max(peak_, static_cast<double>(peak));
            std::copy(x + frames, x + frames + (kTaps - 1), x);  // the history of the next block
            history.resize(kTaps - 1);
        }
    }
    double peak() const { return peak_; }
    double sample_peak() const { return sample_peak_; }

private:
    static constexpr size_t kPhases = 4, kTaps = 12;
    static constexpr float kFilter[kPhases][kTaps] = {
        {0.0017089843750f, 0.0109863281250f, -0.0196533203125f, 0.0332031250000f, -0.0594482421875f, 0.1373291015625f,
         0.9721679687500f, -0.1022949218750f, 0.0476074218750f, -0.0266113281250f, 0.0148925781250f, -0.0083007812500f},
        {-0.0291748046875f, 0.0292968750000f, -0.0517578125000f, 0.0891113281250f, -0.1665039062500f, 0.4650878906250f,
         0.7797851562500f, -0.2003173828125f, 0.1015625000000f, -0.0582275390625f, 0.0330810546875f, -0.0189208984375f},
        {-0.0189208984375f, 0.0330810546875f, -0.0582275390625f, 0.1015625000000f, -0.2003173828125f, 0.7797851562500f,
         0.4650878906250f, -0.1665039062500f, 0.0891113281250f, -0.0517578125000f, 0.0292968750000f, -0.0291748046875f},
        {-0.0083007812500f, 0.0148925781250f, -0.0266113281250f, 0.0476074218750f, -0.1022949218750f, 0.9721679687500f,
         0.1373291015625f, -0.0594482421875f, 0.0332031250000f, -0.0196533203125f, 0.0109863281250f, 0.0017089843750f},
    };
    size_t channels_ = 1, step_ = 1;
    std::vector<std::vector<float>> history_;
    double peak_ = 0.0, sample_peak_ = 0.0;
};

// The K-weighting pre-filter of ITU-R BS.1770-4 (a high-shelf "head" stage, then the RLB
// high-pass), designed for any sample rate by the bilinear transform of the analogue prototypes
// whose parameters reproduce the standard's 48 kHz coefficients (the design libebur128 and
// pyloudnorm use), applied per channel in double precision as two direct-form-I biquads, and the
// channel-weighted sum of squares of its output over one 100 ms block. The channels of a frame
// run in the same loop, so their (serial) recursions overlap: about 4x cheaper than libebur128's
// 4th-order direct-form-II loop, which was a fifth of a full analysis. libebur128 stays the
// reference: tests/unit/loudness_meter_test.cpp holds this meter to it.
class KWeighting {
public:
    void open(int channels, int rate) {
        channels_ = static_cast<size_t>(std::max(channels, 1));
        state_.assign(channels_, State{});
        // BS.1770 channel weights as libebur128 maps channels by default: L, R, C at 1, the
        // surrounds at 1.41 (+1.5 dB), the LFE (4th of 6) and channels past the 6th not counted.
        weight_.assign(channels_, 0.0);
        static constexpr double kL = 1.0, kSurround = 1.41;
        if (channels_ == 4) {
            weight_ = {kL, kL, kSurround, kSurround};
        } else if (channels_ == 5) {
            weight_ = {kL, kL, kL, kSurround, kSurround};
        } else {
            static constexpr double kDefault[6] = {kL, kL, kL, 0.0, kSurround, kSurround};
            for (size_t c = 0; c < std::min<size_t>(channels_, 6); ++c) weight_[c] = kDefault[c];
        }
        const double pi = std::numbers::pi, fs = static_cast<double>(rate);
        {  // stage 1: high shelf, +4 dB above ~1.7 kHz
            const double f0 = 1681.974450955533, gain_db = 3.999843853973347, q = 0.7071752369554196;
            const double k = std::tan(pi * f0 / fs);
            const double vh = std::pow(10.0, gain_db / 20.0), vb = std::pow(vh, 0.4996667741545416);
            const double a0 = 1.0 + k / q + k * k;
            shelf_ = {(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
                      2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0};
        }
        {  // stage 2: RLB high-pass at ~38 Hz
            const double f0 = 38.13547087602444, q = 0.5003270373238773;
            const double k = std::tan(pi * f0 / fs);
            const double a0 = 1.0 + k / q + k * k;
            highpass_ = {1.0, -2.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0};
        }
    }
    /// The channel-weighted sum over `frames` frames of the squared K-weighted samples.
    double add(const float* interleaved, size_t frames) {
        double energy = 0.0;
        if (channels_ == 2) {
            energy = run_stereo(interleaved, frames);
        } else if (channels_ == 1) {
            energy = run<1>(interleaved, frames, 0);
        } else {
            for (size_t c = 0; c < channels_; ++c)
                if (weight_[c] > 0.0) energy += run<1>(interleaved, frames, c);
        }
        // Keep the recursions out of subnormals after a fade to silence, and let one non-finite
        // sample (no decoder delivers one) spoil only its own block, not the rest of the file.
        for (auto& s : state_)
            for (double* v : {&s.x1, &s.x2, &s.y1, &s.y2, &s.z1, &s.z2})
                if (!(std::abs(*v) >= 1e-30)) *v = 0.0;
        return energy;
    }

private:
    struct Biquad {
        double b0, b1, b2, a1, a2;
    };
    struct State {
        double x1 = 0, x2 = 0, y1 = 0, y2 = 0, z1 = 0, z2 = 0;  // shelf in/out, high-pass out
    };
    // N channels from `first`, stride channels_: shelf then high-pass, direct form I.
    // Stereo, both channels in the two lanes of one SSE2 register: the same operations in the
    // same order as run<1> per channel (so the same results), in half the instructions.
    double run_stereo(const float* in, size_t frames) {
        using v2d = double __attribute__((vector_size(16)));
        const Biquad s = shelf_, h = highpass_;
        State& l = state_[0];
        State& r = state_[1];
        v2d x1 = {l.x1, r.x1}, x2 = {l.x2, r.x2}, y1 = {l.y1, r.y1}, y2 = {l.y2, r.y2}, z1 = {l.z1, r.z1},
            z2 = {l.z2, r.z2}, acc = {0.0, 0.0};
        for (size_t i = 0; i < frames; ++i) {
            const v2d x = {static_cast<double>(in[2 * i]), static_cast<double>(in[2 * i + 1])};
            const v2d y = s.b0 * x + s.b1 * x1 + s.b2 * x2 - s.a1 * y1 - s.a2 * y2;
            const v2d z = h.b0 * y + h.b1 * y1 + h.b2 * y2 - h.a1 * z1 - h.a2 * z2;
            x2 = x1;
            x1 = x;
            y2 = y1;
            y1 = y;
            z2 = z1;
            z1 = z;
            acc += z * z;
        }
        l = {x1[0], x2[0], y1[0], y2[0], z1[0], z2[0]};
        r = {x1[1], x2[1], y1[1], y2[1], z1[1], z2[1]};
        return weight_[0] * acc[0] + weight_[1] * acc[1];
    }
    template <size_t N>
    double run(const float* in, size_t frames, size_t first) {
        const Biquad s = shelf_, h = highpass_;
        State st[N];
        double w[N], acc[N];
        for (size_t c = 0; c < N; ++c) {
            st[c] = state_[first + c];
            w[c] = weight_[first + c];
            acc[c] = 0.0;
        }
        const size_t stride = channels_;
        for (size_t i = 0; i < frames; ++i) {
            for (size_t c = 0; c < N; ++c) {
                State& t = st[c];
                const double x = in[i * stride + first + c];
                const double y = s.b0 * x + s.b1 * t.x1 + s.b2 * t.x2 - s.a1 * t.y1 - s.a2 * t.y2;
                const double z = h.b0 * y + h.b1 * t.y1 + h.b2 * t.y2 - h.a1 * t.z1 - h.a2 * t.z2;
                t.x2 = t.x1;
                t.x1 = x;
                t.y2 = t.y1;
                t.y1 = y;
                t.z2 = t.z1;
                t.z1 = z;
                acc[c] += z * z;
            }
        }
        double energy = 0.0;
        for (size_t c = 0; c < N; ++c) {
            state_[first + c] = st[c];
            energy += w[c] * acc[c];
        }
        return energy;
    }
    size_t channels_ = 1;
    Biquad shelf_{}, highpass_{};
    std::vector<State> state_;
    std::vector<double> weight_;
};

// Loudness values on a fine grid (0.01 LU from -70 to +30 LUFS), each bin holding the count and
// the summed energy of the values that fell in it: the gated means of BS.1770 and the percentiles
// of EBU Tech 3342 come out to within 0.01 LU in constant memory, however long the file.
class LevelHistogram {
public:
    static constexpr double kMin = -70.0, kMax = 30.0, kStep = 0.01;
    LevelHistogram() : count_(bins()), energy_(bins()) {}
    void add(double lufs) {
        if (!std::isfinite(lufs) || lufs < kMin) return;  // the absolute gate
        const auto b = std::min(bins() - 1, static_cast<size_t>((lufs - kMin) / kStep));
        ++count_[b];
        energy_[b] += energy(lufs);
    }
    /// BS.1770 gated loudness: absolute gate -70 LUFS, relative gate `relative_lu` below the mean.
    double gated_mean(double relative_lu) const {
        const double gate = relative_gate(relative_lu);
        double e = 0.0, n = 0.0;
        for (size_t b = first_bin(gate); b < bins(); ++b) {
            e += energy_[b];
            n += static_cast<double>(count_[b]);
        }
        return n > 0 ? loudness(e / n) : -std::numeric_limits<double>::infinity();
    }
    /// EBU Tech 3342 loudness range: relative gate 20 LU, 95th minus 10th percentile (ffmpeg's
    /// rank rule: the value of rank round(p * n)).
    double range() const {
        const size_t from = first_bin(relative_gate(20.0));
        double n = 0.0;
        for (size_t b = from; b < bins(); ++b) n += static_cast<double>(count_[b]);
        if (n <= 0) return 0.0;
        auto at_rank = [&](double p) {
            const double rank = std::max(1.0, std::floor(p * n + 0.5));
            double c = 0.0;
            for (size_t b = from; b < bins(); ++b) {
                c += static_cast<double>(count_[b]);
                if (c >= rank) return centre(b);
            }
            return centre(bins() - 1);
        };
        return at_rank(0.95) - at_rank(0.10);
    }

private:
    static size_t bins() { return static_cast<size_t>((kMax - kMin) / kStep); }
    static double energy(double lufs) { return std::pow(10.0, (lufs + 0.691) / 10.0); }
    static double loudness(double e) { return 10.0 * std::log10(e) - 0.691; }
    static double centre(size_t b) { return kMin + (static_cast<double>(b) + 0.5) * kStep; }
    double relative_gate(double relative_lu) const {
        double e = 0.0, n = 0.0;
        for (size_t b = 0; b < bins(); ++b) {
            e += energy_[b];
            n += static_cast<double>(count_[b]);
        }
        return n > 0 ? loudness(e / n) - relative_lu : kMax;
    }
    static size_t first_bin(double gate) {
        if (gate <= kMin) return 0;
        return std::min(bins(), static_cast<size_t>(std::ceil((gate - kMin) / kStep - 1e-9)));
    }
    std::vector<std::uint64_t> count_;
    std::vector<double> energy_;
};

struct LoudnessMeter::Impl {
    KWeighting filter;
    int channels = 0;
    int rate = 0;
    size_t block = 0;    // 100 ms in frames (rounded as libebur128 does): the gating-block hop
    size_t pending = 0;  // frames of the current block seen so far
    double pending_energy = 0.0;
    size_t blocks = 0;  // 100 ms blocks read in this segment
    double max_momentary = -std::numeric_limits<double>::infinity();
    double max_short_term = -std::numeric_limits<double>::infinity();
    LevelHistogram gating_blocks;  // 400 ms blocks every 100 ms (integrated loudness)
    LevelHistogram short_term;     // 3 s values every 100 ms once 3 s were seen (LRA, as ffmpeg)
    TruePeak true_peak;            // over the whole file, across rate/channel changes
    bool any = false;

    // The energies (channel-weighted mean squares) of the last 30 blocks of 100 ms: the momentary
    // (400 ms) and short-term (3 s) loudness are means of 4 and 30 of them. Zeros before the first
    // blocks, as in libebur128's zero-initialised window.
    std::array<double, 30> block_energy{};
    size_t head = 0;

    void open(int ch, int r) {
        // A rate or channel change (a chained stream) starts a new filter and window; the
        // histograms and peaks run on over the whole file.
        filter.open(ch, r);
        channels = ch;
        rate = r;
        block = static_cast<size_t>(std::max(1, (r + 5) / 10));
        pending = 0;
        pending_energy = 0.0;
        blocks = 0;
        block_energy.fill(0.0);
        head = 0;
        true_peak.open(ch, r);
    }
    static double to_lufs(double energy) {
        return energy > 0.0 ? 10.0 * std::log10(energy) - 0.691 : -std::numeric_limits<double>::infinity();
    }
    void end_block() {
        const double e = pending_energy / static_cast<double>(block);
        pending_energy = 0.0;
        block_energy[head] = std::isfinite(e) ? e : 0.0;
        head = (head + 1) % block_energy.size();
        ++blocks;
        double sum4 = 0.0, sum30 = 0.0;
        for (size_t k = 0; k < block_energy.size(); ++k) {
            const double v = block_energy[(head + block_energy.size() - 1 - k) % block_energy.size()];
            if (k < 4) sum4 += v;
            sum30 += v;
        }
        const double m = to_lufs(sum4 / 4.0), st = to_lufs(sum30 / 30.0);
        if (std::isfinite(m)) {
            max_momentary = std::max(max_momentary, m);
            if (blocks >= 4) gating_blocks.add(m);  // a full 400 ms block
        }
        if (std::isfinite(st)) {
            max_short_term = std::max(max_short_term, st);
            if (blocks >= 30) short_term.add(st);
        }
    }
};

LoudnessMeter::LoudnessMeter(features::FeatureCache&, const Config&) : impl_(std::make_unique<Impl>()) {}
LoudnessMeter::~LoudnessMeter() = default;

void LoudnessMeter::on_native(std::span<const float> interleaved, int channels, int rate_hz) {
    Impl& m = *impl_;
    if (channels < 1 || rate_hz < 1) return;
    if (!m.any || channels != m.channels || rate_hz != m.rate) m.open(channels, rate_hz);
    m.any = true;
    size_t frames = interleaved.size() / static_cast<size_t>(channels);
    const float* p = interleaved.data();
    while (frames > 0) {
        const size_t n = std::min(frames, m.block - m.pending);
        m.pending_energy += m.filter.add(p, n);
        m.true_peak.add(p, n);
        p += n * static_cast<size_t>(channels);
        frames -= n;
        m.pending += n;
        if (m.pending == m.block) {
            m.end_block();
            m.pending = 0;
        }
    }
}

void LoudnessMeter::finish() {}

bool LoudnessMeter::result(Loudness& out) const {
    const Impl& m = *impl_;
    if (!m.any) return false;
    const double integrated = m.gating_blocks.gated_mean(10.0);
    const double range = m.short_term.range();
    const double true_peak = m.true_peak.peak();  // never below the sample peak
    const double sample_peak = m.true_peak.sample_peak();
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

const AnalyzerInfo& LoudnessAnalyzer::describe() {
    static const AnalyzerInfo info{"loudness",
                                   5,
                                   "EBU R128 integrated loudness, loudness range, true peak, max momentary/short-term, "
                                   "ReplayGain 2.0 (BS.1770-4 K-weighting and gating)",
                                   {},
                                   {"loudness"},
                                   {}};
    return info;
}

void LoudnessAnalyzer::plan(features::FeatureCache& cache) const {
    cache.get<LoudnessMeter>();
}

Result<void> LoudnessAnalyzer::analyze(Context& ctx) const {
    const auto* meter = ctx.features.find<LoudnessMeter>();
    if (meter == nullptr) return make_error(ErrorCode::kInternal, "loudness meter was not planned");
    Loudness l;
    if (!meter->result(l)) return make_error(ErrorCode::kNoAudioData, "no audio reached the loudness meter");
    ctx.out.loudness = std::move(l);
    return {};
}

}  // namespace harmony::analyzers
