// The one explicit list of analyzers, in default run order. Adding an analyzer = one line here.
#include "analyzers/analyzer.hpp"
#include "analyzers/beats/beats.hpp"
#include "analyzers/key/key.hpp"
#include "analyzers/loudness/loudness.hpp"
#include "analyzers/tempo/tempo.hpp"

namespace harmony::analyzers {

const std::vector<const Analyzer*>& registry() {
    static const LoudnessAnalyzer loudness;
    static const TempoAnalyzer tempo;
    static const BeatsAnalyzer beats;
    static const KeyAnalyzer key;
    static const std::vector<const Analyzer*> all = {
        &loudness,
        &tempo,
        &beats,
        &key,
    };
    return all;
}

const Analyzer* find_analyzer(const std::string& id) {
    for (const auto* a : registry())
        if (a->info().id == id) return a;
    return nullptr;
}

}  // namespace harmony::analyzers
