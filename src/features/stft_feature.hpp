// A shared STFT inside the FeatureCache: computed once per configuration, its magnitude frames
// are fanned out to every subscribing feature.
#pragma once

#include <string>
#include <vector>

#include "dsp/stft.hpp"
#include "features/feature_cache.hpp"

namespace harmony::features {

class Stft : public StreamFeature {
public:
    struct Config {
        int n_fft = 2048;
        int hop = 220;
        dsp::Window window = dsp::Window::kHann;
        std::string key() const {
            return std::to_string(n_fft) + "/" + std::to_string(hop) + "/" + std::to_string(static_cast<int>(window));
        }
    };
    Stft(FeatureCache& cache, const Config& cfg);

    void subscribe(dsp::StreamingStft::FrameSink sink) { sinks_.push_back(std::move(sink)); }
    void on_mono(std::span<const float> mono) override { stft_.push(mono); }
    void finish() override { stft_.finish(); }

    const Config& config() const { return cfg_; }
    double frame_rate_hz() const { return static_cast<double>(rate_hz_) / cfg_.hop; }
    double bin_hz() const { return static_cast<double>(rate_hz_) / cfg_.n_fft; }
    int sample_rate_hz() const { return rate_hz_; }
    std::int64_t frames() const { return stft_.frames(); }

private:
    Config cfg_;
    int rate_hz_;
    std::vector<dsp::StreamingStft::FrameSink> sinks_;
    dsp::StreamingStft stft_;
};

}  // namespace harmony::features
