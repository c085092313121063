// The learned separator: soft masks for the four stems from the mix's magnitude STFT, a small
// Open-Unmix-style network (tools/train_stems/train.py has the architecture and the training):
// log1p of the first 1024 bins of a 4096-point STFT at 44.1 kHz, standardised -> fc1 (tanh) ->
// bidirectional GRU -> fc2 on [fc1, gru] (relu) -> fc3 -> softmax over the stems per bin.
// Other rates and STFT sizes are mapped by frequency (nearest bin in, nearest bin out).
#pragma once

#include <string>
#include <vector>

#include "harmony/error.hpp"
#include "nn/layers.hpp"
#include "nn/weights.hpp"

namespace harmony::analyzers::stems {

class MaskModel {
public:
    static constexpr int kModelFft = 4096;
    static constexpr int kModelRate = 44100;
    static constexpr int kInputBins = 1024;
    static constexpr int kModelBins = kModelFft / 2 + 1;

    /// Loads and checks a weight file (model name "stems-mask"); a clear error when it is missing,
    /// corrupt or another model.
    static Result<MaskModel> load(const std::string& path);

    /// Masks for frames [T] of bins [K] (mag bin-major: mag[k * T + t], the mix's magnitude STFT
    /// at `rate_hz` with `n_fft` points): out[(t * 4 + s) * K + k], the four stems (kStemNames
    /// order), summing to one per bin.
    void masks(const std::vector<float>& mag, std::size_t T, int K, int rate_hz, int n_fft,
               std::vector<float>& out) const;

    const std::string& hash() const { return hash_; }
    int version() const { return version_; }

private:
    nn::Tensor mean_, std_;
    nn::Linear fc1_, fc2_, fc3_;
    nn::Gru gru_;
    int hidden_ = 0;  // fc1's width, read from the file (64 in the trained model; even)
    std::string hash_;
    int version_ = 0;
};

}  // namespace harmony::analyzers::stems
