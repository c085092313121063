"""Per-track scores, computed with mir_eval (Debian python3-mir-eval), the reference implementation.

Tempo   Acc1: |est - ref| <= 4 % of ref; Acc1@1%: the same at 1 %; Acc2: Acc1 after allowing
        factors 2, 3, 1/2, 1/3 (octave errors). Each comparison is mir_eval.tempo.detection with
        one reference tempo and tolerance 0.04 (0.01); Acc2 takes the best over the factors.
Beats   mir_eval.beat.f_measure (±70 ms), continuity -> CMLt, AMLt, after
        mir_eval.beat.trim_beats (the MIREX convention: beats before 5 s are ignored).
Downbeats  mir_eval.beat.f_measure (±70 ms) on the downbeat times, trimmed the same way.
Meter   exact label equality (mir_eval has no meter metric).
Key     mir_eval.key.weighted_score (MIREX: 1 same, 0.5 fifth, 0.3 relative, 0.2 parallel, 0 other);
        the relation category is read from that score; exact = score 1.
Sections  mir_eval.segment: boundary hit-rate F at +-0.5, 2 and 3 s (detection, trim=False), pairwise
        frame-clustering F of the repetition letters (0.1 s frames), intro / outro presence accuracy
        (reference: first label 'i' / last label 'o'; estimate: the first / last non-silent section
        has the function intro / outro). Reference: the corpus `sections` (human phrase labels).
Chords  mir_eval.chord root, thirds, majmin, majmin_inv, sevenths, mirex over the reference's labelled
        span (the estimate padded with N); each file keeps its score and the duration it was scored
        over, and the report weights the files by that duration (the MIREX convention).
Notes   mir_eval.transcription.precision_recall_f1_overlap per line (melody, bass): note F with onset
        +-50 ms, pitch +-50 cents, no offset; F with offsets adds offset ratio 0.2. A line without a
        reference (no melody notes; bass only on renders with a bass track) is not scored.
A missing estimate scores 0 (and is counted as missing in the report).
"""
import warnings

import numpy as np
import mir_eval

from .keys import mir_eval_label

ACC2_FACTORS = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0)
KEY_CATEGORY = {1.0: "same", 0.5: "fifth", 0.3: "relative", 0.2: "parallel", 0.0: "other"}


def _tempo_hit(ref, est, tol):
    # mir_eval wants two reference tempi with a weight; weight 1 puts all of it on the first.
    ref_t = np.array([ref, ref], dtype=float)
    est_t = np.array([est, est], dtype=float)
    _, one_correct, _ = mir_eval.tempo.detection(ref_t, 1.0, est_t, tol=tol)
    return bool(one_correct)


def tempo_scores(ref_bpm, est_bpm):
    if not ref_bpm:
        return {}
    if not est_bpm or est_bpm <= 0:
        return {"acc1": 0.0, "acc2": 0.0, "acc1_1pct": 0.0, "tempo_missing": True}
    acc2 = any(_tempo_hit(ref_bpm, est_bpm * f, 0.04) for f in ACC2_FACTORS)
    return {"acc1": float(_tempo_hit(ref_bpm, est_bpm, 0.04)),
            "acc2": float(acc2),
            "acc1_1pct": float(_tempo_hit(ref_bpm, est_bpm, 0.01)),
            "tempo_ratio": float(est_bpm / ref_bpm)}


def _trim(times):
    return mir_eval.beat.trim_beats(np.asarray(sorted(times), dtype=float))


def beat_scores(ref_beats, est_beats):
    if not ref_beats or len(ref_beats) < 2:
        return {}
    ref = _trim(ref_beats)
    if len(ref) < 2:
        return {}
    if not est_beats:
        return {"beat_f": 0.0, "cmlt": 0.0, "amlt": 0.0, "beats_missing": True}
    est = _trim(est_beats)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = mir_eval.beat.f_measure(ref, est, f_measure_threshold=0.07)
        _, cmlt, _, amlt = mir_eval.beat.continuity(ref, est)
    return {"beat_f": float(f), "cmlt": float(cmlt), "amlt": float(amlt)}


def downbeat_scores(ref_down, est_down, confidence=None):
    if not ref_down or len(ref_down) < 2:
        return {}
    ref = _trim(ref_down)
    if len(ref) < 1:
        return {}
    if not est_down:
        f = 0.0
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = float(mir_eval.beat.f_measure(ref, _trim(est_down), f_measure_threshold=0.07))
    out = {"downbeat_f": f}
    if confidence == "high":
        out["downbeat_f_high"] = f
    return out


