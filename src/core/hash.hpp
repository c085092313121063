#pragma once

#include <string>

#include "harmony/error.hpp"

namespace harmony::core {

/// Streaming XXH3-128 of a file's bytes as "xxh128:<32 hex digits>".
Result<std::string> hash_file(const std::string& path);

/// XXH3-64 of a string as 16 hex digits (cache keys).
std::string hash_string(const std::string& text);

}  // namespace harmony::core
