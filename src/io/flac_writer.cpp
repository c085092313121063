#include "io/flac_writer.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
}

namespace harmony::io {

struct FlacWriter::Impl {
    std::string path, tmp;
    AVFormatContext* fmt = nullptr;
    AVCodecContext* enc = nullptr;
    AVStream* stream = nullptr;
    AVFrame* frame = nullptr;
    AVPacket* packet = nullptr;
    int channels = 1;
    int frame_size = 4096;
    std::vector<std::int32_t> pending;  // interleaved, left-justified 24-bit
    std::int64_t pts = 0;
    std::int64_t clipped = 0;
    bool header_written = false;

    ~Impl() {
        if (frame != nullptr) av_frame_free(&frame);
        if (packet != nullptr) av_packet_free(&packet);
        if (enc != nullptr) avcodec_free_context(&enc);
        if (fmt != nullptr) {
            if (fmt->pb != nullptr) avio_closep(&fmt->pb);
            avformat_free_context(fmt);
            fmt = nullptr;
            std::error_code ec;
            std::filesystem::remove(tmp, ec);
        }
    }
    Error fail(const std::string& what, int err = 0) const {
        std::string m = "stems: " + what + ": " + path;
        if (err < 0) {
            char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
            av_strerror(err, buf, sizeof buf);
            m += std::string(" (") + buf + ")";
        }
        return Error{ErrorCode::kIoError, m};
    }
    /// Drains the encoder's packets into the file.
    Result<void> drain() {
        for (;;) {
            const int r = avcodec_receive_packet(enc, packet);
            if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return {};
            if (r < 0) return fail("FLAC encoding failed", r);
            av_packet_rescale_ts(packet, enc->time_base, stream->time_base);
            packet->stream_index = stream->index;
            const int w = av_write_frame(fmt, packet);
            av_packet_unref(packet);
            if (w < 0) return fail("write failed", w);
        }
    }
    /// Encodes `frames` frames from the front of `pending`.
    Result<void> encode(int frames) {
        frame->nb_samples = frames;
        if (const int r = av_frame_make_writable(frame); r < 0) return fail("FLAC encoding failed", r);
        std::copy_n(pending.begin(), static_cast<std::size_t>(frames) * static_cast<std::size_t>(channels),
                    reinterpret_cast<std::int32_t*>(frame->data[0]));
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(frames) * channels);
        frame->pts = pts;
        pts += frames;
        if (const int r = avcodec_send_frame(enc, frame); r < 0) return fail("FLAC encoding failed", r);
        return drain();
    }
};

FlacWriter::FlacWriter() : impl_(std::make_unique<Impl>()) {}
FlacWriter::~FlacWriter() = default;

std::int64_t FlacWriter::clipped() const {
    return impl_->clipped;
}

Result<void> FlacWriter::open(const std::string& path, int channels, int rate_hz) {
    auto& m = *impl_;
    m.path = path;
    m.tmp = path + ".tmp";
    m.channels = channels;
    if (channels < 1 || channels > 8) return m.fail("FLAC holds 1 to 8 channels, not " + std::to_string(channels));
    if (rate_hz < 1 || rate_hz > 655350) return m.fail("FLAC cannot hold the rate " + std::to_string(rate_hz) + " Hz");
    const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_FLAC);
    if (codec == nullptr) return m.fail("this FFmpeg has no FLAC encoder");
    if (const int r = avformat_alloc_output_context2(&m.fmt, nullptr, "flac", m.tmp.c_str()); r < 0 || !m.fmt)
        return m.fail("cannot set up the FLAC muxer", r);
    m.enc = avcodec_alloc_context3(codec);
    if (m.enc == nullptr) return m.fail("out of memory");
    m.enc->sample_fmt = AV_SAMPLE_FMT_S32;
    m.enc->bits_per_raw_sample = 24;
    m.enc->sample_rate = rate_hz;
    av_channel_layout_default(&m.enc->ch_layout, channels);
    m.enc->time_base = AVRational{1, rate_hz};
    if (const int r = avcodec_open2(m.enc, codec, nullptr); r < 0) return m.fail("cannot open the FLAC encoder", r);
    m.frame_size = m.enc->frame_size > 0 ? m.enc->frame_size : 4096;
    m.stream = avformat_new_stream(m.fmt, nullptr);
    if (m.stream == nullptr) return m.fail("out of memory");
    m.stream->time_base = m.enc->time_base;
    if (const int r = avcodec_parameters_from_context(m.stream->codecpar, m.enc); r < 0)
        return m.fail("cannot set up the FLAC stream", r);
    if (const int r = avio_open(&m.fmt->pb, m.tmp.c_str(), AVIO_FLAG_WRITE); r < 0) return m.fail("cannot write", r);
    if (const int r = avformat_write_header(m.fmt, nullptr); r < 0) return m.fail("cannot write", r);
    m.header_written = true;
    m.frame = av_frame_alloc();
    m.packet = av_packet_alloc();
    if (m.frame == nullptr || m.packet == nullptr) return m.fail("out of memory");
    m.frame->format = AV_SAMPLE_FMT_S32;
    m.frame->sample_rate = rate_hz;
    if (const int r = av_channel_layout_copy(&m.frame->ch_layout, &m.enc->ch_layout); r < 0)
        return m.fail("out of memory", r);
    m.frame->nb_samples = m.frame_size;
    if (const int r = av_frame_get_buffer(m.frame, 0); r < 0) return m.fail("out of memory", r);
    return {};
}

Result<void> FlacWriter::append(const float* x, std::size_t n) {
    auto& m = *impl_;
    if (m.enc == nullptr || !m.header_written) return m.fail("not open");
    constexpr double kScale = 8388608.0;  // 2^23
    m.pending.reserve(m.pending.size() + n);
    for (std::size_t i = 0; i < n; ++i) {
        double v = std::nearbyint(static_cast<double>(x[i]) * kScale);
        if (!(v >= -kScale && v <= kScale - 1.0)) {  // NaN included
            ++m.clipped;
            v = std::isnan(v) ? 0.0 : std::clamp(v, -kScale, kScale - 1.0);
        }
        // Left-justified in 32 bits, as FFmpeg's encoder reads 24-bit samples from S32.
        m.pending.push_back(static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::int32_t>(v)) << 8));
    }
    const auto whole = static_cast<std::size_t>(m.frame_size) * static_cast<std::size_t>(m.channels);
    while (m.pending.size() >= whole)
        if (auto r = m.encode(m.frame_size); !r) return r;
    return {};
}

Result<void> FlacWriter::close() {
    auto& m = *impl_;
    if (m.enc == nullptr || !m.header_written) return m.fail("not open");
    if (!m.pending.empty())
        if (auto r = m.encode(static_cast<int>(m.pending.size() / static_cast<std::size_t>(m.channels))); !r) return r;
    if (const int r = avcodec_send_frame(m.enc, nullptr); r < 0) return m.fail("FLAC encoding failed", r);
    if (auto r = m.drain(); !r) return r;
    if (const int r = av_write_trailer(m.fmt); r < 0) return m.fail("cannot write", r);
    if (const int r = avio_closep(&m.fmt->pb); r < 0) return m.fail("cannot write", r);
    avformat_free_context(m.fmt);
    m.fmt = nullptr;
    std::error_code ec;
    std::filesystem::rename(m.tmp, m.path, ec);
    if (ec) {
        std::filesystem::remove(m.tmp, ec);
        return m.fail("cannot write");
    }
    return {};
}

}  // namespace harmony::io