def meter_score(ref, est):
    if not ref:
        return {}
    return {"meter_acc": float(bool(est) and est.strip() == ref)}


def key_scores(ref_key, est_key):
    if not ref_key:
        return {}
    if not est_key:
        return {"key_weighted": 0.0, "key_exact": 0.0, "key_category": "missing"}
    s = float(mir_eval.key.weighted_score(mir_eval_label(ref_key), mir_eval_label(est_key)))
    return {"key_weighted": s, "key_exact": float(s == 1.0),
            "key_category": KEY_CATEGORY.get(round(s, 2), "other")}


def score_rhythm(truth, est, provides):
    """est may be None (tool failed): every metric the tool offers is then 0."""
    est = est or {}
    out = {}
    if "bpm" in provides:
        out.update(tempo_scores(truth.get("tempo_bpm"), est.get("bpm")))
    if "beats" in provides:
        out.update(beat_scores(truth.get("beats"), est.get("beats")))
    if "downbeats" in provides:
        out.update(downbeat_scores(truth.get("downbeats"), est.get("downbeats"),
                                   truth.get("downbeat_confidence")))
    if "meter" in provides:
        out.update(meter_score(truth.get("meter"), est.get("meter")))
    return out


def score_key(truth, est, provides):
    return key_scores(truth.get("key"), (est or {}).get("key"))


# ---------------------------------------------------------------- sections
SECTION_METRICS = ("F@0.5", "F@2", "F@3", "pairwise_F", "intro_acc", "outro_acc")


# Gaps at the file's edges shorter than this are rounding (annotation times are written with 4
# decimals, audio durations are exact), not segments: the edge interval is extended over them.
EDGE_ROUNDING_S = 0.01


def section_intervals(rows, dur):
    """[[start, end, label, ...], ...] -> (intervals, labels) tiling 0..dur for mir_eval.segment."""
    iv = np.array([[r[0], r[1]] for r in rows], dtype=float).reshape(-1, 2)
    lab = [str(r[2]) for r in rows]
    iv = np.clip(iv, 0.0, dur)
    keep = iv[:, 1] > iv[:, 0]
    iv, lab = iv[keep], [l for l, k in zip(lab, keep) if k]
    if len(iv):
        # Without this a reference ending at 60.3236 in a 60.32360544 s file gets a 5-microsecond
        # padding segment, i.e. one extra boundary that no estimate can hit at any window.
        if iv[0, 0] < EDGE_ROUNDING_S:
            iv[0, 0] = 0.0
        if dur - iv[-1, 1] < EDGE_ROUNDING_S:
            iv[-1, 1] = dur
    return mir_eval.util.adjust_intervals(iv, lab, t_min=0.0, t_max=dur, start_label="_pad", end_label="_pad")


def _edge_function(rows, which):
    body = [r for r in rows if (len(r) < 5 or r[4] != "silence")]
    if not body:
        return False
    r = body[0] if which == "intro" else body[-1]
    return len(r) > 4 and r[4] == which


def score_section_rows(ref_rows, est_rows, dur):
    """Scores one file: ref_rows / est_rows as [start, end, label(, confidence, function)]."""
    ri, rl = section_intervals(ref_rows, dur)
    out = {}
    if not est_rows:
        out.update({m: 0.0 for m in SECTION_METRICS})
        out["n_ref"], out["n_est"], out["sections_missing"] = len(ref_rows), 0, True
        return out
    ei, el = section_intervals(est_rows, dur)
    for w in (0.5, 2.0, 3.0):
        out["F@%g" % w] = float(mir_eval.segment.detection(ri, ei, window=w, trim=False)[2])
    out["pairwise_F"] = float(mir_eval.segment.pairwise(ri, rl, ei, el, frame_size=0.1)[2])
    out["intro_acc"] = float((ref_rows[0][2] == "i") == _edge_function(est_rows, "intro"))
    out["outro_acc"] = float((ref_rows[-1][2] == "o") == _edge_function(est_rows, "outro"))
    out["n_ref"] = len(ref_rows)
    out["n_est"] = len(est_rows)
    return out


