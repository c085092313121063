#include "io/resampler.hpp"

#include <soxr.h>

#include <cmath>

namespace harmony::io {

struct Resampler::Soxr {
    soxr_t s = nullptr;
    ~Soxr() {
        if (s) soxr_delete(s);
    }
};

Resampler::Resampler(int in_rate, int in_channels, int out_rate, int out_channels, Sink sink)
    : in_channels_(std::max(1, in_channels)),
      out_channels_(std::max(1, out_channels)),
      ratio_(in_rate > 0 ? static_cast<double>(out_rate) / in_rate : 1.0),
      sink_(std::move(sink)) {
    if (in_rate <= 0 || out_rate <= 0) {
        failed_ = true;
        return;
    }
    if (in_rate != out_rate) {
        soxr_error_t err = nullptr;
        const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        const soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        soxr_ = std::make_unique<Soxr>();
        soxr_->s = soxr_create(in_rate, out_rate, static_cast<unsigned>(out_channels_), &err, &io, &q, nullptr);
        if (err != nullptr || soxr_->s == nullptr) {
            soxr_.reset();
            failed_ = true;
        }
    }
}

Resampler::~Resampler() = default;

void Resampler::push(std::span<const float> x) {
    if (failed_) return;
    const std::size_t frames = x.size() / static_cast<std::size_t>(in_channels_);
    const auto ic = static_cast<std::size_t>(in_channels_), oc = static_cast<std::size_t>(out_channels_);
    mapped_.resize(frames * oc);
    if (oc == 1) {
        const float scale = 1.0f / static_cast<float>(ic);
        for (std::size_t i = 0; i < frames; ++i) {
            float s = 0.0f;
            for (std::size_t c = 0; c < ic; ++c) s += x[i * ic + c];
            s *= scale;
            mapped_[i] = std::isfinite(s) ? s : 0.0f;
        }
    } else {
        for (std::size_t i = 0; i < frames; ++i)
            for (std::size_t c = 0; c < oc; ++c) {
                const float s = x[i * ic + (ic == 1 ? 0 : std::min(c, ic - 1))];
                mapped_[i * oc + c] = std::isfinite(s) ? s : 0.0f;
            }
    }
    process(mapped_.data(), frames, false);
}

void Resampler::flush() {
    if (!failed_ && soxr_) process(nullptr, 0, true);
}

void Resampler::process(const float* in, std::size_t frames, bool flushing) {
    const auto oc = static_cast<std::size_t>(out_channels_);
    if (!soxr_) {
        if (frames > 0) {
            sink_({in, frames * oc});
            produced_ += static_cast<std::int64_t>(frames);
        }
        return;
    }
    std::size_t offset = 0;
    for (;;) {
        const std::size_t remaining = flushing ? 0 : frames - offset;
        const std::size_t cap = static_cast<std::size_t>(static_cast<double>(remaining) * ratio_) + 256;
        out_.resize(cap * oc);
        std::size_t idone = 0, odone = 0;
        soxr_process(soxr_->s, flushing ? nullptr : in + offset * oc, remaining, &idone, out_.data(), cap, &odone);
        offset += idone;
        if (odone > 0) {
            sink_({out_.data(), odone * oc});
            produced_ += static_cast<std::int64_t>(odone);
        }
        if (flushing ? odone == 0 : (offset >= frames && odone < cap)) break;
    }
}

}  // namespace harmony::io
