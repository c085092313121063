// Streaming decoder over FFmpeg's libraries. Decodes any container/codec FFmpeg knows, honours
// encoder delay and padding (gapless info, AAC priming via edit lists, Opus pre-skip) exactly as
// libavcodec reports them, and delivers two streams in bounded blocks:
//   * native: interleaved float at the source rate and channel count (loudness needs these);
//   * mono:   the channel average resampled with libsoxr to the analysis rate.
// Memory does not grow with the length of the file.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "harmony/error.hpp"

namespace harmony::io {

struct SourceInfo {
    std::string container;
    std::string codec;
    int sample_rate_hz = 0;
    int channels = 0;
    std::int64_t bit_rate = 0;
    double duration_estimate_s = 0.0;  // from the container; 0 when unknown
    std::int64_t file_size_bytes = 0;
    // Text tags of the container and the audio stream (FFmpeg's metadata), "" when absent.
    std::string title, artist, album, genre, comment, bpm, key;
};

struct DecodeStats {
    std::int64_t native_frames = 0;      // per channel, after gapless trimming
    std::int64_t mono_samples = 0;       // at the analysis rate
    int corrupt_packets = 0;             // packets the codec rejected (skipped)
    bool truncated = false;              // the container ended early or a read error stopped decoding
    std::int64_t start_trim_frames = 0;  // frames the demuxer asked to skip at the start (gapless info)
    std::vector<std::string> warnings;
};

struct DecodeCallbacks {
    std::function<void(const SourceInfo&)> on_open;
    /// Interleaved float, `frames` frames of `channels` channels at the source rate.
    std::function<void(std::span<const float> interleaved, int channels, int sample_rate_hz)> on_native;
    /// Mono float at the analysis rate.
    std::function<void(std::span<const float> mono)> on_mono;
    /// Called with decoded seconds so far (for progress).
    std::function<void(double decoded_s)> on_position;
};

struct DecodeOptions {
    int target_rate_hz = 22050;
    std::stop_token stop;
};

/// Checks the path before FFmpeg sees it: existence, type, permission, emptiness.
Result<std::int64_t> check_input_file(const std::string& path);

/// Decode a file. Errors: kFileNotFound, kNotAFile, kPermissionDenied, kEmptyFile,
/// kUnsupportedFormat, kNoAudioStream, kDecodeFailed, kNoAudioData, kCancelled.
Result<DecodeStats> decode_file(const std::string& path, const DecodeOptions& options, const DecodeCallbacks& cb);

/// Convenience for tests and tools: decode the whole file to mono at `rate_hz` in memory.
Result<std::vector<float>> decode_to_mono(const std::string& path, int rate_hz);

}  // namespace harmony::io
