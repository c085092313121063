#include "analyzers/notes/notes.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace harmony::analyzers {

namespace {

constexpr int kVersion = 3;

std::vector<std::span<const notes::Candidate>> spans_of(const notes::PitchSalience& s) {
    std::vector<std::span<const notes::Candidate>> out(static_cast<size_t>(s.frames()));
    for (std::int64_t i = 0; i < s.frames(); ++i) out[static_cast<size_t>(i)] = s.frame(i);
    return out;
}

double midi_to_hz(double m) {
    return 440.0 * std::pow(2.0, (m - 69.0) / 12.0);
}

/// Duration-weighted mean confidence of the melody and bass notes.
double notes_confidence(const Notes& n) {
    double w = 0.0, cs = 0.0;
    for (const auto* v : {&n.melody, &n.bass})
        for (const auto& x : *v) {
            w += x.offset_s - x.onset_s;
            cs += (x.offset_s - x.onset_s) * x.confidence;
        }
    return w > 0.0 ? cs / w : 0.0;
}

// Two notes of neighbouring segments are the same one when their pitches agree and they overlap by
// more than a frame (20 ms): a re-attack at the same pitch touches the previous note, never
// overlaps it.
constexpr double kSameNoteOverlapS = 0.03;

/// Joins a line (melody or bass) from the segments' notes. Each segment contributes the notes that
/// touch its window; a note that matches one of the previous segment's (same pitch, overlapping)
/// is the same note seen twice, joined: its onset from the segment whose window holds it (the
/// earlier one's when the onset lies before the cut), its offset likewise, pitch and velocity from
/// the onset's segment. Where a note still overlaps the next segment's next note (a different
/// pitch), it ends where that one begins.
std::vector<Note> merge_line(const std::vector<pipeline::SegmentResult>& segs, std::vector<Note> Notes::*line) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    std::vector<Note> out;
    std::vector<size_t> from;  // the segment each kept note came from
    for (size_t i = 0; i < segs.size(); ++i) {
        const auto& s = segs[i];
        if (!s.map.notes) continue;
        const double lo = i == 0 ? -inf : s.keep_from_s;
        const double hi = i + 1 == segs.size() ? inf : s.keep_to_s;
        const double cut = s.keep_from_s;
        for (const auto& n : (*s.map.notes).*line) {
            if (n.offset_s <= lo || n.onset_s >= hi) continue;
            bool joined = false;
            for (size_t k = out.size(); k-- > 0;) {
                auto& o = out[k];
                if (o.offset_s + 1.0 < n.onset_s) break;  // kept notes are in onset order, monophonic
                if (from[k] == i) continue;
                const double overlap = std::min(o.offset_s, n.offset_s) - std::max(o.onset_s, n.onset_s);
                if (std::abs(o.pitch_midi - n.pitch_midi) >= 0.5 || overlap <= kSameNoteOverlapS) continue;
                const double da = o.offset_s - o.onset_s, db = n.offset_s - n.onset_s;
                const double conf = (o.confidence * da + n.confidence * db) / std::max(1e-9, da + db);
                if (o.onset_s >= cut && n.onset_s >= cut) {  // the onset lies in this segment's window
                    o.onset_s = n.onset_s;
                    o.pitch_midi = n.pitch_midi;
                    o.velocity = n.velocity;
                }
                if (o.offset_s > cut && n.offset_s > cut)
                    o.offset_s = n.offset_s;
                else if (o.offset_s > cut || n.offset_s > cut)
                    o.offset_s = std::max(o.offset_s, n.offset_s);
                o.confidence = conf;
                joined = true;
                break;
            }
            if (joined) continue;
            out.push_back(n);
            from.push_back(i);
        }
    }
    std::vector<size_t> order(out.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return out[a].onset_s < out[b].onset_s; });
    std::vector<Note> mono;
    size_t last_from = 0;
    for (const size_t k : order) {
        // Only notes of two segments are made disjoint: within one, the decoder's own output is
        // kept as it is (as on a file analysed whole).
        if (!mono.empty() && from[k] != last_from && mono.back().offset_s > out[k].onset_s) {
            mono.back().offset_s = out[k].onset_s;
            if (mono.back().offset_s - mono.back().onset_s < kSameNoteOverlapS) mono.pop_back();
        }
        mono.push_back(out[k]);
        last_from = from[k];
    }
    return mono;
}

