#include "features/feature_cache.hpp"

namespace harmony::features {

bool FeatureCache::needs_native() const {
    for (const auto& f : features_)
        if (f->wants_native()) return true;
    return false;
}

void FeatureCache::start() {
    if (streaming_) return;
    streaming_ = true;
    for (auto& f : features_) (f->wants_native() ? native_ : mono_).push_back(f.get());
}

void FeatureCache::on_native(std::span<const float> interleaved, int channels, int rate_hz) {
    start();
    for (auto* f : native_) f->on_native(interleaved, channels, rate_hz);
}

void FeatureCache::on_mono(std::span<const float> mono) {
    start();
    // Features are dispatched in creation order; an Stft fans its frames out to its subscribers.
    for (auto* f : mono_) f->on_mono(mono);
}

void FeatureCache::finish() {
    start();
    for (auto& f : features_) f->finish();
}

}  // namespace harmony::features
