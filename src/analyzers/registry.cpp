// The one explicit list of analyzers, in default run order. Adding an analyzer = one line here.
#include "analyzers/analyzer.hpp"
#include "analyzers/loudness/loudness.hpp"

namespace harmony::analyzers {

const std::vector<const Analyzer*>& registry() {
    static const LoudnessAnalyzer loudness;
    static const std::vector<const Analyzer*> all = {
        &loudness,
    };
    return all;
}

const Analyzer* find_analyzer(const std::string& id) {
    for (const auto* a : registry())
        if (a->info().id == id) return a;
    return nullptr;
}

}  // namespace harmony::analyzers
