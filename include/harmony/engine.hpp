// Harmony — the Engine façade. The CLI, the server workers, the tests and the benchmarks all call
// this. A request is resolved into a graph of analyzers (each created from a validated, typed
// config); the audio is decoded once and streamed through the features they read; independent
// analyzers then run in parallel, and the result is a Song Map.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "harmony/analyzer.hpp"
#include "harmony/audio.hpp"
#include "harmony/error.hpp"
#include "harmony/song_map.hpp"

namespace harmony {

struct Progress {
    std::string stage;      // "decode", then analyzer ids
    double fraction = 0.0;  // of the whole job, 0..1, never decreasing
};

using ProgressCallback = std::function<void(const Progress&)>;

/// A request: which analyzers (empty = all default ones) and parameter overrides
/// keyed "analyzer.param" (e.g. "tempo.min_bpm" -> "85").
struct AnalysisRequest {
    std::vector<std::string> only;
    std::map<std::string, std::string> params;
};

struct EngineOptions {
    int analysis_rate_hz = 22050;
    ProgressCallback progress;  // throttled to ~60 ms, always ends with fraction 1; may be called from any thread
    std::stop_token stop;       // cancellation
    /// Long files: the segmentable analyzers (tempo, beats, key) run on equal segments of at most
    /// this length (seconds; the header's duration decides the cut), overlapping by
    /// segment_overlap_s, and each merges its segments, so memory stays bounded on files of any
    /// length. Files up to 1.5 segments long are analysed whole. 0 disables segmenting.
    double segment_s = 300.0;
    double segment_overlap_s = 20.0;
    /// Threads for one analysis: decoding, feature streaming and independent analyzers overlap.
    /// 0 = every core. A batch divides the cores between the files it analyses at once.
    int threads = 0;
    /// Memory an analysis may hold for whole-signal audio buffers (analyzers that need the whole
    /// file at some rate, such as networks or source separation). An analyzer whose buffers would
    /// exceed it fails with a clear reason instead of exhausting the machine.
    double memory_budget_mb = 4096.0;
    /// Longest audio accepted, in seconds (0: no limit). Longer input fails with kLimitExceeded as
    /// soon as the header says so, or when decoding passes the limit (a header without a duration,
    /// or one that lies), before any analysis of it.
    double max_duration_s = 0.0;
};

class Engine {
public:
    explicit Engine(EngineOptions options = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// Every analyzer in the registry, in registry order.
    static const std::vector<AnalyzerInfo>& analyzers();

    /// Validates a request whole — unknown analyzer or parameter, out-of-range value, and each
    /// analyzer's cross-field rules (tempo.min_bpm < tempo.max_bpm, ...) — without decoding
    /// anything. Returns the analyzer ids in dependency order.
    static Result<std::vector<std::string>> resolve(const AnalysisRequest& request);

    /// The cache key of a request under this engine's options: every selected analyzer's id,
    /// version, effective parameters (defaults included) and model hash, the analysis rate, the
    /// segment settings and the Song Map schema version. Equal keys give equal Song Maps.
    Result<std::string> cache_key(const AnalysisRequest& request) const;

    /// Analyse a file. Never throws; bad input comes back as an Error.
    Result<SongMap> analyze_file(const std::string& path, const AnalysisRequest& request = {});

    /// Analyse audio in memory: interleaved float samples at `sample_rate_hz` with `channels`
    /// channels. Never throws; non-finite samples or impossible rates come back as an Error.
    Result<SongMap> analyze_pcm(std::span<const float> interleaved, int channels, int sample_rate_hz,
                                const AnalysisRequest& request = {});
    Result<SongMap> analyze_pcm(const AudioBuffer& audio, const AnalysisRequest& request = {}) {
        return analyze_pcm(audio.samples, audio.channels, audio.sample_rate_hz, request);
    }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Song Map -> JSON text (schema-validated first; an invalid map is refused with
/// kSchemaViolation and never serialised).
Result<std::string> to_json(const SongMap& map, int indent = 2);

/// Validate a JSON text against the published Song Map schema.
Result<void> validate_song_map_json(const std::string& json_text);

/// Key notation helpers (formats.md): "A minor" <-> "8A" <-> "1m".
std::string camelot_for(int pitch_class, bool minor);
std::string open_key_for(int pitch_class, bool minor);

}  // namespace harmony
