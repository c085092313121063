#!/usr/bin/python3
"""Fit the octave-resolution model of the tempo analyzer: gradient-boosted trees over the candidate
features, and write them as C++ tables to src/analyzers/rhythm/octave_gbdt.inc.

Each tempo candidate (the salience peak and its x1/2, x2, x3/2, x2/3, x3, x1/3 relatives inside
50-220 BPM) is scored by one tree ensemble; the analyzer picks the best-scored candidate. The input of
a candidate is its own 63 features (see fit_octave.py for how they are dumped; the last four are
events per beat: onsets at two thresholds, low-band onsets and chord changes) followed, for each of
the ratios 2, 1/2, 3/2 and 2/3, by the difference between the related candidate's features and its
own, and a 0/1 flag saying whether that candidate exists (so 63 + 4 * 64 = 319 inputs); the
features listed in HIDDEN_FEATURES are zeroed. The analyzer adds 2 x the tree score (log-odds) to the
linear model's score (fit_octave.py).

Training data are renders of POP909 songs 201-700 (never the dev songs 1-200):
    /usr/bin/python3 ../shared/corpus/render.py --songs 201-700 --per-song 1 --seed 1 \\
        --out ~/.cache/harmony-bench/corpus-seed1            # and --seed 2 into train-seed2
    dump them as fit_octave.py says (HARMONY_RHYTHM_DEBUG=1 ... --only tempo), then
    /usr/bin/python3 tools/train_rhythm/fit_octave_gbdt.py \\
        --train DUMP1:~/.cache/harmony-bench/corpus-seed1:201-700 --train DUMP2:~/.cache/harmony-bench/train-seed2 \\
        --test DUMP1:~/.cache/harmony-bench/corpus-seed1:1-200 [--cv 5] --write src/analyzers/rhythm/octave_gbdt.inc \\
        [--manifest src/analyzers/rhythm/learned_constants.provenance]   # with --cv: records kOctaveTemperature
    -> 994 training tracks (500 songs); trees alone 0.930 on the dev tracks (linear alone 0.875).

The written file starts with its provenance (tools/provenance.py: script, command, data, random seed,
library versions, date, SHA-256 of the body); tests/unit/learned_tables_test.cpp checks it.

Debian python3-numpy and python3-sklearn only.
"""
import argparse
import os
import re
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from fit_octave import load  # noqa: E402  (same dump format)
import provenance  # noqa: E402  (tools/provenance.py)

N_FEATURES = 63                       # kOctaveFeatures in octave_model.hpp

RATIOS = (2.0, 0.5, 1.5, 2.0 / 3.0)  # kOctaveContextRatios in octave_model.hpp
MATCH = 0.02                          # relative tolerance of a related candidate
# Features hidden from the trees (kOctaveHiddenFeatures in octave_model.hpp, which says why): the
# absolute tempo (log2(bpm/100), its square and cube, octaves below 60 BPM) and the autocorrelations
# at 4 and 8 beats of the broadband, low and mid/high novelty (renders loop their grooves bar by bar).
HIDDEN_FEATURES = (15, 16, 57, 58, 25, 26, 35, 36, 45, 46)


def context(F, bpm):
    """Model inputs of every candidate of one track (rows of F, tempi bpm)."""
    F = np.array(F, dtype=float)
    F[:, HIDDEN_FEATURES] = 0.0
    rows = []
    for i in range(len(F)):
        parts = [F[i]]
        for f in RATIOS:
            j = [k for k in range(len(F)) if abs(bpm[k] / (bpm[i] * f) - 1.0) < MATCH]
            parts.append(F[j[0]] - F[i] if j else np.zeros(F.shape[1]))
            parts.append([1.0 if j else 0.0])
        rows.append(np.concatenate(parts))
    return np.array(rows)


def design(tracks, rare_weight):
    X, y, w = [], [], []
    for F, lab, rare, meta in tracks:
        X.append(context(F, meta['bpm']))
        y += [1 if i == lab else 0 for i in range(len(F))]
        w += [rare_weight if rare else 1.0] * len(F)
    return np.vstack(X), np.array(y), np.array(w)


def fit(tracks, a):
    X, y, w = design(tracks, a.rare_weight)
    m = HistGradientBoostingClassifier(learning_rate=a.learning_rate, max_iter=a.trees, max_depth=a.depth,
                                       min_samples_leaf=a.min_leaf, l2_regularization=a.l2, random_state=0)
    return m.fit(X, y, sample_weight=w)


