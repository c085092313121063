"""The rendered POP909 evaluation corpus: song lists, rendering into the cache, ground truth."""
import glob
import json
import os
import subprocess
import sys

from . import paths
from .keys import key_from_names

SEED = 1
# The benchmark's splits: which song set and which render seed. Dev is what every setting is tuned
# on; test is frozen, reported beside dev and never tuned on (bench/README.md, "Splits").
SPLITS = {
    "dev": {"set": "dev", "seed": 1},
    "test": {"set": "test", "seed": 101},
}
AUDIO_EXTS = (".wav", ".flac", ".mp3", ".ogg")


def song_list(name):
    """Song ids of a named set (bench/sets/NAME.txt, one id or range a-b per line)."""
    path = os.path.join(paths.SETS_DIR, name + ".txt")
    with open(path) as f:
        return parse_songs(",".join(line.split("#")[0].strip() for line in f))


def corpus_cache(seed=SEED):
    d = os.path.join(paths.cache_dir(), "corpus-seed%d" % seed)
    os.makedirs(d, exist_ok=True)
    return d


def track_base(song, seed=SEED):
    return os.path.join(corpus_cache(seed), "pop909-%03d-s%d-r0" % (song, seed))


def audio_for(base):
    for ext in AUDIO_EXTS:
        if os.path.exists(base + ext):
            return base + ext
    return None


def missing_songs(songs, seed=SEED):
    return [s for s in songs
            if not (os.path.exists(track_base(s, seed) + ".json") and audio_for(track_base(s, seed)))]


def ensure_rendered(songs, shared, jobs=2, seed=SEED, log=print):
    """Renders the songs that are not in the cache yet (render output is a pure function of
    song and seed, so cached renders are reused)."""
    todo = missing_songs(songs, seed)
    if not todo:
        log("corpus: all %d renders present in %s" % (len(songs), corpus_cache(seed)))
        return True
    render = os.path.join(shared, "corpus", "render.py")
    log("corpus: rendering %d of %d songs into %s (about 2.5 s each) ..." % (
        len(todo), len(songs), corpus_cache(seed)))
    manifest = os.path.join(corpus_cache(seed), "manifest-bench-%d.csv" % os.getpid())
    cmd = ["/usr/bin/python3", render, "--songs", ",".join(str(s) for s in todo),
           "--per-song", "1", "--seed", str(seed), "--out", corpus_cache(seed),
           "--jobs", str(max(1, min(jobs, 2))), "--manifest", manifest]
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if os.path.exists(manifest):
        os.remove(manifest)
    still = missing_songs(songs, seed)
    if r.returncode != 0 or still:
        sys.stderr.write(r.stderr[-3000:])
        log("corpus: render failed for songs %s" % still)
        return not still
    return True


def load_corpus_tracks(songs, seed=SEED):
    tracks = []
    for s in songs:
        base = track_base(s, seed)
        audio = audio_for(base)
        if not audio or not os.path.exists(base + ".json"):
            continue
        with open(base + ".json") as f:
            gt = json.load(f)
        key = gt.get("key") or {}
        aq = gt.get("annotation_quality") or {}
        tracks.append({
            "id": gt["track_id"],
            "set": "corpus",
            "path": audio,
            "format": os.path.splitext(audio)[1][1:],
            "duration_s": float(gt["duration"]),
            "truth": {
                "tempo_bpm": gt.get("tempo_bpm"),
                "beats": [b[0] for b in gt.get("beats") or []],
                "downbeats": list(gt.get("downbeats") or []),
                "downbeat_confidence": aq.get("downbeat_confidence"),
                "meter": gt.get("meter"),
                "key": key_from_names(key.get("tonic"), key.get("mode")),
                "sections": gt.get("sections"),
                "chords": gt.get("chords"),
                # Notes: bass is scored only on renders with a bass track (bench/notes/run.py's rule).
                "melody_notes": gt.get("melody_notes") or None,
                "bass_notes": (gt.get("bass_notes") or None) if gt.get("has_bass_track") else None,
                "duration_s": float(gt["duration"]),
            },
        })
    return tracks


def corpus_present(shared):
    return os.path.exists(os.path.join(shared, "corpus", "render.py"))


def cached_track_files(seed=SEED):
    return sorted(glob.glob(os.path.join(corpus_cache(seed), "pop909-*-s%d-r0.json" % seed)))


def parse_songs(spec):
    out = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out
