#!/usr/bin/python3
"""Trains the sections analyzer's boundary model (src/analyzers/sections/boundary_model.inc).

  tools/train_sections/train.py --train DIR[:SONGS] [--train ...] --dev DIR[:SONGS] [--hidden 8]
                                [--write src/analyzers/sections/boundary_model.inc] [--jobs 2]

DIR holds renders of ../shared/corpus/render.py (pop909-NNN-sS-r0.{mp3,ogg,flac,wav} + .json); only
those with human phrase labels (the `sections` field) are used. For every render the Harmony binary
($HARMONY_BIN, default build/harmony) runs `analyze --only sections` with HARMONY_SECTIONS_DUMP set,
which writes the features of every bar line of the estimated bar grid (structure.cpp,
bar_line_features); the dumps are cached in --cache. A bar line is a positive example when it is the
bar line nearest to a reference phrase boundary and within half a bar of it. The model is a small
tanh MLP (or, with --hidden 0, a logistic regression) on the standardised features of the bar
line and of its two neighbours, fitted with
scikit-learn (random_state --seed); the phrase-length log-prior (inner phrases, in bars) and the
prior of the first / last phrase of an excerpt are the add-one-smoothed frequencies of the positive
bar lines of the training songs. --dev songs are only scored (log-loss, AUC), never fitted.
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
K = 17
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
        lines = json.loads(f.readline())['bar_lines']
    return np.array(lines, dtype=float).reshape(-1, K + 1)


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
    items = [it for s in specs for it in renders(s)]
    with cf.ThreadPoolExecutor(jobs) as ex:
        dumps = list(ex.map(lambda it: dump(it[1], cache), items))
    X, Y, lens, edges = [], [], [], []
    for (base, _, gt), d in zip(items, dumps):
        if len(d) == 0:
            continue
        y = labels(d[:, 0], gt)
        X.append(d[:, 1:])
        Y.append(y)
        pos = np.flatnonzero(y)
        nb = len(y) + 1  # bar lines 1..nb-1
        if len(pos):
            lens += list(np.diff(pos))
            edges += [pos[0] + 1, nb - (pos[-1] + 1)]
    return items, [context(x) for x in X], Y, lens, edges


def context(x):
    """Each bar line's features, then those of the bar line before and after it (zeros beyond)."""
    z = np.zeros((1, x.shape[1]))
    return np.hstack([x, np.vstack([z, x[:-1]]), np.vstack([x[1:], z])])


def log_prior(counts, n):
    c = np.ones(n + 1)  # add-one smoothing over lengths 0..n
    for v in counts:
        c[min(int(v), n)] += 1
    c[0] = 0.5  # a zero-bar phrase only exists as an edge lead-in
    return np.log(c / c.sum())


def fmt(v):
    return ', '.join('%.9g' % x for x in v)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--train', action='append', required=True)
    ap.add_argument('--dev', action='append', default=[])
    ap.add_argument('--hidden', type=int, default=8)
    ap.add_argument('--alpha', type=float, default=1.0)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--cache', default=os.path.expanduser('~/.cache/harmony-bench/sections-dumps'))
    ap.add_argument('--write')
    a = ap.parse_args()
    os.makedirs(a.cache, exist_ok=True)
    items, X, Y, lens, edges = load(a.train, a.cache, a.jobs)
    Xt, Yt = np.vstack(X), np.concatenate(Y)
    print('train: %d renders, %d bar lines, %.3f positive' % (len(items), len(Yt), Yt.mean()))
    mean, scale = Xt.mean(0), Xt.std(0) + 1e-6
    Z = (Xt - mean) / scale
    if a.hidden > 0:
        clf = MLPClassifier(hidden_layer_sizes=(a.hidden,), activation='tanh', alpha=a.alpha, max_iter=2000,
                            random_state=a.seed, early_stopping=False).fit(Z, Yt)
    else:
        clf = LogisticRegression(C=1.0 / max(a.alpha, 1e-9), max_iter=2000).fit(Z, Yt)
    pt = clf.predict_proba(Z)[:, 1]
    print('train log-loss %.4f AUC %.3f' % (log_loss(Yt, pt), roc_auc_score(Yt, pt)))
    if a.dev:
        ditems, dX, dY, _, _ = load(a.dev, a.cache, a.jobs)
        Xd, Yd = np.vstack(dX), np.concatenate(dY)
        pd = clf.predict_proba((Xd - mean) / scale)[:, 1]
        print('dev: %d renders, log-loss %.4f AUC %.3f' % (len(ditems), log_loss(Yd, pd), roc_auc_score(Yd, pd)))
    inner = log_prior(lens, MAXLEN)
    edge = log_prior(edges, MAXLEN)
    print('inner length prior:', ' '.join('%d:%.2f' % (i, v) for i, v in enumerate(inner) if i <= 17))
    if not a.write:
        return
    if a.hidden > 0:
        w1 = clf.coefs_[0].T.reshape(-1)  # hidden x K, row-major
        b1, w2, b2 = clf.intercepts_[0], clf.coefs_[1][:, 0], clf.intercepts_[1][0]
    else:
        w1, b1, w2, b2 = clf.coef_[0], np.zeros(1), np.zeros(1), clf.intercept_[0]
    body = ('// %s; %d bar lines of %d renders (%.1f %% boundaries).\n'
            % ('tanh MLP, %d hidden units' % a.hidden if a.hidden else 'logistic regression', len(Yt), len(items),
               100 * Yt.mean()))
    body += 'inline constexpr int kBoundaryHidden = %d;\n' % a.hidden
    body += 'inline constexpr std::array<double, %d> kBoundaryMean = {%s};\n' % (3 * K, fmt(mean))
    body += 'inline constexpr std::array<double, %d> kBoundaryScale = {%s};\n' % (3 * K, fmt(scale))
    body += 'inline constexpr std::array<double, %d> kBoundaryW1 = {%s};\n' % (len(w1), fmt(w1))
    body += 'inline constexpr std::array<double, %d> kBoundaryB1 = {%s};\n' % (len(b1), fmt(b1))
    body += 'inline constexpr std::array<double, %d> kBoundaryW2 = {%s};\n' % (len(w2), fmt(w2))
    body += 'inline constexpr double kBoundaryOutBias = %.9g;\n' % b2
    body += '// log P(phrase of L bars), L = 0..32: inner phrases, and the first / last phrase of an excerpt.\n'
    body += 'inline constexpr std::array<double, %d> kPhraseLengthLogPrior = {%s};\n' % (MAXLEN + 1, fmt(inner))
    body += 'inline constexpr std::array<double, %d> kEdgeLengthLogPrior = {%s};\n' % (MAXLEN + 1, fmt(edge))
    body = '#pragma once\n\n#include <array>\n\n' + provenance.clang_format(body, a.write)
    names = [os.path.basename(b) for b, _, _ in items]
    fields = [
        ('script', provenance.script_path()),
        ('command', provenance.command()),
        ('data', provenance.describe_renders(names) + ' (human phrase labels, the sections field); features from'
         ' HARMONY_SECTIONS_DUMP of build/harmony at commit ' + subprocess.run(
             ['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()),
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