/// The melody f0 on the file's 10 ms grid: each frame from the segment whose window holds it
/// (the nearest frame of that segment's own grid, which starts at the segment's first sample).
PitchCurve merge_f0(const std::vector<pipeline::SegmentResult>& segs) {
    PitchCurve f;
    std::vector<const pipeline::SegmentResult*> have;
    for (const auto& s : segs)
        if (s.map.notes && s.map.notes->melody_f0.hop_s > 0.0) have.push_back(&s);
    if (have.empty()) return f;
    f.hop_s = have.front()->map.notes->melody_f0.hop_s;
    f.start_s = have.front()->map.notes->melody_f0.start_s;
    const auto& last = have.back()->map.notes->melody_f0;
    if (last.f0_hz.empty()) return f;
    const double end = last.start_s + static_cast<double>(last.f0_hz.size() - 1) * last.hop_s;
    const auto n = static_cast<size_t>(std::max(0.0, std::round((end - f.start_s) / f.hop_s))) + 1;
    f.f0_hz.assign(n, 0.0f);
    size_t j = 0;
    for (size_t i = 0; i < n; ++i) {
        const double t = f.start_s + static_cast<double>(i) * f.hop_s;
        while (j + 1 < have.size() && t >= have[j]->keep_to_s) ++j;
        const auto& c = have[j]->map.notes->melody_f0;
        const double k = std::round((t - c.start_s) / c.hop_s);
        const auto size = static_cast<double>(c.f0_hz.size());
        // Within half a frame past either end (the segment's grid is offset by up to half a hop).
        if (k >= -1.0 && k <= size) f.f0_hz[i] = c.f0_hz[static_cast<size_t>(std::clamp(k, 0.0, size - 1.0))];
    }
    return f;
}

}  // namespace

const AnalyzerInfo& NotesAnalyzer::describe() {
    static const AnalyzerInfo info{
        "notes",
        kVersion,
        "Melody and bass lines as notes (onset, offset, MIDI pitch, velocity, confidence) and the melody's f0 "
        "every 10 ms with voicing; a learned pitch model (CNN over a log-frequency spectrogram, Viterbi decoding) or "
        "the classical tracker (harmonic-summation salience, Viterbi tracking, median-filtered segmentation)",
        {},
        {"notes"},
        {
            {"melody_voicing",
             "melody is unvoiced below this fraction of the track's reference salience",
             ParamType::kDouble,
             0.3,
             0.001,
             1.0,
             {}},
            {"bass_voicing",
             "bass is unvoiced below this fraction of the track's reference salience",
             ParamType::kDouble,
             0.12,
             0.001,
             1.0,
             {}},
            {"melody_min_harmonic",
             "melody frames whose best pitch explains less of the frame's peak energy are unvoiced",
             ParamType::kDouble,
             0.12,
             0.0,
             1.0,
             {}},
            {"bass_min_harmonic",
             "bass frames whose best pitch explains less of the frame's peak energy are unvoiced (drums)",
             ParamType::kDouble,
             0.15,
             0.0,
             1.0,
             {}},
            {"melody_pitch_bias",
             "melody tracking: score added per octave of pitch (> 0 prefers the upper line)",
             ParamType::kDouble,
             0.0,
             -5.0,
             5.0,
             {}},
            {"bass_pitch_bias",
             "bass tracking: score added per octave of pitch (< 0 prefers the lowest line)",
             ParamType::kDouble,
             0.0,
             -5.0,
             5.0,
             {}},
            {"bass_note_harmonic",
             "bass notes whose mean harmonicity is lower are dropped (drums)",
             ParamType::kDouble,
             0.3,
             0.0,
             1.0,
             {}},
            {"melody_min_midi",
             "lowest melody pitch searched (MIDI; 45 = A2)",
             ParamType::kDouble,
             45.0,
             24.0,
             84.0,
             {}},
            {"jump_cost", "tracking cost of a pitch jump, per semitone", ParamType::kDouble, 0.35, 0.0, 10.0, {}},
            {"min_note_s", "shortest note in seconds", ParamType::kDouble, 0.05, 0.01, 1.0, {}},
            {"onset_rise",
             "log-salience rise within 50 ms that starts a new note at the same pitch",
             ParamType::kDouble,
             0.6,
             0.05,
             5.0,
             {}},
            {"method",
             "learned (a pitch model trained on rendered songs and MIR-1K) or classical (salience + tracking; the "
             "classical-only parameters above apply to it)",
             ParamType::kString,
             std::string("learned"),
             0,
             0,
             {"learned", "classical"}},
            {"model",
             "learned: weight file of the pitch model; empty = the shipped model",
             ParamType::kString,
             std::string(""),
             0,
             0,
             {}},
            {"learned_jump_cost",
             "learned: log-probability cost of a pitch change between 20 ms frames",
             ParamType::kDouble,
             4.0,
             0.0,
             50.0,
             {}},
            {"learned_voicing_cost",
             "learned: melody: log-probability cost of switching between voiced and unvoiced",
             ParamType::kDouble,
             1.0,
             0.0,
             50.0,
             {}},
            {"learned_bass_voicing_cost",
             "learned: the same for the bass line (higher: sustained, decaying bass notes stay one note)",
             ParamType::kDouble,
             5.0,
             0.0,
             50.0,
             {}},
            {"onset_threshold",
             "learned: onset probability above which a held pitch is re-attacked (a new note)",
             ParamType::kDouble,
             0.95,
             0.0,
             1.0,
             {}},
            {"min_confidence",
             "learned: notes whose mean pitch posterior is lower are dropped",
             ParamType::kDouble,
             0.5,
             0.0,
             1.0,
             {}},
            {"onset_search_s",
             "learned: a note's onset moves to the onset output's peak within this distance of its start (0 = off)",
             ParamType::kDouble,
             0.06,
             0.0,
             0.2,
             {}},
            {"bass_min_note_s",
             "learned: shortest bass note in seconds (the corpus has none below 0.12 s; drum hits are shorter)",
             ParamType::kDouble,
             0.1,
             0.01,
             1.0,
             {}},
            input_param("melody_input", "signal the melody is read from"),
            input_param("bass_input", "signal the bass line is read from"),
        }};
    return info;
}

