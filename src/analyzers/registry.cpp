// The one explicit list of analyzers, in default run order. Adding an analyzer = its folder plus
// one line here.
#include "analyzers/analyzer.hpp"
#include "analyzers/beats/beats.hpp"
#include "analyzers/chords/chords.hpp"
#include "analyzers/defaults.hpp"
#include "analyzers/key/key.hpp"
#include "analyzers/loudness/loudness.hpp"
#include "analyzers/notes/notes.hpp"
#include "analyzers/sections/sections.hpp"
#include "analyzers/stems/stems.hpp"
#include "analyzers/tempo/tempo.hpp"

namespace harmony::analyzers {

namespace {
std::vector<AnalyzerDef>& storage() {
    static std::vector<AnalyzerDef> all = {
        define<LoudnessAnalyzer>(), define<TempoAnalyzer>(),    define<BeatsAnalyzer>(), define<KeyAnalyzer>(),
        define<ChordsAnalyzer>(),   define<SectionsAnalyzer>(), define<NotesAnalyzer>(), define<StemsAnalyzer>(),
    };
    return all;
}
}  // namespace

const std::vector<AnalyzerDef>& registry() {
    return storage();
}

bool in_default_set(std::string_view id) {
    // Every analyzer with memory flat in the file's length and a cost within the default budget runs
    // by default (chords runs on segments since its merge landed; peak RSS in its README).
    // notes: about 1.3 CPU-s per 3-minute song and ~1.7 MB per minute of audio (not segmented yet;
    // src/analyzers/notes/README.md), over the default set's budget: opt-in (--only ...,notes).
    // stems: slow (about a tenth of real time on one core) and it writes files: on with --stems DIR
    // or --only ...,stems.
    return id != "notes" && id != "stems";
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
