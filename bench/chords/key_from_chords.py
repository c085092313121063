#!/usr/bin/python3
"""Experiment (issue 14): would a global key read from the chord timeline beat the key analyzer?
Duration-weighted diatonic-function templates over the chords of each dev render (I 2, V 1.5, IV 1.2,
ii/vi 1, iii 0.8 in major; i 2, iv/V 1.2, III/VI/VII 1, v 0.8 in minor), optionally a bonus for the
key whose tonic is the last chord; scored with mir_eval.key.weighted_score beside the key analyzer's
per-track scores in bench/results/results.json (the same dev renders). Not shipped: it loses.

    /usr/bin/python3 bench/chords/key_from_chords.py MAPS_DIR   (the Song Maps a dev chords run left)
"""
import json
import os
import sys

import numpy as np
import mir_eval

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, BENCH)
from harmony_bench import corpus  # noqa: E402

maps = sys.argv[1]
res = json.load(open(os.path.join(BENCH, 'results', 'results.json')))
kr = {x['track']: x for x in res['suites']['key']['results'] if x['tool'] == 'harmony' and x['set'] == 'corpus'}
NAMES = ['C','C#','D','D#','E','F','F#','G','G#','A','A#','B']
# (interval from tonic, quality triad 'maj'/'min', weight)
MAJ = [(0,'maj',2.0),(2,'min',1.0),(4,'min',0.8),(5,'maj',1.2),(7,'maj',1.5),(9,'min',1.0)]
MIN = [(0,'min',2.0),(5,'min',1.2),(7,'maj',1.2),(7,'min',0.8),(3,'maj',1.0),(8,'maj',1.0),(10,'maj',1.0)]
def key_scores(segs, tonic_bonus):
    sc = np.zeros(24)
    for (a, b, lab) in segs:
        try:
            root, bm, _ = mir_eval.chord.encode(lab)
        except Exception:
            continue
        if root < 0: continue
        q = 'min' if bm[3] and not bm[4] else ('maj' if bm[4] else None)
        if q is None: continue
        d = b - a
        for k in range(12):
            for iv, qq, w in MAJ:
                if (root - k) % 12 == iv and q == qq: sc[k] += d * w
            for iv, qq, w in MIN:
                if (root - k) % 12 == iv and q == qq: sc[12 + k] += d * w
    # final chord bonus
    for (a, b, lab) in reversed(segs):
        try: root, bm, _ = mir_eval.chord.encode(lab)
        except Exception: continue
        if root < 0: continue
        q = 'min' if bm[3] and not bm[4] else 'maj'
        sc[(12 if q == 'min' else 0) + root] *= tonic_bonus
        break
    return sc
split = corpus.SPLITS['dev']
for bonus in (1.0, 1.2):
    a_w, k_w, n = 0.0, 0.0, 0
    for s in corpus.song_list(split['set']):
        base = corpus.track_base(s, split['seed']); audio = corpus.audio_for(base)
        if not audio: continue
        tid = os.path.basename(base)
        mp = os.path.join(maps, os.path.basename(audio) + '.json')
        if not os.path.exists(mp) or tid not in kr: continue
        gt = json.load(open(base + '.json'))['key']
        ref = '%s %s' % (gt['tonic'], gt['mode'])
        segs = [(x[0], x[1], x[2]) for x in json.load(open(mp))['chords']['segments']]
        sc = key_scores(segs, bonus)
        k = int(np.argmax(sc))
        est = '%s %s' % (NAMES[k % 12], 'minor' if k >= 12 else 'major')
        try:
            a_w += mir_eval.key.weighted_score(ref, est)
        except Exception as e:
            print(ref, est, e); continue
        k_w += kr[tid]['scores']['key_weighted']; n += 1
    print('bonus %.1f: files %d  key-from-chords weighted %.3f   key analyzer %.3f' % (bonus, n, a_w / n, k_w / n))
