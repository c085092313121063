// Which signal an analyzer reads: the mix (the engine's streamed features, the default) or a stem
// separated by the stems analyzer. An analyzer with an `input` parameter (e.g. chords.input=
// harmonic) names "stems" in Analyzer::extra_inputs() when it reads a stem, so the engine runs the
// separation first; the stems analyzer hands every stem, mono at the analysis rate, to its readers
// as the StemSignals artifact, and input_features() streams the chosen stem through a feature
// cache of the analyzer's own, planned exactly as for the mix. The choice is the analyzer's
// parameter, so the Song Map's provenance (params.input) says which signal each part came from.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/analyzer.hpp"

namespace harmony::analyzers {

enum class Input {
    kMix,
    kVocals,
    kDrums,
    kBass,
    kOther,
    kHarmonic,       // mix minus drums (vocals + bass + other)
    kAccompaniment,  // bass + other (mix minus vocals and drums)
};

/// The parameter's names: "mix", "vocals", "drums", "bass", "other", "harmonic", "accompaniment".
const char* input_name(Input in);
std::optional<Input> input_from_name(std::string_view name);

/// A string parameter choosing an analyzer's input (default: the mix).
ParamSpec input_param(const std::string& name, const std::string& what);

/// The inputs an analyzer reading `ins` adds to its declared ones: {"stems"} when any is a stem.
std::vector<std::string> stem_reads(std::initializer_list<Input> ins);

/// Every stem, mono (channel average) at the analysis rate, sample-aligned with the engine's mono
/// stream: the stems analyzer's artifact (producer id "stems").
struct StemSignals {
    int rate_hz = 0;
    std::array<std::vector<float>, 4> mono;  // vocals, drums, bass, other
};

/// The features an analyzer reads for its input: the engine's cache for the mix, else a cache of
/// its own fed with the stem signal.
class InputFeatures {
public:
    explicit InputFeatures(const features::FeatureCache& mix) : cache_(&mix) {}
    explicit InputFeatures(std::unique_ptr<features::FeatureCache> own) : own_(std::move(own)), cache_(own_.get()) {}
    const features::FeatureCache& features() const { return *cache_; }

private:
    std::unique_ptr<features::FeatureCache> own_;
    const features::FeatureCache* cache_;
};

/// For the mix, ctx.features. For a stem: a cache planned by `plan` and fed with that stem's
/// signal from the stems analyzer's artifact (an error when the artifact is missing, on
/// cancellation, or when a planned feature needs the source-rate signal).
Result<InputFeatures> input_features(const Context& ctx, Input in,
                                     const std::function<void(features::FeatureCache&)>& plan);

}  // namespace harmony::analyzers
