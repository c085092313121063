// Harmony — writes tempo and key into audio files' tags through TagLib (formats.md §2):
// ID3v2 TBPM/TKEY (MP3, WAV, AIFF), Vorbis comments BPM/INITIALKEY (FLAC, Ogg Vorbis, Opus),
// MP4 tmpo + ----:com.apple.iTunes:initialkey (M4A). Tags already there are kept; the audio data
// is never touched; the file is replaced atomically (the edit happens on a copy that is renamed
// over the original).
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
};

struct TagChange {
    std::string field;  // "TBPM", "BPM", "tmpo", "TKEY", "INITIALKEY", "COMM", ...
    std::string old_value;
    std::string new_value;
};

struct TagReport {
    std::string format;  // "ID3v2 (MP3)", "Vorbis (FLAC)", "MP4", ...
    std::vector<TagChange> changes;
    bool written = false;  // false for a dry run or when nothing changed
};

/// Expands a comment template for a map ("{camelot} - {bpm}" -> "8A - 124").
std::string expand_comment(const std::string& tmpl, const SongMap& map, KeyNotation notation);

/// Writes (or, with dry_run, plans) the tags of `path` from `map`. Errors: kPermissionDenied
/// (read-only file or directory), kUnsupportedFormat (a format TagLib cannot tag), kIoError.
Result<TagReport> write_tags(const std::string& path, const SongMap& map, const TagOptions& options);

}  // namespace harmony::tags
