#include "io/decoder.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <memory>

#include "io/resampler.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

namespace harmony::io {

namespace {

std::string av_err(int code) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(code, buf, sizeof buf);
    return buf;
}

struct FormatCloser {
    void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct CodecCloser {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketCloser {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameCloser {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct SwrCloser {
    void operator()(SwrContext* s) const { swr_free(&s); }
};

/// The library is silent: FFmpeg's own logging would write to stderr.
void quiet_ffmpeg() {
    static const bool once = [] {
        av_log_set_level(AV_LOG_QUIET);
        return true;
    }();
    (void)once;
}

}  // namespace

Result<std::int64_t> check_input_file(const std::string& path) {
    struct stat st {};
    if (path.empty()) return make_error(ErrorCode::kFileNotFound, "empty path");
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == EACCES) return make_error(ErrorCode::kPermissionDenied, "permission denied: " + path);
        return make_error(ErrorCode::kFileNotFound, "no such file: " + path);
    }
    if (S_ISDIR(st.st_mode)) return make_error(ErrorCode::kNotAFile, "is a directory, not a file: " + path);
    if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::kNotAFile, "not a regular file: " + path);
    if (::access(path.c_str(), R_OK) != 0)
        return make_error(ErrorCode::kPermissionDenied, "permission denied: " + path);
    if (st.st_size == 0) return make_error(ErrorCode::kEmptyFile, "empty file (0 bytes): " + path);
    return static_cast<std::int64_t>(st.st_size);
}

Result<DecodeStats> decode_file(const std::string& path, const DecodeOptions& options, const DecodeCallbacks& cb) {
    quiet_ffmpeg();
    auto size = check_input_file(path);
    if (!size) return size.error();
    if (options.target_rate_hz < 1000 || options.target_rate_hz > 384000)
        return make_error(ErrorCode::kInvalidArgument, "analysis rate out of range");

    AVFormatContext* raw_fmt = nullptr;
    int rc = avformat_open_input(&raw_fmt, path.c_str(), nullptr, nullptr);
    if (rc < 0) {
        if (rc == AVERROR(EACCES)) return make_error(ErrorCode::kPermissionDenied, "permission denied: " + path);
        return make_error(ErrorCode::kUnsupportedFormat, "not a recognised audio file (" + av_err(rc) + "): " + path);
    }
    std::unique_ptr<AVFormatContext, FormatCloser> fmt(raw_fmt);
    rc = avformat_find_stream_info(fmt.get(), nullptr);
    if (rc < 0)
        return make_error(ErrorCode::kUnsupportedFormat, "cannot read stream info (" + av_err(rc) + "): " + path);

    const AVCodec* codec = nullptr;
    const int stream_index = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    if (stream_index < 0 || codec == nullptr) {
        if (stream_index == AVERROR_DECODER_NOT_FOUND)
            return make_error(ErrorCode::kUnsupportedFormat, "no decoder for the audio codec: " + path);
        return make_error(ErrorCode::kNoAudioStream, "no audio stream in file: " + path);
    }
    AVStream* stream = fmt->streams[stream_index];
    for (unsigned i = 0; i < fmt->nb_streams; ++i)
        if (static_cast<int>(i) != stream_index) fmt->streams[i]->discard = AVDISCARD_ALL;

    std::unique_ptr<AVCodecContext, CodecCloser> dec(avcodec_alloc_context3(codec));
    if (!dec) return make_error(ErrorCode::kInternal, "out of memory");
    if (avcodec_parameters_to_context(dec.get(), stream->codecpar) < 0)
        return make_error(ErrorCode::kDecodeFailed, "bad codec parameters: " + path);
    dec->pkt_timebase = stream->time_base;
    rc = avcodec_open2(dec.get(), codec, nullptr);
    if (rc < 0)
        return make_error(ErrorCode::kDecodeFailed,
                          "cannot open " + std::string(codec->name) + " decoder (" + av_err(rc) + "): " + path);

    SourceInfo info;
    info.container = fmt->iformat ? fmt->iformat->name : "";
    info.codec = codec->name;
    info.sample_rate_hz = dec->sample_rate;
    info.channels = dec->ch_layout.nb_channels;
    info.bit_rate = stream->codecpar->bit_rate > 0 ? stream->codecpar->bit_rate : fmt->bit_rate;
    if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0)
        info.duration_estimate_s = static_cast<double>(stream->duration) * av_q2d(stream->time_base);
    else if (fmt->duration > 0)
        info.duration_estimate_s = static_cast<double>(fmt->duration) / AV_TIME_BASE;
    info.file_size_bytes = size.value();
    // Tags: the container's dictionary first, then the audio stream's (Ogg keeps them there).
    // FFmpeg's keys are case-insensitive: ID3 TIT2/TPE1/... map to title/artist/..., while TBPM,
    // TKEY and Vorbis BPM/INITIALKEY keep their own names.
    auto tag = [&](std::initializer_list<const char*> keys) -> std::string {
        for (AVDictionary* d : {fmt->metadata, stream->metadata})
            for (const char* k : keys)
                if (const AVDictionaryEntry* e = av_dict_get(d, k, nullptr, 0); e && e->value && *e->value)
                    return e->value;
        return {};
    };
    info.title = tag({"title"});
    info.artist = tag({"artist", "album_artist"});
    info.album = tag({"album"});
    info.genre = tag({"genre"});
    info.comment = tag({"comment", "description"});
    info.bpm = tag({"TBPM", "BPM", "tmpo", "TEMPO"});
    info.key = tag({"TKEY", "INITIALKEY", "initialkey", "KEY"});
    if (info.sample_rate_hz <= 0 || info.channels <= 0)
        return make_error(ErrorCode::kDecodeFailed, "audio stream has no valid sample rate or channel count: " + path);
    if (cb.on_open) cb.on_open(info);

