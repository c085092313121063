#include "analyzers/sections/phrase_grid.hpp"

#include <algorithm>
#include <cmath>

namespace harmony::sections {

PhraseGrid dj_phrase_grid(const std::vector<Section>& sections, const std::vector<double>& db, int bars) {
    PhraseGrid g;
    g.bars = bars;
    if (bars < 1 || db.empty() || sections.empty()) return g;
    // A quarter of the median bar: how far a section start may lie after "its" downbeat (the
    // sections are snapped to downbeats; a first section starts at 0 before the first downbeat).
    double tol = 0.5;
    if (db.size() >= 2) {
        std::vector<double> d;
        for (size_t i = 1; i < db.size(); ++i) d.push_back(db[i] - db[i - 1]);
        std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
        tol = 0.25 * std::max(0.0, d[d.size() / 2]);
    }
    long next_free = 0;  // the first downbeat not yet taken
    for (size_t s = 0; s < sections.size(); ++s) {
        const double start = sections[s].start_s;
        if (!std::isfinite(start)) continue;
        const double end = s + 1 < sections.size() ? sections[s + 1].start_s : sections[s].end_s;
        auto k = static_cast<long>(std::lower_bound(db.begin(), db.end(), start - tol) - db.begin());
        k = std::max(k, next_free);
        for (; k < static_cast<long>(db.size()) && db[static_cast<size_t>(k)] < end - tol; k += bars) {
            g.starts.push_back({db[static_cast<size_t>(k)], static_cast<int>(k), static_cast<int>(s)});
            next_free = k + 1;
        }
    }
    return g;
}

std::vector<PhraseGrid> dj_phrase_grids(const std::vector<Section>& sections, const std::vector<double>& db) {
    std::vector<PhraseGrid> out;
    if (db.empty() || sections.empty()) return out;
    for (int bars : kDjPhraseLengths) out.push_back(dj_phrase_grid(sections, db, bars));
    return out;
}

std::vector<double> map_downbeats(const SongMap& m) {
    std::vector<double> db;
    if (m.downbeats && !m.downbeats->times_s.empty()) {
        db = m.downbeats->times_s;
    } else if (m.beats && m.beats->positions.size() == m.beats->times_s.size()) {
        for (size_t i = 0; i < m.beats->times_s.size(); ++i)
            if (m.beats->positions[i] == 1) db.push_back(m.beats->times_s[i]);
    }
    std::sort(db.begin(), db.end());
    db.erase(std::unique(db.begin(), db.end()), db.end());
    return db;
}

}  // namespace harmony::sections
