#!/usr/bin/python3
"""Chord benchmark: Harmony's chords analyzer beside Essentia's ChordsDetection (essentia.js
TonalExtractor), scored with mir_eval.chord on the same files in the same run.

    /usr/bin/python3 bench/chords/run.py [--split dev|test] [--songs 1-200] [--beatles] \
        [--beatles-models DIR] [--jobs 2] [--param chords.x=y ...] [--out bench/results/chords]

Corpus: renders of ../shared/corpus in the bench cache (corpus-seed1 for dev, corpus-seed101 for
test; missing renders are skipped and counted, render them with bench/run or render.py). Real songs:
../shared/data/beatles-dev (.chords.lab). With --beatles-models DIR, each Beatles song is analysed
with DIR/<album>.hnn, the model trained without that album (tools/train_chords/train.py cv), so the
Beatles figures are by-album cross-validated; without it the shipped model runs (which saw them).
Scores: mir_eval.chord root, thirds, majmin, majmin_inv, sevenths, mirex, each the duration-weighted
mean over the files (weights: the reference's labelled duration). Timing: CPU seconds of each whole
command (decoding included; Harmony's includes the tempo and beats it reads).
"""
import argparse
import glob
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
sys.path.insert(0, BENCH)
from harmony_bench import corpus, paths, runner  # noqa: E402

METRICS = ("root", "thirds", "majmin", "majmin_inv", "sevenths", "mirex")


def cpu_of(cmd):
    """Runs cmd as the benchmark harness does (GNU time: CPU of the process tree) -> (result, cpu_s)."""
    r = runner.timed_run(cmd)
    return r, r["cpu_s"]


def harmony_chords(audio, params, out_dir):
    out = os.path.join(out_dir, os.path.basename(audio) + '.json')
    cmd = [paths.harmony_bin(), 'analyze', audio, '--only', 'chords', '-q', '-o', out, '--threads', '1']
    for p in params:
        cmd += ['-p', p]
    p, cpu = cpu_of(cmd)
    if p["rc"] != 0:
        return None, cpu, p["stderr"][-500:]
    with open(out) as f:
        m = json.load(f)
    return [(s[0], s[1], s[2]) for s in m['chords']['segments']], cpu, ''


def essentia_chords(audio):
    p, cpu = cpu_of(['node', paths.ESSENTIA_PEER, 'chords', audio])
    if p["rc"] != 0:
        return None, cpu, p["stderr"][-500:]
    return [tuple(c) for c in json.loads(p["stdout"])['chords']], cpu, ''


def score(ref, est):
    import mir_eval
    ri = np.array([[s[0], s[1]] for s in ref])
    rl = [s[2] for s in ref]
    ei = np.array([[s[0], s[1]] for s in est])
    el = [s[2] for s in est]
    ei, el = mir_eval.util.adjust_intervals(ei, el, ri.min(), ri.max(), mir_eval.chord.NO_CHORD,
                                            mir_eval.chord.NO_CHORD)
    iv, r, e = mir_eval.util.merge_labeled_intervals(ri, rl, ei, el)
    dur = mir_eval.util.intervals_to_durations(iv)
    out = {}
    for m in METRICS:
        comp = getattr(mir_eval.chord, m)(r, e)
        valid = comp >= 0
        w = float(np.sum(dur[valid]))
        out[m] = (float(np.sum(dur[valid] * comp[valid])), w)
    return out


def aggregate(rows):
    agg = {}
    for m in METRICS:
        num = sum(r['scores'][m][0] for r in rows if r['scores'])
        den = sum(r['scores'][m][1] for r in rows if r['scores'])
        agg[m] = num / den if den > 0 else float('nan')
    return agg


