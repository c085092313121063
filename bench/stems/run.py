#!/usr/bin/python3
"""Source-separation benchmark: Harmony's stems analyzer against the true stems of corpus renders
(render.py --stems), beside the oracle ideal-ratio-mask ceiling, plus real audio (MUSDB excerpts:
vocals/accompaniment; MIR-1K clips: voice/accompaniment).

    /usr/bin/python3 bench/stems/run.py --renders /work/cache/stems-test [--musdb] [--mir1k SINGERS]
        [--harmony build/harmony] [--param stems.x=y ...] [--mir-eval] [--out bench/results/stems/x.json]

Score (per stem and track): SDR in dB over 1 s chunks, the median over the chunks whose reference
is not silent (museval's aggregation), then the median over tracks. The chunk SDR is the plain
energy ratio 10·log10(|s|² / |s − ŝ|²) summed over channels (the MDX-challenge "SDR", no
distortion filter); --mir-eval adds mir_eval.separation.bss_eval_sources on the whole track
(channel average), which is slower. The oracle: each stem's ideal ratio mask |S_j| / Σ|S_k| on a
4096/1024 STFT applied to the mix (museval's IRM1), per channel. Speed: wall seconds and peak RSS
(/usr/bin/time) of `harmony analyze MIX --only stems --stems DIR` (decoding included).
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import scipy.io.wavfile
import scipy.signal

STEMS = ["vocals", "drums", "bass", "other"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def decode(path, rate=None, channels=2):
    cmd = ["ffmpeg", "-v", "error", "-i", path, "-f", "f32le", "-ac", str(channels)]
    if rate:
        cmd += ["-ar", str(rate)]
    raw = subprocess.run(cmd + ["-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.float32).reshape(-1, channels).astype(np.float64)


def read_wav(path):
    rate, x = scipy.io.wavfile.read(path)
    x = x.astype(np.float64)
    return x[:, None] if x.ndim == 1 else x


def chunk_sdr(ref, est, rate):
    """Median over 1 s chunks of 10 log10(|s|^2/|s-s^|^2); chunks with a silent reference skipped."""
    n = min(len(ref), len(est))
    hop = rate
    vals = []
    for a in range(0, n - hop // 2, hop):
        s, e = ref[a:a + hop], est[a:a + hop]
        num = float(np.sum(s * s))
        if num < 1e-8 * hop:  # silent reference: undefined, skipped as museval does
            continue
        den = float(np.sum((s - e) ** 2)) + 1e-12
        vals.append(10 * np.log10(num / den + 1e-12))
    return float(np.median(vals)) if vals else float("nan")


def oracle_irm(mix, refs, n_fft=4096, hop=1024):
    """IRM1 oracle: |S_j| / sum_k |S_k| applied to the mix STFT, per channel."""
    out = [np.zeros_like(mix) for _ in refs]
    for c in range(mix.shape[1]):
        _, _, X = scipy.signal.stft(mix[:, c], nperseg=n_fft, noverlap=n_fft - hop)
        mags = []
        for r in refs:
            _, _, S = scipy.signal.stft(r[:, c], nperseg=n_fft, noverlap=n_fft - hop)
            mags.append(np.abs(S))
        total = sum(mags) + 1e-10
        for j, m in enumerate(mags):
            _, y = scipy.signal.istft(X * (m / total), nperseg=n_fft, noverlap=n_fft - hop)
            k = min(len(y), len(mix))
            out[j][:k, c] = y[:k]
    return out


def run_harmony(harmony, mix_path, outdir, params):
    cmd = ["/usr/bin/time", "-f", "%e %M", harmony, "analyze", mix_path, "--only", "stems", "--stems", outdir,
           "--no-library", "-o", os.path.join(outdir, "map.json")]
    for p in params:
        cmd += ["-p", p]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"harmony failed on {mix_path}: {r.stderr.strip()}")
    wall, rss_kb = r.stderr.strip().splitlines()[-1].split()
    with open(os.path.join(outdir, "map.json")) as f:
        m = json.load(f)
    return float(wall), int(rss_kb) / 1024.0, m


def score_tracks(tracks, args, tmp, names, oracle=True):
    """tracks: list of (id, mix_path, {name: ref array}); names: the stems scored."""
    rows = []
    for tid, mix_path, refs in tracks:
        outdir = os.path.join(tmp, tid)
        wall, rss, m = run_harmony(args.harmony, mix_path, outdir, args.param)
        mix = decode(mix_path, rate=m["stems"]["sample_rate_hz"], channels=2)
        est = {s: read_wav(os.path.join(outdir, s + ".wav")) for s in STEMS}
        for s in STEMS:  # mono stems of a mono source: compare on both channels
            if est[s].shape[1] == 1:
                est[s] = np.repeat(est[s], 2, axis=1)
        if "accompaniment" in names:
            est["accompaniment"] = est["drums"] + est["bass"] + est["other"]
        rate = m["stems"]["sample_rate_hz"]
        row = {"track": tid, "duration_s": len(mix) / rate, "wall_s": wall, "peak_rss_mb": rss, "harmony": {},
               "oracle_irm": {}, "quality": {q["name"]: q["quality"] for q in m["stems"]["stems"]}}
        n = min(len(mix), *(len(refs[s]) for s in names))
        for s in names:
            row["harmony"][s] = chunk_sdr(refs[s][:n], est[s][:n], rate)
        if oracle:
            ora = oracle_irm(mix[:n], [refs[s][:n] for s in names])
            for s, o in zip(names, ora):
                row["oracle_irm"][s] = chunk_sdr(refs[s][:n], o, rate)
        if args.mir_eval:
            import mir_eval.separation
            ref = np.stack([refs[s][:n].mean(axis=1) for s in names])
            e = np.stack([est[s][:n].mean(axis=1) for s in names])
            keep = [i for i in range(len(names)) if np.any(ref[i] != 0)]
            sdr, _, _, _ = mir_eval.separation.bss_eval_sources(ref[keep], e[keep], compute_permutation=False)
            row["mir_eval_sdr"] = {names[i]: float(v) for i, v in zip(keep, sdr)}
        rows.append(row)
        print(f"{tid}: " + "  ".join(f"{s} {row['harmony'][s]:.2f} (IRM {row['oracle_irm'].get(s, float('nan')):.2f})"
                                      for s in names) + f"  {wall:.1f} s, {rss:.0f} MB", flush=True)
    summary = {}
    for key in ("harmony", "oracle_irm", "mir_eval_sdr"):
        vals = {s: [r[key][s] for r in rows if key in r and s in r[key] and np.isfinite(r[key][s])] for s in names}
        if any(vals.values()):
            summary[key] = {s: (float(np.median(v)) if v else None) for s, v in vals.items()}
    summary["tracks"] = len(rows)
    summary["audio_s"] = float(sum(r["duration_s"] for r in rows))
    summary["wall_s"] = float(sum(r["wall_s"] for r in rows))
    summary["max_peak_rss_mb"] = float(max(r["peak_rss_mb"] for r in rows)) if rows else 0.0
    return rows, summary


def corpus_tracks(folder, limit):
    out = []
    for d in sorted(glob.glob(os.path.join(folder, "*.stems")))[:limit or None]:
        tid = os.path.basename(d)[:-len(".stems")]
        mixes = [p for p in glob.glob(os.path.join(folder, tid + ".*")) if not p.endswith((".json", ".stems"))]
        if not mixes:
            continue
        refs = {s: decode(os.path.join(d, s + ".flac")) for s in STEMS}
        out.append((tid, mixes[0], refs))
    return out


def musdb_tracks():
    root = os.path.join(ROOT, "..", "shared", "data", "musdb-excerpts")
    if not os.path.isdir(root):
        root = "/work/shared/data/musdb-excerpts"
    out = []
    for d in sorted(glob.glob(os.path.join(root, "*"))):
        if os.path.isdir(d):
            out.append((os.path.basename(d), os.path.join(d, "mix.mp3"),
                        {"vocals": decode(os.path.join(d, "vocals_true.mp3")),
                         "accompaniment": decode(os.path.join(d, "accompaniment_true.mp3"))}))
    return out


def mir1k_tracks(singers, tmp):
    root = "/work/shared/data/mir1k"
    out = []
    for singer in singers:
        for p in sorted(glob.glob(os.path.join(root, singer + "_*.ogg"))):
            x = decode(p, channels=2)  # left = accompaniment, right = voice; mix = L + R
            tid = os.path.basename(p)[:-4]
            mix = (x[:, 0] + x[:, 1]).astype(np.float32)
            mix_path = os.path.join(tmp, tid + ".wav")
            scipy.io.wavfile.write(mix_path, 16000, mix)
            out.append((tid, mix_path, {"vocals": np.repeat(x[:, 1:2], 2, axis=1),
                                        "accompaniment": np.repeat(x[:, 0:1], 2, axis=1)}))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--renders", help="folder of render.py --stems renders")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--musdb", action="store_true")
    ap.add_argument("--mir1k", default="", help="comma-separated MIR-1K singers (held back from training)")
    ap.add_argument("--harmony", default=os.path.join(ROOT, "build", "harmony"))
    ap.add_argument("--param", action="append", default=[])
    ap.add_argument("--mir-eval", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    result = {"harmony": args.harmony, "params": args.param}
    with tempfile.TemporaryDirectory(prefix="harmony-stems-bench-") as tmp:
        if args.renders:
            rows, summary = score_tracks(corpus_tracks(args.renders, args.limit), args, tmp, STEMS)
            result["corpus"] = {"folder": args.renders, "summary": summary, "tracks": rows}
            print("corpus", json.dumps(summary))
        if args.musdb:
            rows, summary = score_tracks(musdb_tracks(), args, tmp, ["vocals", "accompaniment"])
            result["musdb"] = {"summary": summary, "tracks": rows}
            print("musdb", json.dumps(summary))
        if args.mir1k:
            rows, summary = score_tracks(mir1k_tracks(args.mir1k.split(","), tmp), args, tmp,
                                         ["vocals", "accompaniment"])
            result["mir1k"] = {"singers": args.mir1k, "summary": summary, "tracks": rows}
            print("mir1k", json.dumps(summary))
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
