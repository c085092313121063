#!/usr/bin/python3
"""Dumps Harmony's per-beat bar accents (the `debug_bars` estimator of HARMONY_RHYTHM_DEBUG=1) for
real songs (../shared/data/beatles-dev) and corpus renders, with the annotated bar position of
each tracked beat, for fit_bar_phase.py.

    /usr/bin/python3 tools/train_rhythm/dump_bars.py --beatles --renders DIR [--jobs 2] -o OUT.jsonl

One JSON line per track: id, group (album folder, or 'render'), the tracked beats' accent rows
(time low all mid high harm harm2 h4 h3 hh), the annotated position of each tracked beat (the
nearest annotated beat within 70 ms; 0 = none), the annotated bar length at that beat, Harmony's
own meter label and positions. Renders: the *.json annotations beside the audio in DIR (as
written by ../shared/corpus/render.py).
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def read_beats_file(path):
    out = []
    for line in open(path):
        p = line.split()
        if len(p) >= 2:
            out.append((float(p[0]), int(float(p[1]))))
    return out


def bar_lengths(ann):
    """Bar length at each annotated beat: the highest position of the bar it is in."""
    n = len(ann)
    lens = [0] * n
    start = 0
    for i in range(1, n + 1):
        if i == n or ann[i][1] == 1:
            m = max(p for _, p in ann[start:i])
            for j in range(start, i):
                lens[j] = m
            start = i
    return lens


def analyse(harmony, audio, ann, tid, group):
    with tempfile.TemporaryDirectory() as td:
        out = os.path.join(td, 'o.json')
        env = dict(os.environ, HARMONY_RHYTHM_DEBUG='1')
        p = subprocess.run([harmony, 'analyze', audio, '--only', 'tempo,beats', '-q', '-o', out, '--threads', '1',
                            '--no-library'], capture_output=True, text=True, env=env)
        if p.returncode != 0:
            return {'id': tid, 'error': p.stderr[-300:]}
        doc = json.load(open(out))
    est = {e['name']: e for e in (doc.get('tempo') or {}).get('estimators', [])}
    rows = []
    if 'debug_bars' in est:
        for r in est['debug_bars']['value'].split(';'):
            if r.strip():
                rows.append([float(x) for x in r.split()])
    lens = bar_lengths(ann)
    at = [a[0] for a in ann]
    pos, blen = [], []
    import bisect
    for r in rows:
        t = r[0]
        k = bisect.bisect_left(at, t)
        best = None
        for j in (k - 1, k):
            if 0 <= j < len(at) and abs(at[j] - t) <= 0.07 and (best is None or abs(at[j] - t) < abs(at[best] - t)):
                best = j
        pos.append(ann[best][1] if best is not None else 0)
        blen.append(lens[best] if best is not None else 0)
    beats = doc.get('beats') or {}
    return {'id': tid, 'group': group, 'rows': rows, 'pos': pos, 'bar_len': blen,
            'meter': (doc.get('meter') or {}).get('label'), 'h_positions': beats.get('positions'),
            'ann_down': [t for t, p in ann if p == 1], 'ann_beats': at,
            'duration': doc.get('duration_s')}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--beatles', action='store_true')
    ap.add_argument('--renders', default='')
    ap.add_argument('--harmony', default=os.path.join(REPO, 'build', 'harmony'))
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('-o', '--out', required=True)
    args = ap.parse_args()
    items = []
    if args.beatles:
        root = os.path.join(REPO, '..', 'shared', 'data', 'beatles-dev')
        for b in sorted(glob.glob(os.path.join(root, '*', '*.beats'))):
            album = os.path.basename(os.path.dirname(b))
            items.append((b[:-6] + '.mp3', read_beats_file(b), album + '/' + os.path.basename(b)[:-6], album))
    if args.renders:
        for j in sorted(glob.glob(os.path.join(args.renders, '*.json'))):
            d = json.load(open(j))
            beats = d['beats'] if isinstance(d['beats'], list) else json.loads(d['beats'])
            audio = os.path.join(args.renders, d['audio_file'])
            if os.path.isfile(audio):
                items.append((audio, [(float(t), int(p)) for t, p in beats], d['track_id'], 'render'))
    with ThreadPoolExecutor(args.jobs) as ex:
        res = list(ex.map(lambda it: analyse(args.harmony, it[0], it[1], it[2], it[3]), items))
    with open(args.out, 'w') as f:
        for r in res:
            f.write(json.dumps(r) + '\n')
    print('%d tracks, %d errors' % (len(res), sum(1 for r in res if 'error' in r)), file=sys.stderr)


if __name__ == '__main__':
    main()
