#!/usr/bin/python3
"""Trains the chord analyzer's acoustic model (src/analyzers/chords/chord_features.hpp: ChordNet).

Data: per-unit features dumped by the C++ front end (tools/train_chords/dump_features.cpp, built by
build_dump.sh) over the ground-truth beat grid of
  * rendered POP909 songs (../shared/corpus/render.py; labels: the render JSON's `chords`), and/or
  * the Beatles songs of ../shared/data/beatles-dev (labels: .chords.lab, beats: .beats), and/or
  * drums-only stems of renders (render.py --stems: <track>.stems/drums.flac), every unit N.
Units are half beats; each gets the label at its midpoint. The model is root-equivariant: one MLP
scores the context window rotated to each of the 12 roots, so transposition ("pitch-shift
augmentation") is built in exactly rather than sampled.

    /usr/bin/python3 tools/train_chords/train.py dump --renders DIR [DIR ...] --beatles ROOT --drums DIR [DIR ...] --out FEATS.jsonl
    /usr/bin/python3 tools/train_chords/train.py fit FEATS.jsonl [...] --out model.hnn [--inc] [--hold-album N] [--context C --hidden H]
    /usr/bin/python3 tools/train_chords/train.py cv FEATS.jsonl [...] --out-dir DIR [--albums A,B] [--context C --hidden H]

`fit --inc` also writes src/analyzers/chords/chords_model.inc (the shipped, embedded weights) with
its provenance block (tools/provenance.py). `cv` trains one model per held-out Beatles album (the
rest of the Beatles plus the renders), for an honest by-album score of the real-song model.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(REPO, 'tools'))
sys.path.insert(0, os.path.join(REPO, 'tools', 'nn'))

UNIT_DIMS = 26
CONTEXT = 2
INPUT_DIMS = (2 * CONTEXT + 1) * UNIT_DIMS
HIDDEN = 64

# Must match src/analyzers/chords/chord_labels.cpp: qualities() and model_classes().
QUALITIES = [
    ('maj', (0, 4, 7)), ('min', (0, 3, 7)), ('7', (0, 4, 7, 10)), ('maj7', (0, 4, 7, 11)),
    ('min7', (0, 3, 7, 10)), ('dim', (0, 3, 6)), ('dim7', (0, 3, 6, 9)), ('hdim7', (0, 3, 6, 10)),
    ('aug', (0, 4, 8)), ('sus2', (0, 2, 7)), ('sus4', (0, 5, 7)), ('maj6', (0, 4, 7, 9)),
    ('min6', (0, 3, 7, 9)), ('9', (0, 4, 7, 10, 2)), ('maj9', (0, 4, 7, 11, 2)), ('min9', (0, 3, 7, 10, 2)),
    ('minmaj7', (0, 3, 7, 11)), ('sus4(b7)', (0, 5, 7, 10)),
]
CLASSES = [(q, 0) for q in range(len(QUALITIES))]
CLASSES += [(0, b) for b in (4, 7, 10, 11)] + [(1, b) for b in (3, 7, 10)] + [(2, b) for b in (4, 7, 10)]
CLASSES += [(3, b) for b in (4, 7, 11)] + [(4, b) for b in (7, 10)]
NC = len(CLASSES)
N_INDEX = 12 * NC
IGNORE = -100


def bitmap_of(intervals):
    b = np.zeros(12, dtype=int)
    for i in intervals:
        b[i % 12] = 1
    return tuple(b)


QUALITY_BY_BITMAP = {bitmap_of(iv): qi for qi, (_, iv) in enumerate(QUALITIES)}
CLASS_INDEX = {c: i for i, c in enumerate(CLASSES)}


def encode_label(label, cache={}):
    """Harte label -> target index (root * NC + class, N_INDEX, or IGNORE)."""
    if label in cache:
        return cache[label]
    import mir_eval
    out = IGNORE
    try:
        root, bitmap, bass = mir_eval.chord.encode(label, reduce_extended_chords=True)
    except Exception:
        cache[label] = IGNORE
        return IGNORE
    if root < 0:
        out = N_INDEX if label.strip() == 'N' else IGNORE
    else:
        bm = tuple(int(v) for v in bitmap)
        q = QUALITY_BY_BITMAP.get(bm)
        if q is None:  # extensions beyond the vocabulary: fall back to the triad when it is clear
            if bm[4] and bm[7] and not bm[3]:
                q = 0
            elif bm[3] and bm[7] and not bm[4]:
                q = 1
        if q is not None:
            c = CLASS_INDEX.get((q, int(bass) % 12), CLASS_INDEX[(q, 0)])
            out = int(root) * NC + c
    cache[label] = out
    return out


def unit_targets(bounds, segments):
    """Label index of each unit: the segment at the unit's midpoint (IGNORE outside all segments)."""
    starts = np.array([s[0] for s in segments])
    mids = 0.5 * (np.asarray(bounds[:-1]) + np.asarray(bounds[1:]))
    out = np.full(len(mids), IGNORE, dtype=np.int64)
    for i, m in enumerate(mids):
        j = np.searchsorted(starts, m, side='right') - 1
        if j >= 0 and segments[j][0] <= m < segments[j][1]:
            out[i] = encode_label(segments[j][2])
    return out


