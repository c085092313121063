// The learned beat/downbeat front end (a TCN in the style of Böck & Davies 2019): per-frame beat
// and downbeat probabilities from the log-band spectrogram (features::BeatSpectrogram). Trained by
// tools/train_beats/train.py; layers and weight format: src/nn/README.md. Used by the rhythm
// analysis when `tempo.model` selects it (src/analyzers/beats/README.md, "Learned front end").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "harmony/error.hpp"
#include "nn/layers.hpp"
#include "nn/weights.hpp"

namespace harmony::rhythm {

struct BeatActivations {
    std::vector<double> beat;      // probability of a beat at each frame
    std::vector<double> downbeat;  // probability of a downbeat at each frame
};

class BeatNet {
public:
    static constexpr int kBands = 48;     // features::BeatSpectrogram at 22.05 kHz
    static constexpr int kChannels = 16;  // Conv2d stack output, TCN width
    static constexpr int kLayers = 8;     // residual dilated Conv1d layers, dilation 1..128
    static constexpr int kKernel = 5;
    /// Frames each output depends on, either side: 1 + 1 (3x3 convs) + sum_i 2 * 2^i.
    static constexpr int kReceptiveHalf = 2 + 2 * ((1 << kLayers) - 1);

    static Result<BeatNet> load(const nn::WeightFile& w);
    /// [kBands, T] log-band spectrogram -> [2, T] logits (beat, downbeat), zero-padded at both ends.
    nn::Tensor forward(const nn::Tensor& spec) const;
    /// Frame-major spectrogram (spec[t * kBands + b]) -> probabilities, computed in chunks with
    /// kReceptiveHalf frames of context (the same numbers as one pass over the whole track).
    BeatActivations run(const std::vector<float>& spec, size_t chunk_frames = 4000) const;

private:
    nn::Conv2d conv1_, conv2_, conv3_;
    std::vector<nn::Conv1d> tcn_;
    nn::Conv1d out_;
};

/// The model for `tempo.model`: "" = none (the onset novelty alone), "builtin" = the shipped weights
/// (src/analyzers/rhythm/beat_model.inc), anything else a weight file. *hash gets the weights' hash.
Result<std::shared_ptr<const BeatNet>> load_beat_net(const std::string& which, std::string* hash);

}  // namespace harmony::rhythm
