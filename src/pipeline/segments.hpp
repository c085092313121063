// Long files are analysed in overlapping segments so that memory stays bounded whatever the
// length (a 10-hour DJ mix or recording needs no more than a 12-minute song). The engine streams
// the audio once; every `segment_s` seconds it runs the segmentable analyzers (tempo, beats, key)
// on the current segment's features, keeps their Song Map parts and starts the next segment with
// the last `overlap_s` seconds replayed. This file holds the pure part: shifting a segment's times
// to the file's time line and merging the segments' parts into one Song Map.
//
// Each segment keeps its results inside its own window: from the middle of the overlap with the
// previous segment to the middle of the overlap with the next, so every instant belongs to
// exactly one segment and the tracker's ramp-up at segment edges is never used.
#pragma once

#include <string>
#include <vector>

#include "harmony/song_map.hpp"

namespace harmony::pipeline {

struct SegmentResult {
    double start_s = 0.0;      // first sample this segment's analyzers saw (file time)
    double end_s = 0.0;        // one past the last sample it saw
    double keep_from_s = 0.0;  // its results are used in [keep_from_s, keep_to_s)
    double keep_to_s = 0.0;
    SongMap map;  // segmentable parts only, times already shifted to file time
};

/// Adds offset_s to every time in the map's parts (beats, downbeats, tempo curve, key segments, ...).
void shift_times(SongMap& map, double offset_s);

/// "1:02:03" or "4:05".
std::string clock_label(double seconds);

/// Merges the segments' tempo, beats, downbeats, meter and key into out (which already holds the
/// audio info). segment_s / overlap_s are only used to describe the method in the decisions.
void merge_segments(const std::vector<SegmentResult>& segments, double segment_s, double overlap_s, SongMap& out);

}  // namespace harmony::pipeline
