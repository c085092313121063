#include "nn/weights.hpp"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <system_error>
#include <unordered_set>

namespace harmony::nn {
namespace {

using json = nlohmann::json;

std::uint32_t load_u32(const std::byte* p) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<std::uint32_t>(p[i]);
    return v;
}

std::uint64_t load_u64(const std::byte* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint64_t>(p[i]);
    return v;
}

void store_u32(std::byte* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}

void store_u64(std::byte* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}

std::uint64_t align_up(std::uint64_t n) {
    return (n + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment;
}

/// XXH64 (seed 0) of everything but the hash field itself (bytes 24..31).
std::uint64_t content_hash(const std::byte* data, std::size_t size) {
    std::unique_ptr<XXH64_state_t, XXH_errorcode (*)(XXH64_state_t*)> st(XXH64_createState(), &XXH64_freeState);
    XXH64_reset(st.get(), 0);
    XXH64_update(st.get(), data, 24);
    XXH64_update(st.get(), data + kWeightPreambleBytes, size - kWeightPreambleBytes);
    return XXH64_digest(st.get());
}

std::string hex64(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

bool parse_dtype(std::string_view s, DType& out) {
    if (s == "f32")
        out = DType::kF32;
    else if (s == "f16")
        out = DType::kF16;
    else if (s == "i32")
        out = DType::kI32;
    else if (s == "i64")
        out = DType::kI64;
    else
        return false;
    return true;
}

bool same_shape(std::span<const std::int64_t> a, std::span<const std::int64_t> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

std::string_view dtype_name(DType t) noexcept {
    switch (t) {
        case DType::kF32:
            return "f32";
        case DType::kF16:
            return "f16";
        case DType::kI32:
            return "i32";
        case DType::kI64:
            return "i64";
    }
    return "?";
}

std::size_t dtype_size(DType t) noexcept {
    switch (t) {
        case DType::kF16:
            return 2;
        case DType::kF32:
        case DType::kI32:
            return 4;
        case DType::kI64:
            return 8;
    }
    return 4;
}

Error WeightFile::error(std::string message) const {
    std::string who = model_name_.empty() ? std::string("weight file") : "model '" + model_name_ + "'";
    return make_error(ErrorCode::kModelInvalid, who + " (" + origin_ + "): " + message);
}

Result<WeightFile> WeightFile::from_memory(const void* data, std::size_t size, std::string origin) {
    return from_memory(std::span<const std::byte>(static_cast<const std::byte*>(data), size), std::move(origin));
}

Result<WeightFile> WeightFile::from_memory(std::span<const std::byte> bytes, std::string origin) {
    WeightFile w;
    w.origin_ = std::move(origin);
    const std::byte* p = bytes.data();
    const std::uint64_t size = bytes.size();
    if (size == 0) return w.error("empty (0 bytes)");
    if (size < kWeightPreambleBytes)
        return w.error("truncated: " + std::to_string(size) + " bytes, shorter than the 32-byte preamble");
    if (std::memcmp(p, kWeightMagic, sizeof kWeightMagic) != 0) return w.error("not a Harmony weight file (bad magic)");
    const std::uint32_t version = load_u32(p + 8);
    if (version != kWeightFormatVersion)
        return w.error("format version " + std::to_string(version) + ", this build reads version " +
                       std::to_string(kWeightFormatVersion));
    const std::uint64_t header_len = load_u32(p + 12);
    const std::uint64_t payload_len = load_u64(p + 16);
    const std::uint64_t stored_hash = load_u64(p + 24);
    if (header_len == 0 || header_len > kMaxHeaderBytes)
        return w.error("header claims " + std::to_string(header_len) + " bytes (limit " +
                       std::to_string(kMaxHeaderBytes) + ")");
    if (payload_len > kMaxPayloadBytes)
        return w.error("payload claims " + std::to_string(payload_len) + " bytes (limit " +
                       std::to_string(kMaxPayloadBytes) + ")");
    const std::uint64_t payload_start = align_up(kWeightPreambleBytes + header_len);
    const std::uint64_t expected_size = payload_start + payload_len;
    if (size < expected_size)
        return w.error("truncated: " + std::to_string(size) + " bytes, the preamble declares " +
                       std::to_string(expected_size));
    if (size > expected_size)
        return w.error(std::to_string(size - expected_size) + " unexpected bytes after the payload (" +
                       std::to_string(size) + " bytes, the preamble declares " + std::to_string(expected_size) + ")");
    const std::uint64_t actual_hash = content_hash(p, size);
    if (actual_hash != stored_hash)
        return w.error("content hash mismatch: stored xxh64:" + hex64(stored_hash) +
                       ", computed xxh64:" + hex64(actual_hash) + " (corrupt or modified file)");
    w.hash_ = "xxh64:" + hex64(actual_hash);

    const auto* header_begin = reinterpret_cast<const char*>(p + kWeightPreambleBytes);
    json h = json::parse(header_begin, header_begin + header_len, nullptr, /*allow_exceptions=*/false);
    if (h.is_discarded() || !h.is_object()) return w.error("header is not a JSON object");
    try {
        const json& model = h.value("model", json::object());
        if (!model.is_object() || !model.contains("name") || !model["name"].is_string())
            return w.error("header lacks model.name");
        w.model_name_ = model["name"].get<std::string>();
        if (model.contains("version")) {
            if (!model["version"].is_number_integer()) return w.error("model.version is not an integer");
            w.model_version_ = model["version"].get<std::int64_t>();
        }
        if (h.contains("metadata")) {
            if (!h["metadata"].is_object()) return w.error("header 'metadata' is not an object");
            w.metadata_json_ = h["metadata"].dump();
        }
        if (!h.contains("tensors") || !h["tensors"].is_array()) return w.error("header lacks a 'tensors' array");
        std::unordered_set<std::string> names;
        for (const json& t : h["tensors"]) {
            const std::string index = "tensor #" + std::to_string(w.entries_.size());
            if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) return w.error(index + " has no name");
            TensorEntry e;
            e.name = t["name"].get<std::string>();
            const std::string what = "tensor '" + e.name + "'";
            if (e.name.empty()) return w.error(index + " has an empty name");
            if (!names.insert(e.name).second) return w.error(what + " appears twice");
            if (!t.contains("dtype") || !t["dtype"].is_string() || !parse_dtype(t["dtype"].get<std::string>(), e.dtype))
                return w.error(what + ": unknown dtype " + (t.contains("dtype") ? t["dtype"].dump() : "(missing)"));
            if (!t.contains("shape") || !t["shape"].is_array() || t["shape"].size() > kMaxTensorRank)
                return w.error(what + ": shape must be an array of at most " + std::to_string(kMaxTensorRank) +
                               " dimensions");
            for (const json& d : t["shape"]) {
                if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
                    return w.error(what + ": shape has a non-integer or negative dimension " + d.dump());
                e.shape.push_back(d.get<std::int64_t>());
            }
            const std::int64_t numel = shape_numel(e.shape);
            if (numel < 0) return w.error(what + ": shape " + shape_to_string(e.shape) + " is too large");
            for (const char* key : {"offset", "nbytes"})
                if (!t.contains(key) || !t[key].is_number_unsigned())
                    return w.error(what + ": '" + key + "' missing or not a non-negative integer");
            e.offset = t["offset"].get<std::uint64_t>();
            e.nbytes = t["nbytes"].get<std::uint64_t>();
            const std::uint64_t want = static_cast<std::uint64_t>(numel) * dtype_size(e.dtype);
            if (e.nbytes != want)
                return w.error(what + ": nbytes " + std::to_string(e.nbytes) + " but shape " +
                               shape_to_string(e.shape) + " " + std::string(dtype_name(e.dtype)) + " needs " +
                               std::to_string(want));
            if (e.offset % kWeightAlignment != 0)
                return w.error(what + ": offset " + std::to_string(e.offset) + " is not 64-byte aligned");
            if (e.offset > payload_len || e.nbytes > payload_len - e.offset)
                return w.error(what + ": bytes [" + std::to_string(e.offset) + ", " +
                               std::to_string(e.offset + e.nbytes) + ") lie outside the " +
                               std::to_string(payload_len) + "-byte payload");
            w.entries_.push_back(std::move(e));
        }
    } catch (const std::exception& ex) {  // nlohmann type errors: a header of the wrong shape
        return w.error(std::string("malformed header: ") + ex.what());
    }
    // No two tensors may share bytes.
    std::vector<const TensorEntry*> by_offset;
    for (const auto& e : w.entries_) by_offset.push_back(&e);
    std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
    for (std::size_t i = 1; i < by_offset.size(); ++i)
        if (by_offset[i - 1]->offset + by_offset[i - 1]->nbytes > by_offset[i]->offset)
            return w.error("tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name + "' overlap");

    w.payload_.assign(p + payload_start, p + size);
    w.used_.assign(w.entries_.size(), 0);
    return w;
}

Result<WeightFile> WeightFile::from_file(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return make_error(ErrorCode::kFileNotFound, "no such model file: " + path);
    if (!fs::is_regular_file(status)) return make_error(ErrorCode::kNotAFile, "not a regular file: " + path);
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) return make_error(ErrorCode::kPermissionDenied, "cannot open model file: " + path);
    const auto file_size = fs::file_size(path, ec);
    if (ec) return make_error(ErrorCode::kPermissionDenied, "cannot stat model file: " + path);
    if (file_size == 0) return make_error(ErrorCode::kEmptyFile, "empty model file: " + path);
    // Never allocate what the file does not hold: the size is checked again against the preamble.
    if (file_size > kWeightPreambleBytes + kMaxHeaderBytes + kWeightAlignment + kMaxPayloadBytes)
        return make_error(ErrorCode::kModelInvalid,
                          "weight file (" + path + "): " + std::to_string(file_size) + " bytes, over the limit");
    std::vector<std::byte> bytes(file_size);
    if (std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size())
        return make_error(ErrorCode::kModelInvalid, "weight file (" + path + "): short read");
    return from_memory(bytes, path);
}

const TensorEntry* WeightFile::find(std::string_view name) const noexcept {
    for (const auto& e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

Result<Tensor> WeightFile::read_f32(const TensorEntry& e, std::size_t index) const {
    if (e.dtype != DType::kF32)
        return error("tensor '" + e.name + "': expected dtype f32, found " + std::string(dtype_name(e.dtype)));
    std::vector<float> v(static_cast<std::size_t>(e.nbytes / 4));
    std::memcpy(v.data(), payload_.data() + e.offset, e.nbytes);
    if constexpr (std::endian::native == std::endian::big) {
        for (float& x : v) {
            std::uint32_t u;
            std::memcpy(&u, &x, 4);
            u = __builtin_bswap32(u);
            std::memcpy(&x, &u, 4);
        }
    }
    used_[index] = 1;
    return Tensor(e.shape, std::move(v));
}

Result<Tensor> WeightFile::tensor(std::string_view name) const {
    for (std::size_t i = 0; i < entries_.size(); ++i)
        if (entries_[i].name == name) return read_f32(entries_[i], i);
    return error("no tensor named '" + std::string(name) + "'");
}

Result<Tensor> WeightFile::tensor(std::string_view name, std::span<const std::int64_t> expected) const {
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        const TensorEntry& e = entries_[i];
        if (e.name != name) continue;
        if (e.dtype != DType::kF32 || !same_shape(e.shape, expected))
            return error("tensor '" + e.name + "': expected f32 " + shape_to_string(expected) + ", found " +
                         std::string(dtype_name(e.dtype)) + " " + shape_to_string(e.shape));
        return read_f32(e, i);
    }
    return error("no tensor named '" + std::string(name) + "' (expected f32 " + shape_to_string(expected) + ")");
}

Result<void> WeightFile::expect_all_used() const {
    std::string unused;
    for (std::size_t i = 0; i < entries_.size(); ++i)
        if (!used_[i]) unused += (unused.empty() ? "'" : ", '") + entries_[i].name + "'";
    if (!unused.empty()) return error("tensors no module reads: " + unused);
    return {};
}

std::vector<std::byte> encode_weight_file_raw(std::string_view header_json, std::span<const std::byte> payload) {
    const std::uint64_t payload_start = align_up(kWeightPreambleBytes + header_json.size());
    std::vector<std::byte> out(payload_start + payload.size(), std::byte{0});
    std::memcpy(out.data(), kWeightMagic, sizeof kWeightMagic);
    store_u32(out.data() + 8, kWeightFormatVersion);
    store_u32(out.data() + 12, static_cast<std::uint32_t>(header_json.size()));
    store_u64(out.data() + 16, payload.size());
    std::memcpy(out.data() + kWeightPreambleBytes, header_json.data(), header_json.size());
    if (!payload.empty()) std::memcpy(out.data() + payload_start, payload.data(), payload.size());
    store_u64(out.data() + 24, content_hash(out.data(), out.size()));
    return out;
}

std::vector<std::byte> encode_weight_file(std::string_view model_name, std::int64_t model_version,
                                          std::string_view metadata_json,
                                          const std::vector<std::pair<std::string, Tensor>>& tensors) {
    json h;
    h["format"] = "harmony-nn-weights";
    h["model"] = {{"name", std::string(model_name)}, {"version", model_version}};
    h["metadata"] = json::parse(metadata_json.begin(), metadata_json.end(), nullptr, false);
    if (h["metadata"].is_discarded()) h["metadata"] = json::object();
    h["tensors"] = json::array();
    std::vector<std::byte> payload;
    for (const auto& [name, t] : tensors) {
        const std::uint64_t offset = align_up(payload.size());
        const std::uint64_t nbytes = static_cast<std::uint64_t>(t.numel()) * 4;
        h["tensors"].push_back(
            {{"name", name}, {"dtype", "f32"}, {"shape", t.shape()}, {"offset", offset}, {"nbytes", nbytes}});
        payload.resize(offset + nbytes, std::byte{0});
        for (std::int64_t i = 0; i < t.numel(); ++i) {
            std::uint32_t u;
            std::memcpy(&u, t.data() + i, 4);
            store_u32(payload.data() + offset + 4 * i, u);
        }
    }
    return encode_weight_file_raw(h.dump(), payload);
}

}  // namespace harmony::nn
