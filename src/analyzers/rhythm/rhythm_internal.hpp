// Building blocks of the rhythm analysis (exposed for unit tests).
#pragma once

#include <string>
#include <vector>

namespace harmony::rhythm::detail {

using Vec = std::vector<double>;

inline constexpr double kMinSearchBpm = 30.0;
inline constexpr double kMaxSearchBpm = 320.0;

double median(Vec v);
double percentile(Vec v, double q);
Vec moving_average(const Vec& x, int half);

/// Half-wave rectified novelty after subtracting a 0.8 s moving average; gated frames are 0.
Vec novelty(const Vec& raw, const Vec& gate, double fr);

/// Windowed (12 s, hop hop_s), mean-removed, normalised autocorrelation of a novelty curve.
struct Tempogram {
    int win = 0, hop = 0, lmax = 0;
    std::vector<Vec> acf;        // per window, lag 0..lmax, acf[0] == 1 (or all 0 when silent)
    std::vector<double> centre;  // window centre, seconds
    std::vector<double> weight;  // 1 for windows with signal, 0 otherwise
    Vec global;                  // weighted mean over windows
};
Tempogram tempogram(const Vec& o, double fr, double hop_s = 2.0);

/// Mean-removed autocorrelation normalised to 1 at lag 0 (all zeros for a constant signal).
Vec normalized_acf(const Vec& x, int lmax);

double peak_near(const Vec& a, double lag, double halfwidth);
/// Comb filter over an autocorrelation: weighted mean of the ACF peaks at lag*1..4.
double comb(const Vec& a, double lag);

struct Salience {
    Vec bpm;    // log grid, 96 steps per octave
    Vec value;  // comb salience
};
Salience salience(const Vec& acf, double fr);
double salience_at(const Salience& s, double bpm);
double refine_lag(const Vec& a, double lag);

/// Ellis (2007) dynamic-programming beat tracker with a per-frame beat period tau (frames).
std::vector<int> track_beats(const Vec& o, const Vec& tau, double tightness);

struct LineFit {
    double intercept = 0.0, slope = 0.0;
    double p90_abs_residual = 0.0, max_abs_residual = 0.0;
    // How the line drifts from the beats: the slow residual is the median of the signed residuals
    // over +-4 beats (per-beat jitter and single misplaced beats left out), read away from the
    // first and last 8 beats (2 bars: where a tracker still finding the beat, or coasting past the
    // end of a loop, leaves a few beats off). max_abs_drift: its largest magnitude; max_drift_step: its largest change
    // over 4 beats. A live drummer's tempo moving builds a drift up gradually; a tracker slipping
    // to another phase for a while and back makes a step.
    double max_abs_drift = 0.0, max_drift_step = 0.0;
};
/// Sets f.max_abs_drift and f.max_drift_step for the beats t against f's line; see LineFit.
void set_drift(const Vec& t, LineFit& f);
/// Least-squares t[i] = intercept + slope * i.
LineFit fit_line(const Vec& t);
/// The same line fitted again to the beats within max(min_tol_s, 3 robust sigmas) of it (a few
/// rounds), so that edge beats the tracker misplaced do not tilt it; the residual figures are over
/// all beats. `inliers` (optional) gets how many beats the final fit used.
LineFit fit_line_robust(const Vec& t, double min_tol_s, size_t* inliers = nullptr);

/// Beat times (s) moved to the sub-frame peak (parabolic vertex) of the onset curve o (fr frames/s)
/// within +-radius frames of each beat; `lag_s` is the onset-lag correction already in the times.
Vec refine_on_peaks(const Vec& o, double fr, const Vec& beats_s, double lag_s, int radius = 2);

}  // namespace harmony::rhythm::detail
