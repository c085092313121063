#!/usr/bin/python3
"""Trains the sections analyzer's boundary model (src/analyzers/sections/boundary_model.inc).

  tools/train_sections/train.py --train DIR[:SONGS] [--train ...] --dev DIR[:SONGS] [--hidden 8]
                                [--features 0-16] [--context 1] [--dev-bias 1.5,2,2.5]
                                [--write src/analyzers/sections/boundary_model.inc] [--jobs 2]

DIR holds renders of ../shared/corpus/render.py (pop909-NNN-sS-r0.{mp3,ogg,flac,wav} + .json); only
those with human phrase labels (the `sections` field) are used. For every render the Harmony binary
($HARMONY_BIN, default build/harmony) runs `analyze --only sections` with HARMONY_SECTIONS_DUMP set,
which writes the features of every bar line of the estimated bar grid (structure.cpp,
bar_line_features) and which bars are whole; the dumps are cached in --cache. A bar line is a
positive example when it is the bar line nearest to a reference phrase boundary and within half a
bar of it.

Stage 1 is a small tanh MLP (or, with --hidden 0, a logistic regression) on the standardised
features `--features` of the bar line and of its `--context` neighbours on each side, fitted with
scikit-learn (random_state --seed). Stage 2 is a logistic regression on stage-1 log-odds
(stack_features: the bar line's, its neighbours', those of the bar lines where its best repetitions
start / end, and the strongest 4 and 8 bars away), fitted on out-of-fold (--folds) stage-1 log-odds
of the training songs (the folds group a song's renders). --cv-bias decodes the training renders
with stage 2 cross-validated as well (a selection set for the boundary bias, larger than dev). The
phrase-length log-prior (inner phrases, in bars) and the prior of the first / last phrase of an
excerpt are the add-one-smoothed frequencies of the positive bar lines of the training songs. --dev songs are only scored (log-loss, AUC and, with --dev-bias, the boundary F
of the analyzer's dynamic programme re-run here, learned_dp), never fitted.
"""
import argparse
import concurrent.futures as cf
import glob
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.neural_network import MLPClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(REPO, 'tools'))
import provenance  # noqa: E402

BIN = os.environ.get('HARMONY_BIN', os.path.join(REPO, 'build', 'harmony'))
K = 41  # bar-line features in a dump (structure.hpp, kBarLineFeatures)
MAXLEN = 32


def renders(spec):
    d, _, songs = spec.partition(':')
    d = os.path.expanduser(d)
    wanted = None
    if songs:
        wanted = set()
        for part in songs.split(','):
            a, _, b = part.partition('-')
            wanted |= set(range(int(a), int(b or a) + 1))
    out = []
    for js in sorted(glob.glob(os.path.join(d, 'pop909-*-r0.json'))):
        song = int(os.path.basename(js).split('-')[1])
        if wanted is not None and song not in wanted:
            continue
        base = js[:-5]
        audio = [base + e for e in ('.mp3', '.ogg', '.flac', '.wav') if os.path.exists(base + e)]
        if not audio:
            continue
        with open(js) as f:
            gt = json.load(f)
        if gt.get('sections'):
            out.append((base, audio[0], gt))
    return out


