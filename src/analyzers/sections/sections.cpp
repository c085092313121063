#include "analyzers/sections/sections.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "analyzers/sections/phrase_grid.hpp"
#include "analyzers/sections/section_features.hpp"

namespace harmony::analyzers {

namespace {

using features::SectionFeatures;

constexpr double kSilentDb = -70.0;

/// Beat times for the structure: the map's beats, with the lead-in before the first beat and the
/// tail after the last one as beats of their own; without a beat grid (beatless audio), pseudo
/// beats every 0.5 s in 4-beat bars.
void beat_grid(const SongMap& in, double duration, std::vector<double>& times, std::vector<int>& pos) {
    times.clear();
    pos.clear();
    if (in.beats && in.beats->times_s.size() >= 8) {
        const auto& t = in.beats->times_s;
        const bool has_pos = in.beats->positions.size() == t.size();
        if (t.front() > 0.05) {
            times.push_back(0.0);
            pos.push_back(0);
        }
        for (size_t i = 0; i < t.size(); ++i) {
            if (t[i] >= duration) break;
            if (!times.empty() && t[i] <= times.back()) continue;
            times.push_back(t[i]);
            pos.push_back(has_pos ? in.beats->positions[i] : (i % 4 == 0 ? 1 : 2));
        }
        std::vector<double> ibi;
        for (size_t i = 1; i < t.size(); ++i) ibi.push_back(t[i] - t[i - 1]);
        std::nth_element(ibi.begin(), ibi.begin() + static_cast<std::ptrdiff_t>(ibi.size() / 2), ibi.end());
        const double end = times.back() + ibi[ibi.size() / 2];
        if (end < duration - 0.05) {  // the tail after the last beat
            times.push_back(end);
            pos.push_back(0);
        }
        times.front() = 0.0;  // a first beat within 50 ms of the start: its beat starts the file
    } else {
        for (size_t i = 0; 0.5 * static_cast<double>(i) < duration; ++i) {
            times.push_back(0.5 * static_cast<double>(i));
            pos.push_back(i % 4 == 0 ? 1 : 2);
        }
    }
    times.push_back(duration);
}

/// Beat-synchronous features: frames whose centre lies in each beat are averaged (the nearest
/// frame when none does); band levels become cepstral coefficients 1..12, z-scored over the file.
sections::BeatFeatures beat_features(const SectionFeatures& sf, std::vector<double> times, std::vector<int> pos) {
    sections::BeatFeatures f;
    const auto& frames = sf.frames();
    const double fr = sf.frame_rate_hz();
    const size_t n = times.size() - 1;
    f.times = std::move(times);
    f.positions = std::move(pos);
    f.chroma.resize(n);
    f.timbre.resize(n);
    f.level_db.resize(n);
    f.flux.resize(n);
    constexpr int B = SectionFeatures::kBands;
    // DCT-II basis for coefficients 1..12.
    static const auto dct = [] {
        std::array<std::array<double, B>, 12> d{};
        for (size_t c = 0; c < 12; ++c)
            for (size_t b = 0; b < B; ++b)
                d[c][b] = std::cos(M_PI * static_cast<double>(c + 1) * (static_cast<double>(b) + 0.5) / B);
        return d;
    }();
    for (size_t i = 0; i < n; ++i) {
        if (frames.empty()) continue;
        auto k0 = static_cast<std::int64_t>(std::ceil(f.times[i] * fr));
        auto k1 = static_cast<std::int64_t>(std::ceil(f.times[i + 1] * fr));
        const auto last = static_cast<std::int64_t>(frames.size()) - 1;
        k0 = std::clamp<std::int64_t>(k0, 0, last);
        k1 = std::clamp<std::int64_t>(k1, k0 + 1, last + 1);
        std::array<double, 12> c{};
        std::array<double, B> bands{};
        double power = 0.0, flux = 0.0;
        for (auto k = k0; k < k1; ++k) {
            const auto& fm = frames[static_cast<size_t>(k)];
            if (k > 0) {  // onsets: how much the band levels rose since the previous frame
                const auto& pf = frames[static_cast<size_t>(k - 1)];
                for (size_t j = 0; j < static_cast<size_t>(B); ++j)
                    flux += std::max(0, static_cast<int>(fm.bands[j]) - static_cast<int>(pf.bands[j]));
            }
            for (size_t j = 0; j < 12; ++j) c[j] += fm.chroma[j];
            for (size_t j = 0; j < static_cast<size_t>(B); ++j) bands[j] += SectionFeatures::to_db(fm.bands[j]);
            power += std::pow(10.0, SectionFeatures::to_db(fm.level) / 10.0);
        }
        const double cnt = static_cast<double>(k1 - k0);
        const double level = 10.0 * std::log10(power / cnt + 1e-12);
        f.level_db[i] = static_cast<float>(level);
        f.flux[i] = static_cast<float>(0.5 * flux / (cnt * B));  // 0.5 dB steps
        double norm = 0.0;
        for (double v : c) norm += v * v;
        norm = std::sqrt(norm);
        for (size_t j = 0; j < 12; ++j)
            f.chroma[i][j] = level > kSilentDb && norm > 0 ? static_cast<float>(c[j] / norm) : 0.0f;
        for (size_t q = 0; q < 12; ++q) {
            double v = 0.0;
            for (size_t j = 0; j < static_cast<size_t>(B); ++j) v += dct[q][j] * std::max(bands[j] / cnt, -100.0);
            f.timbre[i][q] = static_cast<float>(v / B);
        }
    }
    // Silence before the first and after the last sound: frames 30 dB below the loudest (and below
    // -60 dB absolute at most). A rendered excerpt cut out of a song starts and ends on sound; a
    // whole song starts from (and ends in) silence.
    if (!frames.empty()) {
        double loudest = -120.0;
        for (const auto& fm : frames) loudest = std::max(loudest, SectionFeatures::to_db(fm.level));
        const double quiet = std::min(-45.0, loudest - 30.0);
        size_t a = 0, b = frames.size();
        while (a < frames.size() && SectionFeatures::to_db(frames[a].level) < quiet) ++a;
        while (b > a && SectionFeatures::to_db(frames[b - 1].level) < quiet) --b;
        f.lead_in_silence_s = static_cast<double>(a) / fr;
        f.tail_silence_s = static_cast<double>(frames.size() - b) / fr;
    }
    for (size_t q = 0; q < 12; ++q) {
        double s = 0.0, s2 = 0.0;
        for (const auto& t : f.timbre) s += t[q], s2 += static_cast<double>(t[q]) * t[q];
        const double m = n ? s / static_cast<double>(n) : 0.0;
        const double sd = n ? std::sqrt(std::max(1e-9, s2 / static_cast<double>(n) - m * m)) : 1.0;
        for (auto& t : f.timbre) t[q] = static_cast<float>((t[q] - m) / sd);
    }
    return f;
}

/// One JSON line: {"bar_lines": [[time_s, feature...], ...], "whole": [1 or 0 per bar]}.
void dump_bar_lines(const char* path, const sections::BeatFeatures& f, const sections::Structure& st) {
    std::FILE* out = std::fopen(path, "a");
    if (out == nullptr) return;
    std::fputs("{\"bar_lines\": [", out);
    for (size_t i = 0; i < st.bar_lines.size(); ++i) {
        std::fprintf(out, "%s[%.4f", i ? ", " : "", f.times[st.bar_line_beats[i]]);
        for (float v : st.bar_lines[i]) std::fprintf(out, ", %.5g", static_cast<double>(v));
        std::fputs("]", out);
    }
    std::fputs("], \"whole\": [", out);
    for (size_t i = 0; i < st.bar_whole.size(); ++i) std::fprintf(out, "%s%d", i ? ", " : "", st.bar_whole[i]);
    std::fputs("]}\n", out);
    std::fclose(out);
}

}  // namespace

const AnalyzerInfo& SectionsAnalyzer::describe() {
    static const AnalyzerInfo info{
        "sections",
        4,
        "Song structure on the bar grid: phrases (4/8 bars) and sections with repetition letters (A, B, ...), "
        "functional labels (intro, verse, pre-chorus, chorus, bridge, instrumental, outro, silence) and confidences",
        {"beats"},
        {"sections"},
        {
            {"method",
             "Boundaries: learned (a boundary model on bar-line features + learned phrase-length prior, on "
             "downbeats), phrases (version 1: novelty + repetition + 4/8-bar prior) or foote (the "
             "checkerboard-novelty baseline as MSAF configures it, beat resolution)",
             ParamType::kString,
             std::string("learned"),
             0.0,
             0.0,
             {"learned", "phrases", "foote"}},
            {"boundary_bias",
             "method=learned: added to every bar line's boundary log-odds (higher = more, shorter phrases); "
             "2 was chosen on the dev split",
             ParamType::kDouble,
             2.0,
             -5.0,
             5.0,
             {}},
            {"boundary_penalty",
             "Cost of one phrase boundary against its novelty (higher = fewer, longer phrases)",
             ParamType::kDouble,
             0.7,
             0.0,
             3.0,
             {}},
            {"label_threshold",
             "How far above the file's typical similarity (z-score) two phrases must be to share a letter",
             ParamType::kDouble,
             1.2,
             -2.0,
             6.0,
             {}},
            {"chroma_weight",
             "Share of harmony/melody (chroma) against timbre and level in the similarity",
             ParamType::kDouble,
             0.6,
             0.0,
             1.0,
             {}},
        }};
    return info;
}

Result<SectionsAnalyzer::Config> SectionsAnalyzer::configure(const ParamSet& p) {
    Config c;
    c.method = p.get_string("method");
    c.boundary_penalty = p.get_double("boundary_penalty");
    c.boundary_bias = p.get_double("boundary_bias");
    c.label_threshold = p.get_double("label_threshold");
    c.chroma_weight = p.get_double("chroma_weight");
    return c;
}

void SectionsAnalyzer::plan(features::FeatureCache& cache) const {
    cache.get<SectionFeatures>();
}

Result<void> SectionsAnalyzer::analyze(Context& ctx) const {
    const auto* sf = ctx.features.find<SectionFeatures>();
    if (sf == nullptr) return make_error(ErrorCode::kInternal, "section features were not planned");
    const double frames_s = static_cast<double>(sf->frames().size()) / sf->frame_rate_hz();
    double duration = ctx.inputs.audio.duration_s > 0 ? ctx.inputs.audio.duration_s : frames_s;
    Sections out;
    if (duration <= 0.0 || sf->frames().empty()) {
        ctx.out.sections = std::move(out);
        return {};
    }
    std::vector<double> times;
    std::vector<int> pos;
    beat_grid(ctx.inputs, duration, times, pos);
    auto f = beat_features(*sf, std::move(times), std::move(pos));
    if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cancelled");
    ctx.report(0.3);
    // Development: HARMONY_SECTIONS_DUMP=FILE appends the bar-line features of this file as one
    // JSON line (tools/train_sections reads them); the analysis itself is unchanged.
    const char* dump = std::getenv("HARMONY_SECTIONS_DUMP");
    auto params = cfg_;
    params.keep_features = dump != nullptr && *dump != '\0';
    const auto st = sections::analyze(f, params);
    if (params.keep_features) dump_bar_lines(dump, f, st);
    for (const auto& ph : st.phrases) {
        Section s;
        s.start_s = f.times[ph.first_beat];
        s.end_s = f.times[ph.end_beat];
        s.label = ph.label;
        s.confidence = std::clamp(ph.confidence, 0.0, 1.0);
        s.function = ph.function;
        s.bars = ph.bars;
        out.phrases.push_back(s);
        // Sections: runs of phrases with the same letter and function.
        if (!out.segments.empty() && out.segments.back().label == s.label &&
            out.segments.back().function == s.function) {
            auto& last = out.segments.back();
            const double a = last.end_s - last.start_s, b = s.end_s - s.start_s;
            last.confidence = (last.confidence * a + s.confidence * b) / std::max(1e-9, a + b);
            last.end_s = s.end_s;
            last.bars += s.bars;
        } else {
            out.segments.push_back(s);
        }
    }
    out.confidence = std::clamp(st.confidence, 0.0, 1.0);
    // DJ phrase grids (8/16/32 bars from each section start, on the downbeats).
    out.phrase_grid = sections::dj_phrase_grids(out.segments, sections::map_downbeats(ctx.inputs));
    ctx.out.sections = std::move(out);
    return {};
}

}  // namespace harmony::analyzers
