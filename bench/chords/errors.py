#!/usr/bin/python3
"""Where the chord analyzer's errors go on the rendered corpus: the reference duration split into
error classes (duration-weighted over all files), from Harmony Song Maps already written (e.g. the
JSON files bench/chords/run.py leaves in its temporary folder, or `harmony analyze -o DIR`).

    /usr/bin/python3 bench/chords/errors.py --split dev --maps DIR [--top 15]

Classes (first match wins, per merged reference/estimate interval):
  ref N, est chord       the reference has no chord, Harmony names one
  ref chord, est N       Harmony says N over a chord
  ref out of vocabulary  the reference does not reduce to a root and a triad (not scored by majmin)
  root wrong             (split: a fifth/fourth apart, a third apart, other)
  third wrong            root right, maj vs min (or sus/dim/aug) confused
  seventh wrong          root and triad right, the seventh missing, added or of another kind
  bass wrong             root and triad right (and seventh when both have one), the inversion differs
  correct                root, triad, seventh and bass all agree
Each class is also split by how much of it lies within 0.25 s of a reference chord change (timing
rather than identity). Also the most frequent confusions (reference label -> estimate, both reduced to root:quality/bass).
"""
import argparse
import collections
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from harmony_bench import corpus  # noqa: E402


NEAR_S = 0.25  # "at a boundary": within a quarter second of a reference chord change


def classify(rl, el):
    import mir_eval
    if rl == 'X':
        return 'ref out of vocabulary'
    rr, rb, rbass = mir_eval.chord.encode(rl)
    er, eb, ebass = mir_eval.chord.encode(el)
    if rr < 0 and er < 0:
        return 'correct'
    if rr < 0:
        return 'ref N, est chord'
    if er < 0:
        return 'ref chord, est N'
    def triad(b):  # m3, M3, d5, P5, A5
        return tuple(int(x) for x in b[[3, 4, 6, 7, 8]])

    if rr != er:
        d = (er - rr) % 12
        if d in (5, 7):
            return 'root wrong: a fifth apart'
        if d in (3, 4, 8, 9):
            return 'root wrong: a third apart'
        return 'root wrong: other'
    if triad(rb) != triad(eb):
        return 'third wrong (triad quality)'
    if tuple(rb[[9, 10, 11]]) != tuple(eb[[9, 10, 11]]):  # 6, b7, 7
        return 'seventh wrong'
    if rbass != ebass:
        return 'bass wrong (inversion)'
    return 'correct'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--split', choices=('dev', 'test'), default='dev')
    ap.add_argument('--maps', required=True, help='folder of Harmony Song Map JSON files named <render>.<ext>.json')
    ap.add_argument('--top', type=int, default=15)
    args = ap.parse_args()
    import mir_eval
    split = corpus.SPLITS[args.split]
    classes = collections.Counter()
    near = collections.Counter()  # the part of each class within NEAR_S of a reference chord change
    confusions = collections.Counter()
    files = 0
    for s in corpus.song_list(split['set']):
        base = corpus.track_base(s, split['seed'])
        audio = corpus.audio_for(base)
        if not audio or not os.path.exists(base + '.json'):
            continue
        mp = os.path.join(args.maps, os.path.basename(audio) + '.json')
        if not os.path.exists(mp):
            continue
        ref = [tuple(c) for c in json.load(open(base + '.json')).get('chords') or []]
        est = [(x[0], x[1], x[2]) for x in json.load(open(mp))['chords']['segments']]
        if not ref or not est:
            continue
        files += 1
        ri = np.array([[a, b] for a, b, _ in ref])
        ei = np.array([[a, b] for a, b, _ in est])
        ei, el = mir_eval.util.adjust_intervals(ei, [x[2] for x in est], ri.min(), ri.max(), 'N', 'N')
        iv, r, e = mir_eval.util.merge_labeled_intervals(ri, [x[2] for x in ref], ei, el)
        changes = np.array([a for a, _, _ in ref[1:]])
        for (a, b), d, rl, elb in zip(iv, mir_eval.util.intervals_to_durations(iv), r, e):
            try:
                c = classify(rl, elb)
            except mir_eval.chord.InvalidChordException:
                c = 'ref out of vocabulary'
            classes[c] += d
            # Overlap of [a, b) with the NEAR_S neighbourhoods of the reference changes.
            if len(changes):
                lo = np.clip(changes - NEAR_S, a, b)
                hi = np.clip(changes + NEAR_S, a, b)
                near[c] += min(d, float(np.sum(hi - lo)))
            if c != 'correct':
                confusions[(rl, elb)] += d
    total = sum(classes.values())
    print('%d files, %.0f s of reference' % (files, total))
    print('| class | share of the reference duration | of which within %.2f s of a reference change |' % NEAR_S)
    print('|---|---:|---:|')
    for c, d in sorted(classes.items(), key=lambda x: -x[1]):
        print('| %s | %.1f %% | %.1f %% |' % (c, 100.0 * d / total, 100.0 * near[c] / total))
    print('\n| reference | Harmony | share |')
    print('|---|---|---:|')
    for (rl, el), d in confusions.most_common(args.top):
        print('| %s | %s | %.2f %% |' % (rl, el, 100.0 * d / total))
    return 0


if __name__ == '__main__':
    sys.exit(main())
