#!/usr/bin/python3
"""Error breakdown of the notes analyzer on rendered dev songs (for choosing decoding and training
changes; the benchmark itself is bench/notes/run.py).

    /usr/bin/python3 tools/train_notes/errors.py OUTDIR --songs 1-100 [--param notes.x=v ...] [--jobs 2]

Runs `harmony analyze --only notes` on each dev render of the bench cache (corpus-seed1) that
OUTDIR does not hold yet (OUTDIR/NNN.json), then scores every song like the benchmark (mir_eval,
onset +-50 ms, pitch +-50 cents, no offset) and sorts the errors:

  reference notes missed: octave (an estimated note within 50 ms of the onset, an octave or two
  off), pitch (within 50 ms, another wrong pitch), late/early onset (a note of the right pitch
  covers the reference's onset or starts within 200 ms of it, but its onset is > 50 ms off),
  unvoiced (no estimated note overlaps the reference note), other;
  estimated notes unmatched: fragment (< 100 ms), split (the right pitch inside a reference note
  that another estimate already matched), octave, false voicing (no reference note overlaps it),
  pitch, onset (right pitch, onset off); and estimated notes that overlap the previous one.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(REPO, 'bench'))
import mir_eval  # noqa: E402
from harmony_bench.scoring import note_scores  # noqa: E402

CACHE = os.environ.get('HARMONY_BENCH_CACHE', os.path.expanduser('~/.cache/harmony-bench'))


def songs_arg(s):
    out = []
    for part in s.split(','):
        a, _, b = part.partition('-')
        out += list(range(int(a), int(b or a) + 1))
    return out


def render(song, seed=1):
    d = os.path.join(CACHE, 'corpus-seed%d' % seed)
    js = os.path.join(d, 'pop909-%03d-s%d-r0.json' % (song, seed))
    if not os.path.exists(js):
        return None, None
    audio = [a for a in glob.glob(js[:-5] + '.*') if not a.endswith('.json')]
    return json.load(open(js)), audio[0] if audio else None


def analyze(harmony, audio, out, params):
    cmd = ['nice', '-n', '10', harmony, 'analyze', audio, '--only', 'notes', '--threads', '1', '-q', '--no-library',
           '-o', out + '.tmp']
    for p in params:
        cmd += ['-p', p]
    subprocess.run(cmd, check=True, capture_output=True)
    os.replace(out + '.tmp', out)


def breakdown(ref, est, c):
    ref = sorted(ref)
    est = sorted(est, key=lambda n: n[0])
    if not ref:
        return
    ri = np.array([[r[0], r[1]] for r in ref])
    rp = np.array([440.0 * 2 ** ((r[2] - 69) / 12) for r in ref])
    ei = np.array([[e[0], e[1]] for e in est]).reshape(-1, 2)
    ep = np.array([440.0 * 2 ** ((e[2] - 69) / 12) for e in est])
    m = mir_eval.transcription.match_notes(ri, rp, ei, ep, onset_tolerance=0.05, pitch_tolerance=50.0,
                                           offset_ratio=None) if len(est) else []
    mr = {a for a, _ in m}
    me = {b for _, b in m}
    c['ref'] += len(ref)
    c['est'] += len(est)
    c['match'] += len(m)
    for i, (on, off, p) in enumerate(ref):
        if i in mr:
            continue
        near = [e for e in est if abs(e[0] - on) <= 0.05]
        cover = [e for e in est if e[0] < off and e[1] > on]
        same = [e for e in est if round(e[2]) == round(p) and (e[0] <= on < e[1] or abs(e[0] - on) <= 0.2)]
        if near and any(abs(round(e[2]) - round(p)) in (12, 24) for e in near):
            c['miss octave'] += 1
        elif same:
            e = min(same, key=lambda e: abs(e[0] - on))
            if e[0] > on:
                c['miss onset late'] += 1
            elif i > 0 and round(ref[i - 1][2]) == round(p) and ref[i - 1][1] > e[0]:
                c['miss onset merged'] += 1  # a repeated note held through: the re-attack missed
            else:
                c['miss onset early'] += 1
        elif near:
            c['miss pitch'] += 1
        elif not cover:
            c['miss unvoiced'] += 1
        else:
            c['miss other'] += 1
    for j, (on, off, p) in enumerate(est):
        if j > 0 and on < est[j - 1][1] - 1e-6:
            c['est overlapping'] += 1
        if off - on < 0.1:
            c['est short (<100ms)'] += 1
        if j in me:
            continue
        cover = [(i, r) for i, r in enumerate(ref) if r[0] < off and r[1] > on]
        if off - on < 0.1:
            c['fa fragment'] += 1
        elif not cover:
            c['fa voicing'] += 1
        elif any(round(r[2]) == round(p) and i in mr for i, r in cover):
            c['fa split'] += 1
        elif any(abs(round(r[2]) - round(p)) in (12, 24) for _, r in cover):
            c['fa octave'] += 1
        elif any(round(r[2]) == round(p) for _, r in cover):
            c['fa onset'] += 1
        else:
            c['fa pitch'] += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('outdir')
    ap.add_argument('--songs', default='1-100')
    ap.add_argument('--param', action='append', default=[])
    ap.add_argument('--harmony', default=os.path.join(REPO, 'build', 'harmony'))
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--quiet', action='store_true')
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    todo = []
    for s in songs_arg(args.songs):
        truth, audio = render(s)
        out = os.path.join(args.outdir, '%03d.json' % s)
        if truth and audio and not os.path.exists(out):
            todo.append((audio, out))
    with ThreadPoolExecutor(args.jobs) as ex:
        list(ex.map(lambda a: analyze(args.harmony, a[0], a[1], args.param), todo))
    counts = {'melody': {}, 'bass': {}}
    fs = {'melody': [], 'bass': []}
    for s in songs_arg(args.songs):
        truth, _ = render(s)
        out = os.path.join(args.outdir, '%03d.json' % s)
        if not truth or not os.path.exists(out):
            continue
        est = json.load(open(out))['notes']
        line_f = []
        for line in ('melody', 'bass'):
            ref = truth.get(line + '_notes')
            if not ref or (line == 'bass' and not truth.get('has_bass_track')):
                continue
            sc = note_scores(ref, est[line])
            fs[line].append(sc['f'])
            line_f.append('%s %.3f' % (line, sc['f']))
            c = counts[line]
            for k in list(c):
                c[k] = c[k]
            from collections import Counter
            cc = Counter(c)
            breakdown([r[:3] for r in ref], [e[:3] for e in est[line]], cc)
            counts[line] = dict(cc)
        if not args.quiet:
            print('%3d  %s' % (s, '  '.join(line_f)))
    for line in ('melody', 'bass'):
        c = counts[line]
        if not fs[line]:
            continue
        print('%s: mean note F %.4f over %d songs; ref %d est %d matched %d' % (
            line, float(np.mean(fs[line])), len(fs[line]), c.get('ref', 0), c.get('est', 0), c.get('match', 0)))
        for k in sorted(c):
            if k.startswith('miss'):
                print('   %-22s %6d  (%.1f%% of ref)' % (k, c[k], 100.0 * c[k] / c['ref']))
        for k in sorted(c):
            if k.startswith('fa') or k.startswith('est '):
                print('   %-22s %6d  (%.1f%% of est)' % (k, c[k], 100.0 * c[k] / max(1, c['est'])))


if __name__ == '__main__':
    main()
