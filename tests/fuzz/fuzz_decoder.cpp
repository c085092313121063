// libFuzzer target: the audio decoder (FFmpeg demuxers and decoders, sample conversion, the mono
// resampler) on random bytes and on mutated WAV, FLAC, MP3, Ogg Vorbis, Opus and AAC files
// (corpus/decoder). The input is written to a file and decoded as `harmony analyze` would; the
// callbacks check what they are given.
#include <cmath>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "io/decoder.hpp"

using namespace harmony;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = fuzz::scratch_dir() + "/audio";
    fuzz::write_file(path, std::string_view(reinterpret_cast<const char*>(data), size));
    io::DecodeOptions opt;
    opt.target_rate_hz = 22050;
    io::DecodeCallbacks cb;
    io::SourceInfo info;
    bool opened = false;
    std::int64_t native = 0, mono = 0;
    cb.on_open = [&](const io::SourceInfo& i) {
        if (opened) fuzz::fail("on_open called twice");
        if (i.sample_rate_hz <= 0 || i.channels <= 0) fuzz::fail("opened with no rate or channels");
        info = i;
        opened = true;
    };
    cb.on_native = [&](std::span<const float> s, int channels, int rate) {
        if (!opened) fuzz::fail("samples before on_open");
        if (channels <= 0 || rate <= 0 || s.size() % static_cast<std::size_t>(channels) != 0)
            fuzz::fail("native block shape");
        native += static_cast<std::int64_t>(s.size()) / channels;
    };
    cb.on_mono = [&](std::span<const float> s) { mono += static_cast<std::int64_t>(s.size()); };
    auto r = io::decode_file(path, opt, cb);
    if (r) {
        if (r->native_frames <= 0) fuzz::fail("success without samples");
        if (r->native_frames != native) fuzz::fail("native frame count");
        if (r->mono_samples != mono) fuzz::fail("mono sample count");
    }
    return 0;
}
