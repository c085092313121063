// libFuzzer target: the multipart/form-data reader. The input's first line is the Content-Type
// header value (the boundary comes from it), the rest is the body, read from a file as the server
// does. A header without a boundary falls back to "B", so the body is still parsed.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "server/http/multipart.hpp"

using namespace harmony::server::http;
namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto nl = in.find('\n');
    const std::string content_type(in.substr(0, nl));
    const std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    std::string boundary = multipart_boundary(content_type);
    if (boundary.empty()) boundary = "B";

    static const std::string dir = harmony::fuzz::scratch_dir() + "/multipart";
    fs::create_directories(dir);
    const std::string body_path = dir + "/body";
    harmony::fuzz::write_file(body_path, body);
    auto parts = parse_multipart_file(body_path, boundary, dir + "/body.part", 4096);
    std::size_t files = 0;
    if (parts) {
        std::uintmax_t total = 0;
        for (const auto& p : *parts) {
            if (p.value.size() > 4096) harmony::fuzz::fail("a field over the limit was accepted");
            if (!p.file.empty()) {
                ++files;
                std::error_code ec;
                const auto n = fs::file_size(p.file, ec);
                if (ec) harmony::fuzz::fail("a file part was not written");
                total += n;
            }
            if (p.value.size() > body.size()) harmony::fuzz::fail("a field larger than the body");
        }
        if (total > body.size()) harmony::fuzz::fail("file parts larger than the body");
    }
    // On failure nothing is left behind; on success exactly the files returned exist.
    std::size_t left = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().filename() == "body") continue;
        ++left;
        fs::remove(e.path());
    }
    if (left != files) harmony::fuzz::fail(parts ? "stray part files" : "part files left after a failure");
    return 0;
}