# ----------------------------------------------------------------------------------------------
# dump

def read_lab(path):
    segs = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) >= 3:
                segs.append((float(p[0]), float(p[1]), p[2]))
    return segs


def dump(args):
    dumper = os.path.join(REPO, 'build', 'dump_chord_features')
    items = []  # (audio, beats, segments, meta)
    for d in args.renders or []:
        for js in sorted(glob.glob(os.path.join(d, 'pop909-*.json'))):
            base = js[:-5]
            audio = next((base + e for e in ('.wav', '.flac', '.mp3', '.ogg') if os.path.exists(base + e)), None)
            if not audio:
                continue
            with open(js) as f:
                gt = json.load(f)
            beats = [b[0] for b in gt.get('beats') or []]
            items.append((audio, beats, [tuple(c) for c in gt.get('chords') or []],
                          {'source': 'pop909', 'name': os.path.basename(base)}))
    for d in args.drums or []:
        # Drums-only stems (render.py --stems: DIR/<track>.stems/drums.flac) of songs with drums,
        # every unit labelled N, so that percussion alone stays "no chord".
        for js in sorted(glob.glob(os.path.join(d, 'pop909-*.json'))):
            base = js[:-5]
            audio = os.path.join(base + '.stems', 'drums.flac')
            with open(js) as f:
                gt = json.load(f)
            if not os.path.exists(audio) or not gt.get('has_drums'):
                continue
            beats = [b[0] for b in gt.get('beats') or []]
            items.append((audio, beats, [(0.0, float(gt['duration']) + 1.0, 'N')],
                          {'source': 'drums', 'name': os.path.basename(base) + '.drums'}))
    if args.beatles:
        for lab in sorted(glob.glob(os.path.join(args.beatles, '*', '*.chords.lab'))):
            base = lab[:-len('.chords.lab')]
            beats = [float(l.split()[0]) for l in open(base + '.beats') if l.strip()]
            items.append((base + '.mp3', beats, read_lab(lab),
                          {'source': 'beatles', 'name': os.path.relpath(base, args.beatles),
                           'album': os.path.basename(os.path.dirname(base))}))
    tmp = tempfile.mkdtemp()
    lines = []
    for i, (audio, beats, _, _) in enumerate(items):
        bp = os.path.join(tmp, '%d.txt' % i)
        with open(bp, 'w') as f:
            f.write('\n'.join('%.6f' % b for b in beats))
        lines.append('%s\t%s' % (audio, bp))
    r = subprocess.run([dumper], input='\n'.join(lines) + '\n', capture_output=True, text=True, check=True)
    by_file = {}
    for line in r.stdout.splitlines():
        d = json.loads(line)
        by_file[d['file']] = d
    with open(args.out, 'w') as f:
        for audio, beats, segs, meta in items:
            d = by_file.get(audio)
            if d is None:
                print('skipped (decode failed):', audio, file=sys.stderr)
                continue
            d.update(meta)
            d['targets'] = unit_targets(d['bounds'], segs).tolist()
            f.write(json.dumps(d) + '\n')
    print('dumped %d tracks to %s' % (len(by_file), args.out))