def accuracy(m, tracks):
    if not tracks:
        return float('nan')
    return float(np.mean([np.argmax(m.decision_function(context(F, meta['bpm']))) == lab
                          for F, lab, _, meta in tracks]))


def out_of_fold_scores(tracks, a):
    """Tree scores of every training track from a model that did not see its song (k folds by song,
    so the seeds of one song stay together)."""
    songs = sorted({t[3]['song'] for t in tracks})
    np.random.RandomState(0).shuffle(songs)
    fold = {s: i % a.cv for i, s in enumerate(songs)}
    scores = [None] * len(tracks)
    for k in range(a.cv):
        m = fit([t for t in tracks if fold[t[3]['song']] != k], a)
        for i, t in enumerate(tracks):
            if fold[t[3]['song']] == k:
                scores[i] = m.decision_function(context(t[0], t[3]['bpm']))
    return scores


def linear_weights():
    """kOctaveWeights of the analyzer (the linear model the tree score is added to)."""
    src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'src', 'analyzers', 'rhythm',
                            'analyze.cpp')).read()
    body = re.search(r'kOctaveWeights\[\] = \{(.*?)\};', src, re.S).group(1)
    return np.array([float(x) for x in body.replace('\n', ' ').split(',') if x.strip()])


def temperature(tracks, scores, tree_weight):
    """The T that makes softmax((linear + tree_weight * trees) / T) over a track's candidates a
    calibrated probability (least negative log-likelihood of the right candidate), and the accuracy."""
    w = linear_weights()
    blended = [t[0][:, :len(w)] @ w + tree_weight * s for t, s in zip(tracks, scores)]
    labels = [t[1] for t in tracks]

    def nll(T):
        tot = 0.0
        for z, lab in zip(blended, labels):
            z = z / T
            tot -= z[lab] - z.max() - np.log(np.exp(z - z.max()).sum())
        return tot
    Ts = np.exp(np.linspace(np.log(0.3), np.log(10.0), 120))
    T = float(Ts[int(np.argmin([nll(T) for T in Ts]))])
    return T, float(np.mean([np.argmax(z) == lab for z, lab in zip(blended, labels)]))


def raw_score(nodes_list, baseline, x):
    """What the C++ code computes: baseline + the leaf value of each tree (x <= threshold: left)."""
    z = baseline
    for nodes in nodes_list:
        i = 0
        while not nodes[i]['is_leaf']:
            i = nodes[i]['left'] if x[nodes[i]['feature_idx']] <= nodes[i]['num_threshold'] else nodes[i]['right']
        z += nodes[i]['value']
    return z


def write_inc(m, path, check_x, note, fields):
    trees = [p[0].nodes for p in m._predictors]
    baseline = float(np.ravel(m._baseline_prediction)[0])
    expect = float(np.ravel(m.decision_function(check_x[None, :]))[0])
    mine = raw_score(trees, baseline, check_x)
    assert abs(mine - expect) < 1e-9, (mine, expect)
    lines = ['// ' + note,
             '// Node: {feature, threshold, left, right, value}; feature -1 marks a leaf. x <= threshold goes left.',
             'inline constexpr double kOctaveGbdtBaseline = %.17g;' % baseline,
             'inline constexpr OctaveGbdtNode kOctaveGbdtNodes[] = {']
    roots = []
    base = 0
    for nodes in trees:
        roots.append(base)
        for n in nodes:
            if n['is_leaf']:
                lines.append('    {-1, 0.0, 0, 0, %.17g},' % n['value'])
            else:
                lines.append('    {%d, %.17g, %d, %d, 0.0},' % (n['feature_idx'], n['num_threshold'],
                                                               base + n['left'], base + n['right']))
        base += len(nodes)
    lines.append('};')
    lines.append('inline constexpr unsigned kOctaveGbdtRoots[] = {' + ', '.join(map(str, roots)) + '};')
    lines.append('// A training candidate and its score, checked by tests/unit/rhythm_octave_test.cpp.')
    lines.append('inline constexpr double kOctaveGbdtCheckInput[] = {' +
                 ', '.join('%.17g' % v for v in check_x) + '};')
    lines.append('inline constexpr double kOctaveGbdtCheckScore = %.17g;' % expect)
    provenance.write_table(path, '// Generated by tools/train_rhythm/fit_octave_gbdt.py: do not edit.', fields,
                           '\n'.join(lines) + '\n')


