#pragma once

#include <string>
#include <vector>

#include "harmony/error.hpp"

namespace harmony::io {

/// Writes interleaved float samples as a 16-bit PCM RIFF/WAVE file (atomically: temp + rename).
Result<void> write_wav16(const std::string& path, const std::vector<float>& interleaved, int channels, int rate_hz);
/// The same as 32-bit IEEE float (bit-exact samples).
Result<void> write_wav_float(const std::string& path, const std::vector<float>& interleaved, int channels, int rate_hz);

}  // namespace harmony::io