# ----------------------------------------------------------------------------------------------
# fit

def load_feats(paths):
    tracks = []
    for p in paths:
        with open(p) as f:
            for line in f:
                tracks.append(json.loads(line))
    return tracks


def set_shape(context, hidden):
    """Context (units each side) and hidden width of the model to train; the C++ side reads both
    from the weight shapes."""
    global CONTEXT, INPUT_DIMS, HIDDEN
    CONTEXT, HIDDEN = context, hidden
    INPUT_DIMS = (2 * CONTEXT + 1) * UNIT_DIMS


def windows(units):
    u = np.asarray(units, dtype=np.float32)
    n = len(u)
    idx = np.clip(np.arange(n)[:, None] + np.arange(-CONTEXT, CONTEXT + 1)[None, :], 0, n - 1)
    return u[idx]  # [n, 2C+1, 26]


def rotations(win):
    """[n, 2C+1, 26] -> [n, 12, INPUT_DIMS]: rotation r puts pitch class r at 0."""
    import numpy as np
    n = win.shape[0]
    out = np.empty((n, 12, 2 * CONTEXT + 1, UNIT_DIMS), dtype=np.float32)
    for r in range(12):
        perm = (np.arange(12) + r) % 12
        out[:, r, :, :12] = win[:, :, perm]
        out[:, r, :, 12:24] = win[:, :, 12 + perm]
        out[:, r, :, 24:] = win[:, :, 24:]
    return out.reshape(n, 12, INPUT_DIMS)


def rotation_index():
    """[12, INPUT_DIMS] gather index: row r is the flat window rotated so pitch class r is at 0."""
    idx = np.zeros((12, INPUT_DIMS), dtype=np.int64)
    for r in range(12):
        perm = (np.arange(12) + r) % 12
        for c in range(2 * CONTEXT + 1):
            o = c * UNIT_DIMS
            idx[r, o:o + 12] = o + perm
            idx[r, o + 12:o + 24] = o + 12 + perm
            idx[r, o + 24:o + 26] = o + np.arange(24, 26)
    return idx


def make_model(torch):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(INPUT_DIMS, HIDDEN)
            self.fc2 = torch.nn.Linear(HIDDEN, HIDDEN)
            self.fc3 = torch.nn.Linear(HIDDEN, NC + 1)
            self.drop = torch.nn.Dropout(0.1)

        def forward(self, x):  # x [B, 12, INPUT_DIMS] -> logits [B, 12 * NC + 1]
            h = self.drop(torch.relu(self.fc1(x)))
            h = self.drop(torch.relu(self.fc2(h)))
            y = self.fc3(h)
            return torch.cat([y[:, :, :NC].reshape(y.shape[0], 12 * NC), y[:, :, NC].mean(dim=1, keepdim=True)], 1)
    return Net()


