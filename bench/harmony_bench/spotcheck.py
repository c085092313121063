"""Hand spot-check of the peer rows against the peers' own command-line tools and known answers.

  bench/spotcheck [N]

1. On N corpus files of the quick set: `aubio tempo FILE` (aubio's own CLI, the mean of the
   instantaneous tempi) against the same mean over the aubiotrack beats the bench scores, the bench
   row's tempo (median IBI), and `aubio beat FILE` against those beats.
2. Synthetic click tracks at known tempi and synthetic chord progressions in known keys, through
   every peer wrapper (neither the QM Vamp plugins nor a native Essentia CLI are packaged in
   Debian 12, so these are the checks available for qm-dsp and essentia.js).
"""
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

from . import corpus, runner, tools
from .keys import label


def _write_wav(path, y, sr=44100):
    y = (np.clip(y, -1, 1) * 32767).astype(np.int16)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(y.tobytes())


def clicks(bpm, seconds=30.0, sr=44100):
    y = np.zeros(int(seconds * sr))
    t = np.arange(int(0.03 * sr)) / sr
    click = np.sin(2 * np.pi * 1000 * t) * np.exp(-t * 150)
    for i, start in enumerate(np.arange(0.5, seconds - 0.1, 60.0 / bpm)):
        s = int(start * sr)
        y[s:s + len(click)] += click * (1.0 if i % 4 == 0 else 0.6)
    return y * 0.8


def chords(tonic_pc, minor, seconds_per_chord=1.0, sr=44100):
    triad = (0, 3, 7) if minor else (0, 4, 7)
    prog = [(0, triad), (5, triad), (7, (0, 4, 7)), (0, triad)] * 8
    t = np.arange(int(seconds_per_chord * sr)) / sr
    out = []
    for deg, q in prog:
        y = sum(np.sin(2 * np.pi * 440 * 2 ** ((60 + tonic_pc + deg + x - 69) / 12) * t) for x in q)
        y = y + 0.5 * np.sin(2 * np.pi * 440 * 2 ** ((48 + tonic_pc + deg - 69) / 12) * t)
        out.append(y * np.exp(-t))
    y = np.concatenate(out)
    return 0.5 * y / np.abs(y).max()


def _run(tool, path):
    r = runner.timed_run(tool.command(path, os.path.join(os.path.dirname(path), "h.json")))
    if r["rc"] != 0:
        return None
    return tool.parse(r["stdout"], os.path.join(os.path.dirname(path), "h.json"))


def main(argv):
    n = int(argv[0]) if argv else 3
    print("## aubio: bench row vs aubio's own CLI\n")
    print("| file | `aubio tempo` | mean 60/IBI of bench beats | bench aubio bpm (median IBI) | "
          "`aubio beat` beats | bench beats |")
    print("|---|---|---|---|---|---|")
    aub = tools.Aubio()
    for s in corpus.song_list("quick")[:n]:
        path = corpus.audio_for(corpus.track_base(s))
        if not path:
            continue
        own = subprocess.run(["aubio", "tempo", path], capture_output=True, text=True).stdout.strip()
        beats = subprocess.run(["aubio", "beat", path], capture_output=True, text=True).stdout.split()
        est = _run(aub, path)
        mean = float(np.mean(60.0 / np.diff(est["beats"])))
        print("| %s | %s | %.2f | %.2f | %d | %d |" % (os.path.basename(path), own, mean, est["bpm"],
                                                       len(beats), len(est["beats"])))
    print("\n## Synthetic click tracks (30 s, accent every 4th click)\n")
    rhythm = [t for t in tools.tools_for("rhythm") if t.peer and t.available()[0]]
    print("| true bpm | " + " | ".join(t.name for t in rhythm) + " |")
    print("|---" * (1 + len(rhythm)) + "|")
    with tempfile.TemporaryDirectory() as tmp:
        for bpm in (90.0, 120.0, 140.0):
            p = os.path.join(tmp, "clicks%d.wav" % bpm)
            _write_wav(p, clicks(bpm))
            cells = []
            for t in rhythm:
                e = _run(t, p)
                cells.append("%.2f" % e["bpm"] if e and e.get("bpm") else "—")
            print("| %.0f | %s |" % (bpm, " | ".join(cells)))
        print("\n## Synthetic I-IV-V-I progressions (32 s)\n")
        keyt = [t for t in tools.tools_for("key") if t.peer and t.available()[0]]
        print("| true key | " + " | ".join(t.name for t in keyt) + " |")
        print("|---" * (1 + len(keyt)) + "|")
        for pc, minor in ((2, False), (6, True), (10, False), (0, True)):
            p = os.path.join(tmp, "key%d%d.wav" % (pc, minor))
            _write_wav(p, chords(pc, minor))
            cells = [label((_run(t, p) or {}).get("key")) for t in keyt]
            print("| %s | %s |" % (label({"pc": pc, "mode": "minor" if minor else "major"}), " | ".join(cells)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