    DecodeStats stats;
    std::unique_ptr<AVPacket, PacketCloser> pkt(av_packet_alloc());
    std::unique_ptr<AVFrame, FrameCloser> frame(av_frame_alloc());
    std::unique_ptr<SwrContext, SwrCloser> swr;
    int swr_in_fmt = -1, swr_in_rate = 0, swr_in_channels = 0;
    std::vector<float> native;
    auto mono_sink = [&](std::span<const float> s) {
        if (cb.on_mono) cb.on_mono(s);
    };
    std::unique_ptr<Resampler> mono;  // channel average at the source rate, then libsoxr
    int mono_rate = 0;
    int mono_channels = 0;

    auto deliver = [&](AVFrame* f) -> Result<void> {
        const int channels = f->ch_layout.nb_channels > 0 ? f->ch_layout.nb_channels : info.channels;
        const int rate = f->sample_rate > 0 ? f->sample_rate : info.sample_rate_hz;
        if (f->nb_samples <= 0) return {};
        if (!swr || f->format != swr_in_fmt || rate != swr_in_rate || channels != swr_in_channels) {
            SwrContext* s = nullptr;
            AVChannelLayout layout{};
            av_channel_layout_default(&layout, channels);
            AVChannelLayout* in_layout = f->ch_layout.nb_channels > 0 ? &f->ch_layout : &layout;
            if (swr_alloc_set_opts2(&s, in_layout, AV_SAMPLE_FMT_FLT, rate, in_layout,
                                    static_cast<AVSampleFormat>(f->format), rate, 0, nullptr) < 0 ||
                swr_init(s) < 0) {
                swr_free(&s);
                av_channel_layout_uninit(&layout);
                return make_error(ErrorCode::kDecodeFailed, "cannot convert sample format: " + path);
            }
            av_channel_layout_uninit(&layout);
            swr.reset(s);
            swr_in_fmt = f->format;
            swr_in_rate = rate;
            swr_in_channels = channels;
        }
        native.resize(static_cast<size_t>(f->nb_samples) * channels);
        auto* out = reinterpret_cast<uint8_t*>(native.data());
        const int got =
            swr_convert(swr.get(), &out, f->nb_samples, const_cast<const uint8_t**>(f->extended_data), f->nb_samples);
        if (got < 0) return make_error(ErrorCode::kDecodeFailed, "sample conversion failed: " + path);
        if (got == 0) return {};
        if (!mono || rate != mono_rate || channels != mono_channels) {
            if (mono) {
                const auto before = mono->produced();
                mono->flush();
                stats.mono_samples += mono->produced() - before;
            }
            if (mono_rate != 0 && rate != mono_rate)
                stats.warnings.push_back("sample rate changes mid-stream (" + std::to_string(mono_rate) + " -> " +
                                         std::to_string(rate) + " Hz)");
            mono = std::make_unique<Resampler>(rate, channels, options.target_rate_hz, 1, mono_sink);
            if (!mono->ok()) return make_error(ErrorCode::kDecodeFailed, "cannot create resampler: " + path);
            mono_rate = rate;
            mono_channels = channels;
        }
        if (cb.on_native) cb.on_native({native.data(), static_cast<size_t>(got) * channels}, channels, rate);
        stats.native_frames += got;
        const auto before = mono->produced();
        mono->push({native.data(), static_cast<size_t>(got) * channels});
        stats.mono_samples += mono->produced() - before;
        if (cb.on_position) cb.on_position(static_cast<double>(stats.native_frames) / rate);
        return {};
    };

