#include "analyzers/notes/pitch_net.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace harmony::analyzers::notes {

namespace {

#include "analyzers/notes/notes_model.inc"

constexpr int kChannels = 16;
constexpr float kPad = -10.0f;
constexpr int kShifts[6] = {-36, 0, 36, 57, 72, 84};  // harmonics 1/2, 1, 2, 3, 4, 5 on the 1/3-semitone grid
constexpr std::int64_t kContext = 72;                 // frames each side (receptive field: +-5, version 2 +-68)
constexpr int kBands = 8;                             // version 2: features averaged over 11-semitone bands
constexpr int kCtx = 24;
constexpr int kCtxDilations[5] = {2, 4, 8, 16, 32};

void add_relu(nn::Tensor& h, const nn::Tensor& y) {
    auto a = h.values();
    auto b = y.values();
    for (size_t i = 0; i < a.size(); ++i) a[i] += std::max(0.0f, b[i]);
}

}  // namespace

Result<PitchNet> PitchNet::load(const nn::WeightFile& w) {
    using nn::Conv2dConfig;
    PitchNet n;
    if (w.model_name() != "notes" || (w.model_version() != 1 && w.model_version() != 2))
        return w.error("not a note model (expected notes version 1 or 2, found " + w.model_name() + " version " +
                       std::to_string(w.model_version()) + ")");
    n.version_ = w.model_version();
    const std::pair<const char*, Conv2dConfig> convs[5] = {
        {"conv1",
         {.in_channels = 6,
          .out_channels = kChannels,
          .kernel = {5, 3},
          .stride = {3, 1},
          .padding = {2, 1},
          .fold_batchnorm = "bn1"}},
        {"conv2",
         {.in_channels = kChannels,
          .out_channels = kChannels,
          .kernel = {3, 3},
          .padding = {1, 1},
          .fold_batchnorm = "bn2"}},
        {"conv3",
         {.in_channels = kChannels,
          .out_channels = kChannels,
          .kernel = {3, 3},
          .padding = {12, 1},
          .dilation = {12, 1},
          .fold_batchnorm = "bn3"}},
        {"conv4",
         {.in_channels = kChannels,
          .out_channels = kChannels,
          .kernel = {3, 3},
          .padding = {1, 2},
          .dilation = {1, 2},
          .fold_batchnorm = "bn4"}},
        {"head", {.in_channels = kChannels, .out_channels = 4}},
    };
    nn::Conv2d* dst[5] = {&n.conv1_, &n.conv2_, &n.conv3_, &n.conv4_, &n.head_};
    for (int i = 0; i < 5; ++i) {
        auto c = nn::Conv2d::load(w, convs[i].first, convs[i].second);
        if (!c) return c.error();
        *dst[i] = std::move(c.value());
    }
    if (n.version_ == 1) {
        auto u = nn::Linear::load(w, "unvoiced", {.in_features = kChannels, .out_features = 2});
        if (!u) return u.error();
        n.unvoiced_ = std::move(u.value());
    } else {
        for (int i = 0; i <= 5; ++i) {
            nn::Conv1dConfig c{.in_channels = i == 0 ? kChannels * (kBands + 1) : kCtx,
                               .out_channels = kCtx,
                               .kernel = 3,
                               .padding = i == 0 ? 1 : kCtxDilations[i - 1],
                               .dilation = i == 0 ? 1 : kCtxDilations[i - 1],
                               .fold_batchnorm = "ctxbn" + std::to_string(i)};
            auto conv = nn::Conv1d::load(w, "ctx" + std::to_string(i), c);
            if (!conv) return conv.error();
            n.ctx_.push_back(std::move(conv.value()));
        }
        auto o = nn::Conv1d::load(w, "ctxout", {.in_channels = kCtx, .out_channels = 2 * kSemis + 2});
        if (!o) return o.error();
        n.ctx_out_ = std::move(o.value());
    }
    if (auto all = w.expect_all_used(); !all) return all.error();
    return n;
}

