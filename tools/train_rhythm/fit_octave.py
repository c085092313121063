#!/usr/bin/python3
"""Fit the linear octave-resolution weights of the tempo analyzer (src/analyzers/rhythm/analyze.cpp,
kOctaveWeights) on rendered corpus tracks.

1. Dump the per-candidate features: run the analyzer with HARMONY_RHYTHM_DEBUG=1 so that the tempo
   part carries an estimator named "debug" with one "bpm f1 ... fK;" row per tempo candidate:
     for f in CORPUS/*.{wav,flac,mp3,ogg}; do
       HARMONY_RHYTHM_DEBUG=1 build/harmony analyze $f --only tempo -o OUT/$(basename ${f%.*}).json; done
2. /usr/bin/python3 tools/train_rhythm/fit_octave.py --train OUT:CORPUS[:SONGS] ... --test OUT:CORPUS[:SONGS]
   prints the weights (paste into kOctaveWeights), the 5-fold cross-validated accuracy on the
   training tracks and the accuracy on the test tracks. SONGS is a range such as 201-373.

   The weights in the C++ source were fitted on POP909 songs 201-373 (renders of seeds 1 and 2),
   never on the dev set (songs 1-200), which is only the test set here:
     /usr/bin/python3 ../shared/corpus/render.py --songs 201-373 --per-song 1 --seed 1 \
         --out ~/.cache/harmony-bench/corpus-seed1      # (and --seed 2 --out .../train-seed2)
     (dump both with step 1 into DUMP1, DUMP2, and the dev songs too)
     fit_octave.py --train DUMP1:~/.cache/harmony-bench/corpus-seed1:201-373 \
         --train DUMP2:~/.cache/harmony-bench/train-seed2 --test DUMP1:~/.cache/harmony-bench/corpus-seed1:1-200
   -> 328 training tracks (155 of seed 2), 5-fold 0.863, dev 0.875 (defaults --l2 3 --rare-weight 6).
   With --manifest src/analyzers/rhythm/learned_constants.provenance the weights' provenance (script,
   command, data, seeds, library versions, date, SHA-256 of the weights) is recorded there too; paste
   the printed weights into kOctaveWeights and tests/unit/learned_tables_test.cpp checks they match.

Model: conditional logit. Each candidate c (salience peak and its x1/2, x2, x3/2, x2/3, x3, x1/3
relatives inside 50-220 BPM) has a feature vector x_c; P(c) = softmax(w . x_c). The label is the
candidate within 4 % of the annotated tempo. Loss: negative log-likelihood, tracks not in 4/4
weighted by --rare-weight (3/4 and 12/8 are rare in POP909 and the octave model otherwise learns to
fold them onto 2/3 or 1/2 of their beat), + l2 * |w|^2 on
standardised features; the printed weights are divided by the feature scale, so the C++ code uses
the raw features (the per-track offset from the mean cancels in the softmax).
Debian python3-numpy and python3-scipy only.
"""
import argparse, glob, json, os, sys
import numpy as np
from scipy.optimize import minimize


# The linear model reads the first 59 features of a dump (kLinearFeatures in analyze.cpp); dumps
# carry 63 (the last 4, events per beat, are read by the trees of fit_octave_gbdt.py).
N_FEATURES = 59


def parse_songs(spec):
    if not spec:
        return None
    out = set()
    for part in spec.split(','):
        a, _, b = part.partition('-')
        out.update(range(int(a), int(b or a) + 1))
    return out


