#!/usr/bin/python3
"""Rhythm on real recordings: Harmony's tempo/beats/downbeats/meter beside aubio and qm-dsp on the
83 Beatles songs of ../shared/data/beatles-dev (beats with bar positions, on the mp3s' time base),
scored with mir_eval, overall and per album. aubio runs at -r 44100 (at the mp3s' native 16 kHz
its default tracker reads about half the tempo).

    /usr/bin/python3 bench/rhythm_beatles/run.py [--jobs 2] [--tools harmony,aubio,qm-dsp]
        [--albums 01_Please_Please_Me,...] [--param beats.x=y ...] [--tag NAME]
        [--fold-model ALBUM,ALBUM=PARAM ...] [--out bench/results/rhythm-beatles]

--fold-model gives the songs of the named albums one more Harmony parameter (e.g.
`01_Please_Please_Me,07_Revolver=tempo.model=/work/cache/beats-tcn/fold1.hnn`): cross-validated
learned models are scored on the albums their training never saw, all in one report.

Per song: beat F (±70 ms), CMLt, AMLt (mir_eval.beat, beats before 5 s trimmed, the MIREX
convention), downbeat F (±70 ms, trimmed the same way), tempo Acc1/Acc2 against 60 / median
inter-beat interval of the annotation (the Beatles have no annotated global tempo), meter against
the most common bar length of the annotation (n/4). Figures are means over songs (each song
counts once), per album and overall. Harmony is always re-run; peer outputs are cached in
$HARMONY_BENCH_CACHE/rhythm-beatles/<tool>/ (a pure function of file and tool version).
CPU seconds: /usr/bin/time on each whole command (decoding included).
The report goes to OUT/report-<tag>.md; the per-song estimates and scores to
$HARMONY_BENCH_CACHE/rhythm-beatles/<tag>-estimates.json (outside the repository), so that two
variants can be compared song by song (`--compare A.json B.json`).
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
sys.path.insert(0, BENCH)
from harmony_bench import paths, runner, scoring  # noqa: E402
from harmony_bench.tools import _median_ibi_bpm, harmony_song_map_rhythm  # noqa: E402

METRICS = ("beat_f", "cmlt", "amlt", "downbeat_f", "acc1", "acc2", "meter_acc")


def read_beats(path):
    beats, pos = [], []
    for line in open(path):
        p = line.split()
        if len(p) >= 2:
            beats.append(float(p[0]))
            pos.append(int(float(p[1])))
    return beats, pos


def truth_of(beats_path):
    beats, pos = read_beats(beats_path)
    down = [b for b, p in zip(beats, pos) if p == 1]
    # bar length = the position before each downbeat
    lens = [pos[i - 1] for i in range(1, len(pos)) if pos[i] == 1]
    meter = None
    if lens:
        m = collections.Counter(lens).most_common(1)[0][0]
        meter = "%d/4" % m
    return {"beats": beats, "downbeats": down, "tempo_bpm": _median_ibi_bpm(beats), "meter": meter}


def timed(cmd):
    """Runs cmd as the benchmark harness does (GNU time: CPU of the process tree) -> (result, cpu_s)."""
    r = runner.timed_run(cmd)
    return r, r["cpu_s"]


def run_harmony(audio, params, out_dir):
    out = os.path.join(out_dir, os.path.basename(audio) + '.json')
    cmd = [paths.harmony_bin(), 'analyze', audio, '--only', 'tempo,beats', '-q', '-o', out, '--threads', '1',
           '--no-library']
    for p in params:
        cmd += ['-p', p]
    p, cpu = timed(cmd)
    if p["rc"] != 0:
        return None, cpu, p["stderr"][-500:]
    with open(out) as f:
        doc = json.load(f)
    est = harmony_song_map_rhythm(doc)
    db = doc.get('downbeats') or {}
    est['downbeat_confidence'] = db.get('confidence')
    return est, cpu, ''


def run_peer(tool, audio, cache):
    key = os.path.join(cache, tool, os.path.relpath(audio, paths.shared_dir()).replace('/', '__') + '.json')
    if os.path.isfile(key):
        with open(key) as f:
            return json.load(f), None, ''
    if tool == 'aubio':
        # aubio's default tracker works in frames of the native rate: on these 16 kHz mp3s it reads
        # about half the tempo (Help!: 49 BPM for 94.5); at -r 44100 (its own resampler) it is right.
        p, cpu = timed(['aubiotrack', '-i', audio, '-r', '44100'])
        if p["rc"] != 0:
            return None, cpu, p["stderr"][-500:]
        beats = [float(x) for x in p["stdout"].split()]
        est = {'bpm': _median_ibi_bpm(beats), 'beats': beats, 'downbeats': None, 'meter': None}
    elif tool == 'qm-dsp':
        p, cpu = timed([paths.QM_PEER, 'beats', audio])
        if p["rc"] != 0:
            return None, cpu, p["stderr"][-500:]
        d = json.loads(p["stdout"])
        beats = d.get('beats') or []
        est = {'bpm': _median_ibi_bpm(beats), 'beats': beats, 'downbeats': d.get('downbeats'), 'meter': None}
    else:
        raise ValueError(tool)
    est['cpu_s'] = cpu
    os.makedirs(os.path.dirname(key), exist_ok=True)
    with open(key, 'w') as f:
        json.dump(est, f)
    return est, cpu, ''


PROVIDES = {'harmony': ('bpm', 'beats', 'downbeats', 'meter'), 'aubio': ('bpm', 'beats'),
            'qm-dsp': ('bpm', 'beats', 'downbeats')}


def score(truth, est, tool):
    s = scoring.score_rhythm(truth, est, PROVIDES[tool])
    return {k: v for k, v in s.items() if k in METRICS}


def table(rows, tools, group):
    """Markdown table of the mean of each metric per group (album) and tool."""
    lines = ['| %s | tool | songs | beat F | CMLt | AMLt | downbeat F | Acc1 | Acc2 | meter |' % group,
             '|---|---|---|---|---|---|---|---|---|---|']
    groups = sorted({r['album'] for r in rows}) + ['all']
    for g in groups:
        for t in tools:
            rs = [r for r in rows if r['tool'] == t and (g == 'all' or r['album'] == g)]
            if not rs:
                continue
            cells = []
            for m in ("beat_f", "cmlt", "amlt", "downbeat_f", "acc1", "acc2", "meter_acc"):
                v = [r['scores'][m] for r in rs if m in r['scores']]
                cells.append('%.3f' % np.mean(v) if v else '—')
            lines.append('| %s | %s | %d | %s |' % ('**all**' if g == 'all' else g, t, len(rs), ' | '.join(cells)))
    return '\n'.join(lines)


def compare(a_path, b_path):
    a = {(r['song']): r for r in json.load(open(a_path))['rows'] if r['tool'] == 'harmony'}
    b = {(r['song']): r for r in json.load(open(b_path))['rows'] if r['tool'] == 'harmony'}
    for m in ('beat_f', 'cmlt', 'downbeat_f'):
        d = [(b[s]['scores'].get(m, 0) - a[s]['scores'].get(m, 0), s) for s in a if s in b]
        d.sort()
        print('%s: mean A %.3f B %.3f; worse %d, better %d' % (
            m, np.mean([a[s]['scores'].get(m, 0) for s in a if s in b]),
            np.mean([b[s]['scores'].get(m, 0) for s in a if s in b]), sum(x < -0.01 for x, _ in d),
            sum(x > 0.01 for x, _ in d)))
        for x, s in d[:4] + d[-4:]:
            print('   %+.3f %s' % (x, s))


def git_head():
    r = subprocess.run(['git', '-C', paths.REPO_DIR, 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True)
    return r.stdout.strip() or '?'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--tools', default='harmony,aubio,qm-dsp')
    ap.add_argument('--albums', default='')
    ap.add_argument('-p', '--param', action='append', default=[])
    ap.add_argument('--tag', default='harmony')
    ap.add_argument('--fold-model', action='append', default=[],
                    help='ALBUM,ALBUM=PARAM: one more -p for the songs of these albums (held-out folds)')
    ap.add_argument('--out', default=os.path.join(BENCH, 'results', 'rhythm-beatles'))
    ap.add_argument('--compare', nargs=2, metavar=('A', 'B'), help='compare two estimates files song by song')
    args = ap.parse_args()
    if args.compare:
        compare(*args.compare)
        return 0
    root = os.path.join(paths.shared_dir(), 'data', 'beatles-dev')
    if not os.path.isdir(root):
        print('rhythm-beatles: %s absent; nothing measured' % root)
        return 0
    tools = [t for t in args.tools.split(',') if t]
    for t in tools:
        if t not in PROVIDES:
            ap.error('unknown tool ' + t)
    if 'qm-dsp' in tools and not os.access(paths.QM_PEER, os.X_OK):
        print('rhythm-beatles: qm_peer not built (bench/setup.sh); qm-dsp skipped')
        tools.remove('qm-dsp')
    albums = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if args.albums:
        albums = [a for a in albums if a in args.albums.split(',')]
    items = []
    for a in albums:
        for f in sorted(os.listdir(os.path.join(root, a))):
            if f.endswith('.beats'):
                base = os.path.join(root, a, f[:-len('.beats')])
                items.append((a, a + '/' + f[:-len('.beats')], base + '.mp3', truth_of(base + '.beats')))
    cache = os.path.join(paths.cache_dir(), 'rhythm-beatles')
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='rhythm-beatles-')
    fold_params = {}
    for fm in args.fold_model:
        names, _, param = fm.partition('=')
        for a in names.split(','):
            fold_params.setdefault(a, []).append(param)

    def work(job):
        tool, (album, song, audio, truth) = job
        if tool == 'harmony':
            est, cpu, err = run_harmony(audio, args.param + fold_params.get(album, []), tmp)
        else:
            est, cpu, err = run_peer(tool, audio, cache)
            if est is not None and cpu is None:
                cpu = est.get('cpu_s')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            sc = score(truth, est, tool)
        return {'tool': tool, 'album': album, 'song': song, 'scores': sc, 'cpu_s': cpu, 'error': err,
                'estimate': est}

    jobs = [(t, it) for t in tools for it in items]
    with ThreadPoolExecutor(max_workers=args.jobs) as ex:
        rows = list(ex.map(work, jobs))
    errors = [r for r in rows if r['error']]
    for r in errors:
        print('error: %s %s: %s' % (r['tool'], r['song'], r['error']), file=sys.stderr)
    md = ['# Rhythm on beatles-dev (%d songs, %d albums)' % (len(items), len(albums)), '',
          'Harmony (git %s): `%s analyze --only tempo,beats`%s.' % (
              git_head(), os.path.relpath(paths.harmony_bin(), paths.REPO_DIR),
              (' with ' + ' '.join('-p ' + p for p in args.param)) if args.param else '') +
          ''.join('; albums %s with -p %s' % tuple(f.split('=', 1)) for f in args.fold_model),
          'Means over songs. Tempo reference: 60 / median annotated IBI; meter reference: most common bar.', '',
          table(rows, tools, 'album'), '']
    for t in tools:
        cpu = [r['cpu_s'] for r in rows if r['tool'] == t and r['cpu_s'] is not None]
        md.append('%s: %d errors, CPU %.1f s over %d songs' % (t, sum(1 for r in errors if r['tool'] == t),
                                                              float(np.nansum(cpu)), len(cpu)))
    text = '\n'.join(md) + '\n'
    print(text)
    with open(os.path.join(args.out, 'report-%s.md' % args.tag), 'w') as f:
        f.write(text)
    with open(os.path.join(cache, '%s-estimates.json' % args.tag), 'w') as f:
        json.dump({'params': args.param, 'rows': rows}, f)
    return 1 if any(r['tool'] == 'harmony' for r in errors) else 0


if __name__ == '__main__':
    sys.exit(main())
