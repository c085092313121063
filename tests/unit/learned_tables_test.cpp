// Provenance of the learned tables and constants (tools/provenance.py writes the format): every
// generated table says which script, data, random seed and library versions made it, and carries the
// SHA-256 of its body; the constants inside analyzer sources are described in
// src/analyzers/rhythm/learned_constants.provenance with the SHA-256 of their initializer. A hand
// edit of a table or constant changes the hash and fails here. No ../shared, no python.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

/// SHA-256 (FIPS 180-4) of a byte string, as lower-case hex.
std::string sha256(const std::string& msg) {
    static constexpr std::array<std::uint32_t, 64> k = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    std::array<std::uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::string m = msg;
    const std::uint64_t bits = static_cast<std::uint64_t>(msg.size()) * 8;
    m.push_back(static_cast<char>(0x80));
    while (m.size() % 64 != 56) m.push_back('\0');
    for (int i = 7; i >= 0; --i) m.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
    auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
    for (size_t off = 0; off < m.size(); off += 64) {
        std::array<std::uint32_t, 64> w{};
        for (size_t i = 0; i < 16; ++i)
            for (size_t b = 0; b < 4; ++b) w[i] = (w[i] << 8) | static_cast<unsigned char>(m[off + 4 * i + b]);
        for (size_t i = 16; i < 64; ++i) {
            const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        std::array<std::uint32_t, 8> v = h;
        for (size_t i = 0; i < 64; ++i) {
            const std::uint32_t s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
            const std::uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
            const std::uint32_t t1 = v[7] + s1 + ch + k[i] + w[i];
            const std::uint32_t s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
            const std::uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            const std::uint32_t t2 = s0 + maj;
            v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
        }
        for (size_t i = 0; i < 8; ++i) h[i] += v[i];
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (std::uint32_t x : h)
        for (int s = 28; s >= 0; s -= 4) out.push_back(hex[(x >> s) & 0xf]);
    return out;
}

std::string source_dir() {
    return HARMONY_SOURCE_DIR;
}

std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

/// "key: value" lines; a line that starts with two spaces continues the previous value.
std::map<std::string, std::string> parse_fields(const std::vector<std::string>& lines) {
    std::map<std::string, std::string> out;
    std::string last;
    for (const auto& line : lines) {
        if (line.rfind("  ", 0) == 0 && !last.empty()) {
            out[last] += " " + line.substr(line.find_first_not_of(' '));
            continue;
        }
        const auto colon = line.find(": ");
        if (colon == std::string::npos) continue;
        last = line.substr(0, colon);
        out[last] = line.substr(colon + 2);
    }
    return out;
}

// Fields every provenance record must have (tools/provenance.py FIELDS).
const char* const kFields[] = {"script", "command", "data", "random seed", "libraries", "date", "reproduce"};

void expect_fields(const std::map<std::string, std::string>& f, const std::string& what) {
    for (const char* name : kFields) {
        const auto it = f.find(name);
        EXPECT_TRUE(it != f.end() && !it->second.empty()) << what << ": no '" << name << "' field";
    }
    if (f.count("date")) {
        EXPECT_TRUE(std::regex_search(f.at("date"), std::regex("^\\d{4}-\\d{2}-\\d{2}"))) << what;
    }
    // The training data names its corpus renders by seed (or says it is something else explicitly).
    if (f.count("data")) {
        EXPECT_NE(f.at("data").find("--seed"), std::string::npos) << what << ": " << f.at("data");
    }
    // The script is a file of the repository, unless the record says plainly that none was committed.
    if (f.count("script") && f.at("script").rfind("none", 0) != 0) {
        const std::string script = f.at("script").substr(0, f.at("script").find(' '));
        EXPECT_TRUE(fs::exists(source_dir() + "/" + script)) << what << ": script " << script << " not found";
    }
}

struct Table {
    std::map<std::string, std::string> fields;
    std::string body;
    bool has_block = false;
};

/// A generated table: line 1, then the provenance block up to '// end of provenance', then the body.
Table read_table(const std::string& rel) {
    const std::string text = slurp(source_dir() + "/" + rel);
    Table t;
    const std::string end = "\n// end of provenance\n";
    const auto e = text.find(end);
    if (e == std::string::npos) return t;
    t.has_block = true;
    t.body = text.substr(e + end.size());
    std::vector<std::string> lines;
    std::istringstream ss(text.substr(0, e));
    std::string line;
    while (std::getline(ss, line))
        if (line.rfind("// ", 0) == 0) lines.push_back(line.substr(3));
    t.fields = parse_fields(lines);
    return t;
}

/// The initializer of `symbol` in a source file as canonical text: the comma-separated tokens between
/// '=' and ';' without whitespace and braces ("0.605,0.44696,..."), as tools/provenance.py hashes it.
std::string canonical_initializer(const std::string& rel, const std::string& symbol, int& matches) {
    const std::string text = slurp(source_dir() + "/" + rel);
    const std::regex re("\\b" + symbol + "\\s*(\\[[^\\]]*\\])?\\s*=\\s*([^;]*);");
    matches = 0;
    std::string init;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
        ++matches;
        init = (*it)[2].str();
    }
    std::string squeezed;
    for (char c : init)
        if (!std::isspace(static_cast<unsigned char>(c)) && c != '{' && c != '}') squeezed.push_back(c);
    std::string out;
    std::istringstream ss(squeezed);
    std::string tok;
    while (std::getline(ss, tok, ','))
        if (!tok.empty()) out += (out.empty() ? "" : ",") + tok;
    return out;
}

}  // namespace

