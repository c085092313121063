#!/usr/bin/python3
"""Fast decoding experiments for the learned notes model (development tool, not the benchmark).

A NumPy copy of the analyzer's decoding (src/analyzers/notes/pitch_net.cpp: decode_line, notes
only, no f0 curve) over posteriors that PyTorch computes once per checkpoint from the analyzer's
own features (dump_notes_features), scored like bench/notes/run.py (mean note F over songs).
Its figures agree with the C++ analyzer's to about a thousandth; decisions are re-measured with
the analyzer (bench/notes/run.py).

    /usr/bin/python3 tools/train_notes/sweep.py CKPT.pt FRAMES.tsv [--set melody.onset_threshold=0.7 ...]
        FRAMES.tsv: dump_notes_features output for dev renders named devNNN.f32
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, 'bench'))
import train  # noqa: E402
from harmony_bench.scoring import note_scores  # noqa: E402

CACHE = os.environ.get('HARMONY_BENCH_CACHE', os.path.expanduser('~/.cache/harmony-bench'))
SEMIS = train.SEMIS
MIN_MIDI = train.MIN_MIDI

DEFAULTS = {
    'melody': dict(min_midi=45, max_midi=96, jump_cost=4.0, voicing_cost=1.0, onset_threshold=0.95, min_note_s=0.05,
                   min_confidence=0.5, onset_search_s=0.06, retrigger=0.0),
    'bass': dict(min_midi=24, max_midi=55, jump_cost=4.0, voicing_cost=5.0, onset_threshold=0.95, min_note_s=0.1,
                 min_confidence=0.5, onset_search_s=0.06, retrigger=0.0),
}


def posteriors(torch, model, x):
    """x [T, BINS] -> (melody logp [T, 89], bass logp [T, 89], melody onset [T, 88], bass onset [T, 88])."""
    with torch.no_grad():
        head, unv = model(train.stack(torch, torch.from_numpy(x.T[None].copy())))
        mel = torch.log_softmax(torch.cat([head[0, 0].T, unv[0, :, :1]], 1), 1).numpy()
        bas = torch.log_softmax(torch.cat([head[0, 1].T, unv[0, :, 1:]], 1), 1).numpy()
        om = torch.sigmoid(head[0, 2].T).numpy()
        ob = torch.sigmoid(head[0, 3].T).numpy()
    return mel, bas, om, ob


def viterbi(lp, s0, s1, jump, vc):
    T = lp.shape[0]
    K = s1 - s0 + 1
    em = np.concatenate([lp[:, s0:s1 + 1], lp[:, SEMIS:SEMIS + 1]], 1).astype(np.float32)
    prev = em[0].copy()
    prev[:K] -= vc
    back = np.zeros((T, K + 1), np.int16)
    ar = np.arange(K)
    for t in range(1, T):
        bv = int(np.argmax(prev[:K]))
        best = prev[bv]
        unv = prev[K]
        v = prev[:K].copy()
        fr = ar.copy()
        m = (best - jump) > v
        v[m] = best - jump
        fr[m] = bv
        m = (unv - vc) > v
        v[m] = unv - vc
        fr[m] = K
        cur = np.empty(K + 1, np.float32)
        cur[:K] = v + em[t, :K]
        if best - vc > unv:
            cur[K] = best - vc + em[t, K]
            back[t, K] = bv
        else:
            cur[K] = unv + em[t, K]
            back[t, K] = K
        back[t, :K] = fr
        prev = cur
    path = np.empty(T, np.int64)
    s = int(np.argmax(prev))
    for t in range(T - 1, -1, -1):
        path[t] = s
        if t > 0:
            s = back[t, s]
    return path, K


_paths = {}


def decode(lp, on, cfg, frame_s=0.02):
    s0 = min(max(cfg['min_midi'] - MIN_MIDI, 0), SEMIS - 1)
    s1 = min(max(cfg['max_midi'] - MIN_MIDI, s0), SEMIS - 1)
    key = (id(lp), s0, s1, cfg['jump_cost'], cfg['voicing_cost'])
    if key not in _paths:
        _paths[key] = viterbi(lp, s0, s1, cfg['jump_cost'], cfg['voicing_cost'])
    path, K = _paths[key]
    T = len(path)
    min_frames = max(1, int(np.floor(cfg['min_note_s'] / frame_s + 0.5)))  # std::round: halves away from 0
    search = max(0, int(np.floor(cfg['onset_search_s'] / frame_s + 0.5)))
    notes = []
    P = np.exp(lp.astype(np.float64))

    def emit(a, b, semi):
        conf = P[a:b, semi].mean()
        if b - a < min_frames or conf < cfg['min_confidence']:
            return
        lo = max(0, a - search)
        hi = min(T - 1, a + search, b - 1)
        o = on[lo:hi + 1, semi]
        start = a
        if len(o) and o.max() >= 0.3:
            start = lo + int(np.argmax(o))
        onset = max(0.0, (start - 0.5) * frame_s)
        if start != a and notes:
            p = notes[-1]
            old = (a - 0.5) * frame_s
            if abs(p[1] - old) < 1e-9 or (cfg.get('no_overlap') and onset < p[1]):
                if onset > p[0] + frame_s:
                    p[1] = onset
                else:
                    onset = max(old, p[1]) if cfg.get('no_overlap') else old
        notes.append([onset, (b - 0.5) * frame_s, MIN_MIDI + semi, conf])

    t = 0
    thr = cfg['onset_threshold']
    # the split score: onset (+ retrigger x unvoiced) probability
    S = on + cfg['retrigger'] * P[:, SEMIS:SEMIS + 1] if cfg['retrigger'] else on
    while t < T:
        if path[t] >= K:
            t += 1
            continue
        semi = s0 + path[t]
        e = t
        while e < T and path[e] == path[t]:
            e += 1
        start = t
        oc = S[:, semi]
        for u in range(t + 1, e - 1):
            o = oc[u]
            if o >= thr and o >= oc[u - 1] and o > oc[u + 1] and u - start >= min_frames:
                emit(start, u, semi)
                start = u
        emit(start, e, semi)
        t = e
    return notes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('ckpt')
    ap.add_argument('frames')
    ap.add_argument('--set', action='append', default=[], help='LINE.KEY=V[,V...] (sweeps the values)')
    ap.add_argument('--post-cache', help='directory to keep posteriors in (per checkpoint name)')
    ap.add_argument('--lines', default='melody,bass')
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    model = train.make_model(torch, 2)
    model.load_state_dict(torch.load(args.ckpt))
    model.eval()
    songs = []
    for line in open(args.frames):
        path, n = line.rstrip('\n').split('\t')
        s = int(os.path.basename(path)[3:6])
        truth = json.load(open(os.path.join(CACHE, 'corpus-seed1', 'pop909-%03d-s1-r0.json' % s)))
        key = os.path.join(args.post_cache or '', '%s-%03d.npz' % (os.path.basename(args.ckpt), s))
        if args.post_cache and os.path.exists(key):
            z = np.load(key)
            post = (z['m'], z['b'], z['om'], z['ob'])
        else:
            x = np.fromfile(path, np.float32).reshape(int(n), train.BINS)
            post = posteriors(torch, model, x)
            if args.post_cache:
                os.makedirs(args.post_cache, exist_ok=True)
                np.savez(key, m=post[0], b=post[1], om=post[2], ob=post[3])
        songs.append((s, truth, post))
    sweeps = [[]]
    for kv in args.set:
        k, v = kv.split('=')
        sweeps = [s + [(k, float(x))] for s in sweeps for x in v.split(',')]
    for sw in sweeps:
        cfg = {k: dict(v) for k, v in DEFAULTS.items()}
        for k, v in sw:
            line, key = k.split('.')
            cfg[line][key] = v
        res = {}
        for line in args.lines.split(','):
            f, fo = [], []
            for s, truth, post in songs:
                ref = truth.get(line + '_notes')
                if not ref or (line == 'bass' and not truth.get('has_bass_track')):
                    continue
                lp, on = (post[0], post[2]) if line == 'melody' else (post[1], post[3])
                sc = note_scores(ref, [n[:3] for n in decode(lp, on, cfg[line])])
                f.append(sc['f'])
                fo.append(sc['f_offset'])
            res[line] = (np.mean(f), np.mean(fo), len(f))
        print(' '.join('%s=%g' % kv for kv in sw) or 'defaults', '  ',
              '  '.join('%s F %.4f (offsets %.4f, n=%d)' % (k, *v) for k, v in res.items()), flush=True)


if __name__ == '__main__':
    main()
