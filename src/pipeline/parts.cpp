#include "pipeline/parts.hpp"

#include "serialize/part_json.hpp"

namespace harmony::pipeline {

namespace {

// Time shift of each part type (segments of long files are analysed from 0 and moved to file time).
void shift_part(Tempo& t, double d) {
    for (auto& p : t.curve) p.time_s += d;
}
void shift_part(Beats& b, double d) {
    for (auto& t : b.times_s) t += d;
    b.grid.first_beat_s += d;
    b.grid.first_downbeat_s += d;
}
void shift_part(Downbeats& b, double d) {
    for (auto& t : b.times_s) t += d;
}
void shift_part(Meter&, double) {}
void shift_part(Key& k, double d) {
    for (auto& s : k.segments) {
        s.start_s += d;
        s.end_s += d;
    }
}
void shift_part(Loudness&, double) {}
template <class Seg>
void shift_segments(std::vector<Seg>& v, double d) {
    for (auto& s : v) {
        s.start_s += d;
        s.end_s += d;
    }
}
void shift_part(Chords& c, double d) {
    shift_segments(c.segments, d);
}
void shift_part(Sections& s, double d) {
    shift_segments(s.segments, d);
    shift_segments(s.phrases, d);
    for (auto& g : s.phrase_grid)
        for (auto& p : g.starts) p.time_s += d;
}
void shift_part(Notes& n, double d) {
    for (auto* v : {&n.melody, &n.bass})
        for (auto& x : *v) {
            x.onset_s += d;
            x.offset_s += d;
        }
    n.melody_f0.start_s += d;
}
void shift_part(Lyrics& l, double d) {
    shift_segments(l.lines, d);
}
void shift_part(Stems&, double) {}

template <class T, std::optional<T> SongMap::*M>
struct Ops {
    static bool present(const SongMap& m) { return (m.*M).has_value(); }
    static Provenance* provenance(SongMap& m) { return (m.*M) ? &(m.*M)->provenance : nullptr; }
    static void shift(SongMap& m, double d) {
        if (m.*M) shift_part(*(m.*M), d);
    }
    static void move_to(SongMap& from, SongMap& to) {
        if (from.*M) to.*M = std::move(from.*M);
        (from.*M).reset();
    }
    static void reset(SongMap& m) { (m.*M).reset(); }
    static nlohmann::json to_json(const SongMap& m) { return serialize::part_to_json(*(m.*M)); }
    static void from_json(const nlohmann::json& j, SongMap& m) {
        T v;
        serialize::part_from_json(j, v);
        m.*M = std::move(v);
    }
};

template <class T, std::optional<T> SongMap::*M>
constexpr PartTraits make(Part p, std::string_view name, std::string_view pointer) {
    using O = Ops<T, M>;
    return {p,         name,        pointer,   &O::present, &O::provenance,
            &O::shift, &O::move_to, &O::reset, &O::to_json, &O::from_json};
}

}  // namespace

const std::array<PartTraits, kPartCount>& parts() {
    static const std::array<PartTraits, kPartCount> table = {
        make<Tempo, &SongMap::tempo>(Part::kTempo, "tempo", "/properties/tempo"),
        make<Beats, &SongMap::beats>(Part::kBeats, "beats", "/properties/beats"),
        make<Downbeats, &SongMap::downbeats>(Part::kDownbeats, "downbeats", "/properties/downbeats"),
        make<Meter, &SongMap::meter>(Part::kMeter, "meter", "/properties/meter"),
        make<Key, &SongMap::key>(Part::kKey, "key", "/properties/key"),
        make<Loudness, &SongMap::loudness>(Part::kLoudness, "loudness", "/properties/loudness"),
        make<Chords, &SongMap::chords>(Part::kChords, "chords", "/properties/chords"),
        make<Sections, &SongMap::sections>(Part::kSections, "sections", "/properties/sections"),
        make<Notes, &SongMap::notes>(Part::kNotes, "notes", "/properties/notes"),
        make<Lyrics, &SongMap::lyrics>(Part::kLyrics, "lyrics", "/properties/lyrics"),
        make<Stems, &SongMap::stems>(Part::kStems, "stems", "/properties/stems"),
    };
    return table;
}

const PartTraits* find_part(std::string_view name) {
    for (const auto& t : parts())
        if (t.name == name) return &t;
    return nullptr;
}

void shift_times(SongMap& map, double seconds) {
    for (const auto& t : parts()) t.shift_times(map, seconds);
}

}  // namespace harmony::pipeline