TEST(LearnedTables, Sha256MatchesTheStandardVectors) {
    EXPECT_EQ(sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(LearnedTables, GeneratedTablesMatchTheirRecordedHash) {
    for (const char* rel : {"src/analyzers/rhythm/octave_gbdt.inc", "src/analyzers/key/key_model.hpp",
                            "src/analyzers/chords/chords_model.inc", "src/analyzers/sections/boundary_model.inc",
                            "src/analyzers/notes/notes_model.inc", "src/analyzers/rhythm/beat_model.inc"}) {
        SCOPED_TRACE(rel);
        const Table t = read_table(rel);
        ASSERT_TRUE(t.has_block) << "no provenance block (tools/provenance.py)";
        expect_fields(t.fields, rel);
        ASSERT_TRUE(t.fields.count("body sha256"));
        EXPECT_EQ(sha256(t.body), t.fields.at("body sha256"))
            << "the table was edited by hand, or regenerated without its provenance: re-run its script";
        EXPECT_GT(t.body.size(), 1000u);
    }
}

TEST(LearnedTables, EveryGeneratedFileUnderSrcHasProvenance) {
    // A new table written by a script in tools/ must carry the block too.
    int found = 0;
    for (const auto& e : fs::recursive_directory_iterator(source_dir() + "/src")) {
        if (!e.is_regular_file()) continue;
        std::ifstream f(e.path());
        std::string first;
        std::getline(f, first);
        if (first.find("Generated by tools/") == std::string::npos) continue;
        ++found;
        const std::string rel = fs::relative(e.path(), source_dir()).string();
        const Table t = read_table(rel);
        EXPECT_TRUE(t.has_block) << rel << ": generated, but without a provenance block";
        if (t.has_block && t.fields.count("body sha256")) {
            EXPECT_EQ(sha256(t.body), t.fields.at("body sha256")) << rel;
        }
    }
    EXPECT_GE(found, 2);
}

TEST(LearnedTables, ConstantsInSourcesMatchTheManifest) {
    const std::string manifest = "src/analyzers/rhythm/learned_constants.provenance";
    std::istringstream ss(slurp(source_dir() + "/" + manifest));
    std::vector<std::vector<std::string>> blocks(1);
    std::string line;
    while (std::getline(ss, line)) {
        if (line.rfind("#", 0) == 0) continue;
        if (line.empty()) {
            if (!blocks.back().empty()) blocks.emplace_back();
            continue;
        }
        blocks.back().push_back(line);
    }
    if (blocks.back().empty()) blocks.pop_back();
    std::vector<std::string> names;
    for (const auto& b : blocks) {
        const auto f = parse_fields(b);
        ASSERT_TRUE(f.count("constant") && f.count("file") && f.count("values sha256")) << manifest;
        const std::string& name = f.at("constant");
        names.push_back(name);
        SCOPED_TRACE(name);
        expect_fields(f, name);
        int matches = 0;
        const std::string values = canonical_initializer(f.at("file"), name, matches);
        ASSERT_EQ(matches, 1) << name << " must be initialised exactly once in " << f.at("file");
        EXPECT_EQ(sha256(values), f.at("values sha256"))
            << name << " in " << f.at("file") << " differs from what its script wrote: " << values;
    }
    for (const char* must : {"kOctaveWeights", "kOctaveTemperature", "kOctaveWeightsV1"})
        EXPECT_NE(std::find(names.begin(), names.end(), must), names.end()) << must << " has no provenance";
}
