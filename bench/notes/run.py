#!/usr/bin/env python3
"""Notes benchmark: melody and bass note F-measure (mir_eval.transcription) on rendered corpus songs,
melody OA / RPA (mir_eval.melody) on MIR-1K held-out singers and vocadito_1.

/usr/bin/python3 bench/notes/run.py --split dev --limit 40        # rendered dev songs in the cache
/usr/bin/python3 bench/notes/run.py --split test --limit 40       # frozen test split (report only)
/usr/bin/python3 bench/notes/run.py --mir1k 100                   # MIR-1K held-out singers
Options: --harmony build/harmony, --param notes.x=v (repeatable), --json FILE.
Renders are read from ${HARMONY_BENCH_CACHE:-~/.cache/harmony-bench}/corpus-seed1 (dev) and
corpus-seed101 (test); missing ones are skipped and counted (bench/run renders them).
"""
import argparse, glob, json, os, resource, subprocess, sys, tempfile
import numpy as np
import mir_eval

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from harmony_bench.scoring import note_scores  # noqa: E402  (shared with bench/run --suite notes)
CACHE = os.environ.get("HARMONY_BENCH_CACHE", os.path.expanduser("~/.cache/harmony-bench"))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
if not os.path.isdir(os.path.join(SHARED, "data")):
    SHARED = "/work/shared"
# MIR-1K singers held out from any training (the project's split): every 4th singer in sorted order.
def mir1k_held_out(singers):
    s = sorted(singers)
    return set(s[i] for i in range(0, len(s), 4))


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def analyze(harmony, path, params):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        cmd = [harmony, "analyze", path, "--only", "notes", "--threads", "1", "-q", "--no-library", "-o", f.name]
        for p in params:
            cmd += ["-p", p]
        c0 = cpu_children()
        r = subprocess.run(cmd, capture_output=True, text=True)
        cpu = cpu_children() - c0
        if r.returncode != 0:
            raise RuntimeError(f"{path}: harmony failed ({r.returncode}): {r.stderr.strip()}")
        return json.load(open(f.name))["notes"], cpu


def f0_scores(ref_t, ref_hz, f0):
    est_t = f0["start_s"] + f0["hop_s"] * np.arange(len(f0["f0_hz"]))
    est_hz = np.array(f0["f0_hz"], dtype=float)
    s = mir_eval.melody.evaluate(ref_t, ref_hz, est_t, est_hz)
    return {"oa": s["Overall Accuracy"], "rpa": s["Raw Pitch Accuracy"], "rca": s["Raw Chroma Accuracy"],
            "vr": s["Voicing Recall"], "vfa": s["Voicing False Alarm"]}


def corpus(args):
    seed = 1 if args.split == "dev" else 101
    songs = [int(x) for x in open(os.path.join(ROOT, "bench/sets", f"{args.split}.txt")).read().split() if x.strip().isdigit()]
    d = os.path.join(CACHE, f"corpus-seed{seed}")
    rows, missing = [], 0
    for s in songs:
        if args.limit and len(rows) >= args.limit:
            break
        js = os.path.join(d, f"pop909-{s:03d}-s{seed}-r0.json")
        if not os.path.exists(js):
            missing += 1
            continue
        truth = json.load(open(js))
        audio = os.path.join(d, truth["audio_file"]) if not os.path.isabs(truth["audio_file"]) else truth["audio_file"]
        if not os.path.exists(audio):
            audio = glob.glob(js[:-5] + ".*")
            audio = [a for a in audio if not a.endswith(".json")][0]
        est, cpu = analyze(args.harmony, audio, args.param)
        row = {"song": s, "cpu_s": cpu, "duration": truth["duration"],
               "melody": note_scores(truth["melody_notes"], est["melody"])}
        if truth.get("has_bass_track") and truth.get("bass_notes"):
            row["bass"] = note_scores(truth["bass_notes"], est["bass"])
        rows.append(row)
        print(f"{s:3d} melody F {row['melody']['f']:.3f}" + (f"  bass F {row['bass']['f']:.3f}" if "bass" in row else "")
              + f"  cpu {cpu:.2f}s / {truth['duration']:.0f}s", file=sys.stderr)
    return rows, missing


def mir1k(args):
    d = os.path.join(SHARED, "data/mir1k")
    clips = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(d, "*.ogg")))
    held = mir1k_held_out({c.split("_")[0] for c in clips})
    clips = [c for c in clips if c.split("_")[0] in held][: args.mir1k]
    rows = []
    for c in clips:
        pv = np.loadtxt(os.path.join(d, c + ".pv"), ndmin=1)
        t = 0.020 * (np.arange(len(pv)) + 1)
        hz = np.where(pv > 0, 440.0 * 2 ** ((pv - 69) / 12), 0.0)
        est, cpu = analyze(args.harmony, os.path.join(d, c + ".ogg"), args.param)
        rows.append({"clip": c, "cpu_s": cpu, **f0_scores(t, hz, est["melody_f0"])})
    return rows


def vocadito(args):
    d = os.path.join(SHARED, "data/fulltracks")
    wav = glob.glob(os.path.join(d, "audio/vocadito_1.wav"))
    if not wav:
        return None
    f0 = glob.glob(os.path.join(d, "annotations/vocadito_1_f0.csv"))
    notes = sorted(glob.glob(os.path.join(d, "annotations/vocadito_1_notesA1.csv")))
    est, cpu = analyze(args.harmony, wav[0], args.param)
    out = {"cpu_s": cpu}
    if f0:
        a = np.loadtxt(f0[0], delimiter=",", ndmin=2)
        out.update(f0_scores(a[:, 0], a[:, 1], est["melody_f0"]))
    if notes:
        a = np.loadtxt(notes[0], delimiter=",", ndmin=2)
        ref = [[r[0], r[0] + r[2], 69 + 12 * np.log2(r[1] / 440.0)] for r in a]
        out["notes"] = note_scores(ref, est["melody"])
        out["notes_file"] = os.path.basename(notes[0])
    return out


def mean(rows, key, sub):
    v = [r[key][sub] for r in rows if r.get(key)]
    return (float(np.mean(v)), len(v)) if v else (float("nan"), 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--harmony", default=os.path.join(ROOT, "build/harmony"))
    ap.add_argument("--split", choices=["dev", "test"], default=None)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--mir1k", type=int, default=0)
    ap.add_argument("--vocadito", action="store_true")
    ap.add_argument("--param", action="append", default=[])
    ap.add_argument("--json")
    args = ap.parse_args()
    report = {}
    if args.split:
        rows, missing = corpus(args)
        report["corpus"] = {"split": args.split, "rows": rows, "missing": missing}
        cpu = sum(r["cpu_s"] for r in rows) / max(1e-9, sum(r["duration"] for r in rows)) * 180
        for k in ("melody", "bass"):
            for m in ("p", "r", "f", "f_offset"):
                v, n = mean(rows, k, m)
                print(f"{args.split} {k:6s} {m:8s} {v:.3f}  (n={n})")
        print(f"CPU-s per 3 minutes: {cpu:.2f}; songs {len(rows)}, missing renders {missing}")
    if args.mir1k:
        rows = mir1k(args)
        report["mir1k"] = rows
        for m in ("oa", "rpa", "rca", "vr", "vfa"):
            print(f"mir1k {m} {np.mean([r[m] for r in rows]):.3f} (n={len(rows)})")
    if args.vocadito:
        v = vocadito(args)
        report["vocadito"] = v
        print("vocadito_1", json.dumps(v))
    if args.json:
        json.dump(report, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
