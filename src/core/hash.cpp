#include "core/hash.hpp"

#include <xxhash.h>

#include <array>
#include <cstdio>
#include <memory>

namespace harmony::core {

Result<std::string> hash_file(const std::string& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) return make_error(ErrorCode::kIoError, "cannot open for hashing: " + path);
    std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> st(XXH3_createState(), &XXH3_freeState);
    XXH3_128bits_reset(st.get());
    std::array<unsigned char, 1 << 16> buf{};
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) XXH3_128bits_update(st.get(), buf.data(), n);
    if (std::ferror(f.get())) return make_error(ErrorCode::kIoError, "read error while hashing: " + path);
    const XXH128_hash_t h = XXH3_128bits_digest(st.get());
    char hex[40];
    std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    return std::string("xxh128:") + hex;
}

std::string hash_string(const std::string& text) {
    char hex[20];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(XXH3_64bits(text.data(), text.size())));
    return hex;
}

std::string hash_bytes(const void* data, std::size_t size) {
    const XXH128_hash_t h = XXH3_128bits(data, size);
    char hex[40];
    std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    return hex;
}

}  // namespace harmony::core
