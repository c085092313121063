#!/usr/bin/python3
"""Does analysing a stem beat analysing the mix? Chords and key on the harmonic stems, beats on the
drum stem, melody notes on the vocal stem and bass notes on the bass stem, against the same
analyzers on the mix, on rendered dev songs (their ground truth: chords, key, beats, melody and
bass notes).

    /usr/bin/python3 bench/stems/inputs.py --songs 1-20 --jobs 2 [--harmony build/harmony]
        [--param stems.method=...] [--json bench/results/stems/inputs-dev.json]

Three runs per song (each `harmony analyze --only chords,key,beats,notes`):
  mix            every analyzer on the mix (the defaults)
  stems          chords.input=key.input=harmonic (mix - drums), beats.input=drums,
                 notes.melody_input=vocals, notes.bass_input=bass
  accompaniment  chords.input=key.input=accompaniment (bass + other: no vocals, no drums)
Scores: chords majmin / root (mir_eval.chord, duration-weighted over all songs, as bench/run),
key (mir_eval weighted score and exact), beat F (mir_eval, 70 ms), melody and bass note F
(mir_eval.transcription, 50 ms onsets, no offsets, as bench/notes). Renders are read from
${HARMONY_BENCH_CACHE:-~/.cache/harmony-bench}/corpus-seed1 (bench/run renders them); missing ones
are skipped.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "bench", "notes"))
from harmony_bench import corpus, scoring  # noqa: E402
from harmony_bench.tools import harmony_song_map_key  # noqa: E402
from run import note_scores  # noqa: E402  (bench/notes/run.py)

CONFIGS = {
    "mix": [],
    "stems": ["chords.input=harmonic", "key.input=harmonic", "beats.input=drums", "notes.melody_input=vocals",
              "notes.bass_input=bass"],
    "accompaniment": ["chords.input=accompaniment", "key.input=accompaniment"],
}
ONLY = {"mix": "chords,key,beats,notes", "stems": "chords,key,beats,notes", "accompaniment": "chords,key"}
# (chords reads the beats: the accompaniment run's beats are the mix's, not scored again)


def analyze(harmony, audio, only, params):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        cmd = [harmony, "analyze", audio, "--only", only, "--threads", "1", "-q", "--no-library", "-o", f.name]
        for p in params:
            cmd += ["-p", p]
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.time() - t0
        if r.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
        return json.load(open(f.name)), wall


def score(truth, gt, doc, only):
    out = {}
    segs = (doc.get("chords") or {}).get("segments") or []
    c = scoring.score_chord_rows(truth["chords"], [[s[0], s[1], s[2]] for s in segs])
    out["majmin"], out["w_majmin"] = c["majmin"], c["weight_majmin"]
    out["root"], out["w_root"] = c["root"], c["weight_root"]
    k = scoring.key_scores(truth["key"], harmony_song_map_key(doc)["key"])
    if k:
        out["key_weighted"], out["key_exact"] = k["key_weighted"], k["key_exact"]
    if "beats" in only.split(","):
        b = scoring.beat_scores(truth["beats"], (doc.get("beats") or {}).get("times_s"))
        if b:
            out["beat_f"] = b["beat_f"]
    if "notes" in only.split(",") and "notes" in doc:
        m = note_scores(gt.get("melody_notes"), doc["notes"].get("melody"))
        if m:
            out["melody_f"] = m["f"]
        if gt.get("has_bass_track") and gt.get("bass_notes"):
            b = note_scores(gt["bass_notes"], doc["notes"].get("bass"))
            if b:
                out["bass_f"] = b["f"]
    return out


def run_song(args, track):
    gt = json.load(open(corpus.track_base(track["song"]) + ".json"))
    row = {"song": track["song"], "duration_s": track["duration_s"]}
    for name in args.configs:
        params = CONFIGS[name] + (args.param if name != "mix" else [])
        doc, wall = analyze(args.harmony, track["path"], ONLY[name], params)
        row[name] = score(track["truth"], gt, doc, ONLY[name])
        row[name]["wall_s"] = wall
        if name != "mix":  # the Song Map names the input each part came from
            prov = (doc.get("chords") or {}).get("provenance", {}).get("params", {})
            row[name]["chords_input"] = prov.get("input")
    print("%3d " % track["song"] + "  ".join(
        "%s: majmin %.3f key %.2f%s" % (n, row[n]["majmin"], row[n].get("key_weighted", float("nan")),
                                       " beatF %.3f melF %.3f bassF %.3f" % (
                                           row[n].get("beat_f", float("nan")), row[n].get("melody_f", float("nan")),
                                           row[n].get("bass_f", float("nan"))) if "beat_f" in row[n] else "")
        for n in args.configs), file=sys.stderr, flush=True)
    return row


def summarise(rows, configs):
    out = {}
    for n in configs:
        s = {"songs": len(rows)}
        for m in ("majmin", "root"):
            w = sum(r[n]["w_" + m] for r in rows)
            s[m] = sum(r[n][m] * r[n]["w_" + m] for r in rows) / w if w else float("nan")
        for m in ("key_weighted", "key_exact", "beat_f", "melody_f", "bass_f", "wall_s"):
            v = [r[n][m] for r in rows if m in r[n]]
            if v:
                s[m] = float(np.mean(v))
                s["n_" + m] = len(v)
        if n != "mix":  # paired against the mix: songs better / worse
            for m in ("majmin", "key_weighted", "beat_f", "melody_f", "bass_f"):
                d = [r[n][m] - r["mix"][m] for r in rows if m in r[n] and m in r["mix"]]
                if d:
                    s["wins_" + m] = [int(sum(x > 1e-9 for x in d)), int(sum(x < -1e-9 for x in d))]
        out[n] = s
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--songs", default="1-20", help="dev song ids, e.g. 1-20 or 3,7")
    ap.add_argument("--harmony", default=os.path.join(ROOT, "build", "harmony"))
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--param", action="append", default=[], help="extra -p for the stem runs (e.g. stems.method=x)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if "mix" not in args.configs:
        args.configs.insert(0, "mix")
    songs = corpus.parse_songs(args.songs)
    tracks = []
    for t in corpus.load_corpus_tracks(songs, seed=1):
        t["song"] = int(t["id"].split("-")[1]) if "-" in t["id"] else None
        tracks.append(t)
    tracks = [t for t in tracks if t["song"] is not None]
    if len(tracks) < len(songs):
        print("%d of %d renders missing (bench/run renders them)" % (len(songs) - len(tracks), len(songs)),
              file=sys.stderr)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        rows = list(ex.map(lambda t: run_song(args, t), tracks))
    summary = summarise(rows, args.configs)
    for n, s in summary.items():
        print("%-14s " % n + "  ".join("%s %.3f" % (k, v) for k, v in s.items() if isinstance(v, float)))
        wins = {k[5:]: v for k, v in s.items() if k.startswith("wins_")}
        if wins:
            print("%-14s songs better/worse than the mix: %s" % ("", wins))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        json.dump({"songs": args.songs, "configs": {n: CONFIGS[n] for n in args.configs}, "extra_params": args.param,
                   "summary": summary, "rows": rows}, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