def provenance_fields(a, train, reproduce):
    return [('script', provenance.script_path()), ('command', provenance.command()),
            ('data', provenance.describe_renders([t[3]['name'] for t in train])),
            ('random seed', '0 (HistGradientBoostingClassifier random_state; CV folds by song, RandomState(0))'),
            ('libraries', provenance.libraries('numpy', 'sklearn')), ('date', provenance.today()),
            ('reproduce', reproduce)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--train', action='append', required=True, help='DUMP_DIR:CORPUS_DIR[:SONGS]')
    ap.add_argument('--test', action='append', default=[], help='DUMP_DIR:CORPUS_DIR[:SONGS]')
    ap.add_argument('--trees', type=int, default=300)
    ap.add_argument('--depth', type=int, default=4)
    ap.add_argument('--learning-rate', type=float, default=0.03)
    ap.add_argument('--min-leaf', type=int, default=50)
    ap.add_argument('--l2', type=float, default=1.0)
    ap.add_argument('--rare-weight', type=float, default=6.0,
                    help='loss weight of tracks not in 4/4 (about 6 %% of the corpus)')
    ap.add_argument('--cv', type=int, default=0,
                    help='also report k-fold accuracy on the training songs and fit the probability temperature')
    ap.add_argument('--tree-weight', type=float, default=2.0, help='kTreeWeight of the analyzer')
    ap.add_argument('--write', help='write the C++ tables here')
    ap.add_argument('--save-model', help='also pickle the sklearn model here (for analysis)')
    ap.add_argument('--manifest', help='with --cv: record the fitted temperature (kOctaveTemperature) in this '
                                       'manifest (src/analyzers/rhythm/learned_constants.provenance)')
    a = ap.parse_args()
    train = [x for s in a.train for x in load(s, with_meta=True, n_features=N_FEATURES)]
    test = [x for s in a.test for x in load(s, with_meta=True, n_features=N_FEATURES)]
    train_songs = {t[3]['song'] for t in train}
    overlap = train_songs & {t[3]['song'] for t in test}
    if overlap:
        sys.exit('train and test share songs: %s' % sorted(overlap)[:10])
    m = fit(train, a)
    print('train tracks %d (%d songs)  train acc %.3f' % (len(train), len(train_songs), accuracy(m, train)))
    if a.cv:
        oof = out_of_fold_scores(train, a)
        acc = np.mean([np.argmax(z) == t[1] for z, t in zip(oof, train)])
        T, acc_blend = temperature(train, oof, a.tree_weight)
        print('%d-fold acc (by song): trees %.3f, linear + %g x trees %.3f; probability temperature %.2f '
              '(kOctaveTemperature)' % (a.cv, acc, a.tree_weight, acc_blend, T))
        if a.manifest:
            provenance.update_manifest(a.manifest, 'kOctaveTemperature', 'src/analyzers/rhythm/analyze.cpp',
                                       provenance_fields(a, train, 'the temperature (2 decimals) is what '
                                                         'this command prints; deterministic, hours of '
                                                         'training (renders, dumps, %d-fold fits)' % a.cv),
                                       '%.2f' % T)
    if test:
        rare = [t for t in test if t[2]]
        print('test tracks %d  test acc %.3f  (not 4/4: %d tracks, acc %.3f)' % (
            len(test), accuracy(m, test), len(rare), accuracy(m, rare)))
    if a.save_model:
        import pickle
        with open(a.save_model, 'wb') as f:
            pickle.dump(m, f)
    if a.write:
        F, lab, _, meta = train[0]
        note = ('%d trees of depth %d, learning rate %g, min leaf %d, l2 %g; trained on %d tracks of POP909 songs %d-%d.'
                % (a.trees, a.depth, a.learning_rate, a.min_leaf, a.l2, len(train), min(train_songs), max(train_songs)))
        write_inc(m, a.write, context(F, meta['bpm'])[lab], note,
                  provenance_fields(a, train, 'deterministic (random_state 0): the same dumps and library '
                                    'versions give a byte-identical file; hours (renders + dumps + fit)'))
        print('wrote', a.write)


if __name__ == '__main__':
    main()
