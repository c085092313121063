// The Song Map's JSON form is validated against the published schema before it leaves.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/key_notation.hpp"
#include "harmony/engine.hpp"
#include "harmony/export.hpp"
#include "serialize/song_map_json.hpp"
#include "support/test_support.hpp"

using namespace harmony;

namespace {
SongMap valid_map() {
    SongMap m;
    m.audio.path = "x.wav";
    m.audio.container = "wav";
    m.audio.codec = "pcm_s16le";
    m.audio.sample_rate_hz = 44100;
    m.audio.channels = 2;
    m.audio.duration_s = 10.0;
    m.audio.content_hash = "xxh128:0123456789abcdef0123456789abcdef";
    m.audio.analysis_rate_hz = 22050;
    Tempo t;
    t.bpm = 128.0;
    t.confidence = 0.9;
    t.range_min_bpm = 85;
    t.range_max_bpm = 170;
    t.alternatives = {{64.0, 0.1, "half"}};
    t.provenance = {"tempo", 1, {{"min_bpm", 85.0}}, 0.01};
    m.tempo = t;
    Key k;
    k.key = core::make_key_name(9, true);
    k.confidence = 0.8;
    k.compatible_camelot = core::compatible_camelot(9, true);
    k.provenance = {"key", 1, {}, 0.01};
    m.key = k;
    return m;
}
}  // namespace

TEST(SongMapJson, ValidMapSerialisesAndValidates) {
    auto text = to_json(valid_map());
    ASSERT_TRUE(text.ok()) << text.error().message;
    EXPECT_TRUE(validate_song_map_json(*text).ok());
    const auto j = nlohmann::json::parse(*text);
    EXPECT_EQ(j["schema_version"], "2.1.0");
    EXPECT_EQ(j["key"]["camelot"], "8A");
    EXPECT_EQ(j["tempo"]["bpm"], 128.0);
}

TEST(SongMapJson, NoTempoIsNullWithAReason) {
    auto m = valid_map();
    m.tempo->bpm.reset();
    m.tempo->no_tempo_reason = "silence";
    auto text = to_json(m);
    ASSERT_TRUE(text.ok()) << text.error().message;
    EXPECT_TRUE(nlohmann::json::parse(*text)["tempo"]["bpm"].is_null());
}

TEST(SongMapJson, InvalidMapsAreRefused) {
    auto bad_conf = valid_map();
    bad_conf.tempo->confidence = 1.5;
    auto r1 = to_json(bad_conf);
    ASSERT_FALSE(r1.ok());
    EXPECT_EQ(r1.error().code, ErrorCode::kSchemaViolation);

    auto nan_bpm = valid_map();
    nan_bpm.tempo->bpm = std::numeric_limits<double>::quiet_NaN();
    EXPECT_FALSE(to_json(nan_bpm).ok());

    auto bad_hash = valid_map();
    bad_hash.audio.content_hash = "md5:123";
    EXPECT_FALSE(to_json(bad_hash).ok());

    auto no_provenance = valid_map();
    no_provenance.key->provenance.analyzer.clear();
    EXPECT_FALSE(to_json(no_provenance).ok());

    auto negative_time = valid_map();
    Beats b;
    b.times_s = {0.5, -1.0};
    b.positions = {1, 2};
    b.provenance = {"beats", 1, {}, 0.0};
    negative_time.beats = b;
    EXPECT_FALSE(to_json(negative_time).ok());
}

TEST(SongMapJson, ValidatorRejectsForeignDocuments) {
    EXPECT_FALSE(validate_song_map_json("not json").ok());
    EXPECT_FALSE(validate_song_map_json("{}").ok());
    EXPECT_FALSE(
        validate_song_map_json(R"({"schema_version":"2.0.0","harmony_version":"x","elapsed_s":0,"audio":{}})").ok());
}

TEST(SongMapJson, MinorVersionsOfTheSameMajorAreRead) {
    // 2.1.0 only added an optional field (sections.phrase_grid): a 2.0.0 map is still valid and read.
    auto text = to_json(valid_map());
    ASSERT_TRUE(text.ok());
    auto j = nlohmann::json::parse(*text);
    for (const char* v : {"2.0.0", "2.1.0"}) {
        j["schema_version"] = v;
        EXPECT_TRUE(validate_song_map_json(j.dump()).ok()) << v;
        EXPECT_TRUE(song_map_from_json(j.dump()).ok()) << v;
    }
    for (const char* v : {"1.0.0", "2.2.0", "3.0.0"}) {
        j["schema_version"] = v;
        EXPECT_FALSE(validate_song_map_json(j.dump()).ok()) << v;
    }
}

TEST(SongMapJson, StemsListEachStemWithFileModelAndQuality) {
    auto m = valid_map();
    Stems s;
    s.model = "stems-mask+hpss-median";
    s.model_version = 1;
    s.sample_rate_hz = 44100;
    s.channels = 2;
    s.format = "flac-s24";
    s.confidence = 0.6;
    s.provenance = {"stems", 1, {{"format", std::string("flac")}}, 1.0};
    for (const char* name : {"vocals", "drums", "bass", "other"}) {
        Stem x;
        x.name = name;
        x.file = std::string("/tmp/s/") + name + ".flac";
        x.duration_s = 200.0;
        x.energy_db = -6.0;
        x.quality = 0.6;
        x.model = x.name == "vocals" ? "stems-mask" : "hpss-median";
        x.model_version = 1;
        s.stems.push_back(x);
    }
    s.stems[1].clipped_samples = 3;
    m.stems = s;
    auto text = to_json(m);
    ASSERT_TRUE(text.ok()) << text.error().message;
    const auto j = nlohmann::json::parse(*text);
    EXPECT_EQ(j["stems"]["format"], "flac-s24");
    EXPECT_EQ(j["stems"]["stems"][0]["model"], "stems-mask");
    EXPECT_EQ(j["stems"]["stems"][1]["clipped_samples"], 3);
    EXPECT_FALSE(j["stems"]["stems"][0].contains("clipped_samples"));
    auto back = song_map_from_json(*text);
    ASSERT_TRUE(back.ok()) << back.error().message;
    ASSERT_TRUE(back->stems.has_value());
    EXPECT_EQ(back->stems->stems[1].clipped_samples, 3);
    EXPECT_EQ(back->stems->stems[2].model, "hpss-median");
    EXPECT_EQ(back->stems->stems[0].file, "/tmp/s/vocals.flac");
    // A 1.0.0-style stem (a 'uri', no file, model or figures) is not a 2.0.0 Song Map.
    auto old = j;
    old["stems"]["stems"][0] = {{"name", "vocals"}, {"uri", "file:///tmp/s/vocals.wav"}};
    EXPECT_FALSE(validate_song_map_json(old.dump()).ok());
    auto unknown_format = j;
    unknown_format["stems"]["format"] = "mp3";
    EXPECT_FALSE(validate_song_map_json(unknown_format.dump()).ok());
}

#ifdef HARMONY_SOURCE_DIR
TEST(SongMapJson, EmbeddedSchemaIsThePublishedFile) {
    const auto published =
        nlohmann::json::parse(test::read_file(std::string(HARMONY_SOURCE_DIR) + "/schemas/song_map.schema.json"));
    EXPECT_EQ(nlohmann::json::parse(serialize::schema_text()), published);
}
#endif
