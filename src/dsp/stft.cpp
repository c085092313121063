#include "dsp/stft.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numbers>

namespace harmony::dsp {

namespace {
std::mutex& planner_mutex() {  // FFTW's planner is not thread-safe; execution is.
    static std::mutex m;
    return m;
}
}  // namespace

std::vector<float> make_window(Window w, int n) {
    std::vector<float> out(static_cast<size_t>(n));
    const double pi = std::numbers::pi;
    for (int i = 0; i < n; ++i) {
        const double x = 2.0 * pi * i / n;  // periodic window
        double v = 0.0;
        switch (w) {
            case Window::kHann:
                v = 0.5 - 0.5 * std::cos(x);
                break;
            case Window::kBlackmanHarris:
                v = 0.35875 - 0.48829 * std::cos(x) + 0.14128 * std::cos(2 * x) - 0.01168 * std::cos(3 * x);
                break;
        }
        out[static_cast<size_t>(i)] = static_cast<float>(v);
    }
    return out;
}

struct RealFft::Impl {
    float* in = nullptr;
    fftwf_complex* out = nullptr;
    fftwf_plan plan = nullptr;
    fftwf_plan inverse_plan = nullptr;  // c2r, made on the first inverse()
    fftwf_complex* inverse_in = nullptr;
    float* inverse_out = nullptr;
};

RealFft::RealFft(int n) : n_(n), impl_(std::make_unique<Impl>()) {
    impl_->in = fftwf_alloc_real(static_cast<size_t>(n));
    impl_->out = fftwf_alloc_complex(static_cast<size_t>(n / 2 + 1));
    std::lock_guard lock(planner_mutex());
    impl_->plan = fftwf_plan_dft_r2c_1d(n, impl_->in, impl_->out, FFTW_ESTIMATE);
}

RealFft::~RealFft() {
    {
        std::lock_guard lock(planner_mutex());
        fftwf_destroy_plan(impl_->plan);
        if (impl_->inverse_plan != nullptr) fftwf_destroy_plan(impl_->inverse_plan);
    }
    fftwf_free(impl_->in);
    fftwf_free(impl_->out);
    fftwf_free(impl_->inverse_in);
    fftwf_free(impl_->inverse_out);
}

void RealFft::forward(std::span<const float> in, std::span<std::complex<float>> out) {
    std::copy_n(in.begin(), n_, impl_->in);
    fftwf_execute(impl_->plan);
    for (int k = 0; k <= n_ / 2; ++k) out[static_cast<size_t>(k)] = {impl_->out[k][0], impl_->out[k][1]};
}

void RealFft::inverse(std::span<const std::complex<float>> in, std::span<float> out) {
    if (impl_->inverse_plan == nullptr) {
        impl_->inverse_in = fftwf_alloc_complex(static_cast<size_t>(n_ / 2 + 1));
        impl_->inverse_out = fftwf_alloc_real(static_cast<size_t>(n_));
        std::lock_guard lock(planner_mutex());
        impl_->inverse_plan = fftwf_plan_dft_c2r_1d(n_, impl_->inverse_in, impl_->inverse_out, FFTW_ESTIMATE);
    }
    for (int k = 0; k <= n_ / 2; ++k) {
        impl_->inverse_in[k][0] = in[static_cast<size_t>(k)].real();
        impl_->inverse_in[k][1] = in[static_cast<size_t>(k)].imag();
    }
    fftwf_execute(impl_->inverse_plan);  // c2r destroys its input: it is copied in every call
    std::copy_n(impl_->inverse_out, n_, out.begin());
}

StreamingStft::StreamingStft(int n_fft, int hop, Window window, FrameSink sink)
    : n_fft_(n_fft),
      hop_(hop),
      window_(make_window(window, n_fft)),
      sink_(std::move(sink)),
      fft_(n_fft),
      buf_(static_cast<size_t>(n_fft / 2), 0.0f),
      frame_(static_cast<size_t>(n_fft)),
      spec_(static_cast<size_t>(n_fft / 2 + 1)),
      mag_(static_cast<size_t>(n_fft / 2 + 1)) {}

void StreamingStft::push(std::span<const float> samples) {
    // In pieces of a few hops, so the buffer holds about one window plus a piece however large
    // the block (a long file's segment starts with its 20 s of overlap in one block: 3.4 MB of
    // buffer before).
    const size_t piece = static_cast<size_t>(std::max(n_fft_, 8 * hop_));
    for (size_t at = 0; at < samples.size(); at += piece) {
        const auto part = samples.subspan(at, std::min(piece, samples.size() - at));
        buf_.insert(buf_.end(), part.begin(), part.end());
        emit_frames();
    }
}

void StreamingStft::finish() {
    if (finished_) return;
    finished_ = true;
    buf_.insert(buf_.end(), static_cast<size_t>(n_fft_ / 2), 0.0f);
    emit_frames();
}

void StreamingStft::emit_frames() {
    for (;;) {
        const std::int64_t start = next_frame_ * hop_;
        const std::int64_t offset = start - base_;
        if (offset + n_fft_ > static_cast<std::int64_t>(buf_.size())) break;
        for (int i = 0; i < n_fft_; ++i)
            frame_[static_cast<size_t>(i)] = buf_[static_cast<size_t>(offset + i)] * window_[static_cast<size_t>(i)];
        fft_.forward(frame_, spec_);
        // sqrt(re^2 + im^2): std::abs on std::complex calls hypotf, which guards against an
        // overflow that windowed audio cannot reach, at several times the cost.
        for (size_t k = 0; k < spec_.size(); ++k) {
            const float re = spec_[k].real(), im = spec_[k].imag();
            mag_[k] = std::sqrt(re * re + im * im);
        }
        sink_(mag_, next_frame_);
        ++next_frame_;
    }
    // Drop samples no future frame needs (keeps the buffer bounded).
    const std::int64_t keep_from = next_frame_ * hop_ - base_;
    if (keep_from > 0 && keep_from > static_cast<std::int64_t>(buf_.size()) / 2) {
        const auto drop = std::min<std::int64_t>(keep_from, static_cast<std::int64_t>(buf_.size()));
        buf_.erase(buf_.begin(), buf_.begin() + drop);
        base_ += drop;
    }
}

}  // namespace harmony::dsp
