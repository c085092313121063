// The one explicit list of analyzers, in default run order. Adding an analyzer = its folder plus
// one line here.
#include "analyzers/analyzer.hpp"
#include "analyzers/beats/beats.hpp"
#include "analyzers/chords/chords.hpp"
#include "analyzers/defaults.hpp"
#include "analyzers/key/key.hpp"
#include "analyzers/loudness/loudness.hpp"
#include "analyzers/sections/sections.hpp"
#include "analyzers/stems/stems.hpp"
#include "analyzers/tempo/tempo.hpp"

namespace harmony::analyzers {

namespace {
std::vector<AnalyzerDef>& storage() {
    static std::vector<AnalyzerDef> all = {
        define<LoudnessAnalyzer>(), define<TempoAnalyzer>(),    define<BeatsAnalyzer>(), define<KeyAnalyzer>(),
        define<ChordsAnalyzer>(),   define<SectionsAnalyzer>(), define<StemsAnalyzer>(),
    };
    return all;
}
}  // namespace

const std::vector<AnalyzerDef>& registry() {
    return storage();
}

bool in_default_set(std::string_view id) {
    // chords: its half-beat features are kept for the whole file (about 240 MB per hour of audio
    // measured on a 1-hour FLAC), so a 10-hour mix would need gigabytes; opt-in (--only ...,chords)
    // until it runs on segments like tempo, beats and key.
    // stems: slow (about a third of real time on one core) and it writes files: on with --stems DIR
    // or --only ...,stems.
    return id != "chords" && id != "stems";
}

const AnalyzerDef* find_analyzer(std::string_view id) {
    for (const auto& d : registry())
        if (d.info.id == id) return &d;
    return nullptr;
}

namespace testing {

ExtraAnalyzers::ExtraAnalyzers(std::vector<AnalyzerDef> defs) : count_(defs.size()) {
    for (auto& d : defs) storage().push_back(std::move(d));
}

ExtraAnalyzers::~ExtraAnalyzers() {
    storage().resize(storage().size() - count_);
}

}  // namespace testing

}  // namespace harmony::analyzers
