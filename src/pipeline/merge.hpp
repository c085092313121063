// Merging the segments of a long file: each segmented analyzer merges its own parts, in
// dependency order (beats sees the merged tempo).
#pragma once

#include <vector>

#include "analyzers/analyzer.hpp"
#include "pipeline/segments.hpp"

namespace harmony::pipeline {

/// Merges with the given instances (in dependency order) into out.
void merge_segments(const std::vector<const analyzers::Analyzer*>& in_order, const std::vector<SegmentResult>& segments,
                    double segment_s, double overlap_s, SongMap& out);

/// Merges with a default instance of every segmentable analyzer in the registry.
void merge_segments(const std::vector<SegmentResult>& segments, double segment_s, double overlap_s, SongMap& out);

}  // namespace harmony::pipeline
