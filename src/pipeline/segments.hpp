// Long files are analysed in overlapping segments so that memory stays bounded whatever the
// length (a 10-hour DJ mix or recording needs no more than a 12-minute song). The engine streams
// the audio once; every `segment_s` seconds it runs the segmentable analyzers (tempo, beats, key,
// chords, notes) on the current segment's features, keeps their Song Map parts and starts the next
// segment with the last `overlap_s` seconds replayed. Each analyzer merges its own parts (its
// merge(), next to its code); this file holds what the merges share.
//
// Each segment keeps its results inside its own window: from the middle of the overlap with the
// previous segment to the middle of the overlap with the next, so every instant belongs to
// exactly one segment and the tracker's ramp-up at segment edges is never used.
#pragma once

#include <string>
#include <utility>
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

/// "1:02:03" or "4:05".
std::string clock_label(double seconds);

/// The sentence the merged decisions quote: "long file (1:00:00): analysed in 13 segments of ...".
std::string describe_segments(const std::vector<SegmentResult>& segments, double segment_s, double overlap_s);

/// Seconds of the file whose results come from this segment.
double kept(const SegmentResult& s);
/// "segment 4:40-9:20".
std::string window_name(const SegmentResult& s);
/// True when t lies in the segment's window.
bool inside(const SegmentResult& s, double t);
/// Weighted median of (value, weight) pairs.
double weighted_median(std::vector<std::pair<double, double>> v);
/// Median of successive differences.
double median_interval(const std::vector<double>& t);
/// printf-style number formatting for decisions ("%.2f").
std::string fmt(const char* format, double v);

/// Appends times inside the segment's window, dropping one that falls closer than min_gap_s to
/// the last kept time (the same beat seen by two segments near the cut); extra(i) is called for
/// every kept index.
template <class Extra>
void append_times(const std::vector<double>& times, const SegmentResult& s, double min_gap_s, std::vector<double>& out,
                  Extra&& extra) {
    for (size_t i = 0; i < times.size(); ++i) {
        const double t = times[i];
        if (!inside(s, t)) continue;
        if (!out.empty() && t - out.back() < min_gap_s) continue;
        out.push_back(t);
        extra(i);
    }
}

}  // namespace harmony::pipeline
