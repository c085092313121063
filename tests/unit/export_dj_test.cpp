// DJ and MIR exports: rekordbox XML (validated against tests/data/rekordbox.xsd with libxml2 and
// read back through libxml2's XPath as an independent reader), Traktor NML, M3U harmonic order,
// JAMS, MIREX .beats/.lab, and the variable-tempo grid sections.
#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "export/export_internal.hpp"
#include "export/grid.hpp"
#include "export_test_maps.hpp"
#include "harmony/export.hpp"

using namespace harmony;

namespace {

struct XmlDoc {
    explicit XmlDoc(const std::string& text)
        : doc(xmlReadMemory(text.data(), static_cast<int>(text.size()), "export.xml", "UTF-8", XML_PARSE_NONET)) {}
    ~XmlDoc() { xmlFreeDoc(doc); }
    XmlDoc(const XmlDoc&) = delete;
    XmlDoc& operator=(const XmlDoc&) = delete;

    // Values of an attribute on the nodes an XPath selects.
    std::vector<std::string> attrs(const std::string& xpath, const char* attr) const {
        std::vector<std::string> out;
        std::unique_ptr<xmlXPathContext, void (*)(xmlXPathContextPtr)> ctx(xmlXPathNewContext(doc),
                                                                           xmlXPathFreeContext);
        std::unique_ptr<xmlXPathObject, void (*)(xmlXPathObjectPtr)> res(
            xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(xpath.c_str()), ctx.get()), xmlXPathFreeObject);
        if (!res || !res->nodesetval) return out;
        for (int i = 0; i < res->nodesetval->nodeNr; ++i) {
            xmlChar* v = xmlGetProp(res->nodesetval->nodeTab[i], reinterpret_cast<const xmlChar*>(attr));
            out.push_back(v ? reinterpret_cast<const char*>(v) : "<missing>");
            xmlFree(v);
        }
        return out;
    }
    xmlDocPtr doc;
};

std::string schema_errors;
void collect_error(void*, const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    schema_errors += buf;
}

// True when the document validates against the XSD; errors in schema_errors.
bool validates(const XmlDoc& d, const std::string& xsd_path) {
    schema_errors.clear();
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(xsd_path.c_str());
    xmlSchemaPtr schema = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
    if (!schema) {
        schema_errors = "cannot parse " + xsd_path;
        return false;
    }
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    xmlSchemaSetValidErrors(vc, collect_error, collect_error, nullptr);
    const int rc = xmlSchemaValidateDoc(vc, d.doc);
    xmlSchemaFreeValidCtxt(vc);
    xmlSchemaFree(schema);
    return rc == 0;
}

std::string percent_decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<SongMap> dj_maps() {
    return {test::make_test_map("/music/Dj Set/Tëst & \"Song\" #1.mp3", 124.0, 9, true, 126.0),
            test::make_test_map("/music/b.flac", 128.0, 0, false)};
}

}  // namespace

TEST(GridSections, ConstantGridIsOneSection) {
    const auto m = test::make_test_map("a.mp3", 124.0, 9, true);
    const auto g = exporters::grid_sections(m);
    ASSERT_EQ(g.size(), 1u);
    EXPECT_DOUBLE_EQ(g[0].start_s, 0.5);
    EXPECT_DOUBLE_EQ(g[0].bpm, 124.0);
    EXPECT_EQ(g[0].beat_in_bar, 1);
}

TEST(GridSections, TempoChangeGivesTwoSectionsAtTheChange) {
    const auto m = test::make_test_map("a.mp3", 124.0, 9, true, 130.0);
    const auto g = exporters::grid_sections(m);
    ASSERT_EQ(g.size(), 2u);
    EXPECT_NEAR(g[0].bpm, 124.0, 0.05);
    EXPECT_NEAR(g[1].bpm, 130.0, 0.05);
    EXPECT_NEAR(g[1].start_s, m.beats->times_s[32], 1e-9);
    EXPECT_EQ(g[1].beat_in_bar, m.beats->positions[32]);
    // The first section's grid lands on the second section's start.
    EXPECT_NEAR(g[0].start_s + 32 * 60.0 / g[0].bpm, g[1].start_s, 1e-6);
}

