#include "core/hash.hpp"

#include <sys/types.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
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

namespace {

using File = std::unique_ptr<FILE, int (*)(FILE*)>;

struct Hasher {
    std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> st{XXH3_createState(), &XXH3_freeState};
    Hasher() { XXH3_128bits_reset(st.get()); }
    void add(const void* p, size_t n) { XXH3_128bits_update(st.get(), p, n); }
    std::string digest() {
        const XXH128_hash_t h = XXH3_128bits_digest(st.get());
        char hex[40];
        std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                      static_cast<unsigned long long>(h.low64));
        return std::string("xxh128:") + hex;
    }
};

bool read_at(FILE* f, std::int64_t pos, void* buf, size_t n) {
    return fseeko(f, static_cast<off_t>(pos), SEEK_SET) == 0 && std::fread(buf, 1, n, f) == n;
}

// Hashes bytes [begin, end) of the file. False on a read error.
bool add_range(Hasher& h, FILE* f, std::int64_t begin, std::int64_t end) {
    if (end <= begin) return true;
    if (fseeko(f, static_cast<off_t>(begin), SEEK_SET) != 0) return false;
    std::array<unsigned char, 1 << 16> buf{};
    std::int64_t left = end - begin;
    while (left > 0) {
        const size_t want = static_cast<size_t>(std::min<std::int64_t>(left, static_cast<std::int64_t>(buf.size())));
        const size_t n = std::fread(buf.data(), 1, want, f);
        if (n == 0) return false;
        h.add(buf.data(), n);
        left -= static_cast<std::int64_t>(n);
    }
    return true;
}

std::uint32_t be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint32_t le32(const unsigned char* p) {
    return (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) | p[0];
}
std::uint64_t be64(const unsigned char* p) {
    return (std::uint64_t{be32(p)} << 32) | be32(p + 4);
}

// The layouts below name the bytes that hold audio (and its format); a layout that does not parse
// returns false and the whole file is hashed instead.

// MP3 (and other raw MPEG audio): leading ID3v2 tags, trailing ID3v1, APEv2 and Lyrics3v2 excluded.
bool hash_mpeg(Hasher& h, FILE* f, std::int64_t size) {
    std::int64_t begin = 0, end = size;
    unsigned char b[32];
    while (begin + 10 <= end && read_at(f, begin, b, 10) && std::memcmp(b, "ID3", 3) == 0) {
        const std::int64_t len = (std::int64_t{b[6] & 0x7f} << 21) | (std::int64_t{b[7] & 0x7f} << 14) |
                                 (std::int64_t{b[8] & 0x7f} << 7) | (b[9] & 0x7f);
        begin += 10 + len + ((b[5] & 0x10) ? 10 : 0);  // footer flag
    }
    for (bool more = true; more;) {
        more = false;
        if (end - begin >= 128 && read_at(f, end - 128, b, 3) && std::memcmp(b, "TAG", 3) == 0) {
            end -= 128;
            more = true;
        }
        if (end - begin >= 32 && read_at(f, end - 32, b, 32) && std::memcmp(b, "APETAGEX", 8) == 0) {
            const std::int64_t len = le32(b + 12) + ((le32(b + 20) & 0x80000000u) ? 32 : 0);
            if (len <= end - begin) {
                end -= len;
                more = true;
            }
        }
        if (end - begin >= 15 && read_at(f, end - 9, b, 9) && std::memcmp(b, "LYRICS200", 9) == 0 &&
            read_at(f, end - 15, b, 6)) {
            const std::int64_t len = std::atoll(std::string(reinterpret_cast<char*>(b), 6).c_str()) + 15;
            if (len <= end - begin) {
                end -= len;
                more = true;
            }
        }
    }
    if (begin >= end) return false;
    return add_range(h, f, begin, end);
}

// FLAC: "fLaC", STREAMINFO and the frames; other metadata blocks (comments, pictures, padding) excluded.
bool hash_flac(Hasher& h, FILE* f, std::int64_t size) {
    std::int64_t pos = 4;
    unsigned char b[4];
    h.add("fLaC", 4);
    for (;;) {
        if (pos + 4 > size || !read_at(f, pos, b, 4)) return false;
        const bool last = (b[0] & 0x80) != 0;
        const int type = b[0] & 0x7f;
        const std::int64_t len = (std::int64_t{b[1]} << 16) | (std::int64_t{b[2]} << 8) | b[3];
        if (pos + 4 + len > size) return false;
        if (type == 0 && !add_range(h, f, pos + 4, pos + 4 + len)) return false;  // STREAMINFO
        pos += 4 + len;
        if (last) break;
    }
    return add_range(h, f, pos, size);
}

