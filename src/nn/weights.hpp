// Harmony nn — weight files (format: src/nn/README.md). The loader checks the magic, the format
// version, every size and offset against the bytes actually present, the content hash, and (when a
// module asks for a tensor) its name, dtype and shape. It never throws and never trusts a size it
// has not checked: a corrupt, truncated or hostile file is an Error (kModelInvalid), not a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harmony/error.hpp"
#include "nn/tensor.hpp"

namespace harmony::nn {

inline constexpr char kWeightMagic[8] = {'H', 'R', 'M', 'N', 'Y', 'N', 'N', '\0'};
inline constexpr std::uint32_t kWeightFormatVersion = 1;
inline constexpr std::size_t kWeightPreambleBytes = 32;
inline constexpr std::size_t kWeightAlignment = 64;
inline constexpr std::uint64_t kMaxHeaderBytes = 16u << 20;    // 16 MiB of JSON
inline constexpr std::uint64_t kMaxPayloadBytes = 4ull << 30;  // 4 GiB of tensors
inline constexpr std::size_t kMaxTensorRank = 8;

enum class DType { kF32, kF16, kI32, kI64 };
std::string_view dtype_name(DType t) noexcept;  // "f32", ...
std::size_t dtype_size(DType t) noexcept;

struct TensorEntry {
    std::string name;
    DType dtype = DType::kF32;
    Shape shape;
    std::uint64_t offset = 0;  // from the start of the payload, a multiple of 64
    std::uint64_t nbytes = 0;
};

class WeightFile {
public:
    /// Parses and verifies a weight file held in memory (embedded in the binary, received, ...).
    /// The bytes are copied: the caller's buffer may go away afterwards. `origin` names the
    /// source in error messages.
    static Result<WeightFile> from_memory(std::span<const std::byte> bytes, std::string origin = "<memory>");
    static Result<WeightFile> from_memory(const void* data, std::size_t size, std::string origin = "<memory>");
    /// Reads and verifies a weight file. kFileNotFound / kNotAFile / kPermissionDenied / kEmptyFile
    /// for the path itself, kModelInvalid for the content.
    static Result<WeightFile> from_file(const std::string& path);

    const std::string& model_name() const noexcept { return model_name_; }
    std::int64_t model_version() const noexcept { return model_version_; }
    /// "xxh64:<16 hex digits>": the verified content hash (covers header and payload); a model's
    /// identity for cache keys.
    const std::string& hash() const noexcept { return hash_; }
    /// The header's "metadata" object as JSON text ("{}" when absent): training script, data,
    /// seed, library versions.
    const std::string& metadata_json() const noexcept { return metadata_json_; }
    const std::string& origin() const noexcept { return origin_; }
    const std::vector<TensorEntry>& tensors() const noexcept { return entries_; }
    const TensorEntry* find(std::string_view name) const noexcept;

    /// The float32 tensor `name`, checked against `expected` shape. Marks it used.
    /// Errors name the tensor and give expected vs found dtype / shape.
    Result<Tensor> tensor(std::string_view name, std::span<const std::int64_t> expected) const;
    Result<Tensor> tensor(std::string_view name, std::initializer_list<std::int64_t> expected) const {
        return tensor(name, std::span<const std::int64_t>(expected.begin(), expected.size()));
    }
    /// The float32 tensor `name`, whatever its shape (fixtures). Marks it used.
    Result<Tensor> tensor(std::string_view name) const;

    /// kModelInvalid naming every tensor no module asked for (a misspelt name on either side).
    Result<void> expect_all_used() const;

    /// "model 'name' (origin): " + message, as a kModelInvalid error.
    Error error(std::string message) const;

private:
    WeightFile() = default;
    Result<Tensor> read_f32(const TensorEntry& e, std::size_t index) const;

    std::string origin_;
    std::string model_name_;
    std::int64_t model_version_ = 0;
    std::string hash_;
    std::string metadata_json_ = "{}";
    std::vector<TensorEntry> entries_;
    std::vector<std::byte> payload_;
    mutable std::vector<char> used_;  // loading is single-threaded; modules copy what they take
};

/// Encodes tensors as a version-1 weight file (tests; tools/nn/export_weights.py is the writer
/// for trained models). `metadata_json` must be a JSON object.
std::vector<std::byte> encode_weight_file(std::string_view model_name, std::int64_t model_version,
                                          std::string_view metadata_json,
                                          const std::vector<std::pair<std::string, Tensor>>& tensors);

/// Wraps an already-written JSON header and payload in the preamble, padding and hash. Lets tests
/// craft headers that lie (huge sizes, overlapping offsets) yet carry a valid hash.
std::vector<std::byte> encode_weight_file_raw(std::string_view header_json, std::span<const std::byte> payload);

}  // namespace harmony::nn
