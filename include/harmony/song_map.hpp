// Harmony — the Song Map: the typed result of analysing one audio file.
// Every part is optional (absent when its analyzer did not run). Every estimate carries a
// confidence in [0, 1] and its provenance. Times are seconds from the first decoded sample after
// gapless trimming (encoder delay and padding removed).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace harmony {

using ParamValue = std::variant<bool, std::int64_t, double, std::string>;

struct Provenance {
    std::string analyzer;                      // analyzer id, e.g. "tempo"
    int version = 0;                           // bumped whenever its output can change
    std::map<std::string, ParamValue> params;  // the effective parameters
    double elapsed_s = 0.0;                    // wall time of this analyzer (features excluded)
};

/// Text tags found in the file (ID3v2, Vorbis comments, MP4 atoms, RIFF INFO), as read when it
/// was decoded; empty strings when absent. `bpm` and `key` are the values already there (a hand-set
/// or another tool's), kept verbatim.
struct FileTags {
    std::string title, artist, album, genre, comment, bpm, key;
    bool empty() const {
        return title.empty() && artist.empty() && album.empty() && genre.empty() && comment.empty() && bpm.empty() &&
               key.empty();
    }
};

struct AudioInfo {
    std::string path;
    std::string container;      // FFmpeg demuxer name, e.g. "mp3", "mov,mp4,m4a,3gp,3g2,mj2"
    std::string codec;          // FFmpeg codec name, e.g. "mp3", "aac", "flac"
    int sample_rate_hz = 0;     // of the source
    int channels = 0;           // of the source
    std::int64_t bit_rate = 0;  // bits per second, 0 when unknown
    double duration_s = 0.0;    // of the decoded audio (exact sample count / rate)
    std::int64_t file_size_bytes = 0;
    std::string content_hash;  // "xxh128:<32 hex>" of the file's audio bytes (tags excluded; core/hash.hpp)
    int analysis_rate_hz = 0;  // rate the analyzers saw (mono)
    bool truncated = false;    // decoding stopped early or skipped corrupt data
    std::vector<std::string> warnings;
    FileTags tags;
    /// Frames (at the source rate) trimmed from the start as gapless info asked (e.g. LAME
    /// encoder delay + 529 decoder delay in an MP3). Players that ignore gapless info (rekordbox)
    /// hear everything this much later: exports add it back per target (formats.md §0).
    std::int64_t gapless_trim_frames = 0;
};

/// One estimator's opinion inside an ensemble (the per-algorithm breakdown).
struct EstimatorVote {
    std::string name;    // e.g. "acf_multiband", "krumhansl"
    std::string value;   // what it said, human readable ("128.02", "A minor")
    double score = 0.0;  // its own confidence or weight
    std::string note;    // how it was used ("chosen", "octave-corrected x2", ...)
};

struct TempoAlternative {
    double bpm = 0.0;
    double probability = 0.0;
    std::string relation;  // "half", "double", "three-halves", "two-thirds", "other"
};

struct TempoPoint {
    double time_s = 0.0;
    double bpm = 0.0;
};

struct Tempo {
    std::optional<double> bpm;    // nullopt: no tempo (beatless, silence, too short)
    std::string no_tempo_reason;  // set when bpm is empty
    double confidence = 0.0;
    double range_min_bpm = 0.0;  // the DJ tempo range the answer was folded into
    double range_max_bpm = 0.0;
    bool stable = true;  // constant tempo (a straight grid fits)
    std::vector<TempoAlternative> alternatives;
    std::vector<TempoPoint> curve;  // local tempo over time
    std::vector<EstimatorVote> estimators;
    std::string decision;  // how the final answer was reached
    Provenance provenance;
};

struct BeatGrid {
    bool constant = true;  // true: first_downbeat_s + bpm describe every beat
    double first_beat_s = 0.0;
    double first_downbeat_s = 0.0;
    double bpm = 0.0;
};