PitchPosteriors PitchNet::run(std::span<const float> spec, std::int64_t frames, std::int64_t chunk) const {
    chunk = std::max<std::int64_t>(1, chunk);
    PitchPosteriors out;
    for (auto* l : {&out.melody, &out.bass}) {
        l->frames = frames;
        l->logp.assign(static_cast<size_t>(frames) * (kSemis + 1), 0.0f);
        l->onset.assign(static_cast<size_t>(frames) * kSemis, 0.0f);
    }
    for (std::int64_t a = 0; a < frames; a += chunk) {
        const std::int64_t b = std::min(frames, a + chunk);
        const std::int64_t lo = std::max<std::int64_t>(0, a - kContext);
        const std::int64_t hi = std::min(frames, b + kContext);
        const std::int64_t w = hi - lo;
        nn::Tensor x(nn::Shape{6, kLogBins, w});
        float* xd = x.data();
        for (int c = 0; c < 6; ++c)
            for (int j = 0; j < kLogBins; ++j) {
                const int src = j + kShifts[c];
                float* row = xd + (static_cast<size_t>(c) * kLogBins + static_cast<size_t>(j)) * static_cast<size_t>(w);
                if (src < 0 || src >= kLogBins) {
                    std::fill(row, row + w, kPad);
                    continue;
                }
                for (std::int64_t t = 0; t < w; ++t)
                    row[t] = spec[static_cast<size_t>(lo + t) * kLogBins + static_cast<size_t>(src)];
            }
        nn::Tensor h = conv1_.forward(x);
        nn::relu(h);
        add_relu(h, conv2_.forward(h));
        add_relu(h, conv3_.forward(h));
        add_relu(h, conv4_.forward(h));
        const nn::Tensor head = head_.forward(h);  // [4, kSemis, w]
        // Frequency maximum of the features; version 1 reads the unvoiced logits from it, version 2
        // feeds it (and 11-semitone band means) to the context network.
        const auto W = static_cast<size_t>(w);
        auto hat = [&](int c, int s, size_t t) {
            return h[(static_cast<size_t>(c) * kSemis + static_cast<size_t>(s)) * W + t];
        };
        nn::Tensor pooled(nn::Shape{kChannels, w});
        for (int c = 0; c < kChannels; ++c)
            for (size_t t = 0; t < W; ++t) {
                float m = -std::numeric_limits<float>::infinity();
                for (int s = 0; s < kSemis; ++s) m = std::max(m, hat(c, s, t));
                pooled[static_cast<size_t>(c) * W + t] = m;
            }
        nn::Tensor bias;  // version 2: [2 * kSemis + 2, w]
        nn::Tensor unv;   // version 1: [w, 2]
        if (version_ == 1) {
            unv = unvoiced_.forward(transpose2d(pooled));
        } else {
            constexpr int band = kSemis / kBands;
            nn::Tensor in(nn::Shape{kChannels * (kBands + 1), w});
            for (int c = 0; c < kChannels; ++c) {
                for (int b = 0; b < kBands; ++b)
                    for (size_t t = 0; t < W; ++t) {
                        float acc = 0.0f;
                        for (int s = b * band; s < (b + 1) * band; ++s) acc += hat(c, s, t);
                        in[(static_cast<size_t>(c) * kBands + static_cast<size_t>(b)) * W + t] = acc / band;
                    }
                std::copy_n(pooled.data() + static_cast<size_t>(c) * W, W,
                            in.data() + (static_cast<size_t>(kChannels * kBands + c)) * W);
            }
            nn::Tensor ctx = ctx_[0].forward(in);
            nn::relu(ctx);
            for (size_t i = 1; i < ctx_.size(); ++i) add_relu(ctx, ctx_[i].forward(ctx));
            bias = ctx_out_.forward(ctx);
        }
        for (int line = 0; line < 2; ++line) {
            auto& l = line == 0 ? out.melody : out.bass;
            for (std::int64_t t = a; t < b; ++t) {
                const auto tt = static_cast<size_t>(t - lo);
                float* lp = l.logp.data() + static_cast<size_t>(t) * (kSemis + 1);
                float* on = l.onset.data() + static_cast<size_t>(t) * kSemis;
                for (int s = 0; s < kSemis; ++s) {
                    lp[s] =
                        head[(static_cast<size_t>(line) * kSemis + static_cast<size_t>(s)) * static_cast<size_t>(w) +
                             tt];
                    if (version_ == 2)
                        lp[s] += bias[(static_cast<size_t>(line) * kSemis + static_cast<size_t>(s)) * W + tt];
                    const float o = head[(static_cast<size_t>(2 + line) * kSemis + static_cast<size_t>(s)) *
                                             static_cast<size_t>(w) +
                                         tt];
                    on[s] = 1.0f / (1.0f + std::exp(-o));
                }
                lp[kSemis] = version_ == 1
                                 ? unv[tt * 2 + static_cast<size_t>(line)]
                                 : bias[(2 * static_cast<size_t>(kSemis) + static_cast<size_t>(line)) * W + tt];
                float mx = lp[0];
                for (int s = 1; s <= kSemis; ++s) mx = std::max(mx, lp[s]);
                double z = 0.0;
                for (int s = 0; s <= kSemis; ++s) z += std::exp(static_cast<double>(lp[s] - mx));
                const auto lz = static_cast<float>(mx + std::log(z));
                for (int s = 0; s <= kSemis; ++s) lp[s] -= lz;
            }
        }
    }
    return out;
}

