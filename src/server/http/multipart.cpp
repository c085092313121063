#include "server/http/multipart.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <string_view>

namespace harmony::server::http {

namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// Value of `key=` in a header parameter list (quoted or not).
std::string header_param(std::string_view h, std::string_view key) {
    const std::string lh = lower(std::string(h));
    std::size_t pos = 0;
    while ((pos = lh.find(std::string(key) + "=", pos)) != std::string::npos) {
        if (pos == 0 || lh[pos - 1] == ';' || lh[pos - 1] == ' ' || lh[pos - 1] == '\t') {
            std::size_t v = pos + key.size() + 1;
            if (v < h.size() && h[v] == '"') {
                std::string out;
                for (++v; v < h.size() && h[v] != '"'; ++v) {
                    if (h[v] == '\\' && v + 1 < h.size()) ++v;
                    out += h[v];
                }
                return out;
            }
            const auto end = h.find_first_of("; \t", v);
            return std::string(h.substr(v, end == std::string_view::npos ? h.size() - v : end - v));
        }
        pos += key.size();
    }
    return {};
}

Error bad(const std::string& msg) {
    return make_error(ErrorCode::kInvalidArgument, "malformed multipart body: " + msg);
}

}  // namespace

std::string multipart_boundary(const std::string& content_type) {
    if (lower(content_type).rfind("multipart/form-data", 0) != 0) return {};
    return header_param(content_type, "boundary");
}

namespace {
Result<std::vector<MultipartPart>> parse_into(const std::string& body_path, const std::string& boundary,
                                              const std::string& out_prefix, std::size_t max_field_bytes,
                                              std::vector<std::string>& created);
}  // namespace

Result<std::vector<MultipartPart>> parse_multipart_file(const std::string& body_path, const std::string& boundary,
                                                        const std::string& out_prefix, std::size_t max_field_bytes) {
    std::vector<std::string> created;
    auto r = parse_into(body_path, boundary, out_prefix, max_field_bytes, created);
    if (!r)
        for (const auto& f : created) std::remove(f.c_str());  // no half-parsed uploads left behind
    return r;
}

namespace {
Result<std::vector<MultipartPart>> parse_into(const std::string& body_path, const std::string& boundary,
                                              const std::string& out_prefix, std::size_t max_field_bytes,
                                              std::vector<std::string>& created) {
    if (boundary.empty() || boundary.size() > 200) return bad("no usable boundary");
    const int fd = ::open(body_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(ErrorCode::kIoError, "cannot read the upload");
    struct stat st {};
    ::fstat(fd, &st);
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0) {
        ::close(fd);
        return bad("empty body");
    }
    void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (m == MAP_FAILED) return make_error(ErrorCode::kIoError, "cannot map the upload");
    struct Unmap {
        void* p;
        std::size_t n;
        ~Unmap() { ::munmap(p, n); }
    } unmap{m, size};
    const std::string_view body(static_cast<const char*>(m), size);

    const std::string delim = "--" + boundary;
    const std::string next = "\r\n" + delim;
    const std::boyer_moore_horspool_searcher search_next(next.begin(), next.end());
    std::size_t pos;
    if (body.substr(0, delim.size()) == delim) {
        pos = delim.size();
    } else {
        auto it = std::search(body.begin(), body.end(), search_next);
        if (it == body.end()) return bad("boundary not found");
        pos = static_cast<std::size_t>(it - body.begin()) + next.size();
    }
    std::vector<MultipartPart> parts;
    for (int n = 0;; ++n) {
        if (body.substr(pos, 2) == "--") break;  // closing delimiter
        if (body.substr(pos, 2) != "\r\n") return bad("delimiter not followed by CRLF");
        pos += 2;
        const auto hend = body.find("\r\n\r\n", pos);
        if (hend == std::string_view::npos || hend - pos > 16384) return bad("part headers");
        MultipartPart part;
        std::string_view headers = body.substr(pos, hend - pos);
        while (!headers.empty()) {
            const auto eol = headers.find("\r\n");
            const auto line = headers.substr(0, eol);
            headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
            const auto colon = line.find(':');
            if (colon == std::string_view::npos) continue;
            const auto name = lower(std::string(line.substr(0, colon)));
            auto value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
            if (name == "content-disposition") {
                part.name = header_param(value, "name");
                part.filename = header_param(value, "filename");
            } else if (name == "content-type") {
                part.content_type = std::string(value);
            }
        }
        const auto cstart = hend + 4;
        auto it = std::search(body.begin() + static_cast<std::ptrdiff_t>(cstart), body.end(), search_next);
        if (it == body.end()) return bad("unterminated part");
        const auto cend = static_cast<std::size_t>(it - body.begin());
        const auto content = body.substr(cstart, cend - cstart);
        if (!part.filename.empty() || part.name == "file") {
            part.file = out_prefix + "." + std::to_string(n);
            created.push_back(part.file);
            std::FILE* f = std::fopen(part.file.c_str(), "wb");
            if (f == nullptr) return make_error(ErrorCode::kIoError, "cannot store the upload");
            const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
            if (std::fclose(f) != 0 || !ok) return make_error(ErrorCode::kIoError, "cannot store the upload");
        } else {
            if (content.size() > max_field_bytes) return bad("field '" + part.name + "' too large");
            part.value = std::string(content);
        }
        parts.push_back(std::move(part));
        pos = cend + next.size();
        if (pos > body.size()) return bad("truncated");
    }
    return parts;
}
}  // namespace

}  // namespace harmony::server::http