def load(spec, with_meta=False, n_features=N_FEATURES):
    """Tracks of one DUMP_DIR:CORPUS_DIR[:SONGS] spec: (features, label index, not-4/4), plus a dict
    with the candidate tempi, song number and file name when with_meta."""
    parts = spec.split(':')
    out_dir, corpus_dir = parts[0], parts[1]
    songs = parse_songs(parts[2] if len(parts) > 2 else None)
    data = []
    for o in sorted(glob.glob(os.path.join(out_dir, '*.json'))):
        name = os.path.basename(o)
        song = int(name.split('-')[1])
        truth = os.path.join(corpus_dir, name)
        if (songs is not None and song not in songs) or not os.path.exists(truth):
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
            data.append((rows[:, 1:1 + n_features], lab[0], g.get('meter') != '4/4'))
            if with_meta:
                data[-1] = data[-1] + ({'bpm': rows[:, 0], 'song': song, 'name': name},)
    return data


def nll(w, data, l2, rare_weight):
    s = 0.0
    for F, lab, rare in data:
        z = F @ w
        z -= z.max()
        s -= (rare_weight if rare else 1.0) * (z[lab] - np.log(np.exp(z).sum()))
    return s + l2 * (w @ w)


def fit(data, l2, rare_weight=1.0):
    w0 = np.zeros(data[0][0].shape[1])
    return minimize(lambda w: nll(w, data, l2, rare_weight), w0, method='L-BFGS-B').x


def accuracy(w, data):
    return float(np.mean([np.argmax(F @ w) == lab for F, lab, _ in data]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--train', action='append', required=True, help='DUMP_DIR:CORPUS_DIR[:SONGS]')
    ap.add_argument('--test', action='append', default=[], help='DUMP_DIR:CORPUS_DIR[:SONGS]')
    ap.add_argument('--l2', type=float, default=3.0)
    ap.add_argument('--rare-weight', type=float, default=6.0,
                    help='loss weight of tracks not in 4/4 (about 6 %% of the corpus)')
    ap.add_argument('--manifest', help='record the weights (kOctaveWeights) and how they were made in this '
                                       'manifest (src/analyzers/rhythm/learned_constants.provenance)')
    a = ap.parse_args()
    train = [x for s in a.train for x in load(s)]
    test = [x for s in a.test for x in load(s)]
    X = np.concatenate([F for F, _, _ in train])
    mu, sd = X.mean(0), X.std(0)
    sd[sd < 1e-9] = 1.0
    ztrain = [((F - mu) / sd, lab, rare) for F, lab, rare in train]
    ztest = [((F - mu) / sd, lab, rare) for F, lab, rare in test]
    w = fit(ztrain, a.l2, a.rare_weight)
    idx = np.arange(len(ztrain))
    np.random.seed(0)
    np.random.shuffle(idx)
    accs = []
    for k in range(5):
        te = set(idx[k::5].tolist())
        wk = fit([ztrain[i] for i in range(len(ztrain)) if i not in te], a.l2, a.rare_weight)
        accs.append(accuracy(wk, [ztrain[i] for i in te]))
    print('train tracks %d  train acc %.3f  5-fold acc %.3f' % (len(train), accuracy(w, ztrain), np.mean(accs)))
    if test:
        rare = [x for x in ztest if x[2]]
        print('test tracks %d  test acc %.3f  (not 4/4: %d tracks, acc %.3f)' % (
            len(test), accuracy(w, ztest), len(rare), accuracy(w, rare) if rare else float('nan')))
    values = '{' + ', '.join('%.5g' % v for v in w / sd) + '}'
    print('weights ' + values)
    if a.manifest:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
        import provenance  # tools/provenance.py
        names = [t[3]['name'] for s in a.train for t in load(s, with_meta=True)]
        provenance.update_manifest(a.manifest, 'kOctaveWeights', 'src/analyzers/rhythm/analyze.cpp', [
            ('script', provenance.script_path()), ('command', provenance.command()),
            ('data', provenance.describe_renders(names)),
            ('random seed', 'none in the fit (L-BFGS-B from zeros); 0 for the CV shuffle (np.random.seed)'),
            ('libraries', provenance.libraries('numpy', 'scipy')), ('date', provenance.today()),
            ('reproduce', 'deterministic: the same dumps give the same printed weights; hours (renders + dumps)')],
            values)


if __name__ == '__main__':
    main()