Result<std::shared_ptr<const PitchNet>> shipped_pitch_net() {
    static const Result<std::shared_ptr<const PitchNet>> model = []() -> Result<std::shared_ptr<const PitchNet>> {
        auto w = nn::WeightFile::from_memory(kNotesModel, sizeof kNotesModel, "src/analyzers/notes/notes_model.inc");
        if (!w) return w.error();
        auto net = PitchNet::load(w.value());
        if (!net) return net.error();
        return std::make_shared<const PitchNet>(std::move(net.value()));
    }();
    return model;
}

const std::string& shipped_pitch_net_hash() {
    static const std::string h = [] {
        auto w = nn::WeightFile::from_memory(kNotesModel, sizeof kNotesModel, "notes");
        return w ? w.value().hash() : std::string();
    }();
    return h;
}

DecodedLine decode_line(const LinePosteriors& post, std::span<const float> spec, const LineDecodeConfig& cfg) {
    DecodedLine out;
    const auto T = static_cast<size_t>(post.frames);
    out.midi.assign(T, 0.0f);
    out.guess.assign(T, 0.0f);
    if (T == 0) return out;
    const int s0 = std::clamp(cfg.min_midi - kNetMinMidi, 0, kSemis - 1);
    const int s1 = std::clamp(cfg.max_midi - kNetMinMidi, s0, kSemis - 1);
    const int K = s1 - s0 + 1;  // voiced states; state K = unvoiced
    const auto jump = static_cast<float>(cfg.jump_cost);
    const auto vc = static_cast<float>(cfg.voicing_cost);
    std::vector<float> prev(static_cast<size_t>(K + 1)), cur(static_cast<size_t>(K + 1));
    std::vector<std::int16_t> back(T * static_cast<size_t>(K + 1));
    auto lp = [&](size_t t, int s) { return post.logp[t * (kSemis + 1) + static_cast<size_t>(s)]; };
    auto em = [&](size_t t, int k) { return k == K ? lp(t, kSemis) : lp(t, s0 + k); };
    for (int k = 0; k < K; ++k) prev[static_cast<size_t>(k)] = em(0, k) - vc;
    prev[static_cast<size_t>(K)] = em(0, K);
    for (size_t t = 1; t < T; ++t) {
        int bv = 0;
        for (int k = 1; k < K; ++k)
            if (prev[static_cast<size_t>(k)] > prev[static_cast<size_t>(bv)]) bv = k;
        const float best_voiced = prev[static_cast<size_t>(bv)];
        const float unv = prev[static_cast<size_t>(K)];
        std::int16_t* bk = back.data() + t * static_cast<size_t>(K + 1);
        for (int k = 0; k < K; ++k) {
            float v = prev[static_cast<size_t>(k)];
            int from = k;
            if (best_voiced - jump > v) v = best_voiced - jump, from = bv;
            if (unv - vc > v) v = unv - vc, from = K;
            cur[static_cast<size_t>(k)] = v + em(t, k);
            bk[k] = static_cast<std::int16_t>(from);
        }
        float v = unv;
        int from = K;
        if (best_voiced - vc > v) v = best_voiced - vc, from = bv;
        cur[static_cast<size_t>(K)] = v + em(t, K);
        bk[K] = static_cast<std::int16_t>(from);
        std::swap(prev, cur);
    }
    std::vector<int> path(T);
    int s = static_cast<int>(std::max_element(prev.begin(), prev.end()) - prev.begin());
    for (size_t t = T; t-- > 0;) {
        path[t] = s;
        if (t > 0) s = back[t * static_cast<size_t>(K + 1) + static_cast<size_t>(s)];
    }

    // Pitch track: the chosen semitone, refined by the spectrogram's peak within +-1/3 semitone.
    const bool refine = spec.size() >= T * static_cast<size_t>(kLogBins);
    auto refined = [&](size_t t, int semi) {
        const int j = semi * kLogBinsPerSemitone;  // bin of MIDI 21 + semi
        if (!refine || j < 2 || j + 2 >= kLogBins) return static_cast<float>(kNetMinMidi + semi);
        const float* row = spec.data() + t * kLogBins;
        int m = j;
        for (int d = -1; d <= 1; ++d)
            if (row[j + d] > row[m]) m = j + d;
        const double a = row[m - 1], b = row[m], c = row[m + 1];
        const double den = a - 2.0 * b + c;
        const double d = den < 0.0 ? std::clamp(0.5 * (a - c) / den, -0.5, 0.5) : 0.0;
        return static_cast<float>(kLogMinMidi + (m + d) / kLogBinsPerSemitone);
    };
    for (size_t t = 0; t < T; ++t) {
        int best = s0;
        for (int k = s0 + 1; k <= s1; ++k)
            if (lp(t, k) > lp(t, best)) best = k;
        out.guess[t] = refined(t, best);
        if (path[t] < K) out.midi[t] = refined(t, s0 + path[t]);
    }

    // Notes: runs of one pitch, cut at onset peaks; short pieces dropped.
    const auto min_frames = static_cast<size_t>(std::max(1.0, std::round(cfg.min_note_s / cfg.frame_s)));
    auto onset_at = [&](size_t t, int semi) { return post.onset[t * kSemis + static_cast<size_t>(semi)]; };
    const auto search = static_cast<size_t>(std::max(0.0, std::round(cfg.onset_search_s / cfg.frame_s)));
    auto emit = [&](size_t a, size_t b, int semi) {
        double sum = 0.0;
        for (size_t t = a; t < b; ++t) sum += std::exp(static_cast<double>(lp(t, semi)));
        if (b - a < min_frames || sum / static_cast<double>(b - a) < cfg.min_confidence) return;
        // The onset: the onset head's peak at this pitch near the run's start, when it has one (a
        // pitch change inside a smeared frame goes to the frame where the new note attacks).
        size_t on = a;
        float peak = 0.0f;
        for (size_t u = a >= search ? a - search : 0; u <= std::min(T - 1, a + search) && u < b; ++u)
            if (onset_at(u, semi) > peak) peak = onset_at(u, semi), on = u;
        if (peak < 0.3f) on = a;
        Note n;
        n.onset_s = std::max(0.0, (static_cast<double>(on) - 0.5) * cfg.frame_s);
        if (on != a && !out.notes.empty()) {
            // The moved onset never overlaps the previous note: that one ends where this one begins
            // (or, when that would leave it under a frame, this one keeps its run's start).
            auto& p = out.notes.back();
            const double old_onset = (static_cast<double>(a) - 0.5) * cfg.frame_s;
            if (n.onset_s < p.offset_s + 1e-9) {
                if (n.onset_s > p.onset_s + cfg.frame_s)
                    p.offset_s = n.onset_s;
                else
                    n.onset_s = old_onset;
            }
        }
        n.offset_s = (static_cast<double>(b) - 0.5) * cfg.frame_s;
        n.pitch_midi = kNetMinMidi + semi;
        n.confidence = sum / static_cast<double>(b - a);
        n.velocity = std::clamp(static_cast<int>(std::lround(30.0 + 90.0 * n.confidence)), 1, 127);
        out.notes.push_back(n);
    };
    size_t t = 0;
    while (t < T) {
        if (path[t] >= K) {
            ++t;
            continue;
        }
        const int semi = s0 + path[t];
        size_t e = t;
        while (e < T && path[e] == path[t]) ++e;
        size_t start = t;
        for (size_t u = t + 1; u + 1 < e; ++u) {
            const float o = onset_at(u, semi);
            if (o >= cfg.onset_threshold && o >= onset_at(u - 1, semi) && o > onset_at(u + 1, semi) &&
                u - start >= min_frames) {
                emit(start, u, semi);
                start = u;
            }
        }
        emit(start, e, semi);
        t = e;
    }
    return out;
}

}  // namespace harmony::analyzers::notes
