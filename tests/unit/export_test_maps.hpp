// Hand-built Song Maps for the export and library tests (schema-valid, every part the exporters read).
#pragma once

#include <string>
#include <vector>

#include "core/key_notation.hpp"
#include "harmony/song_map.hpp"

namespace harmony::test {

/// A chord segment with its time span, label and confidence only.
inline ChordSegment chord_segment(double start_s, double end_s, std::string label, double confidence) {
    ChordSegment s;
    s.start_s = start_s;
    s.end_s = end_s;
    s.label = std::move(label);
    s.confidence = confidence;
    return s;
}

/// A 4/4 track: `bpm` from 0.5 s; with `bpm2` > 0 the tempo changes to bpm2 at the 33rd beat
/// (a variable-tempo grid). Key (pitch class, minor), loudness, chords and sections are filled.
inline SongMap make_test_map(const std::string& path, double bpm, int pitch_class, bool minor, double bpm2 = 0.0,
                             double lufs = -9.0) {
    SongMap m;
    m.audio.path = path;
    m.audio.container = "mp3";
    m.audio.codec = "mp3";
    m.audio.sample_rate_hz = 44100;
    m.audio.channels = 2;
    m.audio.bit_rate = 320000;
    m.audio.duration_s = 60.0;
    m.audio.file_size_bytes = 2400000;
    m.audio.content_hash = "xxh128:0123456789abcdef0123456789abcdef";
    m.audio.analysis_rate_hz = 22050;

    Tempo t;
    t.bpm = bpm;
    t.confidence = 0.9;
    t.range_min_bpm = 78;
    t.range_max_bpm = 155;
    t.stable = bpm2 <= 0.0;
    t.provenance = {"tempo", 1, {{"min_bpm", 78.0}}, 0.01};
    Beats b;
    double time = 0.5;
    for (int i = 0; time < m.audio.duration_s - 0.1; ++i) {
        b.times_s.push_back(time);
        b.positions.push_back(i % 4 + 1);
        time += 60.0 / ((bpm2 > 0.0 && i >= 32) ? bpm2 : bpm);
    }
    if (bpm2 > 0.0) t.curve = {{0.5, bpm}, {b.times_s[32], bpm2}};
    m.tempo = t;
    b.confidence = 0.8;
    b.grid = {bpm2 <= 0.0, 0.5, 0.5, bpm};
    b.provenance = {"beats", 1, {}, 0.01};
    Downbeats d;
    for (size_t i = 0; i < b.times_s.size(); ++i)
        if (b.positions[i] == 1) d.times_s.push_back(b.times_s[i]);
    d.confidence = 0.7;
    d.provenance = {"beats", 1, {}, 0.0};
    m.beats = b;
    m.downbeats = d;
    Meter me;
    me.label = "4/4";
    me.numerator = 4;
    me.denominator = 4;
    me.confidence = 0.9;
    me.provenance = {"beats", 1, {}, 0.0};
    m.meter = me;

    Key k;
    k.key = core::make_key_name(pitch_class, minor);
    k.confidence = 0.8;
    k.compatible_camelot = core::compatible_camelot(pitch_class, minor);
    k.provenance = {"key", 1, {}, 0.01};
    m.key = k;

    Loudness l;
    l.integrated_lufs = lufs;
    l.loudness_range_lu = 5.0;
    l.true_peak_dbtp = -0.5;
    l.sample_peak_dbfs = -0.7;
    l.max_momentary_lufs = lufs + 3;
    l.max_short_term_lufs = lufs + 1.5;
    l.replaygain_track_gain_db = -18.0 - lufs;
    l.replaygain_track_peak = 0.94;
    l.provenance = {"loudness", 1, {}, 0.01};
    m.loudness = l;

    Chords c;
    c.segments = {chord_segment(0.0, 2.5, "A:min", 0.8), chord_segment(2.5, 5.0, "F:maj", 0.7),
                  chord_segment(5.0, 60.0, "N", 0.5)};
    c.confidence = 0.6;
    c.provenance = {"chords", 1, {}, 0.0};
    m.chords = c;
    Sections s;
    s.segments = {
        {0.0, 16.5, "A", 0.7, "intro", 8}, {16.5, 40.0, "B", 0.6, "chorus", 12}, {40.0, 60.0, "C", 0.6, "outro", 10}};
    s.phrases = {{0.0, 8.25, "A", 0.7, "intro", 4},
                 {8.25, 16.5, "A", 0.7, "intro", 4},
                 {16.5, 40.0, "B", 0.6, "chorus", 12},
                 {40.0, 60.0, "C", 0.6, "outro", 10}};
    s.confidence = 0.6;
    s.provenance = {"sections", 1, {}, 0.0};
    m.sections = s;
    return m;
}

/// A 160 s 4/4 track at 120 BPM (beats from 0.5 s, downbeats every 2 s: 80 bars) whose sections
/// are 8, 40, 24 and 8 bars long: Intro A from 0 s (before the first downbeat), Verse B from bar 8
/// (16.5 s), Chorus C from bar 48 (96.5 s), Outro D from bar 72 (144.5 s). The DJ phrase grids:
/// 8 bars: bars 0 | 8 16 24 32 40 | 48 56 64 | 72; 16: 0 | 8 24 40 | 48 64 | 72; 32: 0 | 8 40 | 48 | 72.
/// No phrase_grid in the map (the exporters compute it, as for a map written before schema 2.1.0).
inline SongMap make_phrase_test_map(const std::string& path) {
    SongMap m = make_test_map(path, 120.0, 9, true);
    m.audio.duration_s = 160.0;
    m.beats->times_s.clear();
    m.beats->positions.clear();
    m.downbeats->times_s.clear();
    for (int i = 0; i < 319; ++i) {
        m.beats->times_s.push_back(0.5 + 0.5 * i);
        m.beats->positions.push_back(i % 4 + 1);
        if (i % 4 == 0) m.downbeats->times_s.push_back(0.5 + 0.5 * i);
    }
    m.chords->segments.back().end_s = 160.0;
    m.sections->segments = {{0.0, 16.5, "A", 0.7, "intro", 8},
                            {16.5, 96.5, "B", 0.6, "verse", 40},
                            {96.5, 144.5, "C", 0.6, "chorus", 24},
                            {144.5, 160.0, "D", 0.6, "outro", 8}};
    m.sections->phrases = m.sections->segments;
    return m;
}

}  // namespace harmony::test