// RIFF/WAVE and AIFF: the format and sample-data chunks only (INFO, "id3 ", bext... excluded).
bool hash_chunks(Hasher& h, FILE* f, std::int64_t size, bool big_endian, std::initializer_list<const char*> keep) {
    std::int64_t pos = 12;
    unsigned char b[8];
    int kept = 0;
    while (pos + 8 <= size && read_at(f, pos, b, 8)) {
        const std::int64_t len = big_endian ? be32(b + 4) : le32(b + 4);
        const std::int64_t body_end = std::min(size, pos + 8 + len);
        for (const char* id : keep)
            if (std::memcmp(b, id, 4) == 0) {
                h.add(b, 4);
                if (!add_range(h, f, pos + 8, body_end)) return false;
                ++kept;
            }
        pos = pos + 8 + len + (len & 1);
    }
    return kept >= 2;
}

// MP4/M4A: the media data ("mdat") only; tags live in moov/udta.
bool hash_mp4(Hasher& h, FILE* f, std::int64_t size) {
    std::int64_t pos = 0;
    unsigned char b[16];
    int kept = 0;
    while (pos + 8 <= size && read_at(f, pos, b, 8)) {
        std::int64_t len = be32(b);
        std::int64_t header = 8;
        if (len == 1) {
            if (!read_at(f, pos + 8, b + 8, 8)) return false;
            len = static_cast<std::int64_t>(be64(b + 8));
            header = 16;
        } else if (len == 0) {
            len = size - pos;
        }
        if (len < header) return false;
        if (std::memcmp(b + 4, "mdat", 4) == 0) {
            if (!add_range(h, f, pos + header, std::min(size, pos + len))) return false;
            ++kept;
        }
        pos += len;
    }
    return kept > 0;
}

// Ogg: the bodies of the first page and of the audio pages (granule position not 0); the
// comment header's pages, and the page headers (renumbered when tags grow), are excluded.
bool hash_ogg(Hasher& h, FILE* f, std::int64_t size) {
    std::int64_t pos = 0;
    unsigned char hdr[27];
    unsigned char segs[255];
    int pages = 0;
    while (pos + 27 <= size) {
        if (!read_at(f, pos, hdr, 27) || std::memcmp(hdr, "OggS", 4) != 0) return false;
        const int nseg = hdr[26];
        if (!read_at(f, pos + 27, segs, static_cast<size_t>(nseg))) return false;
        std::int64_t body = 0;
        for (int i = 0; i < nseg; ++i) body += segs[i];
        const std::int64_t start = pos + 27 + nseg;
        bool zero_granule = true;
        for (int i = 6; i < 14; ++i) zero_granule = zero_granule && hdr[i] == 0;
        if ((hdr[5] & 0x02) || !zero_granule)
            if (!add_range(h, f, start, std::min(size, start + body))) return false;
        pos = start + body;
        ++pages;
    }
    return pages > 0;
}

}  // namespace

Result<std::string> hash_audio_file(const std::string& path) {
    File f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) return make_error(ErrorCode::kIoError, "cannot open for hashing: " + path);
    if (fseeko(f.get(), 0, SEEK_END) != 0) return make_error(ErrorCode::kIoError, "cannot seek: " + path);
    const std::int64_t size = ftello(f.get());
    unsigned char m[12] = {};
    const bool head = size >= 12 && read_at(f.get(), 0, m, 12);
    bool done = false;
    Hasher h;
    if (head) {
        if (std::memcmp(m, "fLaC", 4) == 0)
            done = hash_flac(h, f.get(), size);
        else if (std::memcmp(m, "RIFF", 4) == 0 && std::memcmp(m + 8, "WAVE", 4) == 0)
            done = hash_chunks(h, f.get(), size, false, {"fmt ", "data"});
        else if (std::memcmp(m, "FORM", 4) == 0 &&
                 (std::memcmp(m + 8, "AIFF", 4) == 0 || std::memcmp(m + 8, "AIFC", 4) == 0))
            done = hash_chunks(h, f.get(), size, true, {"COMM", "SSND"});
        else if (std::memcmp(m + 4, "ftyp", 4) == 0)
            done = hash_mp4(h, f.get(), size);
        else if (std::memcmp(m, "OggS", 4) == 0)
            done = hash_ogg(h, f.get(), size);
        else if (std::memcmp(m, "ID3", 3) == 0 || (m[0] == 0xFF && (m[1] & 0xE0) == 0xE0))
            done = hash_mpeg(h, f.get(), size);
    }
    if (std::ferror(f.get())) return make_error(ErrorCode::kIoError, "read error while hashing: " + path);
    if (done) return h.digest();
    return hash_file(path);
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