def read_lab(path):
    segs = []
    for line in open(path):
        p = line.split()
        if len(p) >= 3:
            segs.append((float(p[0]), float(p[1]), p[2]))
    return segs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--split', choices=('dev', 'test'), default='dev')
    ap.add_argument('--songs', default='')
    ap.add_argument('--beatles', action='store_true')
    ap.add_argument('--no-corpus', action='store_true')
    ap.add_argument('--beatles-models', default='')
    ap.add_argument('--albums', default='', help='comma-separated Beatles album folders (default: all)')
    ap.add_argument('--no-essentia', action='store_true')
    ap.add_argument('--param', action='append', default=[])
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--out', default=os.path.join(BENCH, 'results', 'chords'))
    args = ap.parse_args()
    shared = paths.shared_dir()
    if not os.path.isdir(shared):
        print('chords bench: ../shared is absent; nothing measured')
        return 0
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='chords-bench-')
    items = []  # (corpus name, id, audio, reference, params)
    missing = 0
    if not args.no_corpus:
        split = corpus.SPLITS[args.split]
        songs = corpus.parse_songs(args.songs) if args.songs else corpus.song_list(split['set'])
        for s in songs:
            base = corpus.track_base(s, split['seed'])
            audio = corpus.audio_for(base)
            if not audio or not os.path.exists(base + '.json'):
                missing += 1
                continue
            ref = [tuple(c) for c in json.load(open(base + '.json')).get('chords') or []]
            if ref:
                items.append(('pop909-' + args.split, os.path.basename(base), audio, ref, []))
    if args.beatles:
        root = os.path.join(shared, 'data', 'beatles-dev')
        for lab in sorted(glob.glob(os.path.join(root, '*', '*.chords.lab'))):
            base = lab[:-len('.chords.lab')]
            album = os.path.basename(os.path.dirname(base))
            if args.albums and album not in args.albums.split(','):
                continue
            params = []
            if args.beatles_models:
                params = ['chords.model=' + os.path.join(args.beatles_models, album + '.hnn')]
            items.append(('beatles-dev', os.path.relpath(base, root), base + '.mp3', read_lab(lab), params))

    tools = ['harmony'] + ([] if args.no_essentia else ['essentia'])

    def work(job):
        tool, (cname, tid, audio, ref, params) = job
        if tool == 'harmony':
            est, cpu, err = harmony_chords(audio, params + args.param, tmp)
        else:
            est, cpu, err = essentia_chords(audio)
        sc = score(ref, est) if est else None
        return {'tool': tool, 'corpus': cname, 'track': tid, 'cpu_s': cpu, 'error': err if not est else '',
                'scores': sc, 'duration_s': ref[-1][1] - ref[0][0]}

    jobs = [(t, it) for it in items for t in tools]
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        results = list(ex.map(work, jobs))
    lines = ['# Chords benchmark', '',
             'Command: `/usr/bin/python3 bench/chords/run.py %s`' % ' '.join(sys.argv[1:]), '',
             'mir_eval.chord scores, duration-weighted over the files; CPU = median CPU seconds of the whole '
             'command per file (decoding included; Harmony\'s includes tempo and beats).', '']
    if missing:
        lines.append('%d songs of the split were not rendered and are not counted.' % missing)
        lines.append('')
    lines.append('| corpus | tool | files | failed | ' + ' | '.join(METRICS) + ' | CPU s/file | CPU s/min audio |')
    lines.append('|---|---|---|---|' + '---|' * len(METRICS) + '---|---|')
    summary = {}
    for cname in sorted({r['corpus'] for r in results}):
        for tool in tools:
            rows = [r for r in results if r['corpus'] == cname and r['tool'] == tool]
            ok = [r for r in rows if r['scores']]
            agg = aggregate(ok)
            cpu = [r['cpu_s'] for r in rows]
            mins = sum(r['duration_s'] for r in rows) / 60.0
            summary['%s/%s' % (cname, tool)] = agg
            lines.append('| %s | %s | %d | %d | %s | %.2f | %.3f |' % (
                cname, tool, len(rows), len(rows) - len(ok), ' | '.join('%.3f' % agg[m] for m in METRICS),
                float(np.median(cpu)) if cpu else float('nan'), sum(cpu) / mins if mins else float('nan')))
    lines += ['', 'Wall time of the run: %.0f s.' % (time.time() - t0)]
    text = '\n'.join(lines) + '\n'
    name = 'report-%s%s' % (args.split if not args.no_corpus else 'none', '-beatles' if args.beatles else '')
    with open(os.path.join(args.out, name + '.md'), 'w') as f:
        f.write(text)
    with open(os.path.join(args.out, name + '.json'), 'w') as f:
        json.dump({'summary': summary, 'results': results}, f, indent=1)
    print(text)
    for r in results:
        if r['error']:
            print('error', r['tool'], r['track'], r['error'][:200])
    return 0


if __name__ == '__main__':
    sys.exit(main())