Result<NotesAnalyzer::Config> NotesAnalyzer::configure(const ParamSet& p) {
    Config c;
    c.melody_track.voicing = p.get_double("melody_voicing");
    c.bass_track.voicing = p.get_double("bass_voicing");
    c.melody_track.min_harmonic = p.get_double("melody_min_harmonic");
    c.bass_track.min_harmonic = p.get_double("bass_min_harmonic");
    c.bass_note_harmonic = p.get_double("bass_note_harmonic");
    c.melody_min_midi = p.get_double("melody_min_midi");
    c.melody_track.jump_cost = c.bass_track.jump_cost = p.get_double("jump_cost");
    c.melody_track.pitch_bias = p.get_double("melody_pitch_bias");
    c.bass_track.pitch_bias = p.get_double("bass_pitch_bias");
    c.min_note_s = p.get_double("min_note_s");
    c.onset_rise = p.get_double("onset_rise");
    c.melody_input = input_from_name(p.get_string("melody_input")).value_or(Input::kMix);
    c.bass_input = input_from_name(p.get_string("bass_input")).value_or(Input::kMix);
    c.learned = p.get_string("method") != "classical";
    c.learned_jump_cost = p.get_double("learned_jump_cost");
    c.learned_voicing_cost = p.get_double("learned_voicing_cost");
    c.learned_bass_voicing_cost = p.get_double("learned_bass_voicing_cost");
    c.onset_threshold = p.get_double("onset_threshold");
    c.min_confidence = p.get_double("min_confidence");
    c.onset_search_s = p.get_double("onset_search_s");
    c.bass_min_note_s = p.get_double("bass_min_note_s");
    if (c.learned) {
        const std::string path = p.get_string("model");
        if (path.empty()) {
            auto m = notes::shipped_pitch_net();
            if (!m) return m.error();
            c.net = m.value();
            c.model_hash = notes::shipped_pitch_net_hash();
        } else {
            auto w = nn::WeightFile::from_file(path);
            if (!w) return w.error();
            auto net = notes::PitchNet::load(w.value());
            if (!net) return net.error();
            c.net = std::make_shared<const notes::PitchNet>(std::move(net.value()));
            c.model_hash = w.value().hash();
        }
    }
    return c;
}

notes::SalienceConfig NotesAnalyzer::melody_salience() const {
    notes::SalienceConfig c;
    c.n_fft = 2048;
    c.min_midi = cfg_.melody_min_midi;
    c.max_midi = 96.0;
    c.peak_min_hz = 100.0;
    c.peak_max_hz = 5000.0;
    c.harmonics = 10;
    c.candidates = 6;
    return c;
}