def dump(audio, cache):
    st = os.stat(BIN)
    key = hashlib.sha1(('%s|%d|%d' % (audio, st.st_size, st.st_mtime_ns)).encode()).hexdigest()[:16]
    path = os.path.join(cache, key + '.jsonl')
    if not os.path.exists(path):
        tmp = path + '.tmp'
        if os.path.exists(tmp):
            os.remove(tmp)
        env = dict(os.environ, HARMONY_SECTIONS_DUMP=tmp)
        subprocess.run([BIN, 'analyze', audio, '--only', 'sections', '-p', 'sections.method=phrases', '-o',
                        '/dev/null'], check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.replace(tmp, path)
    with open(path) as f:
        rec = json.loads(f.readline())
    return np.array(rec['bar_lines'], dtype=float).reshape(-1, K + 1), np.array(rec['whole'], dtype=int)


def labels(times, gt):
    """1 for the bar line nearest to each inner reference boundary (within half a bar)."""
    y = np.zeros(len(times))
    if len(times) == 0:
        return y
    bar = np.median(np.diff(times)) if len(times) > 1 else 2.0
    for r in gt['sections'][1:]:
        t = r[0]
        if t < 0.5 or t > gt['duration'] - 0.5:
            continue
        k = int(np.argmin(np.abs(times - t)))
        if abs(times[k] - t) < 0.5 * bar:
            y[k] = 1
    return y


def load(specs, cache, jobs):
    """Per render: (name, gt, bar-line times, features, whole-bar flags, labels)."""
    items = [it for s in specs for it in renders(s)]
    with cf.ThreadPoolExecutor(jobs) as ex:
        dumps = list(ex.map(lambda it: dump(it[1], cache), items))
    out = []
    for (base, _, gt), (d, whole) in zip(items, dumps):
        if len(d) == 0:
            continue
        out.append(dict(name=os.path.basename(base), gt=gt, times=d[:, 0], x=d[:, 1:], whole=whole,
                        y=labels(d[:, 0], gt)))
    return out


def length_counts(files):
    """Lengths (in bar lines) of the inner reference phrases and of the first / last ones."""
    lens, edges = [], []
    for f in files:
        pos = np.flatnonzero(f['y'])
        nb = len(f['y']) + 1  # bar lines 1..nb-1
        if len(pos):
            lens += list(np.diff(pos))
            edges += [pos[0] + 1, nb - (pos[-1] + 1)]
    return lens, edges


def context(x, cols, c):
    """Each bar line's features `cols`, then those of the bar lines at offsets -1, +1, ..., -c, +c
    (zeros beyond the file): the order boundary_logit in structure.cpp reads."""
    x = x[:, cols]
    n, k = x.shape
    parts = [x]
    for off in range(1, c + 1):
        for sgn in (-1, 1):
            sh = np.zeros((n, k))
            o = sgn * off
            if o < 0:
                sh[-o:] = x[:n + o]
            else:
                sh[:n - o] = x[o:]
            parts.append(sh)
    return np.hstack(parts)


def learned_dp(logit, whole, bias, inner, edge, lmax=MAXLEN, tail=0.0):
    """The dynamic programme of structure.cpp (learned_dp): cut bar indices, 0 and nb included."""
    nb = len(whole)
    W = np.concatenate([[0], np.cumsum(whole)])
    best = np.full(nb + 1, -np.inf)
    frm = np.zeros(nb + 1, dtype=int)
    best[0] = 0.0
    for b in range(1, nb + 1):
        gain = logit[b] + bias if b < nb else 0.0
        reach = b if b == nb else min(lmax, b)
        for ln in range(1, reach + 1):
            a = b - ln
            if best[a] == -np.inf:
                continue
            wh = W[b] - W[a]
            if a == 0 or b == nb:
                prior = edge[min(max(wh, 0), MAXLEN)] - tail * max(0, wh - MAXLEN)
            else:
                prior = inner[1] if wh <= 0 else inner[wh]
            v = best[a] + prior + gain
            if v > best[b]:
                best[b], frm[b] = v, a
        if lmax < b < nb:
            v = edge[MAXLEN] - tail * max(0, W[b] - MAXLEN) + gain
            if v > best[b]:
                best[b], frm[b] = v, 0
    cuts = []
    b = nb
    while b > 0:
        cuts.append(b)
        b = frm[b]
    return [0] + cuts[::-1]


def dp_scores(files, probs, biases, inner, edge, tail=0.0):
    """Mean boundary F at 0.5/2/3 s of the decoded phrases (as bench/sections scores them) per bias."""
    import mir_eval
    res = {}
    for bias in biases:
        acc = []
        for f, p in zip(files, probs):
            p = np.clip(p, 1e-6, 1 - 1e-6)
            logit = np.concatenate([[0], np.log(p / (1 - p)), [0]])
            cuts = learned_dp(logit, f['whole'], bias, inner, edge, tail=tail)
            W = np.concatenate([[0], np.cumsum(f['whole'])])
            inner_cuts = [c for c in cuts[1:-1]]
            # A lead-in / tail without a whole bar joins its neighbour (structure.cpp).
            if len(inner_cuts) and W[inner_cuts[0]] == 0:
                inner_cuts = inner_cuts[1:]
            if len(inner_cuts) and W[-1] - W[inner_cuts[-1]] == 0:
                inner_cuts = inner_cuts[:-1]
            dur = float(f['gt']['duration'])
            bounds = [0.0] + [float(f['times'][c - 1]) for c in inner_cuts] + [dur]
            est = np.array([[a, b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a])
            ref = np.clip(np.array([[r[0], r[1]] for r in f['gt']['sections']], dtype=float), 0, dur)
            ref = ref[ref[:, 1] > ref[:, 0]]
            ref, _ = mir_eval.util.adjust_intervals(ref, ['x'] * len(ref), t_min=0.0, t_max=dur)
            acc.append([mir_eval.segment.detection(ref, est, window=w, trim=False)[2] for w in (0.5, 2.0, 3.0)]
                       + [len(est)])
        res[bias] = np.mean(acc, axis=0)
    return res


def parse_cols(spec):
    cols = []
    for part in spec.split(','):
        a, _, b = part.partition('-')
        cols += list(range(int(a), int(b or a) + 1))
    return cols


def log_prior(counts, n):
    c = np.ones(n + 1)  # add-one smoothing over lengths 0..n
    for v in counts:
        c[min(int(v), n)] += 1
    c[0] = 0.5  # a zero-bar phrase only exists as an edge lead-in
    return np.log(c / c.sum())


def fmt(v):
    return ', '.join('%.9g' % x for x in v)


def song_of(f):
    return int(f['name'].split('-')[1])


def fit_stage1(files, cols, a):
    X = np.vstack([context(f['x'], cols, a.context) for f in files])
    Y = np.concatenate([f['y'] for f in files])
    mean, scale = X.mean(0), X.std(0) + 1e-6
    Z = (X - mean) / scale
    if a.hidden > 0:
        clf = MLPClassifier(hidden_layer_sizes=(a.hidden,), activation='tanh', alpha=a.alpha, max_iter=2000,
                            random_state=a.seed, early_stopping=False).fit(Z, Y)
    else:
        clf = LogisticRegression(C=1.0 / max(a.alpha, 1e-9), max_iter=2000).fit(Z, Y)
    return mean, scale, clf


def stage1_logits(files, cols, a, mean, scale, clf):
    out = []
    for f in files:
        p = np.clip(clf.predict_proba((context(f['x'], cols, a.context) - mean) / scale)[:, 1], 1e-6, 1 - 1e-6)
        out.append(np.log(p / (1 - p)))
    return out


STACK_FILL = -4.0  # stage-1 log-odds assumed beyond the file's bar lines
LAG_START, LAG_END = 39, 40  # bar-line features: the lag of the best repetition from / up to the bar line


def stack_features(lo, x):
    """Stage-2 inputs per bar line (structure.cpp, stack_logit): its stage-1 log-odds, those of its
    neighbours, those of the bar lines its best repetitions start from / end at (boundaries recur
    with the material they bound), and the strongest within +-1 bar of 4 and 8 bars before / after."""
    n = len(lo)
    idx = np.arange(n)

    def at(k):
        ok = (k >= 0) & (k < n)
        out = np.full(n, STACK_FILL)
        out[ok] = lo[k[ok]]
        return out

    ls, le = x[:, LAG_START].astype(int), x[:, LAG_END].astype(int)
    cols = [lo, at(idx - 1), at(idx + 1), np.where(ls == 0, STACK_FILL, at(idx + ls)),
            np.where(le == 0, STACK_FILL, at(idx + le))]
    for o in (4, 8):
        cols.append(np.maximum.reduce([at(idx - o - 1), at(idx - o), at(idx - o + 1)]))
        cols.append(np.maximum.reduce([at(idx + o - 1), at(idx + o), at(idx + o + 1)]))
    return np.stack(cols, 1)


def source_state():
    """The commit the dumping binary's sections code comes from, and whether it had local changes."""
    if os.environ.get('HARMONY_BIN_COMMIT'):  # a binary kept from an earlier commit (its dumps are cached)
        return 'commit ' + os.environ['HARMONY_BIN_COMMIT']
    head = subprocess.run(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'], capture_output=True,
                          text=True).stdout.strip()
    dirty = subprocess.run(['git', '-C', REPO, 'status', '--porcelain', 'src/analyzers/sections'],
                           capture_output=True, text=True).stdout.strip()
    return 'commit %s%s' % (head, ' plus the uncommitted sections changes that this file ships with' if dirty else '')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--train', action='append', required=True)
    ap.add_argument('--dev', action='append', default=[])
    ap.add_argument('--hidden', type=int, default=8)
    ap.add_argument('--alpha', type=float, default=1.0)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--cache', default=os.path.expanduser('~/.cache/harmony-bench/sections-dumps'))
    ap.add_argument('--features', default='0-%d' % (K - 1), help='bar-line feature columns the model reads')
    ap.add_argument('--context', type=int, default=1, help='neighbour bar lines on each side')
    ap.add_argument('--dev-bias', default='', help='comma-separated boundary biases: decode dev and score it')
    ap.add_argument('--folds', type=int, default=5, help='folds for the out-of-fold stage-1 log-odds')
    ap.add_argument('--stack-c', type=float, default=1.0, help='inverse L2 strength of stage 2')
    ap.add_argument('--cv-bias', default='', help='comma-separated boundary biases: cross-validated decoding of the '
                    'training renders (song-grouped folds) per bias')
    ap.add_argument('--dump-only', action='store_true', help='only write the feature dumps of --train/--dev')
    ap.add_argument('--write')
    a = ap.parse_args()
    os.makedirs(a.cache, exist_ok=True)
    if a.dump_only:
        print('dumped', len(load(a.train + a.dev, a.cache, a.jobs)), 'renders')
        return
    files = load(a.train, a.cache, a.jobs)
    cols = parse_cols(a.features)
    Yt = np.concatenate([f['y'] for f in files])
    lens, edges = length_counts(files)
    print('train: %d renders, %d bar lines, %.3f positive' % (len(files), len(Yt), Yt.mean()))
    mean, scale, clf = fit_stage1(files, cols, a)
    pt = stage1_logits(files, cols, a, mean, scale, clf)
    print('stage 1: train AUC %.3f' % roc_auc_score(Yt, np.concatenate(pt)))
    # Stage 2 is fitted on out-of-fold stage-1 log-odds (what it sees at run time on unseen songs).
    # Folds group the renders by song: a song's other render (another seed) in the fitting folds
    # would make its out-of-fold log-odds too sure.
    fold = [song_of(f) % a.folds for f in files]
    oof = [None] * len(files)
    for k in range(a.folds):
        held = [i for i in range(len(files)) if fold[i] == k]
        rest = [files[i] for i in range(len(files)) if fold[i] != k]
        fm, fs, fc = fit_stage1(rest, cols, a)
        for i, lo in zip(held, stage1_logits([files[i] for i in held], cols, a, fm, fs, fc)):
            oof[i] = lo
    S = np.vstack([stack_features(lo, f['x']) for lo, f in zip(oof, files)])
    stack = LogisticRegression(C=a.stack_c, max_iter=2000).fit(S, Yt)
    print('stage 2 weights:', np.round(stack.coef_[0], 3), 'bias %.3f' % stack.intercept_[0])
    inner = log_prior(lens, MAXLEN)
    edge = log_prior(edges, MAXLEN)
    if a.cv_bias:
        # Cross-validated decoding on the training renders: stage 2 fitted on the other folds'
        # out-of-fold log-odds, the held-out fold decoded (its stage-1 log-odds are out-of-fold too).
        p1, p2 = [None] * len(files), [None] * len(files)
        for k in range(a.folds):
            held = [i for i in range(len(files)) if fold[i] == k]
            rest = [i for i in range(len(files)) if fold[i] != k]
            st = LogisticRegression(C=a.stack_c, max_iter=2000).fit(
                np.vstack([stack_features(oof[i], files[i]['x']) for i in rest]),
                np.concatenate([files[i]['y'] for i in rest]))
            for i in held:
                p1[i] = 1 / (1 + np.exp(-oof[i]))
                p2[i] = st.predict_proba(stack_features(oof[i], files[i]['x']))[:, 1]
        for name, pp in (('stage 1', p1), ('stage 2', p2)):
            for bias, (f05, f2, f3, nseg) in dp_scores(files, pp, [float(b) for b in a.cv_bias.split(',')], inner,
                                                      edge).items():
                print('train CV %s decode bias %.2f: F@0.5 %.3f F@2 %.3f F@3 %.3f segments %.1f' % (
                    name, bias, f05, f2, f3, nseg))
    if a.dev:
        dfiles = load(a.dev, a.cache, a.jobs)
        Yd = np.concatenate([f['y'] for f in dfiles])
        d1 = stage1_logits(dfiles, cols, a, mean, scale, clf)
        p1 = [1 / (1 + np.exp(-lo)) for lo in d1]
        p2 = [stack.predict_proba(stack_features(lo, f['x']))[:, 1] for lo, f in zip(d1, dfiles)]
        for name, pp in (('stage 1', p1), ('stage 2', p2)):
            pd = np.concatenate(pp)
            print('dev %s: %d renders, log-loss %.4f AUC %.3f' % (name, len(dfiles), log_loss(Yd, pd),
                                                                 roc_auc_score(Yd, pd)))
            if a.dev_bias:
                for bias, (f05, f2, f3, nseg) in dp_scores(dfiles, pp, [float(b) for b in a.dev_bias.split(',')],
                                                          inner, edge).items():
                    print('  decode bias %.2f: F@0.5 %.3f F@2 %.3f F@3 %.3f segments %.1f' % (bias, f05, f2, f3,
                                                                                            nseg))
    print('inner length prior:', ' '.join('%d:%.2f' % (i, v) for i, v in enumerate(inner) if i <= 17))
    if not a.write:
        return
    if a.hidden > 0:
        w1 = clf.coefs_[0].T.reshape(-1)  # hidden x K, row-major
        b1, w2, b2 = clf.intercepts_[0], clf.coefs_[1][:, 0], clf.intercepts_[1][0]
    else:
        w1, b1, w2, b2 = clf.coef_[0], np.zeros(1), np.zeros(1), clf.intercept_[0]
    body = ('// %s; %d bar lines of %d renders (%.1f %% boundaries).\n'
            % ('tanh MLP, %d hidden units' % a.hidden if a.hidden else 'logistic regression', len(Yt), len(files),
               100 * Yt.mean()))
    body += 'inline constexpr int kBoundaryHidden = %d;\n' % a.hidden
    body += 'inline constexpr int kBoundaryInputs = %d;\n' % len(cols)
    body += 'inline constexpr int kBoundaryContext = %d;\n' % a.context
    body += 'inline constexpr std::array<int, %d> kBoundaryFeatureIndex = {%s};\n' % (
        len(cols), ', '.join(str(c) for c in cols))
    body += 'inline constexpr std::array<double, %d> kBoundaryMean = {%s};\n' % (len(mean), fmt(mean))
    body += 'inline constexpr std::array<double, %d> kBoundaryScale = {%s};\n' % (len(scale), fmt(scale))
    body += 'inline constexpr std::array<double, %d> kBoundaryW1 = {%s};\n' % (len(w1), fmt(w1))
    body += 'inline constexpr std::array<double, %d> kBoundaryB1 = {%s};\n' % (len(b1), fmt(b1))
    body += 'inline constexpr std::array<double, %d> kBoundaryW2 = {%s};\n' % (len(w2), fmt(w2))
    body += 'inline constexpr double kBoundaryOutBias = %.9g;\n' % b2
    body += '// Stage 2 (logistic regression on stage-1 log-odds, stack_features in train.py).\n'
    body += 'inline constexpr double kStackFill = %.9g;\n' % STACK_FILL
    body += 'inline constexpr std::array<double, %d> kStackWeights = {%s};\n' % (len(stack.coef_[0]),
                                                                               fmt(stack.coef_[0]))
    body += 'inline constexpr double kStackBias = %.9g;\n' % stack.intercept_[0]
    body += '// log P(phrase of L bars), L = 0..32: inner phrases, and the first / last phrase of an excerpt.\n'
    body += 'inline constexpr std::array<double, %d> kPhraseLengthLogPrior = {%s};\n' % (MAXLEN + 1, fmt(inner))
    body += 'inline constexpr std::array<double, %d> kEdgeLengthLogPrior = {%s};\n' % (MAXLEN + 1, fmt(edge))
    body = '#pragma once\n\n#include <array>\n\n' + provenance.clang_format(body, a.write)
    names = [f['name'] for f in files]
    fields = [
        ('script', provenance.script_path()),
        ('command', provenance.command()),
        ('data', provenance.describe_renders(names) + ' (human phrase labels, the sections field); features from'
         ' HARMONY_SECTIONS_DUMP of ' + os.path.relpath(BIN, REPO) + ' built from ' + source_state()),
        ('random seed', '%d (MLPClassifier random_state)' % a.seed),
        ('libraries', provenance.libraries('numpy', 'sklearn')),
        ('date', provenance.today()),
        ('reproduce', 'deterministic: the same renders, binary and library versions give a byte-identical file '
         '(about 5 minutes with 2 jobs, mostly the dumps)'),
    ]
    provenance.write_table(a.write, '// Generated by tools/train_sections/train.py: do not edit.', fields, body)
    print('wrote', a.write)


if __name__ == '__main__':
    main()