TEST(ExportRekordbox, ValidatesAgainstTheSchemaAndReadsBack) {
    const auto maps = dj_maps();
    auto xml = export_song_maps(maps, ExportFormat::kRekordboxXml);
    ASSERT_TRUE(xml.ok()) << xml.error().message;
    EXPECT_EQ(xml->rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0), 0u);
    XmlDoc d(*xml);
    ASSERT_NE(d.doc, nullptr) << "not well-formed";
    EXPECT_TRUE(validates(d, std::string(HARMONY_SOURCE_DIR) + "/tests/data/rekordbox.xsd")) << schema_errors;

    EXPECT_EQ(d.attrs("/DJ_PLAYLISTS/COLLECTION", "Entries"), std::vector<std::string>{"2"});
    const auto ids = d.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK", "TrackID");
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_EQ(d.attrs("//NODE[@Name='Harmony']/TRACK", "Key"), ids);  // the playlist refers to the tracks
    EXPECT_EQ(d.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK", "AverageBpm"), (std::vector<std::string>{"124.00", "128.00"}));
    EXPECT_EQ(d.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK", "Tonality"), (std::vector<std::string>{"Am", "C"}));
    EXPECT_EQ(d.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK", "TotalTime"), (std::vector<std::string>{"60", "60"}));
    EXPECT_EQ(d.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK", "Kind"), (std::vector<std::string>{"MP3 File", "FLAC File"}));
    const auto loc = d.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[1]", "Location");
    ASSERT_EQ(loc.size(), 1u);
    EXPECT_EQ(loc[0], "file://localhost/music/Dj%20Set/T%C3%ABst%20%26%20%22Song%22%20%231.mp3");
    EXPECT_EQ(percent_decode(loc[0].substr(16)), maps[0].audio.path);

    // Variable-tempo grid: two TEMPO sections in ascending order; constant grid: one.
    const auto inizio = d.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[1]/TEMPO", "Inizio");
    const auto bpm = d.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[1]/TEMPO", "Bpm");
    ASSERT_EQ(inizio.size(), 2u);
    EXPECT_EQ(inizio[0], "0.500");
    EXPECT_LT(std::stod(inizio[0]), std::stod(inizio[1]));
    EXPECT_NEAR(std::stod(bpm[0]), 124.0, 0.05);
    EXPECT_NEAR(std::stod(bpm[1]), 126.0, 0.05);
    EXPECT_EQ(d.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[1]/TEMPO", "Metro"), (std::vector<std::string>{"4/4", "4/4"}));
    EXPECT_EQ(d.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[2]/TEMPO", "Bpm"), std::vector<std::string>{"128.00"});
    EXPECT_EQ(d.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[2]/TEMPO", "Battito"), std::vector<std::string>{"1"});

    // Cues at section starts: memory cues (Num -1) and hot cues A, B, C.
    EXPECT_EQ(d.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[1]/POSITION_MARK[@Num='-1']", "Start"),
              (std::vector<std::string>{"0.000", "16.500", "40.000"}));
    EXPECT_EQ(d.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[1]/POSITION_MARK[@Num!='-1']", "Name"),
              (std::vector<std::string>{"Intro A", "Chorus B", "Outro C"}));
}

TEST(ExportCues, PhrasesSectionsAndNoneReadBackWithLibxml2) {
    const std::vector<SongMap> maps = {test::make_test_map("/music/a.mp3", 124.0, 9, true)};
    ExportOptions o;
    o.cues = CueSource::kPhrases;
    auto xml = export_song_maps(maps, ExportFormat::kRekordboxXml, o);
    ASSERT_TRUE(xml.ok());
    XmlDoc d(*xml);
    ASSERT_NE(d.doc, nullptr);
    EXPECT_TRUE(validates(d, std::string(HARMONY_SOURCE_DIR) + "/tests/data/rekordbox.xsd")) << schema_errors;
    EXPECT_EQ(d.attrs("//TRACK/POSITION_MARK[@Num='-1']", "Start"),
              (std::vector<std::string>{"0.000", "8.250", "16.500", "40.000"}));
    EXPECT_EQ(d.attrs("//TRACK/POSITION_MARK[@Num='-1']", "Name"),
              (std::vector<std::string>{"Intro A", "Intro A", "Chorus B", "Outro C"}));
    o.cues = CueSource::kNone;  // only the grid start
    XmlDoc none(export_song_maps(maps, ExportFormat::kRekordboxXml, o).value());
    EXPECT_EQ(none.attrs("//TRACK/POSITION_MARK[@Num='-1']", "Name"), std::vector<std::string>{"Start"});

    // Traktor: the AutoGrid marker on pad 1, section cues (TYPE 0, milliseconds) on pads 2...
    o.cues = CueSource::kSections;
    XmlDoc nml(export_song_maps(maps, ExportFormat::kTraktorNml, o).value());
    ASSERT_NE(nml.doc, nullptr);
    EXPECT_EQ(nml.attrs("//ENTRY/CUE_V2[@TYPE='0']", "NAME"),
              (std::vector<std::string>{"Intro A", "Chorus B", "Outro C"}));
    EXPECT_EQ(nml.attrs("//ENTRY/CUE_V2[@TYPE='0']", "START"),
              (std::vector<std::string>{"0.000000", "16500.000000", "40000.000000"}));
    EXPECT_EQ(nml.attrs("//ENTRY/CUE_V2[@TYPE='0']", "HOTCUE"), (std::vector<std::string>{"1", "2", "3"}));
    o.cues = CueSource::kNone;
    XmlDoc nml_none(export_song_maps(maps, ExportFormat::kTraktorNml, o).value());
    EXPECT_TRUE(nml_none.attrs("//ENTRY/CUE_V2[@TYPE='0']", "NAME").empty());

    EXPECT_EQ(parse_cue_source("Phrases").value(), CueSource::kPhrases);
    EXPECT_FALSE(parse_cue_source("bars").ok());
}

TEST(ExportMirex, SectionsLabAndJamsSegments) {
    const auto m = test::make_test_map("/music/a.mp3", 120.0, 9, true);
    const auto lab = export_song_maps({m}, ExportFormat::kMirexSections);
    ASSERT_TRUE(lab.ok());
    EXPECT_EQ(lab.value(), "0.000000\t16.500000\tA\n16.500000\t40.000000\tB\n40.000000\t60.000000\tC\n");
    EXPECT_EQ(parse_export_format("sections-lab").value(), ExportFormat::kMirexSections);
    const auto j = nlohmann::json::parse(export_song_maps({m}, ExportFormat::kJams).value());
    for (const auto& a : j["annotations"])
        if (a["namespace"] == "segment_open") {
            EXPECT_EQ(a["data"][1]["value"], "chorus");
            EXPECT_EQ(a["sandbox"]["harmony_letters"][1], "B");
            EXPECT_EQ(a["sandbox"]["harmony_phrases"].size(), 4u);
        }
    SongMap none = m;
    none.sections.reset();
    EXPECT_EQ(export_song_maps({none}, ExportFormat::kMirexSections).error().code, ErrorCode::kInvalidArgument);
}

TEST(ExportRekordbox, SchemaRejectsABrokenDocument) {
    // The check has teeth: a TRACK without Location, a TEMPO without Bpm.
    XmlDoc d(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DJ_PLAYLISTS Version=\"1.0.0\"><PRODUCT Name=\"x\" Version=\"1\" "
        "Company=\"x\"/><COLLECTION Entries=\"1\"><TRACK TrackID=\"1\" TotalTime=\"3\"><TEMPO Inizio=\"0\" "
        "Metro=\"4/4\" Battito=\"1\"/></TRACK></COLLECTION></DJ_PLAYLISTS>");
    ASSERT_NE(d.doc, nullptr);
    EXPECT_FALSE(validates(d, std::string(HARMONY_SOURCE_DIR) + "/tests/data/rekordbox.xsd"));
}

TEST(ExportTraktor, EntriesWithKeyTempoAndAutoGrid) {
    auto nml = export_song_maps(dj_maps(), ExportFormat::kTraktorNml);
    ASSERT_TRUE(nml.ok()) << nml.error().message;
    XmlDoc d(*nml);
    ASSERT_NE(d.doc, nullptr) << "not well-formed";
    EXPECT_EQ(d.attrs("/NML", "VERSION"), std::vector<std::string>{"19"});
    EXPECT_EQ(d.attrs("/NML/COLLECTION", "ENTRIES"), std::vector<std::string>{"2"});
    EXPECT_EQ(d.attrs("/NML/COLLECTION/ENTRY/MUSICAL_KEY", "VALUE"), (std::vector<std::string>{"21", "0"}));
    EXPECT_EQ(d.attrs("/NML/COLLECTION/ENTRY/INFO", "KEY"), (std::vector<std::string>{"1m", "1d"}));
    EXPECT_EQ(d.attrs("/NML/COLLECTION/ENTRY/TEMPO", "BPM"), (std::vector<std::string>{"124.000000", "128.000000"}));
    EXPECT_EQ(d.attrs("/NML/COLLECTION/ENTRY/CUE_V2[@TYPE='4']", "START"),
              (std::vector<std::string>{"500.000000", "500.000000"}));
    EXPECT_EQ(d.attrs("/NML/COLLECTION/ENTRY/CUE_V2[@TYPE='4']", "NAME"),
              (std::vector<std::string>{"AutoGrid", "AutoGrid"}));
    EXPECT_EQ(d.attrs("/NML/COLLECTION/ENTRY[1]/LOCATION", "DIR"), std::vector<std::string>{"/:music/:Dj Set/:"});
    EXPECT_EQ(d.attrs("//PLAYLIST/ENTRY/PRIMARYKEY", "KEY")[1], "/:music/:b.flac");
}

TEST(ExportM3u, HarmonicOrderWithinTheBpmRange) {
    std::vector<SongMap> maps = {
        test::make_test_map("/m/e.mp3", 126.0, 4, true),   // 9A
        test::make_test_map("/m/a.mp3", 122.0, 9, true),   // 8A, slowest: first
        test::make_test_map("/m/x.mp3", 150.0, 6, false),  // 2B, far: last of the keyed ones
        test::make_test_map("/m/c.mp3", 124.0, 0, false),  // 8B (relative of 8A)
        test::make_test_map("/m/g.mp3", 128.0, 7, false),  // 9B
    };
    SongMap nokey = test::make_test_map("/m/n.mp3", 125.0, 0, false);
    nokey.key->key.reset();
    nokey.key->no_key_reason = "atonal";
    maps.push_back(nokey);
    ExportOptions o;
    o.key_notation = KeyNotation::kCamelot;
    auto m3u = export_song_maps(maps, ExportFormat::kM3u, o);
    ASSERT_TRUE(m3u.ok()) << m3u.error().message;
    std::istringstream in(*m3u);
    std::string line;
    std::vector<std::string> paths, infos;
    std::getline(in, line);
    EXPECT_EQ(line, "#EXTM3U");
    std::vector<std::string> clashes;  // "# clash: ..." comment lines before non-harmonic steps
    while (std::getline(in, line))
        (line.rfind("#EXTINF:", 0) == 0 ? infos : line.rfind("# clash", 0) == 0 ? clashes : paths).push_back(line);
    EXPECT_EQ(clashes, std::vector<std::string>{"# clash: key clash 9A -> 2B, tempo step 19.0 % (126.0 -> 150.0 BPM)"});
    ASSERT_EQ(paths.size(), 6u);
    EXPECT_EQ(paths,
              (std::vector<std::string>{"/m/a.mp3", "/m/c.mp3", "/m/g.mp3", "/m/e.mp3", "/m/x.mp3", "/m/n.mp3"}));
    EXPECT_EQ(infos[0], "#EXTINF:60,a [8A 122.0 BPM]");
}

TEST(ExportJams, NamespacesAndObservations) {
    const auto m = test::make_test_map("/music/a.mp3", 124.0, 9, true);
    auto text = export_song_maps({m}, ExportFormat::kJams);
    ASSERT_TRUE(text.ok()) << text.error().message;
    const auto j = nlohmann::json::parse(*text);
    EXPECT_EQ(j["file_metadata"]["duration"], 60.0);
    std::map<std::string, nlohmann::json> by_ns;
    for (const auto& a : j["annotations"]) by_ns[a["namespace"]] = a;
    ASSERT_TRUE(by_ns.count("tempo") && by_ns.count("beat") && by_ns.count("key_mode") && by_ns.count("chord") &&
                by_ns.count("segment_open"));
    EXPECT_EQ(by_ns["tempo"]["data"][0]["value"], 124.0);
    EXPECT_EQ(by_ns["key_mode"]["data"][0]["value"], "A:minor");
    EXPECT_EQ(by_ns["beat"]["data"].size(), m.beats->times_s.size());
    for (const auto& a : j["annotations"])
        for (const auto& o : a["data"])
            for (const char* f : {"time", "duration", "value", "confidence"}) EXPECT_TRUE(o.contains(f)) << f;
    EXPECT_EQ(export_song_maps({m, m}, ExportFormat::kJams).error().code, ErrorCode::kInvalidArgument);
}

TEST(ExportMirex, BeatsAndChordLab) {
    const auto m = test::make_test_map("/music/a.mp3", 120.0, 9, true);
    auto beats = export_song_maps({m}, ExportFormat::kMirexBeats);
    ASSERT_TRUE(beats.ok());
    EXPECT_EQ(beats->substr(0, 18), "0.500000\n1.000000\n");
    auto lab = export_song_maps({m}, ExportFormat::kMirexChords);
    ASSERT_TRUE(lab.ok());
    EXPECT_EQ(lab->substr(0, 26), "0.000000\t2.500000\tA:min\n2.");
    SongMap no_chords = m;
    no_chords.chords.reset();
    EXPECT_EQ(export_song_maps({no_chords}, ExportFormat::kMirexChords).error().code, ErrorCode::kInvalidArgument);
}

namespace {

/// The test map with a two-beat pickup (the first downbeat is the third beat) and the given
/// downbeat confidence; no sections, so the single cue is "Start" at the bar anchor.
SongMap pickup_map(double downbeat_confidence, double bpm2 = 0.0) {
    SongMap m = test::make_test_map("/music/p.flac", 124.0, 9, true, bpm2);
    auto& b = *m.beats;
    Downbeats d;
    for (size_t i = 0; i < b.times_s.size(); ++i) {
        b.positions[i] = static_cast<int>((i + 2) % 4) + 1;
        if (b.positions[i] == 1) d.times_s.push_back(b.times_s[i]);
    }
    b.grid.first_downbeat_s = b.times_s[2];
    d.confidence = downbeat_confidence;
    m.downbeats = d;
    m.sections.reset();
    return m;
}

}  // namespace

TEST(ExportDownbeats, UncertainBarPhaseFallsBackToBeatOne) {
    // Issue 20: exporters read the calibrated downbeat confidence; below --min-downbeat-confidence
    // (0.5: "more likely wrong than right", beats/README.md) beat 1 is the first beat, as DJ
    // software sets it when it knows no better.
    struct Case {
        DownbeatPolicy policy;
        double confidence;
        bool trusted;
    };
    for (const Case& c : {Case{DownbeatPolicy::kAuto, 0.9, true}, Case{DownbeatPolicy::kAuto, 0.3, false},
                          Case{DownbeatPolicy::kTrust, 0.3, true}, Case{DownbeatPolicy::kBeat1, 0.9, false}}) {
        SCOPED_TRACE("policy " + std::to_string(static_cast<int>(c.policy)) + " confidence " +
                     std::to_string(c.confidence));
        ExportOptions o;
        o.downbeats = c.policy;
        o.cues = CueSource::kNone;
        // a variable grid: the second section starts on beat 32, the 3rd beat of its bar
        const std::vector<SongMap> maps = {pickup_map(c.confidence), pickup_map(c.confidence, 130.0)};
        const double first = maps[0].beats->times_s[0], down = maps[0].beats->times_s[2];
        XmlDoc rb(export_song_maps(maps, ExportFormat::kRekordboxXml, o).value());
        ASSERT_NE(rb.doc, nullptr);
        EXPECT_EQ(rb.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[1]/TEMPO", "Battito"),
                  std::vector<std::string>{c.trusted ? "3" : "1"});
        EXPECT_EQ(rb.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[2]/TEMPO", "Battito"),
                  (c.trusted ? std::vector<std::string>{"3", "3"} : std::vector<std::string>{"1", "1"}));
        EXPECT_EQ(rb.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[1]/POSITION_MARK[@Num='-1']", "Start"),
                  std::vector<std::string>{exporters::fixed(c.trusted ? down : first, 3)});
        XmlDoc nml(export_song_maps(maps, ExportFormat::kTraktorNml, o).value());
        ASSERT_NE(nml.doc, nullptr);
        EXPECT_EQ(nml.attrs("/NML/COLLECTION/ENTRY[1]/CUE_V2[@TYPE='4']", "START"),
                  std::vector<std::string>{exporters::fixed(1000.0 * (c.trusted ? down : first), 6)});
        EXPECT_EQ(downbeats_trusted(maps[0], c.policy, 0.5), c.trusted);
    }
    // No downbeats at all: beat 1 whatever the policy.
    SongMap none = pickup_map(0.9);
    none.downbeats.reset();
    EXPECT_FALSE(downbeats_trusted(none, DownbeatPolicy::kTrust, 0.5));
    EXPECT_DOUBLE_EQ(bar_anchor_s(none, false), none.beats->times_s[0]);
    EXPECT_EQ(parse_downbeat_policy("BEAT1").value(), DownbeatPolicy::kBeat1);
    EXPECT_FALSE(parse_downbeat_policy("first").ok());
}

TEST(ExportKeyChanges, MemoryCuesAtEachKeyChange) {
    // Issue 20 item 10: DJ formats hold one key per track; a key change goes out as a cue named
    // after the new key (rekordbox memory cue, Traktor cue without a pad), none without changes.
    SongMap m = test::make_test_map("/music/k.flac", 124.0, 9, true);  // A minor
    Key& k = *m.key;
    k.segments = {{0.0, 30.0, core::make_key_name(9, true), 0.8}, {30.0, 60.0, core::make_key_name(4, true), 0.7}};
    const std::vector<SongMap> maps = {m, test::make_test_map("/music/one.flac", 124.0, 9, true)};
    ExportOptions o;
    o.cues = CueSource::kNone;
    XmlDoc rb(export_song_maps(maps, ExportFormat::kRekordboxXml, o).value());
    ASSERT_NE(rb.doc, nullptr);
    EXPECT_TRUE(validates(rb, std::string(HARMONY_SOURCE_DIR) + "/tests/data/rekordbox.xsd")) << schema_errors;
    EXPECT_EQ(rb.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[1]/POSITION_MARK[starts-with(@Name,'Key ')]", "Name"),
              std::vector<std::string>{"Key Em"});
    EXPECT_EQ(rb.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[1]/POSITION_MARK[@Name='Key Em']", "Num"),
              std::vector<std::string>{"-1"});
    EXPECT_EQ(rb.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[1]/POSITION_MARK[@Name='Key Em']", "Start"),
              std::vector<std::string>{"30.000"});
    EXPECT_TRUE(rb.attrs("/DJ_PLAYLISTS/COLLECTION/TRACK[2]/POSITION_MARK[starts-with(@Name,'Key ')]", "Name").empty());
    o.dj_key_notation = KeyNotation::kCamelot;
    XmlDoc nml(export_song_maps(maps, ExportFormat::kTraktorNml, o).value());
    ASSERT_NE(nml.doc, nullptr);
    EXPECT_EQ(nml.attrs("/NML/COLLECTION/ENTRY[1]/CUE_V2[@NAME='Key 9A']", "START"),
              std::vector<std::string>{"30000.000000"});
    EXPECT_EQ(nml.attrs("/NML/COLLECTION/ENTRY[1]/CUE_V2[@NAME='Key 9A']", "HOTCUE"), std::vector<std::string>{"-1"});
}

TEST(ExportCues, DjPhraseGridReadsBackInRekordboxAndTraktor) {
    const std::vector<SongMap> maps = {test::make_phrase_test_map("/music/p.flac")};
    ExportOptions o;
    o.cues = CueSource::kPhrases16;
    XmlDoc rb(export_song_maps(maps, ExportFormat::kRekordboxXml, o).value());
    ASSERT_NE(rb.doc, nullptr);
    EXPECT_EQ(rb.attrs("//TRACK/POSITION_MARK[@Num='-1']", "Start"),
              (std::vector<std::string>{"0.500", "16.500", "48.500", "80.500", "96.500", "128.500", "144.500"}));
    EXPECT_EQ(rb.attrs("//TRACK/POSITION_MARK[@Num!='-1']", "Num"),
              (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6"}));
    o.cues = CueSource::kPhrases32;
    XmlDoc rb32(export_song_maps(maps, ExportFormat::kRekordboxXml, o).value());
    EXPECT_EQ(rb32.attrs("//TRACK/POSITION_MARK[@Num='-1']", "Name"),
              (std::vector<std::string>{"Intro A", "Verse B", "Verse B 2", "Chorus C", "Outro D"}));
    EXPECT_EQ(rb32.attrs("//TRACK/POSITION_MARK[@Num='-1']", "Start"),
              (std::vector<std::string>{"0.500", "16.500", "80.500", "96.500", "144.500"}));
    // 8 bars: 10 memory cues, hot cues A-H on the section starts and the earliest other phrases.
    o.cues = CueSource::kPhrases8;
    XmlDoc rb8(export_song_maps(maps, ExportFormat::kRekordboxXml, o).value());
    EXPECT_EQ(rb8.attrs("//TRACK/POSITION_MARK[@Num='-1']", "Start").size(), 10u);
    EXPECT_EQ(
        rb8.attrs("//TRACK/POSITION_MARK[@Num!='-1']", "Start"),
        (std::vector<std::string>{"0.500", "16.500", "32.500", "48.500", "64.500", "80.500", "96.500", "144.500"}));

    // Traktor: every phrase a CUE_V2; pads 2-8 (7 of them) to the 4 section starts + 3 earliest.
    XmlDoc nml(export_song_maps(maps, ExportFormat::kTraktorNml, o).value());
    ASSERT_NE(nml.doc, nullptr);
    EXPECT_EQ(
        nml.attrs("//ENTRY/CUE_V2[@TYPE='0']", "START"),
        (std::vector<std::string>{"500.000000", "16500.000000", "32500.000000", "48500.000000", "64500.000000",
                                  "80500.000000", "96500.000000", "112500.000000", "128500.000000", "144500.000000"}));
    EXPECT_EQ(nml.attrs("//ENTRY/CUE_V2[@TYPE='0']", "HOTCUE"),
              (std::vector<std::string>{"1", "2", "3", "4", "5", "-1", "6", "-1", "-1", "7"}));
}