struct Beats {
    std::vector<double> times_s;
    std::vector<int> positions;  // 1-based position in the bar (1 = downbeat), same length
    double confidence = 0.0;
    BeatGrid grid;
    Provenance provenance;
};

struct Downbeats {
    std::vector<double> times_s;
    double confidence = 0.0;
    Provenance provenance;
};

struct MeterCandidate {
    std::string label;
    double probability = 0.0;
};

struct Meter {
    std::string label;  // "4/4", "3/4", "6/8", ...
    int numerator = 0;
    int denominator = 0;
    double confidence = 0.0;
    std::vector<MeterCandidate> candidates;
    Provenance provenance;
};

struct KeyName {
    std::string tonic;     // "C", "F#", "Bb" (conventional spelling per key)
    int pitch_class = 0;   // C = 0 ... B = 11
    std::string mode;      // "major" | "minor"
    std::string label;     // "A minor"
    std::string camelot;   // "8A"
    std::string open_key;  // "1m"
};

struct KeyCandidate {
    KeyName key;
    double score = 0.0;
};

struct KeySegment {
    double start_s = 0.0;
    double end_s = 0.0;
    KeyName key;
    double confidence = 0.0;
};

struct ModalKey {
    std::string tonic;
    std::string mode;   // ionian, dorian, phrygian, lydian, mixolydian, aeolian, locrian
    std::string label;  // "D dorian"
    double confidence = 0.0;
};

struct Tuning {
    double a4_hz = 440.0;
    double cents = 0.0;  // offset from 440 Hz equal temperament
    double confidence = 0.0;
};

struct Key {
    std::optional<KeyName> key;  // nullopt: no key (atonal, percussive, silence)
    std::string no_key_reason;
    double confidence = 0.0;
    std::vector<KeyCandidate> candidates;         // runners-up, best first
    std::vector<std::string> compatible_camelot;  // same, +-1 on the wheel, relative
    Tuning tuning;
    std::vector<KeySegment> segments;  // key changes over time
    std::optional<ModalKey> modal;
    std::vector<EstimatorVote> estimators;
    Provenance provenance;
};

struct Loudness {
    double integrated_lufs = 0.0;
    double loudness_range_lu = 0.0;
    double true_peak_dbtp = 0.0;
    double sample_peak_dbfs = 0.0;
    double max_momentary_lufs = 0.0;
    double max_short_term_lufs = 0.0;
    double replaygain_track_gain_db = 0.0;  // ReplayGain 2.0: -18 LUFS reference
    double replaygain_track_peak = 0.0;     // linear true peak
    bool silent = false;                    // integrated loudness is -inf (gated out)
    double confidence = 1.0;
    Provenance provenance;
};

struct ChordCandidate {
    std::string label;  // Harte syntax
    double probability = 0.0;
};

struct ChordSegment {
    double start_s = 0.0;
    double end_s = 0.0;
    std::string label;  // Harte syntax, "N" for no chord
    double confidence = 0.0;
    std::string name;                        // display name: "Am7", "F/A", "N.C."
    std::string root;                        // "A" ("" for N)
    std::string quality;                     // Harte shorthand: "min7" ("" for N)
    std::string bass;                        // bass note: "A" ("" for N)
    std::vector<ChordCandidate> runners_up;  // the next most likely labels over the segment
};

struct Chords {
    std::vector<ChordSegment> segments;
    double confidence = 0.0;
    std::string vocabulary;  // "majmin", "sevenths", "full" ("" when unknown)
    Provenance provenance;
};

struct Section {
    double start_s = 0.0;
    double end_s = 0.0;
    std::string label;  // repetition letter: the same letter for the same material (A, B, C, ...)
    double confidence = 0.0;
    std::string function;  // intro, verse, pre-chorus, chorus, bridge, instrumental, outro, silence ("" unknown)
    int bars = 0;          // whole bars it spans (0 unknown)
};

