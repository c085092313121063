#pragma once

#include <cstddef>
#include <string>

#include "harmony/error.hpp"

namespace harmony::core {

/// Streaming XXH3-128 of a file's bytes as "xxh128:<32 hex digits>".
Result<std::string> hash_file(const std::string& path);

/// XXH3-128 of the bytes that hold a file's audio, tags excluded, as "xxh128:<32 hex digits>":
/// MP3 without ID3v2/ID3v1/APEv2/Lyrics3 tags; FLAC's STREAMINFO and frames; WAV "fmt "+"data";
/// AIFF COMM+SSND; MP4 "mdat"; Ogg audio page bodies. Editing a title in a tagger leaves it
/// unchanged. Other layouts (or ones that do not parse): the whole file, as hash_file.
Result<std::string> hash_audio_file(const std::string& path);

/// XXH3-64 of a string as 16 hex digits (cache keys).
std::string hash_string(const std::string& text);

/// 128-bit XXH3 of a memory block as 32 hex digits.
std::string hash_bytes(const void* data, std::size_t size);

}  // namespace harmony::core
