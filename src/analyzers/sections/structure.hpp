// Song structure from beat-synchronous features (src/analyzers/sections/README.md): phrase
// boundaries on the bar grid (checkerboard novelty + repetition-lag novelty + a 4/8-bar phrase
// prior, dynamic programming), repetition letters (A, B, C... by aligned bar-by-bar similarity),
// functional labels (intro, verse, pre-chorus, chorus, bridge, instrumental, outro, silence) and a
// confidence per phrase. Also the peer baseline: Foote's checkerboard novelty as MSAF configures it.
//
// Memory is bounded for any file length: the inputs are one small vector per beat, the similarity
// is only ever evaluated inside a band of `max_lag_bars` bars (never an N x N matrix), the phrase
// dynamic programme looks back at most `max_phrase_bars`, and the labeller compares a phrase with
// the `label_window` phrases before it.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace harmony::sections {

/// Features of one bar line (the boundary between bar b-1 and bar b) for the learned boundary model.
inline constexpr int kBarLineFeatures = 41;
using BarLineFeatures = std::array<float, kBarLineFeatures>;

struct Params {
    std::string method = "learned";  // "learned" (Harmony) | "phrases" (version 1) | "foote" (the peer baseline)
    double boundary_penalty = 0.7;   // phrases: cost of one boundary against the novelty (0..~1.5)
    double boundary_bias = 2.0;      // learned: added to every bar line's boundary log-odds (+ = more phrases)
    double label_threshold = 1.2;    // z-score of aligned similarity for "same material"
    double chroma_weight = 0.6;      // share of harmony/melody (vs timbre and level) in the similarity
    int max_phrase_bars = 32;
    int max_lag_bars = 96;
    int label_window = 96;       // phrases compared with each new phrase
    bool keep_features = false;  // fill Structure::bar_lines (training dumps, tools/train_sections)
};

/// One vector per beat. times has n + 1 entries (the last is the end of the last beat).
struct BeatFeatures {
    std::vector<double> times;
    std::vector<int> positions;                 // bar position, 1 = downbeat
    std::vector<std::array<float, 12>> chroma;  // L2-normalised (zero when silent)
    std::vector<std::array<float, 12>> timbre;  // cepstral coefficients 1..12, z-scored over the file
    std::vector<float> level_db;                // mean frame level
    std::vector<float> flux;                    // mean rise of the band levels between frames (dB, onsets)
    double lead_in_silence_s = 0.0;             // near-silence before the first sound (a song's start)
    double tail_silence_s = 0.0;                // near-silence after the last sound (a song's end)
    size_t size() const { return chroma.size(); }
};

struct Phrase {
    size_t first_beat = 0, end_beat = 0;  // beats [first_beat, end_beat)
    int bars = 0;
    std::string label;     // repetition letter
    std::string function;  // intro, verse, pre-chorus, chorus, bridge, instrumental, outro, silence
    double confidence = 0.0;
    double boundary_strength = 0.0;  // novelty at its start, 0..1
};

struct Structure {
    std::vector<Phrase> phrases;
    double confidence = 0.0;
    // With Params::keep_features: the first beat of every bar line 1..bars-1 and its features.
    std::vector<size_t> bar_line_beats;
    std::vector<BarLineFeatures> bar_lines;
    std::vector<int> bar_whole;  // per bar: 1 when it counts as a whole bar for the phrase lengths
};

Structure analyze(const BeatFeatures& f, const Params& p);

/// "A".."Z", "AA", "AB", ... for 0, 1, 2, ...
std::string letter(size_t index);

}  // namespace harmony::sections