    std::int64_t packets = 0;
    std::int64_t last_bad_packet = -1;
    auto mark_bad = [&] {  // counts damaged packets once each
        if (last_bad_packet != packets) ++stats.corrupt_packets;
        last_bad_packet = packets;
    };
    auto drain = [&]() -> Result<void> {
        for (;;) {
            const int r = avcodec_receive_frame(dec.get(), frame.get());
            if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return {};
            if (r < 0) {
                mark_bad();
                return {};
            }
            auto d = deliver(frame.get());
            av_frame_unref(frame.get());
            if (!d) return d;
        }
    };

    for (;;) {
        if (options.stop.stop_requested()) return make_error(ErrorCode::kCancelled, "cancelled");
        rc = av_read_frame(fmt.get(), pkt.get());
        if (rc == AVERROR_EOF) break;
        if (rc < 0) {
            if (rc == AVERROR(EAGAIN)) continue;
            stats.truncated = true;
            stats.warnings.push_back("read error, decoding stopped early: " + av_err(rc));
            break;
        }
        if (pkt->stream_index != stream_index) {
            av_packet_unref(pkt.get());
            continue;
        }
        ++packets;
        if (packets == 1) {
            // Gapless info (e.g. the LAME header's encoder delay + 529): the demuxer puts the number
            // of samples to skip on the first packet; the decoder then drops them.
            size_t side_size = 0;
            if (const uint8_t* sd = av_packet_get_side_data(pkt.get(), AV_PKT_DATA_SKIP_SAMPLES, &side_size);
                sd && side_size >= 4)
                stats.start_trim_frames = static_cast<std::int64_t>(sd[0]) | (static_cast<std::int64_t>(sd[1]) << 8) |
                                          (static_cast<std::int64_t>(sd[2]) << 16) |
                                          (static_cast<std::int64_t>(sd[3]) << 24);
        }
        if ((pkt->flags & AV_PKT_FLAG_CORRUPT) != 0) mark_bad();
        rc = avcodec_send_packet(dec.get(), pkt.get());
        av_packet_unref(pkt.get());
        if (rc < 0 && rc != AVERROR(EAGAIN)) {
            mark_bad();
            continue;
        }
        auto d = drain();
        if (!d) return d.error();
    }
    avcodec_send_packet(dec.get(), nullptr);
    if (auto d = drain(); !d) return d.error();
    if (mono) {
        const auto before = mono->produced();
        mono->flush();
        stats.mono_samples += mono->produced() - before;
    }

    if (stats.native_frames == 0) {
        if (stats.corrupt_packets > 0)
            return make_error(
                ErrorCode::kDecodeFailed,
                "no audio could be decoded (" + std::to_string(stats.corrupt_packets) + " corrupt packets): " + path);
        return make_error(ErrorCode::kNoAudioData, "audio stream contains no samples: " + path);
    }
    if (stats.corrupt_packets > 0) {
        stats.truncated = true;
        if (last_bad_packet == packets && stats.corrupt_packets == 1)
            stats.warnings.emplace_back("file appears truncated: the last packet is incomplete");
        else
            stats.warnings.push_back(std::to_string(stats.corrupt_packets) + " corrupt packet(s) skipped");
    }
    // A container that announced a much longer duration than we decoded was cut short.
    const double decoded_s = static_cast<double>(stats.native_frames) / info.sample_rate_hz;
    if (info.duration_estimate_s > 0 && decoded_s < info.duration_estimate_s * 0.98 - 0.5) {
        stats.truncated = true;
        char msg[160];
        std::snprintf(msg, sizeof msg, "file appears truncated: decoded %.2f s of %.2f s announced", decoded_s,
                      info.duration_estimate_s);
        stats.warnings.emplace_back(msg);
    }
    return stats;
}

Result<std::vector<float>> decode_to_mono(const std::string& path, int rate_hz) {
    std::vector<float> out;
    DecodeCallbacks cb;
    cb.on_mono = [&](std::span<const float> s) { out.insert(out.end(), s.begin(), s.end()); };
    DecodeOptions opt;
    opt.target_rate_hz = rate_hz;
    auto r = decode_file(path, opt, cb);
    if (!r) return r.error();
    return out;
}

}  // namespace harmony::io
