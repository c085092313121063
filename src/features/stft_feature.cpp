#include "features/stft_feature.hpp"

namespace harmony::features {

Stft::Stft(FeatureCache& cache, const Config& cfg)
    : cfg_(cfg),
      rate_hz_(cache.sample_rate_hz()),
      stft_(cfg.n_fft, cfg.hop, cfg.window, [this](std::span<const float> mag, std::int64_t index) {
          for (auto& s : sinks_) s(mag, index);
      }) {}

}  // namespace harmony::features
