// Streaming channel mapping + resampling (libsoxr, high quality): interleaved float blocks at one
// rate and channel count in, blocks at another out, in bounded memory. Used by the decoder (the
// analysis-rate mono stream), by the engine for in-memory PCM, and for analyzers that ask for the
// whole signal at another rate or layout.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace harmony::io {

class Resampler {
public:
    using Sink = std::function<void(std::span<const float> interleaved)>;
    /// out_channels: 1 = the channel average; equal to in_channels = unchanged; 2 from 1 = the mono
    /// signal on both channels; 2 from more = the first two channels. Non-finite samples become 0.
    Resampler(int in_rate, int in_channels, int out_rate, int out_channels, Sink sink);
    ~Resampler();
    Resampler(const Resampler&) = delete;
    Resampler& operator=(const Resampler&) = delete;

    /// False when libsoxr could not be set up (then push() passes nothing through).
    bool ok() const { return !failed_; }
    int out_channels() const { return out_channels_; }
    /// Frames delivered to the sink so far.
    std::int64_t produced() const { return produced_; }

    void push(std::span<const float> interleaved);
    /// End of stream: delivers the resampler's delayed tail.
    void flush();

private:
    void process(const float* in, std::size_t frames, bool flushing);

    int in_channels_, out_channels_;
    double ratio_;
    Sink sink_;
    struct Soxr;
    std::unique_ptr<Soxr> soxr_;
    std::vector<float> mapped_, out_;
    std::int64_t produced_ = 0;
    bool failed_ = false;
};

}  // namespace harmony::io
