// Shared, streaming feature extraction. Analyzers request features before decoding starts
// (Analyzer::plan); the engine then streams the decoded audio through every requested feature
// exactly once. Features that need a spectrum subscribe to a shared Stft, so one STFT
// configuration is computed once per frame however many features use it. Nothing here holds the
// whole signal: each feature keeps only its own compact per-frame output.
#pragma once

#include <cassert>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <typeinfo>
#include <vector>

namespace harmony::features {

class StreamFeature {
public:
    virtual ~StreamFeature() = default;
    /// Interleaved float at the source rate (only delivered when wants_native()).
    virtual void on_native(std::span<const float> /*interleaved*/, int /*channels*/, int /*rate_hz*/) {}
    /// Mono float at the analysis rate.
    virtual void on_mono(std::span<const float> /*mono*/) {}
    /// End of stream: flush partial frames.
    virtual void finish() {}
    virtual bool wants_native() const { return false; }
};

class FeatureCache {
public:
    explicit FeatureCache(int analysis_rate_hz) : rate_hz_(analysis_rate_hz) {}
    FeatureCache(const FeatureCache&) = delete;
    FeatureCache& operator=(const FeatureCache&) = delete;

    int sample_rate_hz() const { return rate_hz_; }

    /// Get-or-create a feature of type F with configuration cfg (F::Config must have key()).
    /// Creating is only allowed before streaming starts (during planning).
    template <class F>
    F& get(const typename F::Config& cfg = {}) {
        const std::string key = std::string(typeid(F).name()) + "|" + cfg.key();
        auto it = index_.find(key);
        if (it != index_.end()) return static_cast<F&>(*features_[it->second]);
        assert(!streaming_ && "features must be requested in plan(), before streaming");
        features_.push_back(std::make_unique<F>(*this, cfg));
        index_.emplace(key, features_.size() - 1);
        return static_cast<F&>(*features_.back());
    }

    /// Find an existing feature (nullptr if it was never requested).
    template <class F>
    F* find(const typename F::Config& cfg = {}) {
        auto it = index_.find(std::string(typeid(F).name()) + "|" + cfg.key());
        return it == index_.end() ? nullptr : static_cast<F*>(features_[it->second].get());
    }
    template <class F>
    const F* find(const typename F::Config& cfg = {}) const {
        auto it = index_.find(std::string(typeid(F).name()) + "|" + cfg.key());
        return it == index_.end() ? nullptr : static_cast<const F*>(features_[it->second].get());
    }

    bool needs_native() const;
    /// Ends planning: fixes which features receive the source-rate and the mono stream, so the two
    /// streams can be fed from two threads (each feature sees only its own stream). Called by the
    /// first on_native/on_mono/finish when the caller did not.
    void start();
    void on_native(std::span<const float> interleaved, int channels, int rate_hz);
    void on_mono(std::span<const float> mono);
    void finish();
    bool empty() const { return features_.empty(); }

private:
    int rate_hz_;
    bool streaming_ = false;
    std::vector<std::unique_ptr<StreamFeature>> features_;  // creation order = dispatch order
    std::vector<StreamFeature*> native_, mono_;             // dispatch lists (start())
    std::map<std::string, size_t> index_;
};

}  // namespace harmony::features
