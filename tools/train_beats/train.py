#!/usr/bin/python3
"""Learned beat/downbeat front end for the rhythm analysis (src/analyzers/rhythm/beat_net.*): a
small TCN in the style of Böck & Davies 2019 (madmom's TCN): three Conv2d layers over the engine's
log-band spectrogram (features::BeatSpectrogram, 48 bands, ~100 fps) reduce the frequency axis to
16 channels, then 8 residual dilated Conv1d layers (kernel 5, dilation 1..128, ~10 s receptive
field) and a 1x1 Conv1d give per-frame beat and downbeat logits. ~15 k parameters.

    /usr/bin/python3 tools/train_beats/train.py dump [--work /work/cache/beats-tcn]
        # features of the Beatles songs (../shared/data/beatles-dev) and the rendered training
        # tracks (/work/cache/sections-train: POP909 songs 335-576, never in the benchmark's 1-200)
    /usr/bin/python3 tools/train_beats/train.py fit --hold 01_Please_Please_Me,07_Revolver \
        --steps 1500 --out /work/cache/beats-tcn/fold1.hnn
        # one cross-validation fold: the held-out albums never reach training
    /usr/bin/python3 tools/train_beats/train.py fit --steps 2000 --out /work/cache/beats-tcn/ship.hnn --ship
        # all albums + renders; --ship also writes src/analyzers/rhythm/beat_model.inc

Training: random 15 s crops (batch 16), binary cross-entropy on beat and downbeat targets widened
to +-1 frame (0.5; positives weighted 4 and 12), Adam (one-cycle, peak lr 4e-3), dropout 0.1. Augmentation per crop: tempo
(time axis resampled by 0.8-1.25, labels moved with it, half the crops), EQ (a smooth random gain
curve of +-6 dB over the bands and +-10 dB overall, applied to the linear band magnitudes). The
weight file records data, seed, steps and library versions (tools/nn/export_weights.py).
Torch runs on one thread (torch.set_num_threads): run it under nice.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tools', 'nn'))
sys.path.insert(0, os.path.join(REPO, 'tools'))

BEATLES = os.path.join(os.path.dirname(REPO), 'shared', 'data', 'beatles-dev')
if not os.path.isdir(BEATLES):
    BEATLES = '/work/shared/data/beatles-dev'
RENDERS = '/work/cache/sections-train'
MODEL_NAME = 'beats-tcn'
MODEL_VERSION = 1
BANDS = 48
CH = 16
LAYERS = 8
KERNEL = 5
CROP = 1500
FPS = 22050.0 / 220.0


def dump(args):
    os.makedirs(os.path.join(args.work, 'feats'), exist_ok=True)
    items = []
    for album in sorted(os.listdir(BEATLES)):
        d = os.path.join(BEATLES, album)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith('.mp3'):
                stem = f[:-4]
                beats, pos = [], []
                for line in open(os.path.join(d, stem + '.beats')):
                    p = line.split()
                    if len(p) >= 2:
                        beats.append(float(p[0]))
                        pos.append(int(float(p[1])))
                items.append({'name': album + '/' + stem, 'source': 'beatles', 'album': album,
                              'audio': os.path.join(d, f), 'beats': beats,
                              'downbeats': [b for b, q in zip(beats, pos) if q == 1]})
    for f in sorted(os.listdir(RENDERS)):
        if f.endswith('.json') and f.startswith('pop909-'):
            j = json.load(open(os.path.join(RENDERS, f)))
            audio = os.path.join(RENDERS, j['audio_file'])
            song = int(j['song_id'])
            if song <= 200 or not os.path.exists(audio):
                continue  # songs 1-200 are the benchmark's dev and test splits
            items.append({'name': j['track_id'], 'source': 'render', 'album': 'render', 'audio': audio,
                          'beats': [b[0] for b in j['beats']], 'downbeats': list(j['downbeats'])})
    tool = os.path.join(REPO, 'build', 'dump_beat_features')
    lines = ''.join('%s\t%s\n' % (it['audio'], os.path.join(args.work, 'feats', it['name'].replace('/', '__') + '.f32'))
                    for it in items)
    out = subprocess.run([tool], input=lines, capture_output=True, text=True, check=True).stdout
    meta = {json.loads(l)['file']: json.loads(l) for l in out.splitlines() if l.strip()}
    with open(os.path.join(args.work, 'index.jsonl'), 'w') as fo:
        for it in items:
            m = meta.get(it['audio'])
            if m is None:
                print('no features:', it['audio'], file=sys.stderr)
                continue
            it.update({'feats': m['out'], 'frames': m['frames'], 'bands': m['bands'], 'fps': m['frame_rate']})
            fo.write(json.dumps(it) + '\n')
    print('dumped', len(meta), 'of', len(items))


def load_index(work, hold):
    tracks = []
    for line in open(os.path.join(work, 'index.jsonl')):
        t = json.loads(line)
        if t['album'] in hold:
            continue
        x = np.fromfile(t['feats'], dtype=np.float32).reshape(-1, t['bands'])
        t['x'] = x
        tracks.append(t)
    return tracks


def model_class():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class BeatTcn(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, (3, 3), padding=(0, 1))
            self.bn1 = nn.BatchNorm2d(8)
            self.conv2 = nn.Conv2d(8, CH, (3, 3), padding=(0, 1))
            self.bn2 = nn.BatchNorm2d(CH)
            h = ((BANDS - 2) // 3 - 2) // 3
            self.conv3 = nn.Conv2d(CH, CH, (h, 1))
            self.bn3 = nn.BatchNorm2d(CH)
            self.tcn = nn.ModuleList(
                [nn.Conv1d(CH, CH, KERNEL, dilation=2 ** i, padding=(KERNEL // 2) * 2 ** i) for i in range(LAYERS)])
            self.tbn = nn.ModuleList([nn.BatchNorm1d(CH) for _ in range(LAYERS)])
            self.out = nn.Conv1d(CH, 2, 1)
            self.drop = nn.Dropout(0.1)

        def forward(self, x):  # x [B, 1, bands, T] -> logits [B, 2, T]
            x = F.max_pool2d(F.elu(self.bn1(self.conv1(x))), (3, 1))
            x = self.drop(x)
            x = F.max_pool2d(F.elu(self.bn2(self.conv2(x))), (3, 1))
            x = self.drop(x)
            x = F.elu(self.bn3(self.conv3(x))).squeeze(2)
            for conv, bn in zip(self.tcn, self.tbn):
                x = x + self.drop(F.elu(bn(conv(x))))
            return self.out(x)

    return BeatTcn


def targets(times, n, scale):
    y = np.zeros(n, dtype=np.float32)
    for t in times:
        i = int(round(t * FPS / scale))
        for d, v in ((-1, 0.5), (1, 0.5), (0, 1.0)):
            if 0 <= i + d < n:
                y[i + d] = max(y[i + d], v)
    return y


def sample(rng, tracks, weights):
    t = tracks[rng.choice(len(tracks), p=weights)]
    x = t['x']
    scale = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25)))) if rng.random() < 0.5 else 1.0
    need = int(np.ceil(CROP * scale)) + 2
    n = x.shape[0]
    start = int(rng.integers(0, max(1, n - need)))
    pos = start + np.arange(CROP) * scale
    pos = np.clip(pos, 0, n - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, n - 1)
    a = (pos - i0)[:, None].astype(np.float32)
    crop = x[i0] * (1 - a) + x[i1] * a
    # EQ: smooth random gain (dB) over the bands, plus an overall gain, on the linear magnitudes
    knots = rng.uniform(-6, 6, 4)
    curve = np.interp(np.linspace(0, 3, BANDS), np.arange(4), knots) + rng.uniform(-10, 10)
    g = (10.0 ** (curve / 20.0)).astype(np.float32)
    crop = np.log1p(np.expm1(crop) * g[None, :]).astype(np.float32)
    t0 = start / FPS
    yb = targets([b - t0 for b in t['beats']], CROP, scale)
    yd = targets([b - t0 for b in t['downbeats']], CROP, scale)
    mask = np.ones(CROP, dtype=np.float32)
    if t['beats']:  # no labels before the first or after the last annotated beat (+- one beat)
        first = (t['beats'][0] - t0) * FPS / scale - 50
        last = (t['beats'][-1] - t0) * FPS / scale + 50
        idx = np.arange(CROP)
        mask[(idx < first) | (idx > last)] = 0.0
    return crop.T, np.stack([yb, yd]), mask


def fit(args):
    import torch
    import export_weights
    import provenance
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    hold = [a for a in args.hold.split(',') if a]
    tracks = load_index(args.work, hold)
    frames = np.array([t['x'].shape[0] for t in tracks], dtype=float)
    is_real = np.array([t['source'] == 'beatles' for t in tracks])
    # half of the crops from the real songs, half from the renders (by length within each)
    w = np.where(is_real, frames / frames[is_real].sum(), frames / max(1.0, frames[~is_real].sum()))
    w = w / w.sum()
    print('tracks %d (beatles %d, renders %d), held out: %s' % (len(tracks), is_real.sum(), (~is_real).sum(),
                                                               ','.join(hold) or 'none'), flush=True)
    model = model_class()()
    print('parameters', sum(p.numel() for p in model.parameters()), flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    # beats are ~6 % of the (widened) frames, downbeats ~1.5 %: positives weigh more
    bce = torch.nn.BCEWithLogitsLoss(reduction='none', pos_weight=torch.tensor([[args.pos_beat], [args.pos_down]]))
    t_start = time.process_time()
    run = 0.0
    model.train()
    for step in range(args.steps):
        xs, ys, ms = zip(*[sample(rng, tracks, w) for _ in range(args.batch)])
        x = torch.from_numpy(np.stack(xs)).unsqueeze(1)
        y = torch.from_numpy(np.stack(ys))
        m = torch.from_numpy(np.stack(ms)).unsqueeze(1)
        loss = (bce(model(x), y) * m).sum() / (2 * m.sum() + 1e-6)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run = 0.98 * run + 0.02 * loss.item() if step else loss.item()
        if step % 50 == 0 or step == args.steps - 1:
            print('step %d loss %.4f cpu %.0fs' % (step, run, time.process_time() - t_start), flush=True)
    model.eval()
    real = sorted({t['album'] for t in tracks if t['source'] == 'beatles'})
    renders = sorted(t['name'] for t in tracks if t['source'] == 'render')
    meta = {'training_script': 'tools/train_beats/train.py',
            'command': ' '.join(sys.argv[1:]),
            'data': 'beatles-dev albums %s (%d songs; beats with bar positions from CPJKU/beat_this_annotations '
                    'on the mp3 time base); %s (/work/cache/sections-train)' % (
                        ','.join(real), int(is_real.sum()), provenance.describe_renders(renders) if renders else
                        'no renders'),
            'held_out': ','.join(hold),
            'seed': args.seed, 'steps': args.steps, 'batch': args.batch, 'crop_frames': CROP, 'lr': args.lr,
            'pos_weight': [args.pos_beat, args.pos_down],
            'cpu_seconds': round(time.process_time() - t_start),
            'architecture': 'conv2d 1-8-16-16 (3x3, 3x3, %dx1; ELU, BN, maxpool 3 over bands), %d residual '
                            'conv1d k%d dilations 1..%d, 1x1 conv -> beat, downbeat logits' % (
                                ((BANDS - 2) // 3 - 2) // 3, LAYERS, KERNEL, 2 ** (LAYERS - 1)),
            'input': 'features::BeatSpectrogram (beat-spec-v1), %d bands' % BANDS}
    sd = {k: v for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}
    raw_path = export_weights.write_weight_file(args.out, sd, MODEL_NAME, MODEL_VERSION, meta)
    print('wrote', args.out, raw_path)
    if args.ship:
        write_inc(os.path.join(REPO, 'src', 'analyzers', 'rhythm', 'beat_model.inc'), open(args.out, 'rb').read(), meta)
    if args.reference:
        # a PyTorch reference output for the parity test (a few seconds of a synthetic input)
        g = np.random.default_rng(5)
        x = g.uniform(0, 4, (1, 1, BANDS, 700)).astype(np.float32)
        with torch.no_grad():
            y = model(torch.from_numpy(x)).numpy()[0]
        np.savez(args.reference, x=x[0, 0], y=y)


def write_inc(path, hnn_bytes, meta):
    import provenance
    fields = [('script', 'tools/train_beats/train.py'), ('command', meta['command']), ('data', meta['data']),
              ('random seed', str(meta['seed'])), ('libraries', provenance.libraries('numpy', 'torch')),
              ('date', provenance.today()),
              ('reproduce', 'tools/train_beats/train.py dump, then the command above (CPU, one thread; '
                            'torch reductions make reruns agree closely, not bit for bit)')]
    body = ['// clang-format off', 'alignas(64) constexpr unsigned char kBeatModel[] = {']
    for i in range(0, len(hnn_bytes), 24):
        body.append('    ' + ','.join('0x%02x' % b for b in hnn_bytes[i:i + 24]) + ',')
    body += ['};', '// clang-format on', '']
    provenance.write_table(path, '// Generated by tools/train_beats/train.py: the beat/downbeat TCN weight file '
                                 '(src/nn format).', fields, '\n'.join(body))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    d = sub.add_parser('dump')
    d.add_argument('--work', default='/work/cache/beats-tcn')
    f = sub.add_parser('fit')
    f.add_argument('--work', default='/work/cache/beats-tcn')
    f.add_argument('--hold', default='')
    f.add_argument('--steps', type=int, default=1500)
    f.add_argument('--batch', type=int, default=16)
    f.add_argument('--lr', type=float, default=4e-3)
    f.add_argument('--pos-beat', type=float, default=4.0)
    f.add_argument('--pos-down', type=float, default=12.0)
    f.add_argument('--seed', type=int, default=1)
    f.add_argument('--threads', type=int, default=1)
    f.add_argument('--out', required=True)
    f.add_argument('--ship', action='store_true')
    f.add_argument('--reference', default='')
    a = ap.parse_args()
    if a.cmd == 'dump':
        dump(a)
    else:
        fit(a)


if __name__ == '__main__' and sys.argv[1:2] != ['eval']:
    main()


def read_weights(path):
    """The tensors of a weight file (src/nn/README.md format) as numpy arrays."""
    import struct
    raw = open(path, 'rb').read()
    hlen = struct.unpack('<I', raw[12:16])[0]
    header = json.loads(raw[32:32 + hlen])
    start = (32 + hlen + 63) // 64 * 64
    return {t['name']: np.frombuffer(raw, dtype='<f4', count=int(np.prod(t['shape'])) if t['shape'] else 1,
                                     offset=start + t['offset']).reshape(t['shape']) for t in header['tensors']}


def load_model(path):
    import torch
    model = model_class()()
    sd = model.state_dict()
    for k, v in read_weights(path).items():
        sd[k] = torch.from_numpy(v.copy())
    model.load_state_dict(sd)
    model.eval()
    return model


def peaks(act, thr):
    """Local maxima above thr, at least 0.1 s apart (greedy by height)."""
    idx = [i for i in range(1, len(act) - 1) if act[i] >= thr and act[i] >= act[i - 1] and act[i] > act[i + 1]]
    idx.sort(key=lambda i: -act[i])
    keep = []
    for i in idx:
        if all(abs(i - j) >= 10 for j in keep):
            keep.append(i)
    return np.array(sorted(keep)) / FPS


def evaluate(args):
    """Peak-picked activations of a model against the annotations of the given albums (a check of the
    network alone: the engine's tracker and bar decoding come after it)."""
    import torch
    import mir_eval
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    albums = args.albums.split(',')
    fb, fd = [], []
    for line in open(os.path.join(args.work, 'index.jsonl')):
        t = json.loads(line)
        if t['album'] not in albums:
            continue
        x = np.fromfile(t['feats'], dtype=np.float32).reshape(-1, t['bands'])
        with torch.no_grad():
            y = torch.sigmoid(model(torch.from_numpy(x.T.copy())[None, None])).numpy()[0]
        ref_b, ref_d = np.array(t['beats']), np.array(t['downbeats'])
        est_b, est_d = peaks(y[0], 0.3), peaks(y[1], 0.3)
        fb.append(mir_eval.beat.f_measure(mir_eval.beat.trim_beats(ref_b), mir_eval.beat.trim_beats(est_b)))
        fd.append(mir_eval.beat.f_measure(mir_eval.beat.trim_beats(ref_d), mir_eval.beat.trim_beats(est_d)))
    print('%s on %s: %d songs, peak-picked beat F %.3f, downbeat F %.3f' % (
        args.model, args.albums, len(fb), np.mean(fb), np.mean(fd)))


if __name__ == '__main__' and len(sys.argv) > 1 and sys.argv[1] == 'eval':
    ap = argparse.ArgumentParser()
    ap.add_argument('cmd')
    ap.add_argument('--work', default='/work/cache/beats-tcn')
    ap.add_argument('--model', required=True)
    ap.add_argument('--albums', required=True)
    ap.add_argument('--threads', type=int, default=1)
    evaluate(ap.parse_args())
    sys.exit(0)
