#!/usr/bin/env python3
"""Where the CPU time of one analysis goes, per stage, from a `perf record` profile (sampling; a
quicker, noisier companion of the callgrind table of bench/profile/run.sh, usable on a loaded machine).
Self time of each sampled function, grouped by stage with the rules below (first match wins).

  usage: perf record -F 10000 -o P.data harmony analyze F --threads 1 -o /dev/null
         python3 bench/profile/perf_stages.py P.data CPU_SECONDS [LABEL]
"""
import re
import subprocess
import sys

RULES = [  # (stage, regex on "dso symbol")
    ("decode (demux + MP3 decode, sample format)", r"libavcodec|libavformat|libavutil|libswresample|decode_file"),
    ("resample to 22.05 kHz (soxr)", r"libsoxr|Resampler::"),
    ("STFT (window + FFTW)", r"libfftw3f|StreamingStft|RealFft"),
    ("rhythm features (bands, flux)", r"RhythmFeatures::|log1pf"),
    ("chroma (peaks, pitch-class votes)", r"Chroma::|fmod"),
    ("loudness: K-weighting, blocks, gating", r"LoudnessMeter|KWeighting|LevelHistogram|libebur128"),
    ("true peak (BS.1770-4 Annex 2 FIR)", r"interpolated_peak|max_abs|TruePeak"),
    ("tempo / beats / downbeats / meter", r"harmony::rhythm::|BeatsAnalyzer|TempoAnalyzer|octave"),
    ("key", r"harmony::key|KeyAnalyzer|key::"),
    ("process start-up (dynamic linking), kernel", r"ld-linux|\[kernel|_dl_"),
    ("libm (log/pow/exp in the features)", r"libm\.so"),
    ("allocation, copies (libc)", r"libc\.so"),
]


def main():
    data, cpu = sys.argv[1], float(sys.argv[2])
    label = sys.argv[3] if len(sys.argv) > 3 else data
    out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,symbol", "--stdio",
                          "--percent-limit", "0"], capture_output=True, text=True).stdout
    shares = {}
    total = 0.0
    for line in out.splitlines():
        m = re.match(r"\s+([0-9.]+)%\s+(\S+)\s+\[.\]\s+(.*)", line)
        if not m:
            continue
        pct, dso, sym = float(m.group(1)), m.group(2), m.group(3)
        stage = next((s for s, rx in RULES if re.search(rx, dso + " " + sym)), "everything else")
        shares[stage] = shares.get(stage, 0.0) + pct
        total += pct
    print(f"| stage ({label}) | share | ≈ CPU-s |")
    print("|---|---:|---:|")
    for s, _ in RULES + [("everything else", "")]:
        p = shares.get(s, 0.0) / total if total else 0.0
        print(f"| {s} | {100 * p:.1f} % | {p * cpu:.3f} |")
    print(f"| **total** | 100 % | {cpu:.3f} |")


if __name__ == "__main__":
    main()
