"""The committed quick-set baseline (bench/baseline/quick.json) and the CI gate.

Only Harmony's corpus scores are gated. A metric fails when it is below the baseline by more than
its margin: 0.02 absolute for averaged continuous scores (beat F, CMLt, AMLt, downbeat F, MIREX key
score, chord scores), 0.03 for section and note F, and 0.04 for per-file yes/no scores (Acc1, Acc2,
exact key, meter): on the 30-song quick set one file is 0.033, so a single file may flip but not two.
"""
import json
import os

from . import paths

MARGINS = {"rhythm": {"acc1": 0.04, "acc2": 0.04, "beat_f": 0.02, "cmlt": 0.02, "amlt": 0.02,
                      "downbeat_f": 0.02, "meter_acc": 0.04},
           "key": {"key_weighted": 0.02, "key_exact": 0.04},
           "sections": {"F@2": 0.03, "pairwise_F": 0.03, "intro_acc": 0.04, "outro_acc": 0.04},
           "chords": {"root": 0.02, "majmin": 0.02, "sevenths": 0.02, "mirex": 0.02},
           "notes": {"melody_f": 0.03, "melody_f_offset": 0.03, "bass_f": 0.03, "bass_f_offset": 0.03}}


def harmony_scores(summary):
    out = {}
    for suite, metrics in MARGINS.items():
        a = summary.get(suite, {}).get("accuracy", {}).get("corpus", {}).get("harmony")
        if a is None:
            continue
        out[suite] = {"n": a["n"], **{m: (a.get(m) if a.get(m) is not None else 0.0) for m in metrics}}
    return out


def update(summary, path=paths.BASELINE_QUICK, log=print):
    scores = harmony_scores(summary)
    if not scores:
        log("baseline: Harmony was not run; baseline not written")
        return
    old = {}
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
    old.setdefault("scores", {}).update(scores)
    old["margins"] = MARGINS
    old["note"] = ("Harmony's mean scores on the quick corpus set (bench/sets/quick.txt, seed 1). "
                   "`bench/run --quick --check-baseline` fails when a score drops by more than its margin.")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(old, f, indent=1, sort_keys=True)
        f.write("\n")
    log("baseline: wrote %s" % path)


def check(summary, path=paths.BASELINE_QUICK, log=print):
    if not os.path.exists(path):
        log("baseline: %s is missing; create it with --update-baseline" % path)
        return 1
    with open(path) as f:
        base = json.load(f)
    now = harmony_scores(summary)
    failures, checked = [], 0
    for suite, metrics in base.get("scores", {}).items():
        if suite not in summary:
            continue
        if suite not in now:
            failures.append("%s: Harmony did not run" % suite)
            continue
        for m, b in metrics.items():
            if m == "n":
                continue
            margin = base.get("margins", MARGINS).get(suite, {}).get(m, 0.02)
            v = now[suite].get(m, 0.0)
            checked += 1
            status = "FAIL" if v < b - margin else "ok"
            log("baseline: %-6s %-12s now %.3f  baseline %.3f  margin %.2f  %s" % (suite, m, v, b, margin, status))
            if status == "FAIL":
                failures.append("%s %s %.3f < %.3f - %.2f" % (suite, m, v, b, margin))
    if failures:
        log("baseline: FAILED: " + "; ".join(failures))
        return 1
    log("baseline: %d scores checked, none dropped beyond its margin" % checked)
    return 0
