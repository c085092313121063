#!/usr/bin/python3
"""Sections benchmark: Harmony's structure analyzer against the Foote checkerboard baseline on the
rendered POP909 corpus (phrase-level human labels, the `sections` field), scored with
mir_eval.segment.

  bench/sections/run.py [--songs 1-200] [--seed 1] [--jobs 2] [--param sections.x=y ...] [--json OUT]

Rows: harmony (method=learned, the phrase level and the merged section level), harmony-v1
(method=phrases, the version-1 novelty DP) and foote
(method=foote: MSAF's Foote configuration on the same beat-synchronous chroma, labelled by the same
repetition labeller). Metrics: boundary hit-rate F at +-0.5, 2 and 3 s (mir_eval.segment.detection,
trim=False), pairwise frame-clustering F of the labels (mir_eval.segment.pairwise, 0.1 s frames),
intro / outro presence accuracy (reference: first label 'i' / last label 'o'; estimate: the first /
last non-silent phrase is labelled intro / outro). Renders are read from the bench cache
(corpus-seed<seed>); songs not rendered there are skipped (the count is printed).
"""
import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import mir_eval

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from harmony_bench import corpus, scoring  # noqa: E402

BIN = os.environ.get("HARMONY_BIN", os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "harmony"))


def analyse(audio, params, out_dir):
    st = os.stat(BIN)  # a rebuilt binary never reuses old results
    ident = "%s|%d|%d|%s" % (audio, st.st_size, st.st_mtime_ns, " ".join(params))
    key = hashlib.sha1(ident.encode()).hexdigest()[:16]
    out = os.path.join(out_dir, key + ".json")
    if not os.path.exists(out):
        cmd = [BIN, "analyze", audio, "--only", "sections", "-o", out + ".tmp"]
        for p in params:
            cmd += ["-p", p]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.replace(out + ".tmp", out)
    with open(out) as f:
        return json.load(f)


def score(ref_rows, est_rows, dur):
    return scoring.score_section_rows(ref_rows, est_rows, dur)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--songs", default="1-200")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--param", action="append", default=[])
    ap.add_argument("--methods", default="learned,phrases,foote")
    ap.add_argument("--json")
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/harmony-bench/sections-out"))
    a = ap.parse_args()
    os.makedirs(a.cache, exist_ok=True)
    songs = corpus.parse_songs(a.songs)
    items = []
    for s in songs:
        base = os.path.join(corpus.corpus_cache(a.seed), "pop909-%03d-s%d-r0" % (s, a.seed))
        audio = corpus.audio_for(base)
        if not audio or not os.path.exists(base + ".json"):
            continue
        with open(base + ".json") as f:
            gt = json.load(f)
        if gt.get("sections"):
            items.append((s, audio, gt["sections"]))
    print("%d songs with sections rendered (of %d requested)" % (len(items), len(songs)))
    rows = {}
    for method in a.methods.split(","):
        params = ["sections.method=" + method] + a.param
        with cf.ThreadPoolExecutor(a.jobs) as ex:
            maps = list(ex.map(lambda it: analyse(it[1], params, a.cache), items))
        levels = [("phrases", "phrases"), ("sections", "segments")] if method != "foote" else [("", "segments")]
        for name, field in levels:
            per = []
            for (s, _, ref), m in zip(items, maps):
                est = m["sections"].get(field) or m["sections"]["segments"]
                per.append(dict(song=s, **score(ref, est, m["audio"]["duration_s"])))
            label = {"learned": "harmony", "phrases": "harmony-v1"}.get(method, method) + ("-" + name if name else "")
            rows[label] = per
    keys = ["F@0.5", "F@2", "F@3", "pairwise_F", "intro_acc", "outro_acc", "n_ref", "n_est"]
    print("| row | files | " + " | ".join(keys) + " |")
    print("|---|---|" + "---|" * len(keys))
    summary = {}
    for label, per in rows.items():
        means = {k: float(np.mean([p[k] for p in per])) for k in keys}
        summary[label] = dict(files=len(per), **means)
        print("| %s | %d | " % (label, len(per)) + " | ".join("%.3f" % means[k] for k in keys) + " |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"summary": summary, "per_file": rows, "params": a.param, "seed": a.seed}, f, indent=1)


if __name__ == "__main__":
    main()
