#include "pipeline/segments.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "analyzers/rhythm/rhythm_internal.hpp"

namespace harmony::pipeline {

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

double kept(const SegmentResult& s) {
    return std::max(0.0, s.keep_to_s - s.keep_from_s);
}

std::string window_name(const SegmentResult& s) {
    return "segment " + clock_label(s.keep_from_s) + "-" + clock_label(s.keep_to_s);
}

bool inside(const SegmentResult& s, double t) {
    return t >= s.keep_from_s && t < s.keep_to_s;
}

double weighted_median(std::vector<std::pair<double, double>> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    double total = 0.0;
    for (const auto& p : v) total += p.second;
    double acc = 0.0;
    for (const auto& p : v) {
        acc += p.second;
        if (acc >= 0.5 * total) return p.first;
    }
    return v.back().first;
}

double median_interval(const std::vector<double>& t) {
    std::vector<double> d;
    for (size_t i = 1; i < t.size(); ++i) d.push_back(t[i] - t[i - 1]);
    return rhythm::detail::median(std::move(d));
}

std::string clock_label(double seconds) {
    const auto s = static_cast<long>(std::floor(std::max(0.0, seconds) + 0.5));
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

std::string describe_segments(const std::vector<SegmentResult>& segments, double segment_s, double overlap_s) {
    if (segments.empty()) return {};
    return "long file (" + clock_label(segments.back().keep_to_s) + "): analysed in " +
           std::to_string(segments.size()) + " segments of about " + clock_label(segment_s) + " overlapping by " +
           fmt("%.0f", overlap_s) + " s, so memory stays bounded";
}

}  // namespace harmony::pipeline
