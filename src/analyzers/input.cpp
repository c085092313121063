#include "analyzers/input.hpp"

#include <algorithm>

namespace harmony::analyzers {

namespace {
constexpr std::array<std::pair<Input, const char*>, 7> kNames = {{
    {Input::kMix, "mix"},
    {Input::kVocals, "vocals"},
    {Input::kDrums, "drums"},
    {Input::kBass, "bass"},
    {Input::kOther, "other"},
    {Input::kHarmonic, "harmonic"},
    {Input::kAccompaniment, "accompaniment"},
}};

/// Which stems (vocals, drums, bass, other) an input sums.
std::array<bool, 4> stems_of(Input in) {
    switch (in) {
        case Input::kVocals:
            return {true, false, false, false};
        case Input::kDrums:
            return {false, true, false, false};
        case Input::kBass:
            return {false, false, true, false};
        case Input::kOther:
            return {false, false, false, true};
        case Input::kHarmonic:
            return {true, false, true, true};
        case Input::kAccompaniment:
            return {false, false, true, true};
        case Input::kMix:
            break;
    }
    return {true, true, true, true};
}
}  // namespace

const char* input_name(Input in) {
    for (const auto& [i, n] : kNames)
        if (i == in) return n;
    return "mix";
}

std::optional<Input> input_from_name(std::string_view name) {
    for (const auto& [i, n] : kNames)
        if (name == n) return i;
    return std::nullopt;
}

ParamSpec input_param(const std::string& name, const std::string& what) {
    std::vector<std::string> choices;
    for (const auto& [i, n] : kNames) choices.emplace_back(n);
    return {name,
            what +
                ": mix (the decoded file), or a stem separated by the stems analyzer (which then runs): vocals, "
                "drums, bass, other, harmonic (mix minus drums) or accompaniment (bass + other)",
            ParamType::kString,
            std::string("mix"),
            0,
            0,
            std::move(choices)};
}

std::vector<std::string> stem_reads(std::initializer_list<Input> ins) {
    for (auto in : ins)
        if (in != Input::kMix) return {"stems"};
    return {};
}

Result<InputFeatures> input_features(const Context& ctx, Input in,
                                     const std::function<void(features::FeatureCache&)>& plan) {
    if (in == Input::kMix) return InputFeatures(ctx.features);
    const auto sig = ctx.artifacts.get<StemSignals>("stems");
    if (sig == nullptr)
        return make_error(ErrorCode::kInternal,
                          std::string("input ") + input_name(in) + ": the stems analyzer's signals are missing");
    auto cache = std::make_unique<features::FeatureCache>(sig->rate_hz);
    plan(*cache);
    if (cache->needs_native())
        return make_error(ErrorCode::kInternal,
                          std::string("input ") + input_name(in) + ": a feature needs the source-rate signal");
    cache->start();
    const auto use = stems_of(in);
    std::size_t n = 0;
    for (std::size_t s = 0; s < 4; ++s)
        if (use[s]) n = std::max(n, sig->mono[s].size());
    constexpr std::size_t kBlock = 8192;
    std::vector<float> block;
    for (std::size_t at = 0; at < n; at += kBlock) {
        if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cancelled");
        const std::size_t len = std::min(kBlock, n - at);
        block.assign(len, 0.0f);
        for (std::size_t s = 0; s < 4; ++s) {
            if (!use[s]) continue;
            const auto& x = sig->mono[s];
            for (std::size_t i = 0; i < len && at + i < x.size(); ++i) block[i] += x[at + i];
        }
        cache->on_mono(block);
    }
    cache->finish();
    return InputFeatures(std::move(cache));
}

}  // namespace harmony::analyzers
