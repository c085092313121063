#!/usr/bin/python3
"""Trains the key ensemble's parameters (src/analyzers/key/key_model.hpp).

Input: JSON lines from dump_chroma (per-frame tuned treble/bass chroma) for rendered corpus tracks
whose ground truth sits beside the audio as <track>.json (key.tonic / key.mode). The model is a
multinomial logistic regression over the 24 keys with weights shared across the 12 tonics: for a
key (t, mode) the score is
    w_treble[mode] . rot(z(treble), t) + w_bass[mode] . rot(z(bass), t) + bias[mode]
    + sum_p w_p * corr(profile_p, mix) + w_chord[mode] . rot(chord_hist, t)
    + w_fn * chord_functions(chord_hist, t, mode)
which is the Krumhansl-Schmuckler correlation generalised to learned, bass-aware profiles plus
learned chord-function weights. L2 pulls the profile weights towards Krumhansl-Kessler.

Usage: train.py FEATURES.jsonl [MORE.jsonl ...] [--cv 5] [--out key_model.hpp] [--l2 1.0] [--bass-l2 1.0]
The header written by --out starts with its provenance (tools/provenance.py: script, command, data,
random seed, library versions, date, SHA-256 of the clang-formatted body), which
tests/unit/learned_tables_test.cpp checks.
"""
import argparse, json, sys
import numpy as np
from scipy.optimize import minimize

NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
PROFILES = [  # same order as key_profiles.cpp
    ([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88],
     [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]),
    ([5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0],
     [5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0]),
    ([6.6, 2.0, 3.5, 2.3, 4.6, 4.0, 2.5, 5.2, 2.4, 3.7, 2.3, 3.4],
     [6.5, 2.7, 3.5, 5.4, 2.6, 3.5, 2.5, 5.2, 4.0, 2.7, 4.3, 3.2]),
    ([1.00, 0.29, 0.50, 0.40, 0.60, 0.56, 0.32, 0.80, 0.31, 0.45, 0.42, 0.39],
     [1.00, 0.31, 0.44, 0.58, 0.33, 0.49, 0.29, 0.78, 0.43, 0.29, 0.53, 0.32]),
    ([1.00, 0.00, 0.42, 0.00, 0.53, 0.37, 0.00, 0.77, 0.00, 0.38, 0.21, 0.30],
     [1.00, 0.00, 0.36, 0.39, 0.00, 0.38, 0.00, 0.74, 0.27, 0.00, 0.42, 0.23]),
]
BASS_MIX = 0.5


def pc_of(t):
    p = _PC[t[0]]
    for ch in t[1:]:
        p += 1 if ch == "#" else -1
    return p % 12


def z(v):
    v = np.asarray(v, float)
    s = v.std()
    return (v - v.mean()) / s if s > 1e-12 else np.zeros_like(v)


def evidence(T, B, E):
    """Mirror of key_evidence() in key.cpp."""
    gate = E.max() * 1e-4 if len(E) else 0
    tre = np.zeros(12); bas = np.zeros(12); ch = np.zeros(24); n = 0
    for t, b, e in zip(T, B, E):
        if e <= gate or e <= 0:
            continue
        mt, mb = t.max(), b.max()
        if mt <= 0:
            continue
        tre += t / mt
        both = t / mt
        if mb > 0:
            bas += b / mb
            both = both + 0.5 * b / mb
        zz = z(both)
        best, bs = -1, 0.0
        for r in range(12):
            for minor in (0, 1):
                s = zz[r] + zz[(r + (3 if minor else 4)) % 12] + zz[(r + 7) % 12]
                if s > bs:
                    bs, best = s, r + 12 * minor
        if best >= 0:
            ch[best] += bs
        n += 1
    return tre, bas, ch, n


def corr(prof, c):
    M, m, zc = z(prof[0]), z(prof[1]), z(c)
    out = np.zeros(24)
    for t in range(12):
        r = np.roll(zc, -t)
        out[t] = (M * r).mean()
        out[12 + t] = (m * r).mean()
    return out


