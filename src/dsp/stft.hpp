// Streaming short-time Fourier transform (FFTW3, single precision).
// Frame k is centred on sample k*hop (the signal is padded with n_fft/2 zeros at both ends, as
// librosa's center=True), so frame times are exactly k*hop/rate seconds.
#pragma once

#include <complex>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace harmony::dsp {

enum class Window { kHann, kBlackmanHarris };

std::vector<float> make_window(Window w, int n);

/// One real-input FFT of fixed size (plan created once; not thread-safe per instance).
class RealFft {
public:
    explicit RealFft(int n);
    ~RealFft();
    RealFft(const RealFft&) = delete;
    RealFft& operator=(const RealFft&) = delete;
    int size() const { return n_; }
    /// in: n real samples; out: n/2+1 complex bins.
    void forward(std::span<const float> in, std::span<std::complex<float>> out);
    /// in: n/2+1 complex bins; out: n real samples, unnormalised (FFTW's c2r: n times the inverse).
    /// Its plan is made on the first call.
    void inverse(std::span<const std::complex<float>> in, std::span<float> out);

private:
    int n_;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

class StreamingStft {
public:
    using FrameSink = std::function<void(std::span<const float> magnitude, std::int64_t frame_index)>;
    StreamingStft(int n_fft, int hop, Window window, FrameSink sink);
    void push(std::span<const float> samples);
    void finish();
    int n_fft() const { return n_fft_; }
    int hop() const { return hop_; }
    std::int64_t frames() const { return next_frame_; }

private:
    void emit_frames();
    int n_fft_;
    int hop_;
    std::vector<float> window_;
    FrameSink sink_;
    RealFft fft_;
    std::vector<float> buf_;  // pending samples; buf_[0] is at absolute index base_
    std::int64_t base_ = 0;   // absolute index (in the padded stream) of buf_[0]
    std::int64_t next_frame_ = 0;
    std::vector<float> frame_;
    std::vector<std::complex<float>> spec_;
    std::vector<float> mag_;
    bool finished_ = false;
};

}  // namespace harmony::dsp
