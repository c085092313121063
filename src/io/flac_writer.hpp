// A FLAC file written block by block through FFmpeg's encoder (libavcodec/libavformat, already
// linked for decoding): 24-bit integer samples (float input in [-1, 1) scaled by 2^23, rounded, and
// clipped at full scale), written as PATH.tmp and renamed into place when complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "harmony/error.hpp"

namespace harmony::io {

class FlacWriter {
public:
    FlacWriter();
    ~FlacWriter();  // an unfinished file is removed
    FlacWriter(const FlacWriter&) = delete;
    FlacWriter& operator=(const FlacWriter&) = delete;

    Result<void> open(const std::string& path, int channels, int rate_hz);
    /// Interleaved float samples (a whole number of frames).
    Result<void> append(const float* interleaved, std::size_t samples);
    /// Flushes the encoder, writes the trailer (STREAMINFO with the length and MD5) and renames.
    Result<void> close();
    /// Samples clipped at full scale so far.
    std::int64_t clipped() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace harmony::io