# Fixed diatonic function weights (relative root, minor triad?, weight): mirror of chord_scores() in key.cpp.
FN_MAJOR = [(0, 0, 1.0), (7, 0, 0.9), (5, 0, 0.8), (9, 1, 0.6), (2, 1, 0.6), (4, 1, 0.4), (10, 0, 0.2)]
FN_MINOR = [(0, 1, 1.0), (7, 0, 0.7), (5, 1, 0.7), (8, 0, 0.6), (3, 0, 0.5), (10, 0, 0.5), (7, 1, 0.4)]


def chord_functions(ch):
    """Chord-function estimator scores of the 24 keys (key.cpp chord_scores)."""
    out = np.zeros(24)
    tot = ch.sum()
    if tot <= 0:
        return out
    for t in range(12):
        out[t] = sum(w * ch[(t + r) % 12 + 12 * m] for r, m, w in FN_MAJOR) / tot
        out[12 + t] = sum(w * ch[(t + r) % 12 + 12 * m] for r, m, w in FN_MINOR) / tot
    return out


def phi(tre, bas, ch):
    """(24, D) feature matrix: D = 2*12 treble + 2*12 bass + 2 bias + 5 profiles + 2*24 chord + 1 chord functions."""
    zt, zb = z(tre), z(bas)
    chn = ch / ch.sum() if ch.sum() > 0 else ch
    mix = (tre / max(tre.sum(), 1e-12)) + BASS_MIX * (bas / max(bas.sum(), 1e-12))
    pc = np.stack([corr(p, mix) for p in PROFILES], 1)  # 24 x 5
    F = np.zeros((24, 24 + 24 + 2 + 5 + 48 + 1))
    for t in range(12):
        for m in (0, 1):
            k = t + 12 * m
            F[k, m * 12:(m + 1) * 12] = np.roll(zt, -t)
            F[k, 24 + m * 12:24 + (m + 1) * 12] = np.roll(zb, -t)
            F[k, 48 + m] = 1.0
            F[k, 50:55] = pc[k]
            rot = np.concatenate([np.roll(chn[:12], -t), np.roll(chn[12:], -t)])
            F[k, 55 + m * 24:55 + (m + 1) * 24] = rot
    F[:, 103] = chord_functions(ch)
    return F


def init_theta():
    th = np.zeros(24 + 24 + 2 + 5 + 48 + 1)
    th[0:12] = z(PROFILES[0][0]) * 0.5
    th[12:24] = z(PROFILES[0][1]) * 0.5
    return th


