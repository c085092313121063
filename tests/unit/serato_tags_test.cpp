// Serato data written by --write-tags --serato, read back with TagLib's frame API and decoded by an
// independent parser written here from the layouts in formats.md §1.3 (serato-tags / Mixxx).
#include <gtest/gtest.h>
#include <taglib/generalencapsulatedobjectframe.h>
#include <taglib/id3v2tag.h>
#include <taglib/textidentificationframe.h>
#include <taglib/wavfile.h>

#include <cmath>
#include <map>
#include <string>

#include "dsp/synth.hpp"
#include "export_test_maps.hpp"
#include "io/wav_writer.hpp"
#include "support/test_support.hpp"
#include "tags/serato.hpp"
#include "tags/tag_writer.hpp"

using namespace harmony;

namespace {

std::map<std::string, std::string> geobs(const std::string& path) {
    std::map<std::string, std::string> out;
    TagLib::RIFF::WAV::File f(path.c_str());
    for (auto* fr : f.ID3v2Tag()->frameList("GEOB")) {
        auto* g = dynamic_cast<TagLib::ID3v2::GeneralEncapsulatedObjectFrame*>(fr);
        if (g) out[g->description().to8Bit(true)] = std::string(g->object().data(), g->object().size());
    }
    return out;
}

struct Entry {
    std::string type, body;
};
std::vector<Entry> markers2_entries(const std::string& payload) {
    EXPECT_EQ(payload.substr(0, 2), std::string("\x01\x01", 2));
    const std::string inner = test::base64_decode(payload.substr(2));
    EXPECT_EQ(inner.substr(0, 2), std::string("\x01\x01", 2));
    std::vector<Entry> out;
    size_t p = 2;
    while (p < inner.size() && inner[p] != '\0') {
        const size_t end = inner.find('\0', p);
        const std::uint32_t len = test::be_u32(inner, end + 1);
        out.push_back({inner.substr(p, end - p), inner.substr(end + 5, len)});
        p = end + 5 + len;
    }
    return out;
}

// The Markers2 CUE entries of a map as (milliseconds, name).
std::vector<std::pair<std::uint32_t, std::string>> hot_cues(const SongMap& m, CueSource source) {
    std::vector<std::pair<std::uint32_t, std::string>> out;
    for (const auto& e : markers2_entries(tags::serato::markers2(m, 0.0, true, source)))
        if (e.type == "CUE") out.emplace_back(test::be_u32(e.body, 2), std::string(e.body.c_str() + 12));
    return out;
}

std::string demo_wav(test::TempDir& dir) {
    const auto d = dsp::synth::make_demo_track(4.0, 120.0);
    const std::string wav = dir.file("a.wav");
    EXPECT_TRUE(io::write_wav16(wav, d.samples, 1, d.rate_hz).ok());
    return wav;
}

}  // namespace

TEST(SeratoTags, BeatGridMarkersAndAutotagsReadBack) {
    test::TempDir dir;
    const std::string wav = demo_wav(dir);
    const SongMap m = test::make_test_map(wav, 124.0, 9, true, 126.0);  // a tempo change: 2 markers
    tags::TagOptions o;
    o.serato = true;
    auto r = tags::write_tags(wav, m, o);
    ASSERT_TRUE(r.ok()) << r.error().message;
    const auto g = geobs(wav);
    ASSERT_EQ(g.count("Serato BeatGrid"), 1u);
    ASSERT_EQ(g.count("Serato Markers2"), 1u);
    ASSERT_EQ(g.count("Serato Autotags"), 1u);

    const std::string& bg = g.at("Serato BeatGrid");
    ASSERT_EQ(bg.substr(0, 2), std::string("\x01\x00", 2));
    const std::uint32_t n = test::be_u32(bg, 2);
    ASSERT_EQ(n, 2u);
    ASSERT_EQ(bg.size(), 6u + 8u * n + 1u);
    EXPECT_NEAR(test::be_f32(bg, 6), 0.5f, 1e-4);  // first marker at the first beat (WAV: no offset)
    EXPECT_EQ(test::be_u32(bg, 10), 32u);          // 32 beats to the tempo change
    EXPECT_NEAR(test::be_f32(bg, 14), 0.5 + 32 * 60.0 / 124.0, 2e-3);
    EXPECT_NEAR(test::be_f32(bg, 18), 126.0f, 0.05);  // terminal marker: BPM

    const std::string& at = g.at("Serato Autotags");
    EXPECT_EQ(at.substr(0, 2), std::string("\x01\x01", 2));
    EXPECT_EQ(std::string(at.c_str() + 2), "124.00");

    const auto entries = markers2_entries(g.at("Serato Markers2"));
    int cues = 0;
    bool lock_seen = false;
    for (const auto& e : entries) {
        if (e.type == "CUE") {
            ++cues;
            EXPECT_EQ(static_cast<int>(e.body[1]), cues - 1);  // index
            EXPECT_GE(test::be_u32(e.body, 2), 0u);
        }
        if (e.type == "BPMLOCK") lock_seen = e.body.size() == 1 && e.body[0] == 0;
    }
    EXPECT_GE(cues, 1);
    EXPECT_TRUE(lock_seen);
    // Written again with the same map: nothing changes.
    EXPECT_TRUE(tags::write_tags(wav, m, o)->changes.empty());
}

