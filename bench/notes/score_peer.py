#!/usr/bin/env python3
"""Scores Basic Pitch (bench/notes/basic_pitch_peer.mjs output) as a melody and bass peer on rendered
songs. Basic Pitch transcribes every note, so its melody is the skyline (a note is kept when no
note sounding at its onset is higher) and its bass the floor of the notes at or below MIDI 50 (a
note is kept when none sounding at its onset is lower); both also scored as all notes against each
line ("all"), which bounds its recall.

/usr/bin/python3 bench/notes/score_peer.py PEER_DIR   # PEER_DIR/dev-NNN.json, renders from the bench cache
"""
import glob, json, os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import CACHE, note_scores  # noqa: E402


def sounding(notes, t, n):
    return [m for m in notes if m is not n and m[0] <= t + 1e-9 and m[1] > t]


def skyline(notes):
    return [n for n in notes if all(m[2] <= n[2] for m in sounding(notes, n[0], n))]


def floor(notes):
    low = [n for n in notes if n[2] <= 50]
    return [n for n in low if all(m[2] >= n[2] for m in sounding(low, n[0], n))]


def main():
    rows = []
    for f in sorted(glob.glob(os.path.join(sys.argv[1], "dev-*.json"))):
        s = int(os.path.basename(f)[4:7])
        try:
            peer = json.load(open(f))
        except ValueError:
            continue
        truth = json.load(open(os.path.join(CACHE, "corpus-seed1", f"pop909-{s:03d}-s1-r0.json")))
        notes = [n[:3] for n in peer["notes"]]
        row = {"song": s, "cpu_s": peer["cpu_s"], "duration": truth["duration"],
               "melody": note_scores(truth["melody_notes"], skyline(notes)),
               "melody_all": note_scores(truth["melody_notes"], notes)}
        if truth.get("has_bass_track") and truth.get("bass_notes"):
            row["bass"] = note_scores(truth["bass_notes"], floor(notes))
        rows.append(row)
        print(s, {k: round(v["f"], 3) for k, v in row.items() if isinstance(v, dict)}, f"cpu {peer['cpu_s']:.1f}s")
    for k in ("melody", "melody_all", "bass"):
        v = [r[k]["f"] for r in rows if r.get(k)]
        print(f"basic-pitch {k} F {np.mean(v):.3f} (n={len(v)}) songs {[r['song'] for r in rows if r.get(k)]}")
    cpu = sum(r["cpu_s"] for r in rows) / sum(r["duration"] for r in rows) * 180
    print(f"basic-pitch CPU-s per 3 minutes (model only, tfjs CPU backend): {cpu:.1f}")


if __name__ == "__main__":
    main()
