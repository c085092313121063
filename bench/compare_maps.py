#!/usr/bin/env python3
"""Song Maps of two harmony binaries on the rendered dev corpus, part by part (tempo, beats,
downbeats, meter, key, loudness), provenance and timings ignored; the true peak is compared
separately (it differs by design between loudness v3 and v4+).

  usage: python3 bench/compare_maps.py OLD_HARMONY NEW_HARMONY [CORPUS_DIR]
"""
import json, subprocess, sys, glob, os, math
base, new = sys.argv[1], sys.argv[2]
corpus = sys.argv[3] if len(sys.argv) > 3 else os.path.expanduser('~/.cache/harmony-bench/corpus-seed1')
files = sorted(f for f in glob.glob(os.path.join(corpus, 'pop909-*')) if not f.endswith('.json') and not f.endswith('.stems'))
def run(b, f):
    out = subprocess.run([b, 'analyze', f, '-q', '--compact'], capture_output=True, text=True).stdout
    return json.loads(out)
def strip(o):
    if isinstance(o, dict): return {k: strip(v) for k, v in o.items() if k not in ('provenance', 'elapsed_s')}
    if isinstance(o, list): return [strip(v) for v in o]
    return o
parts = ['tempo', 'beats', 'downbeats', 'meter', 'key', 'loudness']
same = {p: 0 for p in parts}; diffs = {p: [] for p in parts}
tp = []
for f in files:
    a, b = run(base, f), run(new, f)
    for p in parts:
        x, y = strip(a.get(p)), strip(b.get(p))
        if p == 'loudness' and x and y:
            tp.append(y['true_peak_dbtp'] - x['true_peak_dbtp'])
            x = {k: v for k, v in x.items() if k not in ('true_peak_dbtp', 'replaygain_track_peak')}
            y = {k: v for k, v in y.items() if k not in ('true_peak_dbtp', 'replaygain_track_peak')}
            ok = all((abs(x[k] - y[k]) < 1e-6 if isinstance(x[k], float) else x[k] == y[k]) for k in x)
        else:
            ok = x == y
        if ok: same[p] += 1
        else: diffs[p].append(os.path.basename(f))
print(f'{len(files)} files')
for p in parts: print(f'{p:10s} identical {same[p]}/{len(files)}  differ: {diffs[p][:8]}')
if tp:
    tp.sort(); print(f'true peak v5-v3 (dB): min {tp[0]:.3f} median {tp[len(tp)//2]:.3f} max {tp[-1]:.3f}')
