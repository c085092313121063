// Standard MIDI File export (formats.md §3.4): format 1, 480 ticks per quarter note. Track 0 holds
// the tempo map and time signatures, one track each for the melody and the bass notes.
//
// Tempo map from the beat grid: every beat is one quarter note, and each beat interval gets its own
// tempo (FF 51), so every beat lands exactly on a quarter-note tick and the notes sit on the bars
// in a DAW. The stretch before the first beat becomes whole beats at its own tempo; when the first
// downbeat would not fall on a bar line, a short first bar (pickup, its own FF 58) makes it one.
// Without beats: 120 BPM, 4/4. The writer is the dozen lines of the SMF byte format: Debian's only
// SMF library is portsmf (libportsmf, an Audacity SVN snapshot from 2010), not worth a dependency;
// the tests read the files back with Python mido (python3-mido), an independent parser.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "export/export_internal.hpp"

namespace harmony::exporters {

namespace {

constexpr int kPpq = 480;

void put_vlq(std::string& out, std::uint32_t v) {
    char buf[5];
    int n = 0;
    buf[n++] = static_cast<char>(v & 0x7F);
    while ((v >>= 7) != 0) buf[n++] = static_cast<char>(0x80 | (v & 0x7F));
    while (n > 0) out.push_back(buf[--n]);
}

void put_be(std::string& out, std::uint32_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

struct Event {
    std::int64_t tick;
    int order;  // at one tick: meta first, then note-offs, then note-ons
    std::string bytes;
};

std::string track_chunk(std::vector<Event> events) {
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
        return a.tick != b.tick ? a.tick < b.tick : a.order < b.order;
    });
    std::string body;
    std::int64_t last = 0;
    for (const auto& e : events) {
        put_vlq(body, static_cast<std::uint32_t>(std::max<std::int64_t>(0, e.tick - last)));
        body += e.bytes;
        last = std::max(last, e.tick);
    }
    body += std::string("\x00\xFF\x2F\x00", 4);  // end of track
    std::string out = "MTrk";
    put_be(out, static_cast<std::uint32_t>(body.size()), 4);
    return out + body;
}

std::string meta(int type, const std::string& data) {
    std::string b;
    b.push_back(static_cast<char>(0xFF));
    b.push_back(static_cast<char>(type));
    put_vlq(b, static_cast<std::uint32_t>(data.size()));
    return b + data;
}

std::string tempo_meta(double seconds_per_quarter) {
    std::string d;
    const auto us = static_cast<std::uint32_t>(std::clamp(std::lround(seconds_per_quarter * 1e6), 1L, 0xFFFFFFL));
    put_be(d, us, 3);
    return meta(0x51, d);
}

std::string time_signature_meta(int numerator) {
    std::string d;
    d.push_back(static_cast<char>(numerator));
    d.push_back(2);  // a quarter note
    d.push_back(24);
    d.push_back(8);
    return meta(0x58, d);
}

/// Seconds -> ticks through beat anchors (time, tick), extrapolated at the last interval's tempo.
class TickMap {
public:
    TickMap(std::vector<double> t, std::vector<std::int64_t> k) : t_(std::move(t)), k_(std::move(k)) {}
    std::int64_t operator()(double s) const {
        if (s <= t_.front()) return k_.front();
        auto it = std::upper_bound(t_.begin(), t_.end(), s);
        size_t i = static_cast<size_t>(it - t_.begin());
        if (i >= t_.size()) i = t_.size() - 1;
        const size_t a = i - 1;
        const double frac = (s - t_[a]) / (t_[i] - t_[a]);
        return k_[a] + std::llround(frac * static_cast<double>(k_[i] - k_[a]));
    }

private:
    std::vector<double> t_;
    std::vector<std::int64_t> k_;
};

}  // namespace