def fit(Fs, ys, l2, mask, bass_l2=1.0):
    th0 = init_theta()
    # Per-parameter L2: learned profiles 1 (the bass block x bass_l2), chord weights 0.2,
    # published-profile and chord-function weights 0.1, bias 0.
    pen = np.r_[np.ones(24), np.full(24, bass_l2), np.zeros(2), np.full(5, 0.1), np.full(48, 0.2), 0.1] * l2

    def f(th):
        th = th * mask
        loss, g = 0.0, np.zeros_like(th)
        for F, y in zip(Fs, ys):
            s = F @ th
            s -= s.max()
            p = np.exp(s); p /= p.sum()
            loss -= np.log(p[y] + 1e-12)
            g += F.T @ p - F[y]
        loss += 0.5 * (pen * th) @ th
        g += pen * th
        return loss / len(ys), g * mask / len(ys)

    r = minimize(f, th0 * mask, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return r.x * mask


def mirex(g, e):
    if g == e:
        return 1.0
    gm, em = g // 12, e // 12
    gt, et = g % 12, e % 12
    if gm == em and (et - gt) % 12 in (7,):
        return 0.5
    if gm != em and ((gm == 0 and et == (gt + 9) % 12) or (gm == 1 and et == (gt + 3) % 12)):
        return 0.3
    if gm != em and gt == et:
        return 0.2
    return 0.0


def doubtful(meta):
    """True when the corpus' own cross-checks question the key label (used to clean training)."""
    q = meta.get("annotation_quality", {}) or {}
    prof = q.get("key_vs_profile_estimate") or []
    return any(p != "same" for p in prof) or q.get("key_vs_structure_dataset", "same") != "same"


def load(paths):
    X, y, names, doubt = [], [], [], []
    seen = set()
    for line in (ln for p in paths for ln in open(p)):
        d = json.loads(line)
        song = d["file"].rsplit("/", 1)[-1].split("-")[1]
        if song in seen:  # one render per song
            continue
        seen.add(song)
        meta = json.load(open(d["file"].rsplit(".", 1)[0] + ".json"))
        gt = meta["key"]
        doubt.append(doubtful(meta))
        T, B, E = np.array(d["treble"]), np.array(d["bass"]), np.array(d["total"])
        tre, bas, ch, n = evidence(T, B, E)
        X.append(phi(tre, bas, ch))
        y.append(pc_of(gt["tonic"]) + (12 if gt["mode"] == "minor" else 0))
        names.append(d["file"])
    return X, np.array(y), names, np.array(doubt)


MASKS = {
    "treble": lambda D: np.r_[np.ones(24), np.zeros(24), np.ones(2), np.zeros(5), np.zeros(48), 0],
    "treble+bass": lambda D: np.r_[np.ones(48), np.ones(2), np.zeros(5), np.zeros(48), 0],
    "tb+profiles": lambda D: np.r_[np.ones(48), np.ones(2), np.ones(5), np.zeros(48), 0],
    "tb+chords": lambda D: np.r_[np.ones(48), np.ones(2), np.zeros(5), np.ones(48), 0],
    "t+chords": lambda D: np.r_[np.ones(24), np.zeros(24), np.ones(2), np.zeros(5), np.ones(48), 0],
    "v1": lambda D: np.r_[np.ones(48), np.ones(2), np.ones(5), np.ones(48), 0],
    # v2 (shipped): no learned bass profile (the bass still enters the published-profile mix);
    # 10-fold CV on songs 201-700: 0.904/0.866 vs 0.889/0.847 with it.
    "v2": lambda D: np.r_[np.ones(24), np.zeros(24), np.ones(2), np.ones(5), np.ones(48), 1],
    "all": lambda D: np.ones(D),
}


def write_header(models, out, names):
    """models: [(C++ name, comment, theta)]; each becomes a `Weights` constant. The file starts with its
    provenance (tools/provenance.py); the body is written as clang-format formats it."""
    import io, os
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import provenance  # tools/provenance.py

    def arr(v):
        return ", ".join("%.6f" % x for x in v)
    f = io.StringIO()
    f.write("#pragma once\n\nnamespace harmony::analyzers::key::model {\n\n")
    f.write("inline constexpr double kTemperature = 1.0;\n")
    f.write("inline constexpr double kBassMix = %.3f;\n\n" % BASS_MIX)
    f.write("/// Weights shared across the 12 tonics; [mode] = 0 major, 1 minor; offsets relative to the tonic.\n")
    f.write("struct Weights {\n")
    f.write("    double bias[2];\n    double treble[2][12];  // on the z-scored treble chroma\n")
    f.write("    double bass[2][12];    // on the z-scored bass chroma\n")
    f.write("    double chord[2][24];   // chord histogram: major triads on roots 0..11, then minor triads\n")
    f.write("    double profile[5];     // published-profile correlations (key_profiles order)\n")
    f.write("    double chord_fn;       // the fixed chord-function estimator (chord_scores)\n};\n\n")
    for name, comment, th in models:
        f.write("// %s\n" % comment)
        f.write("inline constexpr Weights %s{\n" % name)
        f.write("    {%s},\n" % arr(th[48:50]))
        f.write("    {{%s}, {%s}},\n" % (arr(th[0:12]), arr(th[12:24])))
        f.write("    {{%s}, {%s}},\n" % (arr(th[24:36]), arr(th[36:48])))
        f.write("    {{%s}, {%s}},\n" % (arr(th[55:79]), arr(th[79:103])))
        f.write("    {%s},\n" % arr(th[50:55]))
        f.write("    %.6f};\n\n" % th[103])
    f.write("}  // namespace harmony::analyzers::key::model\n")
    fields = [("script", provenance.script_path()), ("command", provenance.command()),
              ("data", provenance.describe_renders(names) + " (one render per song)"),
              ("random seed", "none: deterministic fit (L-BFGS-B), CV folds are track index mod k"),
              ("libraries", provenance.libraries("numpy", "scipy")), ("date", provenance.today()),
              ("reproduce", "deterministic: the same feature dumps and library versions give a byte-identical "
                            "file; about an hour (renders + dump_chroma)")]
    provenance.write_table(out, "// Parameters of the key models. Generated by tools/train_key/train.py (do not edit "
                           "by hand).", fields, provenance.clang_format(f.getvalue(), "src/analyzers/key/key_model.hpp"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("features", nargs="+")
    ap.add_argument("--cv", type=int, default=5)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--mask", default="v2")
    ap.add_argument("--learned-mask", default="t+chords", help="mask of the standalone learned model")
    ap.add_argument("--bass-l2", type=float, default=1.0, help="L2 multiplier of the learned bass profile")
    ap.add_argument("--out")
    ap.add_argument("--clean", action="store_true", help="train only on tracks whose key label passed the corpus cross-checks")
    a = ap.parse_args()
    X, y, names, doubt = load(a.features)
    keep = ~doubt if a.clean else np.ones(len(y), bool)
    D = X[0].shape[1]
    print("tracks", len(y), "doubtful labels", int(doubt.sum()), "(excluded from training)" if a.clean else "")
    # Baselines: each published profile alone.
    for i, nm in enumerate(["krumhansl", "temperley", "shaath", "edma", "bgate"]):
        est = [int(np.argmax(F[:, 50 + i])) for F in X]
        print("%-12s weighted %.3f exact %.3f" % (nm, np.mean([mirex(g, e) for g, e in zip(y, est)]), np.mean(np.array(est) == y)))
    masks = MASKS if a.mask == "scan" else {a.mask: MASKS[a.mask]}
    for mname, mk in masks.items():
        mask = mk(D)
        folds = np.arange(len(y)) % a.cv
        est = np.zeros(len(y), int)
        for k in range(a.cv):
            tr = (folds != k) & keep
            th = fit([X[i] for i in np.where(tr)[0]], y[tr], a.l2, mask, a.bass_l2)
            for i in np.where(~tr)[0]:
                est[i] = int(np.argmax(X[i] @ th))
        print("CV %-12s l2=%.2f weighted %.3f exact %.3f | on clean labels: weighted %.3f exact %.3f" % (
            mname, a.l2, np.mean([mirex(g, e) for g, e in zip(y, est)]), np.mean(est == y),
            np.mean([mirex(g, e) for g, e, d in zip(y, est, doubt) if not d]), np.mean((est == y)[~doubt])))
    if a.out:
        idx = np.where(keep)[0]
        th = fit([X[i] for i in idx], y[idx], a.l2, MASKS[a.mask](D) if a.mask != "scan" else np.ones(D), a.bass_l2)
        # The breakdown's `learned_profile` (and method=learned) is its own model without the
        # published profiles and the chord-function estimator.
        th_l = fit([X[i] for i in idx], y[idx], a.l2, MASKS[a.learned_mask](D), a.bass_l2)
        write_header([("kEnsemble", "The default decider (method=ensemble).", th),
                      ("kLearned", "method=learned / the breakdown's learned_profile: learned profile and chord weights only.",
                       th_l)], a.out, [names[i] for i in idx])
        print("wrote", a.out)


if __name__ == "__main__":
    main()
