#include "pipeline/merge.hpp"

#include <algorithm>

namespace harmony::pipeline {

void merge_segments(const std::vector<const analyzers::Analyzer*>& in_order, const std::vector<SegmentResult>& segments,
                    double segment_s, double overlap_s, SongMap& out) {
    if (segments.empty()) return;
    analyzers::MergeInfo info;
    info.segment_s = segment_s;
    info.overlap_s = overlap_s;
    for (const auto& s : segments) info.total_kept_s += kept(s);
    info.method = describe_segments(segments, segment_s, overlap_s);
    for (const auto* a : in_order) a->merge(segments, info, out);
}

void merge_segments(const std::vector<SegmentResult>& segments, double segment_s, double overlap_s, SongMap& out) {
    std::vector<std::unique_ptr<const analyzers::Analyzer>> owned;
    std::vector<const analyzers::Analyzer*> order;
    for (const auto& d : analyzers::registry()) {  // registry order is a dependency order
        auto p = analyzers::resolve_params(d.info, {});
        if (!p) continue;
        auto a = d.create(p.value());
        if (!a || !a.value()->segmentable()) continue;
        order.push_back(a.value().get());
        owned.push_back(std::move(a.value()));
    }
    merge_segments(order, segments, segment_s, overlap_s, out);
}

}  // namespace harmony::pipeline