Result<std::string> render_midi(const std::vector<SongMap>& maps) {
    if (maps.size() != 1)
        return make_error(ErrorCode::kInvalidArgument,
                          "MIDI export takes one Song Map per file, got " + std::to_string(maps.size()));
    const SongMap& m = maps.front();
    if (!m.notes)
        return make_error(ErrorCode::kInvalidArgument,
                          "MIDI export needs the 'notes' part (run the notes analyzer: --only ...,notes)");

    // Beat anchors.
    std::vector<double> beats;
    std::vector<int> positions;
    if (m.beats) {
        for (size_t i = 0; i < m.beats->times_s.size(); ++i) {
            const double t = m.beats->times_s[i];
            if (!std::isfinite(t) || t < 0.0 || (!beats.empty() && t < beats.back() + 1e-3)) continue;
            beats.push_back(t);
            positions.push_back(i < m.beats->positions.size() ? m.beats->positions[i] : 0);
        }
    }
    int per_bar = 4;
    if (m.meter && m.meter->numerator > 0) per_bar = m.meter->numerator;
    const int max_pos = positions.empty() ? 0 : *std::max_element(positions.begin(), positions.end());
    if (max_pos >= 2 && max_pos <= 16) per_bar = max_pos;
    per_bar = std::clamp(per_bar, 1, 16);

    std::vector<Event> tempo_track;
    tempo_track.push_back({0, 0, meta(0x03, "Harmony tempo map")});
    std::vector<double> at;
    std::vector<std::int64_t> ak;
    if (beats.size() < 2) {
        tempo_track.push_back({0, 0, time_signature_meta(4)});
        tempo_track.push_back({0, 0, tempo_meta(0.5)});
        at = {0.0, 1.0};
        ak = {0, 2 * kPpq};
    } else {
        const double ibi0 = beats[1] - beats[0];
        const int pre = beats[0] > 1e-3 ? std::max(1, static_cast<int>(std::lround(beats[0] / ibi0))) : 0;
        size_t first_down = 0;
        while (first_down < positions.size() && positions[first_down] != 1) ++first_down;
        if (first_down == positions.size()) first_down = 0;
        const int lead = pre + static_cast<int>(first_down);  // beats before the first downbeat
        const int pickup = lead % per_bar;
        if (pickup != 0) {
            tempo_track.push_back({0, 0, time_signature_meta(pickup)});
            tempo_track.push_back({static_cast<std::int64_t>(pickup) * kPpq, 0, time_signature_meta(per_bar)});
        } else {
            tempo_track.push_back({0, 0, time_signature_meta(per_bar)});
        }
        if (pre > 0) {
            at.push_back(0.0);
            ak.push_back(0);
            tempo_track.push_back({0, 0, tempo_meta(beats[0] / pre)});
        }
        for (size_t i = 0; i < beats.size(); ++i) {
            const std::int64_t tick = static_cast<std::int64_t>(pre + static_cast<int>(i)) * kPpq;
            at.push_back(beats[i]);
            ak.push_back(tick);
            const double spq = i + 1 < beats.size() ? beats[i + 1] - beats[i] : beats[i] - beats[i - 1];
            tempo_track.push_back({tick, 0, tempo_meta(spq)});
        }
        // One more anchor past the last beat, at its tempo.
        const double last = beats.back() - beats[beats.size() - 2];
        at.push_back(beats.back() + last * 1e6);
        ak.push_back(ak.back() + static_cast<std::int64_t>(1e6 * kPpq));
    }
    if (at.size() == 2 && beats.size() < 2) {
        at.push_back(1e6);
        ak.push_back(static_cast<std::int64_t>(1e6 * 2 * kPpq));
    }
    const TickMap ticks(at, ak);

    auto note_track = [&](const std::vector<Note>& notes, const char* name, int channel, int program) {
        std::vector<Event> ev;
        ev.push_back({0, 0, meta(0x03, name)});
        std::string pc;
        pc.push_back(static_cast<char>(0xC0 | channel));
        pc.push_back(static_cast<char>(program));
        ev.push_back({0, 0, pc});
        for (const auto& n : notes) {
            if (!std::isfinite(n.onset_s) || !std::isfinite(n.offset_s) || !std::isfinite(n.pitch_midi)) continue;
            const int key = static_cast<int>(std::clamp(std::lround(n.pitch_midi), 0L, 127L));
            const int vel = n.velocity >= 1.0 ? static_cast<int>(std::clamp(std::lround(n.velocity), 1L, 127L)) : 80;
            const std::int64_t on = ticks(std::max(0.0, n.onset_s));
            const std::int64_t off = std::max(on + 1, ticks(std::max(n.onset_s, n.offset_s)));
            std::string b_on, b_off;
            b_on.push_back(static_cast<char>(0x90 | channel));
            b_on.push_back(static_cast<char>(key));
            b_on.push_back(static_cast<char>(vel));
            b_off.push_back(static_cast<char>(0x80 | channel));
            b_off.push_back(static_cast<char>(key));
            b_off.push_back(64);
            ev.push_back({on, 2, b_on});
            ev.push_back({off, 1, b_off});
        }
        return track_chunk(std::move(ev));
    };

    std::string out = "MThd";
    put_be(out, 6, 4);
    put_be(out, 1, 2);  // format 1
    put_be(out, 3, 2);  // tracks
    put_be(out, kPpq, 2);
    out += track_chunk(std::move(tempo_track));
    out += note_track(m.notes->melody, "Melody", 0, 0);  // acoustic grand piano
    out += note_track(m.notes->bass, "Bass", 1, 33);     // electric bass (finger)
    return out;
}

}  // namespace harmony::exporters