notes::SalienceConfig NotesAnalyzer::bass_salience() {
    notes::SalienceConfig c;
    c.n_fft = 4096;
    c.min_midi = 24.0;
    c.max_midi = 50.0;  // D3: bass lines rarely sit higher (the corpus: 28-44)
    c.peak_min_hz = 28.0;
    c.peak_max_hz = 1200.0;
    c.harmonics = 6;
    c.candidates = 4;
    return c;
}

void NotesAnalyzer::plan_inputs(features::FeatureCache& cache, bool melody, bool bass) const {
    if (cfg_.learned) {
        if (melody || bass) cache.get<notes::LogSpectrum>(notes::LogSpecConfig{});
        return;
    }
    if (melody) cache.get<notes::PitchSalience>(melody_salience());
    if (bass) cache.get<notes::PitchSalience>(bass_salience());
}

void NotesAnalyzer::plan(features::FeatureCache& cache) const {
    plan_inputs(cache, cfg_.melody_input == Input::kMix, cfg_.bass_input == Input::kMix);
}

Result<void> NotesAnalyzer::analyze_learned(Context& ctx) const {
    const bool same = cfg_.melody_input == cfg_.bass_input;
    const auto mel_in =
        input_features(ctx, cfg_.melody_input, [&](features::FeatureCache& c) { plan_inputs(c, true, same); });
    if (!mel_in) return mel_in.error();
    const auto* mspec = mel_in->features().find<notes::LogSpectrum>(notes::LogSpecConfig{});
    if (mspec == nullptr) return make_error(ErrorCode::kInternal, "note spectrogram was not planned");
    const double frame_s = 1.0 / mspec->frame_rate_hz();
    const auto mx = mspec->normalized();
    auto mpost = cfg_.net->run(mx, mspec->frames());
    ctx.report(0.4);
    if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cancelled");
    notes::LinePosteriors bpost;
    std::vector<float> bx;
    if (same) {
        bpost = std::move(mpost.bass);
    } else {
        const auto bas_in =
            input_features(ctx, cfg_.bass_input, [&](features::FeatureCache& c) { plan_inputs(c, false, true); });
        if (!bas_in) return bas_in.error();
        const auto* bspec = bas_in->features().find<notes::LogSpectrum>(notes::LogSpecConfig{});
        if (bspec == nullptr) return make_error(ErrorCode::kInternal, "note spectrogram was not planned");
        bx = bspec->normalized();
        bpost = std::move(cfg_.net->run(bx, bspec->frames()).bass);
    }
    ctx.report(0.8);
    if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cancelled");

    notes::LineDecodeConfig dc;
    dc.jump_cost = cfg_.learned_jump_cost;
    dc.voicing_cost = cfg_.learned_voicing_cost;
    dc.onset_threshold = cfg_.onset_threshold;
    dc.min_confidence = cfg_.min_confidence;
    dc.onset_search_s = cfg_.onset_search_s;
    dc.min_note_s = cfg_.min_note_s;
    dc.frame_s = frame_s;
    dc.min_midi = static_cast<int>(std::lround(cfg_.melody_min_midi));
    dc.max_midi = 96;
    const auto mel = notes::decode_line(mpost.melody, mx, dc);
    dc.min_midi = 24;
    dc.max_midi = 55;
    dc.min_note_s = cfg_.bass_min_note_s;
    dc.voicing_cost = cfg_.learned_bass_voicing_cost;
    const auto bas = notes::decode_line(bpost, same ? std::span<const float>(mx) : std::span<const float>(bx), dc);

    Notes out;
    out.melody = mel.notes;
    out.bass = bas.notes;
    // The melody f0 on the 10 ms grid: interpolated between 20 ms frames when both are voiced and
    // less than a semitone apart, else the nearest frame.
    const double hop = 0.01;
    const size_t T = mel.midi.size();
    const auto n = T == 0 ? size_t{0} : static_cast<size_t>(std::floor(static_cast<double>(T - 1) * frame_s / hop)) + 1;
    out.melody_f0.hop_s = hop;
    out.melody_f0.f0_hz.resize(n, 0.0f);
    for (size_t i = 0; i < n; ++i) {
        const double x = static_cast<double>(i) * hop / frame_s;
        const auto k0 = std::min(T - 1, static_cast<size_t>(std::floor(x)));
        const auto k1 = std::min(T - 1, k0 + 1);
        const double f = x - static_cast<double>(k0);
        const size_t k = f < 0.5 ? k0 : k1;
        if (mel.midi[k0] > 0.0f && mel.midi[k1] > 0.0f && std::abs(mel.midi[k0] - mel.midi[k1]) < 1.0f)
            out.melody_f0.f0_hz[i] = static_cast<float>(midi_to_hz((1.0 - f) * mel.midi[k0] + f * mel.midi[k1]));
        else if (mel.midi[k] > 0.0f)
            out.melody_f0.f0_hz[i] = static_cast<float>(midi_to_hz(mel.midi[k]));
        else if (mel.guess[k] > 0.0f)
            out.melody_f0.f0_hz[i] = -static_cast<float>(midi_to_hz(mel.guess[k]));
    }
    out.confidence = notes_confidence(out);
    ctx.out.notes = std::move(out);
    ctx.report(1.0);
    return {};
}

