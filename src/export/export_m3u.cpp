// Extended M3U playlist in harmonic-mixing order: from the slowest track, each next track is the
// closest one that is a Camelot-compatible step (same key, +-1 on the wheel, or the relative
// key) within the BPM tolerance (half/double tempo counts); when none is, the least distant
// track follows. Tracks without tempo or key close the list.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "export/export_internal.hpp"

namespace harmony::exporters {

namespace {

struct Wheel {
    int number = 0;  // 1..12
    bool minor = false;
};

bool wheel_of(const SongMap& m, Wheel& w) {
    if (!m.key || !m.key->key || m.key->key->camelot.size() < 2) return false;
    const std::string& c = m.key->key->camelot;
    w.number = std::atoi(c.c_str());
    w.minor = c.back() == 'A';
    return w.number >= 1 && w.number <= 12;
}

// 0 same key, 1 a compatible step (+-1 same letter, or relative), else 1 + wheel distance.
int key_distance(const Wheel& a, const Wheel& b) {
    const int d = std::abs(a.number - b.number);
    const int wheel = std::min(d, 12 - d);
    if (a.minor == b.minor) return wheel <= 1 ? wheel : 1 + wheel;
    return wheel == 0 ? 1 : 2 + wheel;
}

// Percent BPM step, allowing half/double tempo.
double bpm_step_pct(double a, double b) {
    double best = 1e9;
    for (double f : {0.5, 1.0, 2.0}) best = std::min(best, 100.0 * std::fabs(b * f - a) / a);
    return best;
}

}  // namespace

std::vector<size_t> harmonic_order(const std::vector<SongMap>& maps, double tolerance_pct) {
    std::vector<size_t> usable, rest;
    for (size_t i = 0; i < maps.size(); ++i) {
        Wheel w;
        (maps[i].tempo && maps[i].tempo->bpm && wheel_of(maps[i], w) ? usable : rest).push_back(i);
    }
    std::vector<size_t> order;
    if (!usable.empty()) {
        auto bpm = [&](size_t i) { return *maps[i].tempo->bpm; };
        auto first = std::min_element(usable.begin(), usable.end(), [&](size_t a, size_t b) {
            return bpm(a) != bpm(b) ? bpm(a) < bpm(b) : maps[a].audio.path < maps[b].audio.path;
        });
        order.push_back(*first);
        usable.erase(first);
        while (!usable.empty()) {
            const size_t cur = order.back();
            Wheel wc;
            wheel_of(maps[cur], wc);
            size_t best = 0;
            double best_cost = 1e18;
            for (size_t k = 0; k < usable.size(); ++k) {
                Wheel wk;
                wheel_of(maps[usable[k]], wk);
                const int kd = key_distance(wc, wk);
                const double step = bpm_step_pct(bpm(cur), bpm(usable[k]));
                const bool good = kd <= 1 && step <= tolerance_pct;
                // Good steps first (closest tempo, then same key before a key step); others by a
                // combined distance.
                const double cost = good ? step + 0.5 * kd : 1000.0 + 10.0 * kd + step;
                if (cost < best_cost) {
                    best_cost = cost;
                    best = k;
                }
            }
            order.push_back(usable[best]);
            usable.erase(usable.begin() + static_cast<std::ptrdiff_t>(best));
        }
    }
    order.insert(order.end(), rest.begin(), rest.end());
    return order;
}

namespace {

std::string clash_note(const SongMap& a, const SongMap& b, double tolerance_pct) {
    Wheel wa, wb;
    const bool keys = wheel_of(a, wa) && wheel_of(b, wb);
    const bool tempi = a.tempo && a.tempo->bpm && b.tempo && b.tempo->bpm;
    if (!keys || !tempi) return {};
    const int kd = key_distance(wa, wb);
    const double step = bpm_step_pct(*a.tempo->bpm, *b.tempo->bpm);
    std::string why;
    if (kd > 1) why = "key clash " + a.key->key->camelot + " -> " + b.key->key->camelot;
    if (step > tolerance_pct)
        why += (why.empty() ? "" : ", ") + std::string("tempo step ") + fixed(step, 1) + " % (" +
               fixed(*a.tempo->bpm, 1) + " -> " + fixed(*b.tempo->bpm, 1) + " BPM)";
    return why;
}

}  // namespace

Result<std::string> render_m3u(const std::vector<SongMap>& maps, const ExportOptions& options) {
    std::string out = "#EXTM3U\n";
    const SongMap* prev = nullptr;
    for (size_t i : harmonic_order(maps, options.playlist_bpm_tolerance_pct)) {
        const SongMap& m = maps[i];
        // A step that is not a harmonic one within the tolerance is marked (players skip "#" lines).
        if (prev)
            if (const std::string why = clash_note(*prev, m, options.playlist_bpm_tolerance_pct); !why.empty())
                out += "# clash: " + why + "\n";
        prev = &m;
        std::string info = display_title(m);
        const std::string key = format_key(m, options.key_notation);
        std::string tag;
        if (!key.empty()) tag += key;
        if (m.tempo && m.tempo->bpm) tag += (tag.empty() ? "" : " ") + fixed(*m.tempo->bpm, 1) + " BPM";
        if (!tag.empty()) info += " [" + tag + "]";
        for (auto& c : info)
            if (c == '\n' || c == '\r') c = ' ';
        out += "#EXTINF:" + std::to_string(static_cast<long long>(std::lround(m.audio.duration_s))) + "," + info + "\n";
        out += export_path(m, options) + "\n";
    }
    return out;
}

}  // namespace harmony::exporters
