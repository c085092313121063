#!/usr/bin/python3
"""Trains the notes analyzer's learned pitch model (src/analyzers/notes/pitch_net.hpp: PitchNet).

Input: the analyzer's own log-frequency spectrogram (src/analyzers/notes/logspec.hpp, 3 bins per
semitone from MIDI 21, 264 bins, 20 ms frames), written by tools/train_notes/dump_features.cpp
(build: tools/train_notes/build_dump.sh) as raw float32 files listed in FRAMES.tsv (the dumper's
stdout: OUT.f32<TAB>frames). Data:
  * rendered POP909 songs 201-575 (../shared/corpus/render.py, seeds 1 and 2; never songs 1-200):
    labels from the render JSON's melody_notes / bass_notes (bass only where the render has a bass
    track), onsets from the same notes;
  * MIR-1K clips of the singers NOT held out by bench/notes/run.py (every 4th singer in sorted
    order is held out): the mix (L + R) with the vocal pitch track (.pv, 20 ms frames) as melody,
    no bass and no onset labels.
Renders of songs whose number ends in 0 are kept out of training as a validation set.

Model (must match pitch_net.cpp): the spectrogram is harmonic-stacked (channels: the spectrum
shifted by 12*log2(h) semitones for h = 1/2, 1, 2, 3, 4, 5, padded with PAD), then
conv1 (5x3, stride 3 over frequency: one row per semitone, MIDI 21-108), three residual 3x3 convs
(the second dilated by an octave over frequency, the third by 2 frames over time), each with
BatchNorm + ReLU; a 1x1 head gives per semitone and frame the melody and bass pitch logits and the
melody and bass onset logits. Architecture 1: a linear layer over the frequency-max of the last
features gives each line's 'unvoiced' logit. Architecture 2 (shipped): a dilated 1-D context
network (dilations 1-32, +-1.3 s) over 11-semitone band means and the frequency-max adds a
per-frame bias to every pitch logit and gives the unvoiced logits. Loss: cross-entropy over 88 pitches + unvoiced for each line, binary
cross-entropy for onsets. Augmentation: pitch shifts of -4..+4 semitones (the input moves by 3 bins
per semitone, the labels with it) plus a random third of a semitone of detuning (labels unchanged),
and random crops.

    /usr/bin/python3 tools/train_notes/train.py fit FRAMES.tsv TRUTH.json --minutes 40 --out notes.hnn [--inc]
    /usr/bin/python3 tools/train_notes/train.py fit ... --init CHECKPOINT.pt --lr 1e-3   # continue training
    /usr/bin/python3 tools/train_notes/train.py average OUT.pt A.pt B.pt ...   # mean of checkpoints
    /usr/bin/python3 tools/train_notes/train.py export CHECKPOINT.pt FRAMES.tsv TRUTH.json --out notes.hnn [--inc]
    /usr/bin/python3 tools/train_notes/train.py fixture   # tests/data/notes/ (parity test)
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(REPO, 'tools'))
sys.path.insert(0, os.path.join(REPO, 'tools', 'nn'))

BINS = 264
BPS = 3
MIN_MIDI = 21
SEMIS = 88
UNVOICED = SEMIS
IGNORE = -100
HOP_S = 0.02
PAD = -10.0
HARMONIC_SHIFTS = [-36, 0, 36, 57, 72, 84]  # round(36 * log2(h)), h = 1/2, 1, 2, 3, 4, 5
CH = 16
MIR1K = os.path.join('/work/shared/data/mir1k')


def note_labels(notes, n):
    """Frame classes (UNVOICED where no note) and onset (semitone, frame) pairs."""
    y = np.full(n, UNVOICED, np.int16)
    ons = []
    for on, off, midi in sorted(notes, key=lambda x: x[0]):
        s = int(round(midi)) - MIN_MIDI
        if not 0 <= s < SEMIS:
            continue
        a = max(0, int(math.ceil(on / HOP_S - 0.5)))
        b = min(n, int(math.ceil(off / HOP_S - 0.5)))
        y[a:b] = s
        k = int(round(on / HOP_S))
        if 0 <= k < n:
            ons.append((s, k))
    return y, np.array(ons, np.int32).reshape(-1, 2)


def load(frames_tsv, truth_json, limit=0):
    truth = json.load(open(truth_json))
    tracks = []
    for line in open(frames_tsv):
        path, n = line.rstrip('\n').split('\t')
        n = int(n)
        if n < 200:
            if 'mir1k-' not in path or n < 50:
                continue
        name = os.path.basename(path)[:-4]
        x = np.fromfile(path, np.float32).reshape(n, BINS).astype(np.float16)
        if name.startswith('mir1k-'):
            pv = np.loadtxt(os.path.join(MIR1K, name[6:] + '.pv'), ndmin=1)
            mel = np.full(n, UNVOICED, np.int16)
            for i, p in enumerate(pv):
                k = i + 1  # .pv frame i is at 20 ms * (i + 1)
                if k < n and p > 0:
                    s = int(round(p)) - MIN_MIDI
                    if 0 <= s < SEMIS:
                        mel[k] = s
            tracks.append({'name': name, 'x': x, 'mel': mel, 'mel_on': None, 'bass': None, 'bass_on': None,
                           'val': False})
        else:
            t = json.load(open(truth[name]))
            mel, mon = note_labels(t['melody_notes'], n)
            bass, bon = (note_labels(t['bass_notes'], n) if t.get('has_bass_track') and t.get('bass_notes')
                         else (None, None))
            tracks.append({'name': name, 'x': x, 'mel': mel, 'mel_on': mon, 'bass': bass, 'bass_on': bon,
                           'val': int(t['song_id']) % 10 == 0})
        if limit and len(tracks) >= limit:
            break
    return tracks


def stack(torch, x):
    """[B, BINS, W] -> [B, 6, BINS, W], channel c = x shifted down by HARMONIC_SHIFTS[c] bins."""
    B, F, W = x.shape
    padded = torch.full((B, F + 36 + 84, W), PAD)
    padded[:, 36:36 + F] = x
    return torch.stack([padded[:, 36 + s:36 + s + F] for s in HARMONIC_SHIFTS], 1)


BANDS = 8  # context: the features averaged over 11-semitone bands
BAND = SEMIS // BANDS
CTX = 24
CTX_DILATIONS = [2, 4, 8, 16, 32]


def make_model(torch, arch=2):
    nn = torch.nn

    class PitchNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(6, CH, (5, 3), stride=(3, 1), padding=(2, 1))
            self.bn1 = nn.BatchNorm2d(CH)
            self.conv2 = nn.Conv2d(CH, CH, (3, 3), padding=(1, 1))
            self.bn2 = nn.BatchNorm2d(CH)
            self.conv3 = nn.Conv2d(CH, CH, (3, 3), padding=(12, 1), dilation=(12, 1))
            self.bn3 = nn.BatchNorm2d(CH)
            self.conv4 = nn.Conv2d(CH, CH, (3, 3), padding=(1, 2), dilation=(1, 2))
            self.bn4 = nn.BatchNorm2d(CH)
            self.head = nn.Conv2d(CH, 4, (1, 1))
            if arch == 1:
                self.unvoiced = nn.Linear(CH, 2)
                return
            # arch 2: a dilated 1-D context network over band-pooled features (+-1.3 s) that adds a
            # per-frame bias to every pitch logit of both lines and gives the unvoiced logits.
            self.ctx0 = nn.Conv1d(CH * (BANDS + 1), CTX, 3, padding=1)
            self.ctxbn0 = nn.BatchNorm1d(CTX)
            for i, d in enumerate(CTX_DILATIONS):
                setattr(self, 'ctx%d' % (i + 1), nn.Conv1d(CTX, CTX, 3, padding=d, dilation=d))
                setattr(self, 'ctxbn%d' % (i + 1), nn.BatchNorm1d(CTX))
            self.ctxout = nn.Conv1d(CTX, 2 * SEMIS + 2, 1)

        def forward(self, x):  # [B, 6, BINS, W] -> head [B, 4, SEMIS, W], unvoiced [B, W, 2]
            r = torch.relu
            h = r(self.bn1(self.conv1(x)))
            h = h + r(self.bn2(self.conv2(h)))
            h = h + r(self.bn3(self.conv3(h)))
            h = h + r(self.bn4(self.conv4(h)))
            head = self.head(h)
            if arch == 1:
                return head, self.unvoiced(h.amax(2).transpose(1, 2))
            B, C, S, W = h.shape
            bands = h.reshape(B, C, BANDS, BAND, W).mean(3).reshape(B, C * BANDS, W)
            c = r(self.ctxbn0(self.ctx0(torch.cat([bands, h.amax(2)], 1))))
            for i in range(len(CTX_DILATIONS)):
                c = c + r(getattr(self, 'ctxbn%d' % (i + 1))(getattr(self, 'ctx%d' % (i + 1))(c)))
            o = self.ctxout(c)  # [B, 2 * SEMIS + 2, W]
            head = torch.cat([head[:, :2] + o[:, :2 * SEMIS].reshape(B, 2, SEMIS, W), head[:, 2:]], 1)
            return head, o[:, 2 * SEMIS:].transpose(1, 2)

    return PitchNet()


def batch(rng, tracks, B, W, augment=True):
    X = np.full((B, BINS, W), PAD, np.float32)
    ym = np.full((B, W), IGNORE, np.int64)
    yb = np.full((B, W), IGNORE, np.int64)
    om = np.zeros((B, SEMIS, W), np.float32)
    ob = np.zeros((B, SEMIS, W), np.float32)
    mm = np.zeros((B, 1, 1), np.float32)  # onset masks
    mb = np.zeros((B, 1, 1), np.float32)
    for i in range(B):
        t = tracks[rng.integers(len(tracks))]
        n = len(t['x'])
        a = int(rng.integers(0, max(1, n - W)))
        w = min(W, n - a)
        k = int(rng.integers(-4, 5)) if augment else 0
        e = int(rng.integers(-1, 2)) if augment and rng.random() < 0.3 else 0
        d = 3 * k + e
        seg = t['x'][a:a + w].astype(np.float32).T  # [BINS, w]
        if d >= 0:
            X[i, d:, :w] = seg[:BINS - d]
        else:
            X[i, :BINS + d, :w] = seg[-d:]
        if augment:
            X[i, :, :w] += rng.normal(0, 0.5)  # the normalisation reference is not exact
        for lab, out in ((t['mel'], ym), (t['bass'], yb)):
            if lab is None:
                continue
            y = lab[a:a + w].astype(np.int64)
            v = y != UNVOICED
            y[v] += k
            y[v & ((y < 0) | (y >= SEMIS))] = IGNORE
            out[i, :w] = y
        for ons, out, mask in ((t['mel_on'], om, mm), (t['bass_on'], ob, mb)):
            if ons is None:
                continue
            mask[i] = 1.0
            sel = ons[(ons[:, 1] >= a - 1) & (ons[:, 1] < a + w + 1)]
            for s, f in sel:
                s2 = s + k
                if 0 <= s2 < SEMIS:
                    for df, val in ((-1, 0.5), (0, 1.0), (1, 0.5)):
                        if 0 <= f - a + df < w:
                            out[i, s2, f - a + df] = max(out[i, s2, f - a + df], val)
    return X, ym, yb, om, ob, mm, mb


def losses(torch, model, b):
    F = torch.nn.functional
    X, ym, yb, om, ob, mm, mb = [torch.from_numpy(v) for v in b]
    head, unv = model(stack(torch, X))
    mel = torch.cat([head[:, 0].transpose(1, 2), unv[..., :1]], 2)  # [B, W, 89]
    bas = torch.cat([head[:, 1].transpose(1, 2), unv[..., 1:]], 2)
    lm = F.cross_entropy(mel.reshape(-1, SEMIS + 1), ym.reshape(-1), ignore_index=IGNORE)
    lb = F.cross_entropy(bas.reshape(-1, SEMIS + 1), yb.reshape(-1), ignore_index=IGNORE) if (yb != IGNORE).any() \
        else torch.zeros(())
    pw = torch.tensor(20.0)
    lo = (F.binary_cross_entropy_with_logits(head[:, 2], om, reduction='none', pos_weight=pw) * mm).sum() / \
        (mm.sum() * SEMIS * X.shape[2] + 1) + \
        (F.binary_cross_entropy_with_logits(head[:, 3], ob, reduction='none', pos_weight=pw) * mb).sum() / \
        (mb.sum() * SEMIS * X.shape[2] + 1)
    return lm, lb, lo, mel, bas, ym, yb


def fit(args):
    import torch
    import export_weights
    import provenance
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    tracks = load(args.frames, args.truth, args.limit)
    train = [t for t in tracks if not t['val']]
    val = [t for t in tracks if t['val']]
    renders = [t for t in train if not t['name'].startswith('mir1k-')]
    mir = [t for t in train if t['name'].startswith('mir1k-')]
    with_bass = [t for t in renders if t['bass'] is not None]
    print('loaded %d renders (%d with bass), %d MIR-1K clips, %d validation renders in %.0f s'
          % (len(renders), len(with_bass), len(mir), len(val), time.time() - t0), flush=True)
    model = make_model(torch, args.arch)
    if args.init:  # continue from a checkpoint (an arch-1 checkpoint initialises arch 2's shared layers)
        missing, unexpected = model.load_state_dict(torch.load(args.init), strict=False)
        if args.arch == 2 and missing:
            torch.nn.init.zeros_(model.ctxout.weight)  # start as the arch-1 model's pitch logits
            torch.nn.init.zeros_(model.ctxout.bias)
        print('continuing from', args.init, 'new:', missing, 'dropped:', unexpected, flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    vb = batch(np.random.default_rng(1), val, 64, args.width, augment=False) if val else None
    step, best = 0, -1.0
    deadline = t0 + args.minutes * 60
    start = time.time()
    while time.time() < deadline:
        model.train()
        # a third of each batch from renders with a bass track, --mir-share (a sixth) from MIR-1K, the rest any render
        nb, nm = args.batch // 3, int(round(args.batch * args.mir_share)) if mir else 0
        parts = [batch(rng, with_bass or renders, nb, args.width), batch(rng, renders, args.batch - nb - nm, args.width)]
        if nm:
            parts.append(batch(rng, mir, nm, args.width))
        b = tuple(np.concatenate([p[i] for p in parts]) for i in range(7))
        lm, lb, lo, *_ = losses(torch, model, b)
        loss = lm + lb + args.onset_weight * lo
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        frac = (time.time() - start) / max(1.0, deadline - start)
        for g in opt.param_groups:  # cosine decay over the time budget
            g['lr'] = args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))
        if step % 50 == 0:
            print('step %d  %.0f s  loss mel %.3f bass %.3f onset %.3f' % (step, time.time() - t0, lm.item(),
                                                                            lb.item(), lo.item()), flush=True)
        if vb is not None and step % 200 == 0:
            model.eval()
            with torch.no_grad():
                _, _, _, mel, bas, ym, yb = losses(torch, model, vb)
            accm = (mel.argmax(2) == ym)[ym != IGNORE].float().mean().item()
            accb = (bas.argmax(2) == yb)[yb != IGNORE].float().mean().item() if (yb != IGNORE).any() else 0.0
            print('  validation frame accuracy melody %.3f bass %.3f' % (accm, accb), flush=True)
            torch.save(model.state_dict(), args.out + '.pt')
            if args.snapshots:  # every validation step's weights, to choose among on the benchmark
                torch.save(model.state_dict(), '%s.s%d.pt' % (args.out, step))
    torch.save(model.state_dict(), args.out + '.pt')
    print('trained %d steps in %.0f s' % (step, time.time() - start), flush=True)
    export(args, model, tracks)


def export(args, model, tracks):
    import export_weights
    import provenance
    renders = sorted(t['name'] for t in tracks if not t['val'] and not t['name'].startswith('mir1k-'))
    mir = sorted(t['name'] for t in tracks if t['name'].startswith('mir1k-'))
    data = ('%s; MIR-1K (../shared/data/mir1k) %d clips of the singers not held out by bench/notes/run.py'
            % (provenance.describe_renders(renders), len(mir)))
    meta = {'training_script': 'tools/train_notes/train.py', 'data': data, 'seed': args.seed,
            'libraries': export_weights.library_versions()}
    tensors = {k: v.detach().numpy().astype(np.float32)
               for k, v in export_weights.state_dict_tensors(model.state_dict()).items()}
    raw = export_weights.encode(tensors, 'notes', args.arch, meta)
    with open(args.out, 'wb') as f:
        f.write(raw)
    print('wrote', args.out, len(raw), 'bytes')
    if args.inc:
        fields = [('script', 'tools/train_notes/train.py'), ('command', provenance.command()), ('data', data),
                  ('random seed', str(args.seed)), ('libraries', provenance.libraries('numpy', 'torch')),
                  ('date', provenance.today())]
        if getattr(args, 'history', ''):
            fields.append(('training', args.history))
        fields += [('reproduce', 'dump the features (build_dump.sh, dump_notes_features), then this command; '
                                'training runs for a wall-clock budget, so it is not bit-reproducible')]
        body = ['// clang-format off', 'alignas(64) constexpr unsigned char kNotesModel[] = {']
        for i in range(0, len(raw), 24):
            body.append('    ' + ','.join('0x%02x' % b for b in raw[i:i + 24]) + ',')
        body += ['};', '// clang-format on', '']
        path = os.path.join(REPO, 'src', 'analyzers', 'notes', 'notes_model.inc')
        provenance.write_table(path, '// Generated by tools/train_notes/train.py: the note model weight file '
                               '(src/nn format).', fields, '\n'.join(body))
        print('wrote', path)


def export_cmd(args):
    import torch
    model = make_model(torch, args.arch)
    model.load_state_dict(torch.load(args.pt))
    tracks = load(args.frames, args.truth, args.limit) if args.frames else []
    export(args, model, tracks)


def average(args):
    """The mean of several checkpoints' weights (and BatchNorm statistics): snapshots of one run, or
    of runs continued from one checkpoint, average into a steadier model than any one of them."""
    import torch
    ds = [torch.load(p) for p in args.pts]
    avg = {k: (sum(d[k].double() for d in ds) / len(ds)).to(ds[0][k].dtype) for k in ds[0]}
    torch.save(avg, args.out)
    print('wrote', args.out, 'the mean of', len(ds), 'checkpoints')


def fixture(args):
    """The parity fixture of tests/unit/notes_learned_test.cpp: a seeded random PitchNet (BatchNorm
    statistics random too, so that folding is exercised) and, for a random input of 24 frames, the
    PyTorch outputs: tests/data/notes/pitch_net_random.hnn and .io.f32 (float32: frames, then the
    input [frames][BINS], melody and bass log-probabilities [frames][SEMIS + 1], melody and bass
    onset probabilities [frames][SEMIS])."""
    import torch
    import export_weights
    torch.manual_seed(3)
    rng = np.random.default_rng(3)
    model = make_model(torch, args.arch)
    for name, mod in model.named_modules():
        if isinstance(mod, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
            mod.running_mean.copy_(torch.from_numpy(rng.normal(0, 0.2, mod.num_features).astype(np.float32)))
            mod.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, mod.num_features).astype(np.float32)))
            mod.weight.data.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, mod.num_features).astype(np.float32)))
            mod.bias.data.copy_(torch.from_numpy(rng.normal(0, 0.2, mod.num_features).astype(np.float32)))
    model.eval()
    n = 24
    x = rng.normal(-4.0, 2.0, (n, BINS)).astype(np.float32)
    with torch.no_grad():
        head, unv = model(stack(torch, torch.from_numpy(x.T[None].copy())))
    mel = torch.log_softmax(torch.cat([head[0, 0].T, unv[0, :, :1]], 1), 1).numpy()
    bas = torch.log_softmax(torch.cat([head[0, 1].T, unv[0, :, 1:]], 1), 1).numpy()
    om = torch.sigmoid(head[0, 2].T).numpy()
    ob = torch.sigmoid(head[0, 3].T).numpy()
    d = os.path.join(REPO, 'tests', 'data', 'notes')
    os.makedirs(d, exist_ok=True)
    tensors = {k: v.detach().numpy().astype(np.float32)
               for k, v in export_weights.state_dict_tensors(model.state_dict()).items()}
    meta = {'training_script': 'tools/train_notes/train.py fixture', 'data': 'none (random weights, seed 3)',
            'seed': 3, 'libraries': export_weights.library_versions()}
    with open(os.path.join(d, 'pitch_net_random.hnn'), 'wb') as f:
        f.write(export_weights.encode(tensors, 'notes', args.arch, meta))
    np.concatenate([np.array([n], np.float32), x.ravel(), mel.ravel(), bas.ravel(), om.ravel(),
                    ob.ravel()]).astype('<f4').tofile(os.path.join(d, 'pitch_net_random.io.f32'))
    print('wrote', d)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    f = sub.add_parser('fit')
    f.add_argument('frames')
    f.add_argument('truth')
    f.add_argument('--minutes', type=float, default=40)
    f.add_argument('--batch', type=int, default=12)
    f.add_argument('--width', type=int, default=160)
    f.add_argument('--lr', type=float, default=3e-3)
    f.add_argument('--threads', type=int, default=2)
    f.add_argument('--seed', type=int, default=7)
    f.add_argument('--limit', type=int, default=0)
    f.add_argument('--out', required=True)
    f.add_argument('--inc', action='store_true')
    f.add_argument('--init', help='checkpoint (.pt) to continue from')
    f.add_argument('--arch', type=int, default=2)
    f.add_argument('--mir-share', type=float, default=1 / 6, help='share of each batch from MIR-1K')
    f.add_argument('--onset-weight', type=float, default=1.0, help='weight of the onset loss')
    f.add_argument('--snapshots', action='store_true', help='keep the weights of every validation step')
    e = sub.add_parser('export')
    e.add_argument('pt')
    e.add_argument('frames')
    e.add_argument('truth')
    e.add_argument('--seed', type=int, default=7)
    e.add_argument('--limit', type=int, default=0)
    e.add_argument('--out', required=True)
    e.add_argument('--inc', action='store_true')
    e.add_argument('--arch', type=int, default=2)
    e.add_argument('--history', default='', help='how CHECKPOINT was trained (a provenance field)')
    a = sub.add_parser('average')
    a.add_argument('out')
    a.add_argument('pts', nargs='+')
    x = sub.add_parser('fixture')
    x.add_argument('--arch', type=int, default=2)
    args = ap.parse_args()
    {'fit': fit, 'export': export_cmd, 'average': average, 'fixture': fixture}[args.cmd](args)


if __name__ == '__main__':
    main()
