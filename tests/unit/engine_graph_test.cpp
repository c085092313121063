// Engine v2: the analysis graph (construction, failing and throwing analyzers, parallel runs,
// cancellation), typed configs validated before decoding, PCM input, the Song Map part traits.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <stop_token>
#include <thread>

#include "analyzers/analyzer.hpp"
#include "dsp/synth.hpp"
#include "harmony/engine.hpp"
#include "io/wav_writer.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/parts.hpp"
#include "serialize/song_map_json.hpp"
#include "support/test_support.hpp"

using namespace harmony;

namespace {

/// A chord segment with its time span, label and confidence only.
ChordSegment chord_segment(double start_s, double end_s, std::string label, double confidence) {
    ChordSegment s;
    s.start_s = start_s;
    s.end_s = end_s;
    s.label = std::move(label);
    s.confidence = confidence;
    return s;
}

// ---- the graph alone ------------------------------------------------------------------------

TEST(EngineGraph, OrderPutsInputsFirstAndKeepsTheGivenOrderOtherwise) {
    std::vector<pipeline::GraphNode> nodes{{"beats", {"tempo"}}, {"loudness", {}}, {"tempo", {}}};
    auto order = pipeline::topological_order(nodes);
    ASSERT_TRUE(order.ok()) << order.error().message;
    EXPECT_EQ(order.value(), (std::vector<std::size_t>{1, 2, 0}));
}

TEST(EngineGraph, CycleIsRefusedNamingItsNodes) {
    std::vector<pipeline::GraphNode> nodes{{"a", {"c"}}, {"b", {"a"}}, {"c", {"b"}}, {"d", {}}};
    auto order = pipeline::topological_order(nodes);
    ASSERT_FALSE(order.ok());
    EXPECT_EQ(order.error().code, ErrorCode::kInternal);
    EXPECT_NE(order.error().message.find("cycle"), std::string::npos);
    EXPECT_NE(order.error().message.find("a, b, c"), std::string::npos) << order.error().message;
}

TEST(EngineGraph, MissingInputIsRefused) {
    std::vector<pipeline::GraphNode> nodes{{"chords", {"beats"}}};
    auto order = pipeline::topological_order(nodes);
    ASSERT_FALSE(order.ok());
    EXPECT_NE(order.error().message.find("'chords' needs 'beats'"), std::string::npos) << order.error().message;
}

TEST(EngineGraph, FailedInputSkipsItsReadersOnlyAndSaysWhy) {
    std::vector<pipeline::GraphNode> nodes{{"a", {}}, {"b", {"a"}}, {"c", {"b"}}, {"d", {}}};
    std::atomic<int> ran{0};
    auto out = pipeline::run_graph(nodes, 3, {}, [&](std::size_t i) -> Result<void> {
        ++ran;
        if (i == 0) return make_error(ErrorCode::kNoAudioData, "no audio");
        return {};
    });
    EXPECT_EQ(ran.load(), 2);  // a and d
    EXPECT_EQ(out[0].state, pipeline::NodeState::kFailed);
    EXPECT_EQ(out[1].state, pipeline::NodeState::kSkipped);
    EXPECT_NE(out[1].error.message.find("'a' failed"), std::string::npos) << out[1].error.message;
    EXPECT_EQ(out[2].state, pipeline::NodeState::kSkipped);
    EXPECT_NE(out[2].error.message.find("'b' was skipped"), std::string::npos) << out[2].error.message;
    EXPECT_EQ(out[3].state, pipeline::NodeState::kDone);
}

TEST(EngineGraph, IndependentNodesRunAtTheSameTime) {
    // Two nodes that each wait until both have started: only a parallel runner finishes them.
    std::vector<pipeline::GraphNode> nodes{{"a", {}}, {"b", {}}};
    std::atomic<int> started{0};
    auto out = pipeline::run_graph(nodes, 2, {}, [&](std::size_t) -> Result<void> {
        ++started;
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (started.load() < 2 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
        return started.load() == 2 ? Result<void>{} : make_error(ErrorCode::kInternal, "ran alone");
    });
    EXPECT_EQ(out[0].state, pipeline::NodeState::kDone);
    EXPECT_EQ(out[1].state, pipeline::NodeState::kDone);
}

TEST(EngineGraph, CancellationLeavesLaterNodesUnstarted) {
    std::vector<pipeline::GraphNode> nodes{{"a", {}}, {"b", {"a"}}, {"c", {"b"}}};
    std::stop_source stop;
    std::atomic<int> ran{0};
    auto out = pipeline::run_graph(nodes, 1, stop.get_token(), [&](std::size_t) -> Result<void> {
        ++ran;
        stop.request_stop();
        return {};
    });
    EXPECT_EQ(ran.load(), 1);
    EXPECT_EQ(out[0].state, pipeline::NodeState::kDone);
    EXPECT_EQ(out[1].state, pipeline::NodeState::kCancelled);
    EXPECT_EQ(out[2].state, pipeline::NodeState::kCancelled);
}

// ---- fake analyzers through the whole engine -------------------------------------------------

/// Writes a chord timeline whose single segment's label says what it saw (so the test can check
/// what reached it): the tempo it read, or the shape of the audio buffer it asked for.
class Probe : public analyzers::Analyzer {
public:
    struct Config {
        std::string mode;
    };
    static AnalyzerInfo info(const std::string& id, std::vector<std::string> deps, const std::string& part) {
        AnalyzerInfo i;
        i.id = id;
        i.version = 1;
        i.summary = "test probe";
        i.depends_on = std::move(deps);
        i.produces = {part};
        i.params = {{"mode", "what to do", ParamType::kString, std::string("ok"), 0, 0, {}}};
        return i;
    }
    explicit Probe(Config c) : cfg_(std::move(c)) {}
    std::vector<analyzers::AudioRequest> audio_inputs() const override {
        if (cfg_.mode == "audio") return {{8000, 2}};
        return {};
    }
    Result<void> analyze(analyzers::Context& ctx) const override {
        if (cfg_.mode == "fail") return make_error(ErrorCode::kNoAudioData, "probe failed on purpose");
        if (cfg_.mode == "throw") throw std::runtime_error("probe threw on purpose");
        if (cfg_.mode == "wait") {
            while (!ctx.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            return make_error(ErrorCode::kCancelled, "cancelled");
        }
        Chords c;
        std::string label = "seen:";
        if (ctx.inputs.tempo && ctx.inputs.tempo->bpm) label += "tempo";
        if (cfg_.mode == "audio") {
            const AudioBuffer* a = ctx.audio ? ctx.audio({8000, 2}) : nullptr;
            if (a == nullptr) return make_error(ErrorCode::kInternal, "no audio buffer");
            label += std::to_string(a->sample_rate_hz) + "x" + std::to_string(a->channels) + ":" +
                     std::to_string(static_cast<int>(std::lround(a->duration_s() * 10)));
        }
        c.segments.push_back(chord_segment(0.0, 1.0, label, 1.0));
        c.confidence = 1.0;
        ctx.out.chords = std::move(c);
        return {};
    }

private:
    Config cfg_;
};

analyzers::AnalyzerDef probe_def(const std::string& id, std::vector<std::string> deps, const std::string& mode,
                                 const std::string& part = "chords") {
    analyzers::AnalyzerDef d;
    d.info = Probe::info(id, std::move(deps), part);
    d.info.params[0].default_value = mode;
    if (const auto* t = pipeline::find_part(part)) d.parts.push_back(t->part);
    d.create = [](const analyzers::ParamSet& p) -> Result<std::unique_ptr<const analyzers::Analyzer>> {
        return std::unique_ptr<const analyzers::Analyzer>(
            std::make_unique<const Probe>(Probe::Config{p.get_string("mode")}));
    };
    return d;
}

std::vector<float> demo(double seconds) {
    return dsp::synth::make_demo_track(seconds).samples;
}
int demo_rate() {
    return dsp::synth::make_demo_track(1.0).rate_hz;
}

TEST(EngineGraph, AnAnalyzerReadsItsInputsPartsAndItsAudioBuffer) {
    analyzers::testing::ExtraAnalyzers extra(
        {probe_def("probe_tempo", {"tempo"}, "ok"), probe_def("probe_audio", {}, "audio", "sections")});
    const auto x = demo(6.0);
    Engine engine;
    auto map = engine.analyze_pcm(x, 1, demo_rate(), {{"probe_tempo"}, {}});
    ASSERT_TRUE(map.ok()) << map.error().message;
    ASSERT_TRUE(map->chords && map->tempo);  // tempo ran because probe_tempo reads it
    EXPECT_EQ(map->chords->segments.at(0).label, "seen:tempo");
    EXPECT_EQ(map->chords->provenance.analyzer, "probe_tempo");

    // Whole-signal audio at 8 kHz stereo from a mono source at the demo's rate.
    analyzers::testing::ExtraAnalyzers audio({probe_def("probe_audio8k", {}, "audio")});
    auto m2 = engine.analyze_pcm(x, 1, demo_rate(), {{"probe_audio8k"}, {}});
    ASSERT_TRUE(m2.ok()) << m2.error().message;
    ASSERT_TRUE(m2->chords);
    EXPECT_EQ(m2->chords->segments.at(0).label, "seen:8000x2:60");
}

TEST(EngineGraph, FailingAndThrowingAnalyzersLoseOnlyTheirOwnResults) {
    analyzers::testing::ExtraAnalyzers extra({probe_def("probe_fail", {}, "fail"),
                                              probe_def("probe_reader", {"probe_fail"}, "ok", "sections"),
                                              probe_def("probe_throw", {}, "throw", "notes")});
    const auto x = demo(6.0);
    for (int threads : {1, 4}) {
        EngineOptions o;
        o.threads = threads;
        Engine engine(o);
        auto map =
            engine.analyze_pcm(x, 1, demo_rate(), {{"probe_fail", "probe_reader", "probe_throw", "loudness"}, {}});
        ASSERT_TRUE(map.ok()) << map.error().message;
        EXPECT_TRUE(map->loudness.has_value());
        EXPECT_FALSE(map->chords.has_value());
        EXPECT_FALSE(map->sections.has_value());
        EXPECT_FALSE(map->notes.has_value());
        std::string w;
        for (const auto& s : map->audio.warnings) w += s + "\n";
        EXPECT_NE(w.find("probe_fail failed: probe failed on purpose"), std::string::npos) << w;
        EXPECT_NE(w.find("probe_reader skipped: its input 'probe_fail' failed"), std::string::npos) << w;
        EXPECT_NE(w.find("probe_throw failed: unexpected exception: probe threw on purpose"), std::string::npos) << w;
    }
}

TEST(EngineGraph, AnalyzerWaitingForCancellationIsStopped) {
    analyzers::testing::ExtraAnalyzers extra({probe_def("probe_wait", {}, "wait")});
    const auto x = demo(4.0);
    std::stop_source stop;
    EngineOptions o;
    o.stop = stop.get_token();
    o.progress = [&](const Progress& p) {
        if (p.stage == "probe_wait") stop.request_stop();
    };
    Engine engine(o);
    auto map = engine.analyze_pcm(x, 1, demo_rate(), {{"probe_wait"}, {}});
    ASSERT_FALSE(map.ok());
    EXPECT_EQ(map.error().code, ErrorCode::kCancelled);
}

TEST(EngineGraph, WholeSignalBufferOverTheMemoryBudgetFailsThatAnalyzerClearly) {
    analyzers::testing::ExtraAnalyzers extra({probe_def("probe_big", {}, "audio")});
    const auto x = demo(6.0);
    EngineOptions o;
    o.memory_budget_mb = 0.1;  // 6 s at 8 kHz stereo is 0.37 MB
    Engine engine(o);
    auto map = engine.analyze_pcm(x, 1, demo_rate(), {{"probe_big", "loudness"}, {}});
    ASSERT_TRUE(map.ok()) << map.error().message;
    EXPECT_FALSE(map->chords.has_value());
    EXPECT_TRUE(map->loudness.has_value());
    std::string w;
    for (const auto& s : map->audio.warnings) w += s + "\n";
    EXPECT_NE(w.find("memory budget"), std::string::npos) << w;
}

// ---- the real analyzers ----------------------------------------------------------------------

std::string without_timings(SongMap m) {
    m.elapsed_s = 0;
    for (const auto& t : pipeline::parts())
        if (auto* p = t.provenance(m)) p->elapsed_s = 0;
    auto j = to_json(m);
    EXPECT_TRUE(j.ok());
    return j.ok() ? j.value() : std::string();
}

TEST(EngineV2, ParallelAndSerialRunsGiveTheSameMap) {
    test::TempDir dir;
    const auto demo_track = dsp::synth::make_demo_track(20.0);
    const auto path = dir.file("demo.wav");
    ASSERT_TRUE(io::write_wav16(path, demo_track.samples, 1, demo_track.rate_hz).ok());
    std::string first;
    for (int threads : {1, 2, 4}) {
        EngineOptions o;
        o.threads = threads;
        Engine engine(o);
        auto map = engine.analyze_file(path);
        ASSERT_TRUE(map.ok()) << map.error().message;
        const auto j = without_timings(map.value());
        if (first.empty())
            first = j;
        else
            EXPECT_EQ(j, first) << "threads=" << threads;
    }
}

TEST(EngineV2, ParallelAndSerialSegmentedRunsGiveTheSameMap) {
    const auto x = demo(70.0);
    std::string first;
    for (int threads : {1, 3}) {
        EngineOptions o;
        o.threads = threads;
        o.segment_s = 20.0;
        o.segment_overlap_s = 5.0;
        Engine engine(o);
        auto map = engine.analyze_pcm(x, 1, demo_rate());
        ASSERT_TRUE(map.ok()) << map.error().message;
        ASSERT_TRUE(map->tempo && map->tempo->bpm);
        EXPECT_NE(map->tempo->decision.find("segments"), std::string::npos) << map->tempo->decision;
        const auto j = without_timings(map.value());
        if (first.empty())
            first = j;
        else
            EXPECT_EQ(j, first) << "threads=" << threads;
    }
}

TEST(EngineV2, CrossFieldConfigErrorsComeBeforeAnyDecoding) {
    // The file does not exist: a request error must be reported first (usage error, exit 2).
    Engine engine;
    for (const auto& params : std::vector<std::map<std::string, std::string>>{
             {{"tempo.min_bpm", "150"}, {"tempo.max_bpm", "100"}},
             {{"key.reference_hz", "5"}},
         }) {
        auto map = engine.analyze_file("/nonexistent/file.mp3", {{}, params});
        ASSERT_FALSE(map.ok());
        EXPECT_EQ(map.error().code, ErrorCode::kInvalidArgument) << map.error().message;
        auto r = Engine::resolve({{}, params});
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    }
    // Even when the analyzer it configures is not selected.
    auto r = Engine::resolve({{"loudness"}, {{"tempo.min_bpm", "150"}, {"tempo.max_bpm", "100"}}});
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(Engine::resolve({{}, {{"key.reference_hz", "415"}}}).ok());
}

TEST(EngineV2, CancellationDuringDecodingAndDuringAnalysis) {
    const auto x = demo(30.0);
    for (const std::string stage : {"decode", "tempo"}) {
        std::stop_source stop;
        EngineOptions o;
        o.stop = stop.get_token();
        // The first report of the stage (decoding reports 0 before the first block) stops it.
        o.progress = [&, stage](const Progress& p) {
            if (p.stage == stage) stop.request_stop();
        };
        Engine engine(o);
        auto map = engine.analyze_pcm(x, 1, demo_rate());
        ASSERT_FALSE(map.ok()) << stage;
        EXPECT_EQ(map.error().code, ErrorCode::kCancelled) << stage;
    }
}

TEST(EngineV2, PcmInputMatchesTheSameAudioFromAFile) {
    test::TempDir dir;
    const auto d = dsp::synth::make_demo_track(20.0);
    const auto path = dir.file("demo.wav");
    // A float WAV is read back bit-exact, so the two paths see the same samples.
    ASSERT_TRUE(io::write_wav_float(path, d.samples, 1, d.rate_hz).ok());
    Engine engine;
    auto from_file = engine.analyze_file(path);
    auto from_pcm = engine.analyze_pcm(d.samples, 1, d.rate_hz);
    ASSERT_TRUE(from_file.ok() && from_pcm.ok());
    ASSERT_TRUE(from_file->tempo && from_pcm->tempo && from_pcm->tempo->bpm);
    EXPECT_EQ(*from_file->tempo->bpm, *from_pcm->tempo->bpm);
    ASSERT_TRUE(from_pcm->key && from_pcm->key->key);
    EXPECT_EQ(from_file->key->key->label, from_pcm->key->key->label);
    EXPECT_EQ(from_file->beats->times_s, from_pcm->beats->times_s);
    EXPECT_NEAR(from_file->loudness->integrated_lufs, from_pcm->loudness->integrated_lufs, 1e-9);
    EXPECT_EQ(from_pcm->audio.container, "pcm");
    EXPECT_NEAR(from_pcm->audio.duration_s, 20.0, 1e-9);
    EXPECT_EQ(from_pcm->audio.content_hash.rfind("xxh128:", 0), 0u);

    // Stereo: the same signal on both channels gives the same tempo.
    std::vector<float> stereo;
    for (float v : d.samples) {
        stereo.push_back(v);
        stereo.push_back(v);
    }
    auto st = engine.analyze_pcm(stereo, 2, d.rate_hz, {{"tempo"}, {}});
    ASSERT_TRUE(st.ok() && st->tempo && st->tempo->bpm);
    EXPECT_NEAR(*st->tempo->bpm, *from_pcm->tempo->bpm, 1e-6);
    EXPECT_EQ(st->audio.channels, 2);
}

TEST(EngineV2, BadPcmIsAClearError) {
    Engine engine;
    std::vector<float> x(44100, 0.1f);
    EXPECT_EQ(engine.analyze_pcm(x, 0, 44100).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(engine.analyze_pcm(x, 1, 10).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(engine.analyze_pcm(std::span<const float>(x.data(), 101), 2, 44100).error().code,
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(engine.analyze_pcm(std::span<const float>(), 1, 44100).error().code, ErrorCode::kNoAudioData);
    x[1234] = std::nanf("");
    auto r = engine.analyze_pcm(x, 1, 44100);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find("1234"), std::string::npos);
}

TEST(EngineV2, CacheKeyCoversConfigsRateAndSegments) {
    Engine a;
    auto k1 = a.cache_key({});
    auto k2 = a.cache_key({{}, {{"tempo.min_bpm", "50"}}});  // the default, spelt out
    auto k3 = a.cache_key({{}, {{"tempo.min_bpm", "85"}}});
    ASSERT_TRUE(k1.ok() && k2.ok() && k3.ok());
    EXPECT_EQ(k1.value(), k2.value());
    EXPECT_NE(k1.value(), k3.value());
    EngineOptions o;
    o.segment_s = 0;
    EXPECT_NE(Engine(o).cache_key({}).value(), k1.value());
    EngineOptions r;
    r.analysis_rate_hz = 44100;
    EXPECT_NE(Engine(r).cache_key({}).value(), k1.value());
    EngineOptions t;
    t.threads = 1;  // threads never change the map, so not the key either
    EXPECT_EQ(Engine(t).cache_key({}).value(), k1.value());
    EXPECT_FALSE(a.cache_key({{}, {{"tempo.min_bpm", "150"}, {"tempo.max_bpm", "100"}}}).ok());
}

// ---- registry and part traits ----------------------------------------------------------------

TEST(EngineV2, EveryAnalyzerBuildsFromItsDefaultsAndProducesKnownParts) {
    for (const auto& d : analyzers::registry()) {
        auto p = analyzers::resolve_params(d.info, {});
        ASSERT_TRUE(p.ok()) << d.info.id;
        auto a = d.create(p.value());
        ASSERT_TRUE(a.ok()) << d.info.id << ": " << a.error().message;
        ASSERT_EQ(d.parts.size(), d.info.produces.size()) << d.info.id << " names a part that does not exist";
        for (const auto& dep : d.info.depends_on) EXPECT_NE(analyzers::find_analyzer(dep), nullptr) << dep;
    }
}

TEST(EngineV2, EveryPartHasASchemaFragmentAndRoundTripsThroughJson) {
    const auto schema = nlohmann::json::parse(serialize::schema_text());
    SongMap m;
    m.tempo = Tempo{};
    m.tempo->bpm = 120;
    m.tempo->curve = {{1.0, 120.0}};
    m.beats = Beats{};
    m.beats->times_s = {1.0, 1.5};
    m.beats->positions = {1, 2};
    m.downbeats = Downbeats{};
    m.downbeats->times_s = {1.0};
    m.meter = Meter{};
    m.key = Key{};
    m.key->segments = {{1.0, 2.0, {}, 0.5}};
    m.loudness = Loudness{};
    m.chords = Chords{};
    m.chords->segments = {chord_segment(1.0, 2.0, "A:min", 0.5)};
    m.sections = Sections{};
    m.sections->segments = {{1.0, 2.0, "A", 0.5, "verse", 4}};
    m.notes = Notes{};
    m.notes->melody = {{1.0, 1.5, 69, 0.8}};
    m.lyrics = Lyrics{};
    m.lyrics->lines = {{1.0, 2.0, "la"}};
    m.stems = Stems{};
    for (const auto& t : pipeline::parts()) {
        EXPECT_TRUE(schema.contains(nlohmann::json::json_pointer(std::string(t.schema_pointer)))) << t.name;
        ASSERT_TRUE(t.present(m)) << t.name;
        ASSERT_NE(t.provenance(m), nullptr) << t.name;
        EXPECT_EQ(pipeline::find_part(t.name), &t);
        SongMap back;
        t.from_json(t.to_json(m), back);
        EXPECT_TRUE(t.present(back)) << t.name;
        EXPECT_EQ(t.to_json(back), t.to_json(m)) << t.name;
    }
    pipeline::shift_times(m, 10.0);
    EXPECT_DOUBLE_EQ(m.tempo->curve[0].time_s, 11.0);
    EXPECT_DOUBLE_EQ(m.beats->times_s[1], 11.5);
    EXPECT_DOUBLE_EQ(m.downbeats->times_s[0], 11.0);
    EXPECT_DOUBLE_EQ(m.key->segments[0].end_s, 12.0);
    EXPECT_DOUBLE_EQ(m.chords->segments[0].start_s, 11.0);
    EXPECT_DOUBLE_EQ(m.sections->segments[0].start_s, 11.0);
    EXPECT_DOUBLE_EQ(m.notes->melody[0].offset_s, 11.5);
    EXPECT_DOUBLE_EQ(m.lyrics->lines[0].start_s, 11.0);
    SongMap to;
    for (const auto& t : pipeline::parts()) t.move_to(m, to);
    for (const auto& t : pipeline::parts()) {
        EXPECT_FALSE(t.present(m)) << t.name;
        EXPECT_TRUE(t.present(to)) << t.name;
    }
}

}  // namespace
