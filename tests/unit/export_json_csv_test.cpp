// Song Map JSON round trip (to_json -> song_map_from_json) and the JSON / CSV exports.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "export_test_maps.hpp"
#include "harmony/engine.hpp"
#include "harmony/export.hpp"

using namespace harmony;

TEST(ExportFormats, NamesParseBothWays) {
    for (const char* n : {"json", "csv", "jams", "beats", "lab", "rekordbox", "traktor", "m3u"}) {
        auto f = parse_export_format(n);
        ASSERT_TRUE(f.ok()) << n;
        EXPECT_EQ(export_format_name(*f), n);
        EXPECT_FALSE(export_content_type(*f).empty());
        EXPECT_EQ(export_file_extension(*f).front(), '.');
    }
    EXPECT_EQ(parse_export_format("REKORDBOX").value(), ExportFormat::kRekordboxXml);
    EXPECT_EQ(parse_export_format("nml").value(), ExportFormat::kTraktorNml);
    EXPECT_EQ(parse_export_format("mp3").error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(parse_key_notation("camelot").value(), KeyNotation::kCamelot);
    EXPECT_EQ(parse_key_notation("openkey").value(), KeyNotation::kOpenKey);
    EXPECT_FALSE(parse_key_notation("solfege").ok());
}

TEST(SongMapFromJson, RoundTripIsExact) {
    const SongMap m = test::make_test_map("/music/a b/Song & Co.mp3", 124.0, 9, true, 126.0);
    auto text = to_json(m);
    ASSERT_TRUE(text.ok()) << text.error().message;
    auto back = song_map_from_json(*text);
    ASSERT_TRUE(back.ok()) << back.error().message;
    auto text2 = to_json(*back);
    ASSERT_TRUE(text2.ok());
    EXPECT_EQ(*text, *text2);
    EXPECT_EQ(back->audio.path, m.audio.path);
    ASSERT_TRUE(back->key && back->key->key);
    EXPECT_EQ(back->key->key->camelot, "8A");
    EXPECT_EQ(back->beats->times_s.size(), m.beats->times_s.size());
    EXPECT_EQ(back->sections->segments[1].label, "B");
    EXPECT_EQ(back->sections->segments[1].function, "chorus");
    EXPECT_EQ(back->sections->segments[1].bars, 12);
    EXPECT_EQ(back->sections->phrases.size(), 4u);
    EXPECT_EQ(std::get<double>(back->tempo->provenance.params.at("min_bpm")), 78.0);
}

TEST(SongMapFromJson, NoTempoAndNoKeyRoundTrip) {
    SongMap m = test::make_test_map("x.wav", 120.0, 0, false);
    m.tempo->bpm.reset();
    m.tempo->no_tempo_reason = "silence";
    m.key->key.reset();
    m.key->no_key_reason = "atonal";
    auto text = to_json(m);
    ASSERT_TRUE(text.ok()) << text.error().message;
    auto back = song_map_from_json(*text);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_FALSE(back->tempo->bpm.has_value());
    EXPECT_EQ(back->tempo->no_tempo_reason, "silence");
    EXPECT_FALSE(back->key->key.has_value());
    EXPECT_EQ(back->key->no_key_reason, "atonal");
}

TEST(SongMapFromJson, RefusesInvalidInput) {
    EXPECT_EQ(song_map_from_json("{not json").error().code, ErrorCode::kSchemaViolation);
    EXPECT_EQ(song_map_from_json("{}").error().code, ErrorCode::kSchemaViolation);
    EXPECT_EQ(song_map_from_json("[1,2]").error().code, ErrorCode::kSchemaViolation);
}

TEST(ExportJson, OneMapIsAnObjectSeveralAnArray) {
    const auto a = test::make_test_map("a.mp3", 124.0, 9, true);
    const auto b = test::make_test_map("b.mp3", 128.0, 0, false);
    auto one = export_song_maps({a}, ExportFormat::kJson);
    ASSERT_TRUE(one.ok()) << one.error().message;
    EXPECT_TRUE(nlohmann::json::parse(*one).is_object());
    EXPECT_TRUE(song_map_from_json(*one).ok());
    auto two = export_song_maps({a, b}, ExportFormat::kJson);
    ASSERT_TRUE(two.ok());
    const auto j = nlohmann::json::parse(*two);
    ASSERT_TRUE(j.is_array());
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(j[1]["audio"]["path"], "b.mp3");
    EXPECT_EQ(export_song_maps({}, ExportFormat::kJson).error().code, ErrorCode::kInvalidArgument);
}

namespace {
std::vector<std::string> csv_fields(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cur += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cur += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}
std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) {
        if (!l.empty() && l.back() == '\r') l.pop_back();
        out.push_back(l);
    }
    return out;
}
}  // namespace

TEST(ExportCsv, OneRowPerTrackWithQuoting) {
    const auto a = test::make_test_map("/music/Song, \"live\".mp3", 124.0, 9, true);
    auto b = test::make_test_map("/music/b.mp3", 128.0, 1, true);
    b.tempo->bpm.reset();
    b.tempo->no_tempo_reason = "silence";
    ExportOptions o;
    o.key_notation = KeyNotation::kCamelot;
    auto csv = export_song_maps({a, b}, ExportFormat::kCsv, o);
    ASSERT_TRUE(csv.ok()) << csv.error().message;
    const auto lines = lines_of(*csv);
    ASSERT_EQ(lines.size(), 3u);
    const auto header = csv_fields(lines[0]);
    const auto r1 = csv_fields(lines[1]);
    const auto r2 = csv_fields(lines[2]);
    ASSERT_EQ(r1.size(), header.size());
    ASSERT_EQ(r2.size(), header.size());
    auto col = [&](const std::string& name) {
        for (size_t i = 0; i < header.size(); ++i)
            if (header[i] == name) return i;
        ADD_FAILURE() << "no column " << name;
        return size_t{0};
    };
    EXPECT_EQ(r1[col("path")], "/music/Song, \"live\".mp3");
    EXPECT_EQ(r1[col("bpm")], "124.00");
    EXPECT_EQ(r1[col("key")], "8A");
    EXPECT_EQ(r1[col("key_label")], "A minor");
    EXPECT_EQ(r1[col("open_key")], "1m");
    EXPECT_EQ(r1[col("integrated_lufs")], "-9.00");
    EXPECT_FALSE(r1[col("energy")].empty());
    EXPECT_EQ(r2[col("bpm")], "");
    EXPECT_EQ(r2[col("key")], "12A");
    o.key_notation = KeyNotation::kStandard;
    const auto std_rows = lines_of(export_song_maps({b}, ExportFormat::kCsv, o).value());
    EXPECT_EQ(csv_fields(std_rows[1])[col("key")], "Dbm");
}

TEST(Energy, LouderAndFasterIsHigherAndBounded) {
    const auto quiet_slow = test::make_test_map("a", 80.0, 0, false, 0.0, -20.0);
    const auto loud_fast = test::make_test_map("b", 174.0, 0, false, 0.0, -6.0);
    const auto e1 = energy_level(quiet_slow);
    const auto e2 = energy_level(loud_fast);
    ASSERT_TRUE(e1 && e2);
    EXPECT_LT(*e1, *e2);
    EXPECT_GE(*e1, 1);
    EXPECT_LE(*e2, 10);
    SongMap none = quiet_slow;
    none.loudness.reset();
    EXPECT_FALSE(energy_level(none).has_value());
}
