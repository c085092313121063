#!/usr/bin/python3
"""Fit the octave-resolution weights of the tempo analyzer (src/analyzers/rhythm/analyze.cpp,
kOctaveWeights) on rendered corpus tracks.

1. Dump the per-candidate features: run the analyzer with HARMONY_RHYTHM_DEBUG=1 so that the tempo
   part carries an estimator named "debug" with one "bpm f1 ... f17;" row per tempo candidate:
     for f in CORPUS/*.{wav,flac,mp3,ogg}; do
       HARMONY_RHYTHM_DEBUG=1 build/harmony analyze $f --only tempo -o OUT/$(basename ${f%.*}).json; done
2. /usr/bin/python3 tools/train_rhythm/fit_octave.py OUT CORPUS [--l2 0.3]
   prints the weights (paste into kOctaveWeights) and the 5-fold cross-validated accuracy.

Model: conditional logit. Each candidate c (salience peak and its x1/2, x2, x3/2, x2/3, x3, x1/3
relatives inside 50-220 BPM) has a feature vector x_c; P(c) = softmax(w . x_c). The label is the
candidate within 4 % of the annotated tempo. Loss: negative log-likelihood + l2 * |w|^2.
Debian python3-numpy and python3-scipy only.
"""
import argparse, glob, json, os
import numpy as np
from scipy.optimize import minimize


def load(out_dir, corpus_dir):
    data = []
    for o in sorted(glob.glob(os.path.join(out_dir, '*.json'))):
        truth = os.path.join(corpus_dir, os.path.basename(o))
        if not os.path.exists(truth):
            continue
        d = json.load(open(o))
        g = json.load(open(truth))
        dbg = [e for e in (d.get('tempo') or {}).get('estimators', []) if e['name'] == 'debug']
        if not dbg:
            continue
        rows = np.array([list(map(float, x.split())) for x in dbg[0]['value'].split(';') if x.strip()])
        rows = rows[(rows[:, 0] >= 50) & (rows[:, 0] <= 220)]
        lab = [i for i, r in enumerate(rows) if abs(r[0] / g['tempo_bpm'] - 1) < 0.04]
        if lab:
            data.append((rows[:, 1:], lab[0]))
    return data


def nll(w, data, l2):
    s = 0.0
    for F, lab in data:
        z = F @ w
        z -= z.max()
        s -= z[lab] - np.log(np.exp(z).sum())
    return s + l2 * (w @ w)


def accuracy(w, data):
    return float(np.mean([np.argmax(F @ w) == lab for F, lab in data]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out_dir')
    ap.add_argument('corpus_dir')
    ap.add_argument('--l2', type=float, default=0.3)
    a = ap.parse_args()
    data = load(a.out_dir, a.corpus_dir)
    nf = data[0][0].shape[1]
    w0 = np.zeros(nf)
    w0[0] = 1.0
    fit = minimize(lambda w: nll(w, data, a.l2), w0, method='L-BFGS-B')
    idx = np.arange(len(data))
    np.random.seed(0)
    np.random.shuffle(idx)
    accs = []
    for k in range(5):
        test = set(idx[k::5].tolist())
        tr = [data[i] for i in range(len(data)) if i not in test]
        te = [data[i] for i in test]
        wk = minimize(lambda w: nll(w, tr, a.l2), w0, method='L-BFGS-B').x
        accs.append(accuracy(wk, te))
    print('tracks %d  train acc %.3f  5-fold acc %.3f' % (len(data), accuracy(fit.x, data), np.mean(accs)))
    print('weights {' + ', '.join('%.4f' % v for v in fit.x) + '}')


if __name__ == '__main__':
    main()
