// Harmony — the Engine façade. The CLI, the server workers, the tests and the benchmarks all call
// this. It decodes once (streaming), computes the shared features the selected analyzers request
// once, runs the analyzers in dependency order and returns a validated Song Map.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "harmony/analyzer.hpp"
#include "harmony/error.hpp"
#include "harmony/song_map.hpp"

namespace harmony {

struct Progress {
    std::string stage;      // "decode", then analyzer ids
    double fraction = 0.0;  // of the whole job, 0..1
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
    ProgressCallback progress;  // throttled to ~60 ms, always ends with fraction 1
    std::stop_token stop;       // cancellation
    /// Long files: tempo, beats and key are analysed in equal segments of at most this length
    /// (seconds; the header's duration decides the cut), overlapping by segment_overlap_s, and
    /// merged, so memory stays bounded on files of any length. Files up to 1.5 segments long are
    /// analysed whole. 0 disables segmenting.
    double segment_s = 300.0;
    double segment_overlap_s = 20.0;
};

class Engine {
public:
    explicit Engine(EngineOptions options = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// Every analyzer in the registry, in registry order.
    static const std::vector<AnalyzerInfo>& analyzers();

    /// Validates a request (unknown analyzer, unknown parameter, out-of-range value) without
    /// running anything. Returns the resolved, dependency-ordered analyzer ids.
    static Result<std::vector<std::string>> resolve(const AnalysisRequest& request);

    /// Analyse a file. Never throws; bad input comes back as an Error.
    Result<SongMap> analyze_file(const std::string& path, const AnalysisRequest& request = {});

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
