"""The tools under test: Harmony and the peers. Each row of a report is one Tool.

A Tool knows its command line for one file and how to turn that command's output into an estimate:
  rhythm: {"bpm": float|None, "beats": [s]|None, "downbeats": [s]|None, "meter": str|None}
  key:    {"key": {"pc": 0..11, "mode": "major"|"minor"}|None}
  sections: {"sections": [[start, end, letter, confidence, function], ...]|None, "duration_s": float}
  chords: {"chords": [[start, end, Harte label], ...]|None}
  notes:  {"melody": [[onset, offset, midi], ...]|None, "bass": [[onset, offset, midi], ...]|None}
`None` in a field means the tool gives no estimate of that kind; rows whose tool never offers a
field (aubio has no downbeats) show "—" for it in the report.
"""
import hashlib
import json
import os
import shutil
import subprocess

from . import paths
from .keys import key_from_names, key_from_pc


def _sha(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha1(f.read()).hexdigest()[:10]
    except OSError:
        return "missing"


def _dpkg_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def _median_ibi_bpm(beats):
    import numpy as np
    if not beats or len(beats) < 2:
        return None
    ibi = np.diff(np.asarray(beats, dtype=float))
    ibi = ibi[ibi > 0]
    return float(60.0 / np.median(ibi)) if len(ibi) else None


class Tool:
    name = ""            # row label
    suite = ""           # rhythm | key
    peer = True          # False for Harmony (never cached)
    provides = ()        # fields this tool can estimate
    description = ""

    def available(self):
        """(ok, reason)"""
        return True, ""

    def version(self):
        return ""

    def command(self, audio, outfile):
        raise NotImplementedError

    def parse(self, stdout, outfile):
        raise NotImplementedError

    def refresh(self, estimate):
        """Recomputes derived fields of a cached estimate (so a changed reading of the raw output
        does not need a re-run)."""
        return estimate


# ---------------------------------------------------------------- Harmony
def harmony_song_map_rhythm(doc):
    tempo = doc.get("tempo") or {}
    beats = (doc.get("beats") or {}).get("times_s")
    downbeats = (doc.get("downbeats") or {}).get("times_s")
    meter = (doc.get("meter") or {}).get("label")
    bpm = tempo.get("bpm")
    return {"bpm": float(bpm) if isinstance(bpm, (int, float)) and bpm > 0 else None,
            "beats": [float(b) for b in beats] if isinstance(beats, list) else None,
            "downbeats": [float(b) for b in downbeats] if isinstance(downbeats, list) else None,
            "meter": meter if isinstance(meter, str) and meter else None}


def harmony_song_map_key(doc):
    k = doc.get("key") or {}
    key = None
    if isinstance(k.get("pitch_class"), int):
        key = key_from_pc(k["pitch_class"], k.get("mode"))
    if key is None and k.get("tonic"):
        key = key_from_names(k.get("tonic"), k.get("mode"))
    if key is None and isinstance(k.get("label"), str) and " " in k["label"]:
        key = key_from_names(*k["label"].split(" ", 1))
    return {"key": key}


class Harmony(Tool):
    peer = False

    def __init__(self, suite):
        self.suite = suite
        self.name = "harmony"
        self.only = {"rhythm": "tempo,beats", "key": "key", "sections": "sections", "chords": "chords",
                     "notes": "notes"}[suite]
        self.provides = {"rhythm": ("bpm", "beats", "downbeats", "meter"), "key": ("key",),
                         "sections": ("sections",), "chords": ("chords",), "notes": ("melody", "bass")}[suite]
        self.description = "build/harmony analyze --only %s" % self.only
        if suite == "notes":
            self.description += " (notes.method default: learned)"
        if suite == "sections":
            self.description += " (method learned; scored on the phrase level, the level the labels are)"

    def available(self):
        b = paths.harmony_bin()
        if not (os.path.isfile(b) and os.access(b, os.X_OK)):
            return False, "Harmony binary not found at %s (build it, or set HARMONY_BIN)" % b
        return True, ""

    def version(self):
        r = subprocess.run(["git", "-C", paths.REPO_DIR, "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True)
        return "git " + (r.stdout.strip() or "?")

    def command(self, audio, outfile):
        return [paths.harmony_bin(), "analyze", audio, "--only", self.only, "-o", outfile, "--no-library"]

    def parse(self, stdout, outfile):
        with open(outfile) as f:
            doc = json.load(f)
        if self.suite == "sections":
            return harmony_song_map_sections(doc, "phrases")
        if self.suite == "chords":
            segs = (doc.get("chords") or {}).get("segments")
            return {"chords": [[s[0], s[1], s[2]] for s in segs] if segs else None}
        if self.suite == "notes":
            return harmony_song_map_notes(doc)
        return harmony_song_map_rhythm(doc) if self.suite == "rhythm" else harmony_song_map_key(doc)


def harmony_song_map_notes(doc):
    """The Song Map's notes part -> {"melody": [[onset, offset, midi], ...], "bass": ...} (None for a
    line the map does not have)."""
    notes = doc.get("notes") or {}
    out = {}
    for line in ("melody", "bass"):
        rows = notes.get(line)
        out[line] = [[float(n[0]), float(n[1]), float(n[2])] for n in rows] if isinstance(rows, list) else None
    return out


def harmony_song_map_sections(doc, level):
    sec = doc.get("sections") or {}
    rows = sec.get(level) or sec.get("segments")
    return {"sections": rows if isinstance(rows, list) and rows else None,
            "duration_s": (doc.get("audio") or {}).get("duration_s")}


class HarmonySectionsPeer(Harmony):
    """A structure method of the same binary run as a peer row: foote (the classical baseline,
    Foote 2000 as MSAF configures it) or phrases (Harmony's version 1). Never cached: it is the
    binary under test."""

    def __init__(self, method):
        super().__init__("sections")
        self.method = method
        self.name = {"foote": "foote", "phrases": "harmony-v1"}[method]
        self.peer = method == "foote"
        self.description = {
            "foote": "Foote (2000) checkerboard novelty as MSAF configures it (66-beat kernel, 12-beat median "
                     "filter, 64-beat adaptive threshold) on beat-synchronous chroma, implemented in Harmony "
                     "(harmony analyze --only sections -p sections.method=foote), the same repetition labeller",
            "phrases": "Harmony sections version 1 (-p sections.method=phrases: novelty + repetition DP with a "
                       "hand-set 4/8-bar prior), phrase level"}[method]

    def version(self):
        # The cache key of the peer row: the binary itself (its Foote code changes with it).
        return super().version() + ", binary " + _sha(paths.harmony_bin())

    def command(self, audio, outfile):
        return super().command(audio, outfile) + ["-p", "sections.method=" + self.method]

    def parse(self, stdout, outfile):
        with open(outfile) as f:
            doc = json.load(f)
        return harmony_song_map_sections(doc, "phrases" if self.method == "phrases" else "segments")


# ---------------------------------------------------------------- aubio
class Aubio(Tool):
    name = "aubio"
    suite = "rhythm"
    provides = ("bpm", "beats")
    description = ("aubiotrack -i FILE (aubio-tools, default tempo tracker, aubio's own decoder); "
                   "tempo = 60 / median IBI of its beats (`aubio tempo` prints the mean of the "
                   "instantaneous tempi instead, which scores lower: see bench/README.md)")

    def available(self):
        return (True, "") if shutil.which("aubiotrack") else (False, "aubiotrack not installed")

    def version(self):
        return "aubio-tools " + (_dpkg_version("aubio-tools") or "?")

    def command(self, audio, outfile):
        return ["aubiotrack", "-i", audio]

    def parse(self, stdout, outfile):
        beats = [float(x) for x in stdout.split()]
        return self.refresh({"bpm": None, "beats": beats, "downbeats": None, "meter": None})

    def refresh(self, estimate):
        estimate["bpm"] = _median_ibi_bpm(estimate.get("beats"))
        return estimate


# ---------------------------------------------------------------- Queen Mary DSP
class QMBeats(Tool):
    name = "qm-dsp"
    suite = "rhythm"
    provides = ("bpm", "beats", "downbeats")
    description = ("bench/peers/qm qm_peer beats: libqm-dsp TempoTrackV2 on DF_COMPLEXSD "
                   "(step 512, window 1024, as the QM bar-beat Vamp plugin and Mixxx), DownBeat with 4 "
                   "beats per bar; tempo = 60 / median IBI")

    def available(self):
        if not os.access(paths.QM_PEER, os.X_OK):
            return False, "qm_peer not built (run bench/setup.sh)"
        return True, ""

    def version(self):
        return "libqm-dsp %s, wrapper %s" % (_dpkg_version("libqm-dsp0") or "?",
                                             _sha(os.path.join(paths.BENCH_DIR, "peers/qm/qm_peer.cpp")))

    def command(self, audio, outfile):
        return [paths.QM_PEER, "beats", audio]

    def parse(self, stdout, outfile):
        d = json.loads(stdout)
        beats = d.get("beats") or []
        return {"bpm": _median_ibi_bpm(beats), "beats": beats, "downbeats": d.get("downbeats"),
                "meter": None}


class QMKey(Tool):
    name = "qm-dsp"
    suite = "key"
    provides = ("key",)
    description = ("bench/peers/qm qm_peer key: libqm-dsp GetKeyMode(rate, 440, 10, 10) as the QM "
                   "key Vamp plugin and Mixxx; global key = key held longest")
    available = QMBeats.available
    version = QMBeats.version

    def command(self, audio, outfile):
        return [paths.QM_PEER, "key", audio]

    def parse(self, stdout, outfile):
        d = json.loads(stdout)
        return {"key": key_from_pc(d.get("tonic_pc"), d.get("mode"))}


# ---------------------------------------------------------------- Essentia (essentia.js)
def _essentia_available():
    if not shutil.which("node"):
        return False, "node not installed"
    if not os.path.isdir(os.path.join(paths.ESSENTIA_DIR, "node_modules", "essentia.js")):
        return False, "essentia.js not installed (run bench/setup.sh)"
    return True, ""


def _essentia_version():
    try:
        with open(os.path.join(paths.ESSENTIA_DIR, "node_modules", "essentia.js", "package.json")) as f:
            v = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        v = "?"
    return "essentia.js %s, wrapper %s" % (v, _sha(paths.ESSENTIA_PEER))


class EssentiaRhythm(Tool):
    name = "essentia"
    suite = "rhythm"
    provides = ("bpm", "beats")
    description = "essentia.js RhythmExtractor2013(method=multifeature, 40-208 bpm), Essentia's bpm"
    available = staticmethod(_essentia_available)
    version = staticmethod(_essentia_version)

    def command(self, audio, outfile):
        return ["node", paths.ESSENTIA_PEER, "rhythm", audio]

    def parse(self, stdout, outfile):
        d = json.loads(stdout)
        bpm = d.get("bpm")
        return {"bpm": float(bpm) if bpm and bpm > 0 else None, "beats": d.get("beats") or [],
                "downbeats": None, "meter": None}


class EssentiaKey(Tool):
    suite = "key"
    provides = ("key",)
    available = staticmethod(_essentia_available)
    version = staticmethod(_essentia_version)

    def __init__(self, profile):
        self.profile = profile
        self.name = "essentia-" + profile
        self.description = "essentia.js KeyExtractor(profileType=%s), other parameters default" % profile

    def command(self, audio, outfile):
        return ["node", paths.ESSENTIA_PEER, "key", audio, self.profile]

    def parse(self, stdout, outfile):
        d = json.loads(stdout)
        return {"key": key_from_names(d.get("tonic"), d.get("mode"))}


class EssentiaChords(Tool):
    suite = "chords"
    name = "essentia"
    provides = ("chords",)
    description = ("essentia.js TonalExtractor -> ChordsDetection (major/minor triads, its documented defaults, "
                   "tuning 440 Hz)")
    available = staticmethod(_essentia_available)
    version = staticmethod(_essentia_version)

    def command(self, audio, outfile):
        return ["node", paths.ESSENTIA_PEER, "chords", audio]

    def parse(self, stdout, outfile):
        rows = json.loads(stdout).get("chords")
        return {"chords": [list(r[:3]) for r in rows] if rows else None}


def tools_for(suite, names=None):
    if suite == "rhythm":
        tools = [Harmony("rhythm"), Aubio(), QMBeats(), EssentiaRhythm()]
    elif suite == "key":
        tools = [Harmony("key"), QMKey()] + [EssentiaKey(p) for p in ("edma", "bgate", "temperley")]
    elif suite == "sections":
        tools = [Harmony("sections"), HarmonySectionsPeer("foote"), HarmonySectionsPeer("phrases")]
    elif suite == "chords":
        tools = [Harmony("chords"), EssentiaChords()]
    elif suite == "notes":
        tools = [Harmony("notes")]  # no peer row (Basic Pitch is scored by bench/notes/score_peer.py)
    else:
        raise ValueError(suite)
    if names:
        tools = [t for t in tools if t.name in names or t.name.split("-")[0] in names]
    return tools
