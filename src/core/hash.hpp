#pragma once

#include <cstddef>
#include <string>

#include "harmony/error.hpp"

namespace harmony::core {

/// Streaming XXH3-128 of a file's bytes as "xxh128:<32 hex digits>".
Result<std::string> hash_file(const std::string& path);

/// XXH3-64 of a string as 16 hex digits (cache keys).
std::string hash_string(const std::string& text);

/// 128-bit XXH3 of a memory block as 32 hex digits.
std::string hash_bytes(const void* data, std::size_t size);

}  // namespace harmony::core
