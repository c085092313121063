"""Decode speed (issue 2): Harmony's hidden `decode` subcommand against ffmpeg.

Inputs are made once into $HARMONY_BENCH_CACHE/decode/: a 4-minute stereo 44.1 kHz signal (a
corpus render looped to 240 s, or pink noise when no render is cached) encoded as 320 kbps CBR MP3
(libmp3lame) and as FLAC. Both tools decode to mono float at 22,050 Hz:
  build/harmony decode FILE
  ffmpeg -v error -nostdin -i FILE -ac 1 -ar 22050 -f f32le -   (stdout to /dev/null)
Each is run --repeats times (at least 3); the median is reported.
"""
import glob
import os
import statistics
import subprocess

from . import corpus, paths, runner

SECONDS = 240


def _inputs(log):
    d = os.path.join(paths.cache_dir(), "decode")
    os.makedirs(d, exist_ok=True)
    mp3, flac = os.path.join(d, "decode-4min-320k.mp3"), os.path.join(d, "decode-4min.flac")
    if os.path.exists(mp3) and os.path.exists(flac):
        return [mp3, flac]
    srcs = sorted(glob.glob(os.path.join(corpus.corpus_cache(), "pop909-*.wav")) +
                  glob.glob(os.path.join(corpus.corpus_cache(), "pop909-*.flac")))
    if srcs:
        src = ["-stream_loop", "-1", "-i", srcs[0]]
    else:
        src = ["-f", "lavfi", "-i", "anoisesrc=color=pink:sample_rate=44100:amplitude=0.3"]
    for path, codec in ((mp3, ["-c:a", "libmp3lame", "-b:a", "320k"]), (flac, ["-c:a", "flac"])):
        if os.path.exists(path):
            continue
        log("  making %s" % path)
        tmp = path + ".part" + os.path.splitext(path)[1]
        r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y"] + src +
                           ["-t", str(SECONDS), "-ac", "2", "-ar", "44100"] + codec + [tmp],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("ffmpeg could not make %s: %s" % (path, r.stderr[-500:]))
        os.replace(tmp, path)
    return [mp3, flac]


def _measure(argv, repeats):
    runs = []
    for _ in range(repeats):
        r = runner.timed_run(argv, discard_stdout=True)
        if r["rc"] != 0:
            return None, r["stderr"].strip()[-300:] or "exit %d" % r["rc"]
        runs.append(r)
    return {"n_runs": len(runs), "wall_s": statistics.median(r["wall_s"] for r in runs),
            "cpu_s": statistics.median(r["cpu_s"] for r in runs),
            "rss_mb": max(r["rss_kb"] for r in runs) / 1024.0}, None


def run(repeats, log=print):
    repeats = max(3, repeats)
    out = {"rows": [], "notes": [], "skipped": None}
    try:
        files = _inputs(log)
    except RuntimeError as e:
        out["skipped"] = str(e)
        return out
    hb = paths.harmony_bin()
    have_h = os.access(hb, os.X_OK)
    if not have_h:
        out["notes"].append("Harmony not measured: no binary at %s." % hb)
    for f in files:
        name = os.path.basename(f)
        ff, err = _measure(["ffmpeg", "-v", "error", "-nostdin", "-i", f, "-ac", "1", "-ar", "22050",
                            "-f", "f32le", "-"], repeats)
        if ff is None:
            out["notes"].append("ffmpeg failed on %s: %s" % (name, err))
            continue
        h = None
        if have_h:
            h, err = _measure([hb, "decode", f], repeats)
            if h is None:
                out["notes"].append("Harmony not measured on %s: `harmony decode` failed (%s)." % (name, err))
        for tool, m in (("harmony decode", h), ("ffmpeg", ff)):
            if m is None:
                continue
            row = dict(m, file=name, tool=tool, xrt=SECONDS / m["wall_s"])
            if tool == "harmony decode":
                row["harmony_over_ffmpeg"] = m["wall_s"] / ff["wall_s"]
            out["rows"].append(row)
            log("  %-22s %-15s %.3f s  %.0f× RT  %.0f MB" % (name, tool, m["wall_s"], row["xrt"], m["rss_mb"]))
    return out