TEST(SeratoTags, ABpmLockAndHandSetCuesAreKept) {
    test::TempDir dir;
    const std::string wav = demo_wav(dir);
    // Serato's own data: TBPM 125, a locked BPM and one hand-set cue.
    {
        std::string inner("\x01\x01", 2);
        auto entry = [&](const std::string& type, const std::string& body) {
            inner += type + std::string(1, '\0');
            for (int s = 24; s >= 0; s -= 8) inner += static_cast<char>((body.size() >> s) & 0xff);
            inner += body;
        };
        entry("CUE", std::string("\x00\x00\x00\x00\x03\xe8\x00\xcc\x00\x00\x00\x00"
                                 "Drop\x00",
                                 17));
        entry("BPMLOCK", std::string("\x01", 1));
        inner += '\0';
        const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string b64;
        for (size_t i = 0; i < inner.size(); i += 3) {
            std::uint32_t v = static_cast<unsigned char>(inner[i]) << 16;
            if (i + 1 < inner.size()) v |= static_cast<unsigned char>(inner[i + 1]) << 8;
            if (i + 2 < inner.size()) v |= static_cast<unsigned char>(inner[i + 2]);
            const size_t chars = std::min<size_t>(4, inner.size() - i + 1);
            for (size_t k = 0; k < chars; ++k) b64 += alphabet[(v >> (18 - 6 * k)) & 63];
        }
        TagLib::RIFF::WAV::File f(wav.c_str());
        auto* g = new TagLib::ID3v2::GeneralEncapsulatedObjectFrame();
        g->setMimeType("application/octet-stream");
        g->setDescription("Serato Markers2");
        const std::string payload = std::string("\x01\x01", 2) + b64;
        g->setObject(TagLib::ByteVector(payload.data(), static_cast<unsigned>(payload.size())));
        f.ID3v2Tag()->addFrame(g);
        auto* bpm = new TagLib::ID3v2::TextIdentificationFrame("TBPM", TagLib::String::Latin1);
        bpm->setText("125");
        f.ID3v2Tag()->addFrame(bpm);
        ASSERT_TRUE(f.save());
    }
    const SongMap m = test::make_test_map(wav, 124.0, 9, true);
    tags::TagOptions o;
    o.serato = true;
    auto r = tags::write_tags(wav, m, o);
    ASSERT_TRUE(r.ok()) << r.error().message;
    for (const auto& c : r->changes) {
        EXPECT_NE(c.field, "TBPM");
        EXPECT_NE(c.field, "GEOB:Serato BeatGrid");
        EXPECT_NE(c.field, "GEOB:Serato Markers2");
    }
    const auto g = geobs(wav);
    EXPECT_EQ(g.count("Serato BeatGrid"), 0u);
    const auto entries = markers2_entries(g.at("Serato Markers2"));
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].type, "CUE");
    EXPECT_EQ(std::string(entries[0].body.c_str() + 12), "Drop");
    TagLib::RIFF::WAV::File f(wav.c_str());
    EXPECT_EQ(f.ID3v2Tag()->frameListMap()["TBPM"].front()->toString().to8Bit(), "125");
}

TEST(SeratoTags, StartCueFollowsTheDownbeatPolicy) {
    SongMap m = test::make_test_map("/music/p.wav", 124.0, 9, true);
    m.sections.reset();
    m.beats->grid.first_downbeat_s = m.beats->times_s[2];  // a two-beat pickup
    for (const bool trusted : {true, false}) {
        const auto entries = markers2_entries(tags::serato::markers2(m, 0.0, trusted));
        std::vector<std::uint32_t> starts;
        for (const auto& e : entries)
            if (e.type == "CUE") starts.push_back(test::be_u32(e.body, 2));
        ASSERT_EQ(starts.size(), 1u);
        const double t = trusted ? m.beats->times_s[2] : m.beats->times_s[0];
        EXPECT_EQ(starts[0], static_cast<std::uint32_t>(std::lround(1000.0 * t)));
    }
}

TEST(SeratoTags, HotCuesFollowTheCueSource) {
    // The map's sections: Intro A at 0, Chorus B at 16.5 s, Outro C at 40 s; phrases add one at 8.25 s.
    const SongMap m = test::make_test_map("/music/p.wav", 124.0, 9, true);
    using V = std::vector<std::pair<std::uint32_t, std::string>>;
    EXPECT_EQ(hot_cues(m, CueSource::kSections), (V{{0u, "Intro A"}, {16500u, "Chorus B"}, {40000u, "Outro C"}}));
    EXPECT_EQ(hot_cues(m, CueSource::kPhrases),
              (V{{0u, "Intro A"}, {8250u, "Intro A"}, {16500u, "Chorus B"}, {40000u, "Outro C"}}));
    EXPECT_EQ(hot_cues(m, CueSource::kNone), (V{{500u, "Start"}}));  // the bar anchor: the first downbeat
}

TEST(SeratoTags, HotCuesOfTheDjPhraseGrid) {
    const SongMap m = test::make_phrase_test_map("/music/p.flac");
    using V = std::vector<std::pair<std::uint32_t, std::string>>;
    EXPECT_EQ(
        hot_cues(m, CueSource::kPhrases32),
        (V{{500u, "Intro A"}, {16500u, "Verse B"}, {80500u, "Verse B 2"}, {96500u, "Chorus C"}, {144500u, "Outro D"}}));
    // 10 phrases of 8 bars, 8 hot cues: the section starts and the earliest four others.
    EXPECT_EQ(hot_cues(m, CueSource::kPhrases8), (V{{500u, "Intro A"},
                                                    {16500u, "Verse B"},
                                                    {32500u, "Verse B 2"},
                                                    {48500u, "Verse B 3"},
                                                    {64500u, "Verse B 4"},
                                                    {80500u, "Verse B 5"},
                                                    {96500u, "Chorus C"},
                                                    {144500u, "Outro D"}}));
}
