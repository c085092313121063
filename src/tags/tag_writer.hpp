// Harmony — writes tempo and key into audio files' tags through TagLib (formats.md §2):
// ID3v2 TBPM/TKEY (MP3, WAV, AIFF), Vorbis comments BPM/INITIALKEY (FLAC, Ogg Vorbis, Opus),
// MP4 tmpo + ----:com.apple.iTunes:initialkey (M4A). Tags already there are kept; the audio data
// is never touched. A regular file is replaced atomically (the edit happens on a copy that is
// renamed over the original); a symlink is written through (its target is edited, the link
// stays); a file with several hard links is edited in place (a backup copy restores it when the
// save fails), so every link keeps seeing the same file. A WAV's ID3 chunk keeps the name it had
// ("id3 ", which exiftool and most tools read, for a new one).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "harmony/error.hpp"
#include "harmony/export.hpp"
#include "harmony/song_map.hpp"

namespace harmony::tags {

struct TagOptions {
    KeyNotation notation = KeyNotation::kStandard;
    /// When non-empty, the comment is prefixed with this template, expanded: {key}, {camelot},
    /// {openkey}, {bpm}, {energy}. A prefix written earlier by Harmony is replaced, not stacked.
    std::string comment_template;
    bool dry_run = false;
    /// Leave a BPM or key already in the file (hand-set, or another tool's) as it is.
    bool keep_existing = false;
    /// Leave files that already have both a BPM and a key untouched.
    bool skip_tagged = false;
    /// ID3 TBPM / Vorbis BPM as an integer ("130", what the ID3v2 spec says) instead of "130.03".
    bool integer_bpm = false;
    /// Also Serato DJ's data (formats.md §1.3): `Serato Autotags`, `Serato BeatGrid` and
    /// `Serato Markers2` as ID3 GEOB frames (MP3, WAV, AIFF), SERATO_* Vorbis comments (FLAC)
    /// or com.serato.dj freeform atoms (M4A). A BPM lock set in Serato keeps the BPM, grid and
    /// autotags; cues or loops set in Serato keep Markers2.
    bool serato = false;
    /// Serato hot cues (Markers2): section starts, phrase starts, or only "Start" (`--cues`).
    CueSource cues = CueSource::kSections;
    /// Serato's "Start" cue: at the first downbeat or the first beat (harmony/export.hpp).
    DownbeatPolicy downbeats = DownbeatPolicy::kAuto;
    double min_downbeat_confidence = 0.5;
};

struct TagChange {
    std::string field;  // "TBPM", "BPM", "tmpo", "TKEY", "INITIALKEY", "COMM", ...
    std::string old_value;
    std::string new_value;
    std::string binary;  // "GEOB:<name>" fields (Serato): the payload; the values show sizes
};

struct TagReport {
    std::string format;  // "ID3v2 (MP3)", "Vorbis (FLAC)", "MP4", ...
    std::vector<TagChange> changes;
    bool written = false;           // false for a dry run or when nothing changed
    std::vector<std::string> kept;  // fields left as they were (keep_existing / skip_tagged), e.g. "TBPM '124'"
};

/// Expands a comment template for a map ("{camelot} - {bpm}" -> "8A - 124").
std::string expand_comment(const std::string& tmpl, const SongMap& map, KeyNotation notation);

/// Writes (or, with dry_run, plans) the tags of `path` from `map`. Errors: kPermissionDenied
/// (read-only file or directory), kUnsupportedFormat (a format TagLib cannot tag), kIoError.
Result<TagReport> write_tags(const std::string& path, const SongMap& map, const TagOptions& options);

}  // namespace harmony::tags