/// One boundary of a DJ phrase grid: a downbeat where a phrase of the grid's length starts.
struct PhraseMark {
    double time_s = 0.0;
    int bar = 0;      // index of the downbeat in the downbeats part (0: the first bar)
    int section = 0;  // index of the section (Sections::segments) the phrase lies in
};

/// The DJ phrase grid of one length: phrases of `bars` bars counted from each section start (a
/// section start always starts a phrase; a section shorter than `bars` is one phrase; the last
/// phrase of a section may be shorter), on the downbeats.
struct PhraseGrid {
    int bars = 0;                    // 8, 16 or 32
    std::vector<PhraseMark> starts;  // phrase starts in time order
};

struct Sections {
    std::vector<Section> segments;        // sections: runs of phrases with the same letter and function
    std::vector<Section> phrases;         // the finer level: phrases (typically 4 or 8 bars)
    std::vector<PhraseGrid> phrase_grid;  // DJ phrase grids of 8, 16 and 32 bars (empty: no downbeats)
    double confidence = 0.0;
    Provenance provenance;
};

struct Note {
    double onset_s = 0.0;
    double offset_s = 0.0;
    double pitch_midi = 0.0;  // MIDI note number (69 = A4 at the estimated tuning)
    double velocity = 0.0;    // MIDI velocity, 1..127
    double confidence = 0.0;  // 0..1
};

/// A pitch curve on a regular grid: f0_hz[i] is the frame at start_s + i * hop_s. A positive value
/// is a voiced frame; a negative one is unvoiced, its magnitude the best pitch guess there (the
/// Melodia / mir_eval convention); 0: no pitch at all.
struct PitchCurve {
    double start_s = 0.0;
    double hop_s = 0.01;
    std::vector<float> f0_hz;
};

struct Notes {
    std::vector<Note> melody;
    std::vector<Note> bass;
    PitchCurve melody_f0;  // the lead line's f0 every 10 ms
    double confidence = 0.0;
    Provenance provenance;
};

struct LyricLine {
    double start_s = 0.0;
    double end_s = 0.0;
    std::string text;
};

struct Lyrics {
    std::string language;
    std::vector<LyricLine> lines;
    double confidence = 0.0;
    Provenance provenance;
};

struct Stem {
    std::string name;  // "vocals", "drums", "bass", "other"
    std::string file;  // the audio file written (empty: separated but not written)
    double duration_s = 0.0;
    std::string model;  // the separator that produced this stem (the hybrid method mixes two)
    int model_version = 0;
    double energy_db = 0.0;  // stem energy relative to the mix's, dB (-120 for a silent stem)
    /// Estimated quality, 0..1: the energy-weighted mean of the stem's soft mask over the bins it
    /// took (1: the stem's energy came from bins it owned outright; low: it shares bins with
    /// other stems). A confidence from the audio itself, not an SDR (the benchmark gives those).
    double quality = 0.0;
    std::int64_t clipped_samples = 0;  // samples clipped at full scale in an integer file (FLAC)
};

struct Stems {
    std::vector<Stem> stems;
    std::string model;  // separator id, e.g. "hpss-median"
    int model_version = 0;
    int sample_rate_hz = 0;   // the stems' (the source's) rate
    int channels = 0;         // the stems' channel count (1 for a mono source)
    std::string format;       // "wav-f32" or "flac-s24" (empty when not written)
    double confidence = 0.0;  // energy-weighted mean of the stems' quality
    Provenance provenance;
};

struct SongMap {
    AudioInfo audio;
    std::optional<Tempo> tempo;
    std::optional<Beats> beats;
    std::optional<Downbeats> downbeats;
    std::optional<Meter> meter;
    std::optional<Key> key;
    std::optional<Loudness> loudness;
    std::optional<Chords> chords;
    std::optional<Sections> sections;
    std::optional<Notes> notes;
    std::optional<Lyrics> lyrics;
    std::optional<Stems> stems;
    double elapsed_s = 0.0;  // whole analysis, decoding included
};

}  // namespace harmony