def score_sections(truth, est, provides):
    """est: {"sections": rows or None, "duration_s": float}."""
    rows = (est or {}).get("sections")
    dur = (est or {}).get("duration_s") or truth.get("duration_s")
    return score_section_rows(truth["sections"], rows or [], dur)


# ---------------------------------------------------------------- chords
CHORD_METRICS = ("root", "thirds", "majmin", "majmin_inv", "sevenths", "mirex")


def score_chord_rows(ref_rows, est_rows):
    """Scores one file: ref_rows / est_rows as [start, end, Harte label, ...]. For each metric the
    file's score and the reference duration it was computed over (weight_<metric>)."""
    ri = np.array([[r[0], r[1]] for r in ref_rows], dtype=float).reshape(-1, 2)
    rl = [str(r[2]) for r in ref_rows]
    out = {}
    if not est_rows:
        est_rows = [[float(ri.min()), float(ri.max()), "N"]]
        out["chords_missing"] = True
    ei = np.array([[r[0], r[1]] for r in est_rows], dtype=float).reshape(-1, 2)
    el = [str(r[2]) for r in est_rows]
    ei, el = mir_eval.util.adjust_intervals(ei, el, ri.min(), ri.max(), mir_eval.chord.NO_CHORD,
                                            mir_eval.chord.NO_CHORD)
    iv, r, e = mir_eval.util.merge_labeled_intervals(ri, rl, ei, el)
    dur = mir_eval.util.intervals_to_durations(iv)
    for m in CHORD_METRICS:
        comp = getattr(mir_eval.chord, m)(r, e)
        valid = comp >= 0
        w = float(np.sum(dur[valid]))
        out[m] = float(np.sum(dur[valid] * comp[valid]) / w) if w > 0 else 0.0
        out["weight_" + m] = w
    out["n_ref"] = len(ref_rows)
    return out


def score_chords(truth, est, provides):
    """est: {"chords": [[start, end, label], ...] or None}."""
    return score_chord_rows(truth["chords"], (est or {}).get("chords") or [])


# ---------------------------------------------------------------- notes
NOTE_LINES = ("melody", "bass")


def note_arrays(notes):
    """[[onset_s, offset_s, midi], ...] -> (intervals, pitches in Hz) for mir_eval.transcription; a
    zero-length note gets 1 ms (mir_eval refuses empty intervals)."""
    if not notes:
        return np.zeros((0, 2)), np.zeros(0)
    a = np.array([[n[0], n[1]] for n in notes], dtype=float)
    a[:, 1] = np.maximum(a[:, 1], a[:, 0] + 1e-3)
    p = np.array([440.0 * 2 ** ((n[2] - 69) / 12) for n in notes])
    return a, p


def note_scores(ref, est):
    """One line of one file: precision, recall, F (onset +-50 ms, pitch +-50 cents, no offset) and
    F with offsets (offset ratio 0.2). None when the reference has no notes."""
    ri, rp = note_arrays(ref)
    ei, ep = note_arrays(est)
    if len(ri) == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mir_eval warns on an empty estimate; it scores 0
        f = mir_eval.transcription.precision_recall_f1_overlap(ri, rp, ei, ep, onset_tolerance=0.05,
                                                              pitch_tolerance=50.0, offset_ratio=None)
        fo = mir_eval.transcription.precision_recall_f1_overlap(ri, rp, ei, ep, onset_tolerance=0.05,
                                                               pitch_tolerance=50.0, offset_ratio=0.2)
    return {"p": float(f[0]), "r": float(f[1]), "f": float(f[2]), "f_offset": float(fo[2])}


def score_notes(truth, est, provides):
    """truth: {"melody_notes": rows or None, "bass_notes": rows or None} (None: not scored);
    est: {"melody": rows or None, "bass": rows or None} -> melody_f, melody_f_offset, melody_p,
    melody_r and the same for bass, for the lines that have a reference."""
    est = est or {}
    out = {}
    for line in NOTE_LINES:
        ref = truth.get(line + "_notes")
        if not ref:
            continue
        s = note_scores(ref, est.get(line) or [])
        if s is None:
            continue
        out.update({"%s_%s" % (line, k): v for k, v in s.items()})
        if not est.get(line):
            out[line + "_missing"] = True
    out["n_ref_notes"] = sum(len(truth.get(l + "_notes") or []) for l in NOTE_LINES)
    return out
