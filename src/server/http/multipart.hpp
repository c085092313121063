// multipart/form-data (RFC 7578) read from a body already streamed to disk: the parts are located
// in a memory map and file parts are copied out, so a 1 GiB upload never sits in memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harmony/error.hpp"

namespace harmony::server::http {

struct MultipartPart {
    std::string name;          // form field name
    std::string filename;      // empty for plain fields
    std::string content_type;  // of the part, when given
    std::string value;         // plain fields (options JSON): the content
    std::string file;          // file parts: the content copied to this path
};

/// Boundary from a Content-Type header value ("multipart/form-data; boundary=..."), or empty.
std::string multipart_boundary(const std::string& content_type);

/// Splits `body_path`; file parts are written next to it as `<out_prefix>.<n>`. Plain fields over
/// `max_field_bytes` are refused.
Result<std::vector<MultipartPart>> parse_multipart_file(const std::string& body_path, const std::string& boundary,
                                                        const std::string& out_prefix,
                                                        std::size_t max_field_bytes = 1 << 20);

}  // namespace harmony::server::http
