#include "io/wav_writer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
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

Result<void> write_wav16(const std::string& path, const std::vector<float>& interleaved, int channels, int rate_hz) {
    if (channels < 1 || rate_hz < 1) return make_error(ErrorCode::kInvalidArgument, "bad WAV format");
    const std::uint64_t data_bytes = interleaved.size() * 2ULL;
    if (data_bytes > 0xFFFFFFF0ULL) return make_error(ErrorCode::kInvalidArgument, "too long for a WAV file");
    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr) return make_error(ErrorCode::kIoError, "cannot write " + path);
    std::fwrite("RIFF", 1, 4, f);
    put32(f, static_cast<std::uint32_t>(36 + data_bytes));
    std::fwrite("WAVEfmt ", 1, 8, f);
    put32(f, 16);
    put16(f, 1);
    put16(f, static_cast<std::uint16_t>(channels));
    put32(f, static_cast<std::uint32_t>(rate_hz));
    put32(f, static_cast<std::uint32_t>(rate_hz * channels * 2));
    put16(f, static_cast<std::uint16_t>(channels * 2));
    put16(f, 16);
    std::fwrite("data", 1, 4, f);
    put32(f, static_cast<std::uint32_t>(data_bytes));
    for (float s : interleaved) {
        const float c = std::clamp(std::isfinite(s) ? s : 0.0f, -1.0f, 1.0f);
        put16(f, static_cast<std::uint16_t>(static_cast<std::int16_t>(std::lrint(c * 32767.0f))));
    }
    const bool ok = std::ferror(f) == 0;
    if (std::fclose(f) != 0 || !ok) {
        std::remove(tmp.c_str());
        return make_error(ErrorCode::kIoError, "write failed: " + path);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        return make_error(ErrorCode::kIoError, "cannot rename into place: " + path);
    }
    return {};
}

}  // namespace harmony::io
