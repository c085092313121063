// Bar analysis: given beat times and onset curves, find the meter (beats per bar and the beat's
// subdivision) and the bar phase (which beats are downbeats).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "harmony/song_map.hpp"

namespace harmony::rhythm {

struct BarInput {
    const std::vector<double>& beats;  // seconds
    const std::vector<double>& onset;  // broadband novelty, frame rate fr
    const std::vector<double>& onset_low;
    const std::vector<std::array<std::uint8_t, 12>>& chroma;  // one per `chroma_decimation` frames
    double fr = 100.0;
    int chroma_decimation = 4;
    std::string forced_meter = "auto";
    const std::vector<double>* onset_mid = nullptr;   // snare band novelty (optional)
    const std::vector<double>* onset_high = nullptr;  // hi-hat band novelty (optional)
    bool debug = false;
    bool phase_jumps = false;  // bar positions by the HMM (decode_bar_positions), not one fold
    const std::vector<double>* downbeat_activation = nullptr;  // learned downbeat probability per frame
    double downbeat_weight = 0.0;  // its z-scored logit at each beat joins the accents with this weight
};

struct BarResult {
    std::vector<int> positions;  // 1-based, one per beat
    std::vector<double> downbeats;
    double downbeat_confidence = 0.0;
    std::string label = "4/4";
    int numerator = 4;
    int denominator = 4;
    double confidence = 0.0;
    std::vector<MeterCandidate> candidates;
    std::string debug;  // per-beat accent features when BarInput::debug
};

BarResult analyze_bars(const BarInput& in);

/// Bar positions (0 = downbeat, .. m-1) of a sequence of beat accents (z-scored; high = downbeat
/// evidence) for m beats per bar: Viterbi over the m positions, counting k -> k+1 mod m, with a
/// small probability of a jump to any position (a bar cut short or lengthened).
std::vector<int> decode_bar_positions(const std::vector<double>& accent, int m);

}  // namespace harmony::rhythm
