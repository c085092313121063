#include "io/wav_writer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace harmony::io {

namespace {
void put16(std::FILE* f, std::uint16_t v) {
    const unsigned char b[2] = {static_cast<unsigned char>(v), static_cast<unsigned char>(v >> 8)};
    std::fwrite(b, 1, 2, f);
}
void put32(std::FILE* f, std::uint32_t v) {
    const unsigned char b[4] = {static_cast<unsigned char>(v), static_cast<unsigned char>(v >> 8),
                                static_cast<unsigned char>(v >> 16), static_cast<unsigned char>(v >> 24)};
    std::fwrite(b, 1, 4, f);
}
}  // namespace

namespace {
/// Writes a canonical WAV (PCM 16-bit or IEEE float 32-bit) to a temporary file renamed into place.
Result<void> write_wav(const std::string& path, const std::vector<float>& interleaved, int channels, int rate_hz,
                       bool as_float) {
    if (channels < 1 || rate_hz < 1) return make_error(ErrorCode::kInvalidArgument, "bad WAV format");
    const std::uint32_t bytes_per_sample = as_float ? 4 : 2;
    const std::uint64_t data_bytes = interleaved.size() * static_cast<std::uint64_t>(bytes_per_sample);
    if (data_bytes > 0xFFFFFFF0ULL) return make_error(ErrorCode::kInvalidArgument, "too long for a WAV file");
    // A device or FIFO (/dev/null, /dev/stdout, a pipe) is written to directly: renaming over it
    // would replace the node. A regular file goes through a temporary renamed into place.
    std::error_code sec;
    const auto st = std::filesystem::status(path, sec);
    const bool direct = !sec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st) &&
                        !std::filesystem::is_directory(st);
    const std::string tmp = direct ? path : path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr) return make_error(ErrorCode::kIoError, "cannot write " + path);
    std::fwrite("RIFF", 1, 4, f);
    put32(f, static_cast<std::uint32_t>(36 + data_bytes));
    std::fwrite("WAVEfmt ", 1, 8, f);
    put32(f, 16);
    put16(f, as_float ? 3 : 1);
    put16(f, static_cast<std::uint16_t>(channels));
    put32(f, static_cast<std::uint32_t>(rate_hz));
    put32(f, static_cast<std::uint32_t>(rate_hz) * static_cast<std::uint32_t>(channels) * bytes_per_sample);
    put16(f, static_cast<std::uint16_t>(static_cast<std::uint32_t>(channels) * bytes_per_sample));
    put16(f, static_cast<std::uint16_t>(8 * bytes_per_sample));
    std::fwrite("data", 1, 4, f);
    put32(f, static_cast<std::uint32_t>(data_bytes));
    for (float s : interleaved) {
        const float c = std::isfinite(s) ? s : 0.0f;
        if (as_float) {
            std::uint32_t bits = 0;
            std::memcpy(&bits, &c, 4);
            put32(f, bits);
        } else {
            const float k = std::clamp(c, -1.0f, 1.0f);
            put16(f, static_cast<std::uint16_t>(static_cast<std::int16_t>(std::lrint(k * 32767.0f))));
        }
    }
    const bool ok = std::ferror(f) == 0;
    if (std::fclose(f) != 0 || !ok) {
        if (!direct) std::remove(tmp.c_str());
        return make_error(ErrorCode::kIoError, "write failed: " + path);
    }
    if (direct) return {};
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        return make_error(ErrorCode::kIoError, "cannot rename into place: " + path);
    }
    return {};
}
}  // namespace

Result<void> write_wav16(const std::string& path, const std::vector<float>& interleaved, int channels, int rate_hz) {
    return write_wav(path, interleaved, channels, rate_hz, false);
}

Result<void> write_wav_float(const std::string& path, const std::vector<float>& interleaved, int channels,
                             int rate_hz) {
    return write_wav(path, interleaved, channels, rate_hz, true);
}

}  // namespace harmony::io
