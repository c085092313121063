#include "features/feature_cache.hpp"

namespace harmony::features {

bool FeatureCache::needs_native() const {
    for (const auto& f : features_)
        if (f->wants_native()) return true;
    return false;
}

void FeatureCache::on_native(std::span<const float> interleaved, int channels, int rate_hz) {
    streaming_ = true;
    for (auto& f : features_)
        if (f->wants_native()) f->on_native(interleaved, channels, rate_hz);
}

void FeatureCache::on_mono(std::span<const float> mono) {
    streaming_ = true;
    // Features are dispatched in creation order; an Stft fans its frames out to its subscribers.
    for (auto& f : features_) f->on_mono(mono);
}

void FeatureCache::finish() {
    streaming_ = true;
    for (auto& f : features_) f->finish();
}

}  // namespace harmony::features
