// The multipart/form-data reader (uploads are parsed from disk): valid forms, malformed ones, and
// random mutations must never crash or leave part files behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "server/http/multipart.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

namespace fs = std::filesystem;
using server::http::multipart_boundary;
using server::http::parse_multipart_file;

std::string form(const std::string& b, const std::string& audio) {
    return "--" + b +
           "\r\nContent-Disposition: form-data; name=\"options\"\r\nContent-Type: application/json\r\n\r\n"
           "{\"only\":[\"key\"]}\r\n--" +
           b +
           "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"my \\\"song\\\".wav\"\r\n"
           "Content-Type: audio/wav\r\n\r\n" +
           audio + "\r\n--" + b + "--\r\n";
}

std::size_t files_with_prefix(const std::string& dir, const std::string& prefix) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string().rfind(prefix, 0) == 0;
    return n;
}

TEST(Multipart, Boundary) {
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc"), "abc");
    EXPECT_EQ(multipart_boundary("Multipart/Form-Data; charset=x; boundary=\"a b\""), "a b");
    EXPECT_EQ(multipart_boundary("audio/wav"), "");
}

TEST(Multipart, ParsesFieldsAndFiles) {
    TempDir d;
    std::string audio = "RIFF\r\n--notquitetheboundary\r\n" + std::string(100000, '\0') + "tail";
    write_file(d.file("body"), form("XyZ123", audio));
    auto parts = parse_multipart_file(d.file("body"), "XyZ123", d.file("body.part"));
    ASSERT_TRUE(parts.ok()) << parts.error().message;
    ASSERT_EQ(parts->size(), 2u);
    EXPECT_EQ((*parts)[0].name, "options");
    EXPECT_EQ((*parts)[0].value, "{\"only\":[\"key\"]}");
    EXPECT_EQ((*parts)[1].name, "file");
    EXPECT_EQ((*parts)[1].filename, "my \"song\".wav");
    EXPECT_EQ(read_file((*parts)[1].file), audio);
}

TEST(Multipart, MalformedBodiesAreRefusedWithoutLeftovers) {
    TempDir d;
    const std::string good = form("B", "abc");
    const std::vector<std::string> bad = {"",
                                          "no boundary here",
                                          "--B\r\n",
                                          "--B\r\nContent-Disposition: x\r\n",
                                          good.substr(0, good.size() - 12),
                                          "--B--",
                                          "--Bxx"};
    for (const auto& body : bad) {
        write_file(d.file("body"), body);
        auto r = parse_multipart_file(d.file("body"), "B", d.file("out"));
        if (r.ok()) {
            for (const auto& p : *r)
                if (!p.file.empty()) fs::remove(p.file);
        }
        EXPECT_EQ(files_with_prefix(d.path(), "out"), 0u) << body;
    }
}

TEST(Multipart, RandomMutationsNeverCrash) {
    TempDir d;
    std::mt19937 rng(7);
    const std::string good = form("bnd", std::string(300, 'a'));
    for (int i = 0; i < 2000; ++i) {
        std::string body = good;
        const int edits = 1 + static_cast<int>(rng() % 8);
        for (int e = 0; e < edits; ++e) {
            const auto pos = rng() % body.size();
            switch (rng() % 3) {
                case 0:
                    body[pos] = static_cast<char>(rng());
                    break;
                case 1:
                    body.erase(pos, 1 + rng() % 20);
                    break;
                default:
                    body.insert(pos, std::string(1 + rng() % 5, static_cast<char>("-\r\n\"b"[rng() % 5])));
            }
            if (body.empty()) body = "x";
        }
        write_file(d.file("body"), body);
        auto r = parse_multipart_file(d.file("body"), "bnd", d.file("out"));
        if (r.ok())
            for (const auto& p : *r)
                if (!p.file.empty()) fs::remove(p.file);
        ASSERT_EQ(files_with_prefix(d.path(), "out"), 0u);
    }
}

}  // namespace
}  // namespace harmony::test
