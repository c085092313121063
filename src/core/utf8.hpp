#pragma once

#include <string>
#include <string_view>

namespace harmony::core {

/// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
bool is_valid_utf8(std::string_view s);

/// `s` with every byte that does not start or continue a well-formed UTF-8 sequence replaced by
/// U+FFFD, so text from file names, tags or requests can always be written as JSON.
std::string to_valid_utf8(std::string_view s);

}  // namespace harmony::core