def dataset(tracks):
    xs, ys = [], []
    for t in tracks:
        if not t['units']:
            continue
        xs.append(windows(t['units']))
        ys.append(np.asarray(t['targets'], dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def fit_model(tracks, seed, epochs, log=print, init=None, lr=2e-3):
    """Trains a model on the tracks' units; `init` (a weight file) starts from its weights instead of
    a random initialisation (fine-tuning, with a smaller `lr`)."""
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    win, y = dataset(tracks)
    keep = y != IGNORE
    win, y = win[keep], y[keep]
    log('training units: %d (N %.1f%%)' % (len(y), 100.0 * np.mean(y == N_INDEX)))
    model = make_model(torch)
    if init:
        t, _ = read_hnn(init)
        model.load_state_dict({k: torch.from_numpy(v) for k, v in t.items() if k != 'prior.log'})
        log('initialised from %s' % init)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    bs = 256
    flat = torch.from_numpy(win.reshape(len(win), INPUT_DIMS))
    ridx = torch.from_numpy(rotation_index())
    yt = torch.from_numpy(y)
    for ep in range(epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(len(y)))
        tot, n = 0.0, 0
        for i in range(0, len(order), bs):
            b = order[i:i + bs]
            x = flat[b][:, ridx]
            t = yt[b]
            loss = torch.nn.functional.cross_entropy(model(x), t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss) * len(b)
            n += len(b)
        sched.step()
        log('epoch %d loss %.4f' % (ep + 1, tot / n))
        sys.stdout.flush()
    model.eval()
    return model


def class_log_prior(tracks):
    """Log frequency of each class (summed over the 12 roots) and of N in the training targets,
    smoothed; the analyzer divides posteriors by prior^prior_correction (a tuned exponent)."""
    y = np.concatenate([np.asarray(t['targets']) for t in tracks if t['targets']])
    y = y[y != IGNORE]
    counts = np.ones(NC + 1)
    for v in y:
        counts[NC if v == N_INDEX else v % NC] += 1
    counts[:NC] /= 12.0
    p = counts / counts.sum()
    return np.log(p).astype(np.float32)


def tensors_of(model, tracks):
    t = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    t['prior.log'] = class_log_prior(tracks)
    return t


def write_inc(path, hnn_bytes, fields):
    import provenance
    body_lines = ['// clang-format off', 'alignas(64) constexpr unsigned char kChordsModel[] = {']
    for i in range(0, len(hnn_bytes), 24):
        body_lines.append('    ' + ','.join('0x%02x' % b for b in hnn_bytes[i:i + 24]) + ',')
    body_lines += ['};', '// clang-format on', '']
    provenance.write_table(path, '// Generated by tools/train_chords/train.py: the chord model weight file (src/nn format).',
                           fields, '\n'.join(body_lines))


def describe_data(tracks):
    """The training data of a model, for its metadata and provenance block."""
    import provenance
    pop = sorted(t['name'] for t in tracks if t.get('source') == 'pop909')
    beat = sorted(t['name'] for t in tracks if t.get('source') == 'beatles')
    drums = sorted(t['name'] for t in tracks if t.get('source') == 'drums')
    data = []
    if pop:
        data.append(provenance.describe_renders(pop))
    if beat:
        albums = sorted({n.split('/')[0] for n in beat})
        data.append('beatles-dev (../shared/data/beatles-dev) albums %s: %d songs' % (', '.join(albums), len(beat)))
    if drums:
        data.append('drums-only stems (render.py --stems, labelled N) of %s' % provenance.describe_renders(drums))
    return '; '.join(data)


def fit(args):
    import torch
    import export_weights
    import provenance
    tracks = load_feats(args.feats)
    if args.hold_album:
        tracks = [t for t in tracks if t.get('album') != args.hold_album]
    held = [t for t in load_feats(args.feats) if args.hold_album and t.get('album') == args.hold_album]
    model = fit_model(tracks, args.seed, args.epochs, init=args.init, lr=args.lr)
    if held:
        import torch
        win, y = dataset(held)
        keep = y != IGNORE
        with torch.no_grad():
            pred = model(torch.from_numpy(rotations(win[keep]))).argmax(1).numpy()
        yk = y[keep]
        root = lambda v: np.where(v == N_INDEX, -1, v // NC)
        print('held-out %s: units %d, exact %.3f, root %.3f' % (args.hold_album, len(yk), np.mean(pred == yk),
                                                                 np.mean(root(pred) == root(yk))))
    data = describe_data(tracks)
    meta = {'training_script': 'tools/train_chords/train.py', 'data': data, 'seed': args.seed,
            'libraries': export_weights.library_versions()}
    raw = export_weights.encode(tensors_of(model, tracks), 'chords', 1, meta)
    with open(args.out, 'wb') as f:
        f.write(raw)
    print('wrote', args.out, len(raw), 'bytes')
    if args.inc:
        fields = [('script', 'tools/train_chords/train.py'), ('command', provenance.command()), ('data', data),
                  ('random seed', str(args.seed)), ('libraries', provenance.libraries('numpy', 'torch')),
                  ('date', provenance.today()),
                  ('reproduce', 'dump the features (train.py dump), then train.py fit with this command; '
                   'torch training is not bit-reproducible across machines and thread counts')]
        path = os.path.join(REPO, 'src', 'analyzers', 'chords', 'chords_model.inc')
        write_inc(path, raw, fields)
        print('wrote', path)


def cv(args):
    """One model per Beatles album, trained without it (and with everything else)."""
    import export_weights
    tracks = load_feats(args.feats)
    albums = sorted({t['album'] for t in tracks if t.get('album')})
    if args.albums:
        albums = [a for a in albums if a in args.albums.split(',')]
    os.makedirs(args.out_dir, exist_ok=True)
    for album in albums:
        if args.skip_existing and os.path.exists(os.path.join(args.out_dir, album + '.hnn')):
            continue
        print('fold without', album)
        init = os.path.join(args.init_dir, album + '.hnn') if args.init_dir else None
        model = fit_model([t for t in tracks if t.get('album') != album], args.seed, args.epochs, init=init, lr=args.lr)
        meta = {'training_script': 'tools/train_chords/train.py', 'seed': args.seed,
                'data': 'cross-validation fold: all features given except beatles-dev album %s' % album,
                'libraries': export_weights.library_versions()}
        with open(os.path.join(args.out_dir, album + '.hnn'), 'wb') as f:
            f.write(export_weights.encode(tensors_of(model, [t for t in tracks if t.get('album') != album]), 'chords', 1, meta))


def inc(args):
    """Writes chords_model.inc from a weight file that `fit` wrote (without --inc) on the given
    features: same tensors (the class prior is checked against the features), the data description
    rebuilt from the features, the fit command recorded."""
    import export_weights
    import provenance
    tracks = load_feats(args.feats)
    t, h = read_hnn(args.model)
    if not np.allclose(t['prior.log'], class_log_prior(tracks), atol=1e-6):
        sys.exit('%s was not trained on these features (class prior differs)' % args.model)
    data = describe_data(tracks)
    meta = dict(h['metadata'], data=data)
    raw = export_weights.encode(t, 'chords', h['model']['version'], meta)
    fields = [('script', 'tools/train_chords/train.py'),
              ('command', 'fit %s; then %s' % (args.fit_command, provenance.command())), ('data', data),
              ('random seed', str(h['metadata'].get('seed'))), ('libraries', provenance.libraries('numpy', 'torch')),
              ('date', provenance.today()),
              ('reproduce', 'dump the features (train.py dump), then the two commands above; '
               'torch training is not bit-reproducible across machines and thread counts')]
    path = os.path.join(REPO, 'src', 'analyzers', 'chords', 'chords_model.inc')
    write_inc(path, raw, fields)
    print('wrote', path)


def read_hnn(path):
    import struct
    b = open(path, 'rb').read()
    hl = struct.unpack_from('<I', b, 12)[0]
    h = json.loads(b[32:32 + hl])
    start = (32 + hl + 63) // 64 * 64
    t = {e['name']: np.frombuffer(b[start + e['offset']:start + e['offset'] + e['nbytes']], dtype='<f4').reshape(
        e['shape']).copy() for e in h['tensors']}
    return t, h


def add_prior(args):
    """Adds the class prior of the training features to a weight file written before the prior existed
    (same weights, same metadata); with --inc also rewrites chords_model.inc, recording both steps."""
    import export_weights
    import provenance
    tracks = load_feats(args.feats)
    if args.hold_album:
        tracks = [t for t in tracks if t.get('album') != args.hold_album]
    t, h = read_hnn(args.model)
    t['prior.log'] = class_log_prior(tracks)
    raw = export_weights.encode(t, 'chords', h['model']['version'], h['metadata'])
    with open(args.model, 'wb') as f:
        f.write(raw)
    if args.inc:
        path = os.path.join(REPO, 'src', 'analyzers', 'chords', 'chords_model.inc')
        fields = [('script', 'tools/train_chords/train.py'),
                  ('command', 'fit %s; then add-prior %s' % (args.fit_command, provenance.command())),
                  ('data', h['metadata'].get('data', '')), ('random seed', str(h['metadata'].get('seed'))),
                  ('libraries', provenance.libraries('numpy', 'torch')), ('date', provenance.today()),
                  ('reproduce', 'dump the features (train.py dump), then the two commands above; '
                   'torch training is not bit-reproducible across machines and thread counts')]
        write_inc(path, raw, fields)
        print('wrote', path)


def init(args):
    """A randomly initialised model (only to bootstrap a build before the first training)."""
    import torch
    import export_weights
    import provenance
    torch.manual_seed(args.seed)
    model = make_model(torch)
    meta = {'training_script': 'tools/train_chords/train.py', 'data': 'none (random init)', 'seed': args.seed}
    t = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    t['prior.log'] = np.full(NC + 1, -np.log(NC + 1), dtype=np.float32)
    raw = export_weights.encode(t, 'chords', 1, meta)
    fields = [('script', 'tools/train_chords/train.py'), ('command', provenance.command()),
              ('data', 'none (random initialisation)'), ('random seed', str(args.seed)),
              ('libraries', provenance.libraries('numpy', 'torch')), ('date', provenance.today()),
              ('reproduce', 'byte-identical')]
    write_inc(os.path.join(REPO, 'src', 'analyzers', 'chords', 'chords_model.inc'), raw, fields)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    d = sub.add_parser('dump')
    d.add_argument('--renders', nargs='*')
    d.add_argument('--beatles')
    d.add_argument('--drums', nargs='*', help='folders of renders with .stems/drums.flac (labelled N)')
    d.add_argument('--out', required=True)
    f = sub.add_parser('fit')
    f.add_argument('--context', type=int, default=CONTEXT, help='units (half beats) each side')
    f.add_argument('--hidden', type=int, default=HIDDEN)
    f.add_argument('feats', nargs='+')
    f.add_argument('--out', required=True)
    f.add_argument('--inc', action='store_true')
    f.add_argument('--hold-album', default='')
    f.add_argument('--seed', type=int, default=7)
    f.add_argument('--epochs', type=int, default=15)
    f.add_argument('--init', default='', help='fine-tune from this weight file')
    f.add_argument('--lr', type=float, default=2e-3)
    c = sub.add_parser('cv')
    c.add_argument('--context', type=int, default=CONTEXT, help='units (half beats) each side')
    c.add_argument('--hidden', type=int, default=HIDDEN)
    c.add_argument('feats', nargs='+')
    c.add_argument('--out-dir', required=True)
    c.add_argument('--seed', type=int, default=7)
    c.add_argument('--epochs', type=int, default=15)
    c.add_argument('--skip-existing', action='store_true')
    c.add_argument('--init-dir', default='', help='fine-tune each fold from DIR/<album>.hnn (a cv of the same album)')
    c.add_argument('--lr', type=float, default=2e-3)
    c.add_argument('--albums', default='', help='comma-separated albums to hold out (default: every album)')
    a = sub.add_parser('add-prior')
    a.add_argument('model')
    a.add_argument('feats', nargs='+')
    a.add_argument('--hold-album', default='')
    a.add_argument('--inc', action='store_true')
    a.add_argument('--fit-command', default='')
    n = sub.add_parser('inc')
    n.add_argument('model')
    n.add_argument('feats', nargs='+')
    n.add_argument('--fit-command', required=True, help='the fit command that wrote MODEL (recorded)')
    i = sub.add_parser('init')
    i.add_argument('--seed', type=int, default=7)
    args = ap.parse_args()
    if hasattr(args, 'context'):
        set_shape(args.context, args.hidden)
    {'dump': dump, 'fit': fit, 'cv': cv, 'add-prior': add_prior, 'inc': inc, 'init': init}[args.cmd](args)


if __name__ == '__main__':
    main()