Result<void> NotesAnalyzer::analyze(Context& ctx) const {
    if (cfg_.learned) return analyze_learned(ctx);
    // The melody's and the bass line's inputs (one feature cache when they are the same signal).
    const bool same = cfg_.melody_input == cfg_.bass_input;
    const auto mel_in = input_features(ctx, cfg_.melody_input, [&](features::FeatureCache& c) {
        c.get<notes::PitchSalience>(melody_salience());
        if (same) c.get<notes::PitchSalience>(bass_salience());
    });
    if (!mel_in) return mel_in.error();
    const auto bas_in = same ? Result<InputFeatures>(InputFeatures(ctx.features))
                             : input_features(ctx, cfg_.bass_input, [](features::FeatureCache& c) {
                                   c.get<notes::PitchSalience>(bass_salience());
                               });
    if (!bas_in) return bas_in.error();
    const auto* mel = mel_in->features().find<notes::PitchSalience>(melody_salience());
    const auto* bas = (same ? mel_in : bas_in)->features().find<notes::PitchSalience>(bass_salience());
    if (mel == nullptr || bas == nullptr) return make_error(ErrorCode::kInternal, "note salience was not planned");
    const double frame_s = 1.0 / mel->frame_rate_hz();

    Notes out;
    const auto mtrack = notes::track_pitch(spans_of(*mel), cfg_.melody_track);
    ctx.report(0.4);
    if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cancelled");
    const auto btrack = notes::track_pitch(spans_of(*bas), cfg_.bass_track);
    ctx.report(0.8);
    if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cancelled");

    notes::NoteConfig nc;
    nc.frame_s = frame_s;
    nc.min_note_s = cfg_.min_note_s;
    nc.onset_rise = cfg_.onset_rise;
    nc.tuning_cents = notes::estimate_tuning_cents(mtrack);
    out.melody = notes::segment_notes(mtrack, nc);
    nc.frame_s = 1.0 / bas->frame_rate_hz();
    nc.min_note_harmonic = cfg_.bass_note_harmonic;
    nc.tuning_cents = notes::estimate_tuning_cents(btrack);
    out.bass = notes::segment_notes(btrack, nc);

    // The melody f0 on an exact 10 ms grid (nearest analysis frame).
    const double hop = 0.01;
    const double duration = static_cast<double>(mtrack.midi.size()) * frame_s;
    const auto n = static_cast<size_t>(std::floor(duration / hop));
    out.melody_f0.hop_s = hop;
    out.melody_f0.f0_hz.resize(n, 0.0f);
    for (size_t i = 0; i < n; ++i) {
        const auto k = std::min(mtrack.midi.size() - 1, static_cast<size_t>(std::lround(i * hop / frame_s)));
        if (mtrack.midi[k] > 0.0f)
            out.melody_f0.f0_hz[i] = static_cast<float>(midi_to_hz(mtrack.midi[k]));
        else if (mtrack.guess[k] > 0.0f)
            out.melody_f0.f0_hz[i] = -static_cast<float>(midi_to_hz(mtrack.guess[k]));
    }

    out.confidence = notes_confidence(out);
    ctx.out.notes = std::move(out);
    ctx.report(1.0);
    return {};
}

void NotesAnalyzer::merge(const std::vector<pipeline::SegmentResult>& segs, const MergeInfo& /*info*/,
                          SongMap& out) const {
    if (std::none_of(segs.begin(), segs.end(), [](const auto& s) { return s.map.notes.has_value(); })) return;
    Notes n;
    n.melody = merge_line(segs, &Notes::melody);
    n.bass = merge_line(segs, &Notes::bass);
    n.melody_f0 = merge_f0(segs);
    n.confidence = notes_confidence(n);
    out.notes = std::move(n);
}

}  // namespace harmony::analyzers
