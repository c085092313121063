#!/usr/bin/python3
"""Trains the stems mask model (src/analyzers/stems/mask_model.*): a small Open-Unmix-style network
(Stöter et al. 2019) over the magnitude STFT, scaled down to train on two CPU cores.

    /usr/bin/python3 tools/train_stems/train.py --train /work/cache/stems-train \
        [--mir1k SINGERS] --out src/analyzers/stems/stems_mask.hnn [--steps 1500] [--seed 17]

Input: the mix's STFT (4096-point periodic Hann, hop 1024, frames centred at k·hop with n/2 zeros
padded, as src/analyzers/stems/separation.cpp), the RMS magnitude over channels; log1p of the first
1024 bins (0-11 kHz), standardised with the training set's mean/std (stored in the file).
Network: fc1 (1024 -> 64, tanh) -> bidirectional GRU (32 per direction) -> fc2 ([fc1, gru] 128 -> 64,
relu) -> fc3 (64 -> 4 x 2049) -> softmax over the four stems per bin: four soft masks that sum to one,
so the stems still sum to the mix. Loss: L1 between mask x |mix| and each true stem's magnitude.
Data: corpus renders with --stems (songs outside the dev/test splits: 201+), plus MIR-1K clips of the
given singers resampled to 44.1 kHz (voice -> vocals; accompaniment -> loss on the sum of the three
other masks only). Torch runs on at most 2 threads.
"""
import argparse
import glob
import os
import platform
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "nn"))
import export_weights  # noqa: E402

STEMS = ["vocals", "drums", "bass", "other"]
N_FFT, HOP, F_IN, H = 4096, 1024, 1024, 64
K = N_FFT // 2 + 1


def decode(path, rate=44100, channels=2):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "f32le", "-ac", str(channels), "-ar", str(rate),
                          "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.float32).reshape(-1, channels)


def stft_mag(x):
    """RMS magnitude over channels, [T, K], frames as separation.cpp."""
    n = len(x)
    frames = (n - 1) // HOP + 2
    pad = np.pad(x, ((N_FFT // 2, N_FFT + HOP), (0, 0)))
    win = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    idx = np.arange(frames)[:, None] * HOP + np.arange(N_FFT)[None, :]
    p = np.zeros((frames, K), np.float32)
    for c in range(x.shape[1]):
        spec = np.fft.rfft(pad[idx, c] * win, axis=1)
        p += (np.abs(spec) ** 2).astype(np.float32) / x.shape[1]
    return np.sqrt(p)


class MaskNet(torch.nn.Module):
    def __init__(self, hidden=H):
        super().__init__()
        H = hidden
        self.input_mean = torch.nn.Parameter(torch.zeros(F_IN), requires_grad=False)
        self.input_std = torch.nn.Parameter(torch.ones(F_IN), requires_grad=False)
        self.fc1 = torch.nn.Linear(F_IN, H)
        self.gru = torch.nn.GRU(H, H // 2, batch_first=True, bidirectional=True)
        self.fc2 = torch.nn.Linear(2 * H, H)
        self.fc3 = torch.nn.Linear(H, 4 * K)

    def forward(self, mag):  # [B, T, K] -> masks [B, T, 4, K]
        x = (torch.log1p(mag[..., :F_IN]) - self.input_mean) / self.input_std
        a = torch.tanh(self.fc1(x))
        g, _ = self.gru(a)
        b = torch.relu(self.fc2(torch.cat([a, g], dim=-1)))
        logits = self.fc3(b).reshape(mag.shape[0], mag.shape[1], 4, K)
        return torch.softmax(logits, dim=2)


def load_data(args):
    mixes, targets, kinds = [], [], []
    for d in sorted(glob.glob(os.path.join(args.train, "*.stems"))):
        tid = os.path.basename(d)[:-len(".stems")]
        refs = [decode(os.path.join(d, s + ".flac")) for s in STEMS]
        n = min(len(r) for r in refs)
        refs = [r[:n] for r in refs]
        mix = sum(refs)  # the mix is the sum of the stems (render.py --stems)
        mixes.append(stft_mag(mix).astype(np.float16))
        targets.append(np.stack([stft_mag(r) for r in refs], axis=1).astype(np.float16))
        kinds.append(0)
    for singer in [s for s in args.mir1k.split(",") if s]:
        for p in sorted(glob.glob(os.path.join(args.mir1k_root, singer + "_*.ogg"))):
            x = decode(p, rate=44100, channels=2)  # left accompaniment, right voice
            voice, acc = x[:, 1:2].repeat(2, 1), x[:, 0:1].repeat(2, 1)
            mixes.append(stft_mag(voice + acc).astype(np.float16))
            t = np.zeros((mixes[-1].shape[0], 4, K), np.float16)
            t[:, 0] = stft_mag(voice)
            t[:, 3] = stft_mag(acc)  # accompaniment: scored on the sum of drums+bass+other
            targets.append(t)
            kinds.append(1)
    return mixes, targets, kinds


def write_fixture(model, path, seed):
    """8 frames of log-uniform magnitudes and the masks PyTorch gives for them (every 16th bin)."""
    import json
    g = np.random.default_rng(seed + 1)
    mag = np.exp(g.uniform(-6, 4, size=(8, K))).astype(np.float32)
    with torch.no_grad():
        m = model(torch.from_numpy(mag[None]))[0].numpy()  # [T, 4, K]
    bins = list(range(0, K, 16))
    with open(path, "w") as f:
        json.dump({"frames": 8, "bins": K, "mag": [float(v) for v in mag.ravel()], "checked_bins": bins,
                   "masks": [[[float(m[t, s, k]) for k in bins] for s in range(4)] for t in range(8)]}, f)


def write_tiny_test_model(out, fixture, seed):
    """The unit tests' model: the same architecture 4 wide, untrained (seeded initialisation,
    input statistics set to fixed values), with its PyTorch parity fixture. 0.2 MB instead of the
    trained model's 2.5 MB, so the learned path is tested on a clean checkout without it."""
    torch.manual_seed(seed)
    model = MaskNet(hidden=4)
    g = np.random.default_rng(seed)
    model.input_mean.data = torch.from_numpy(g.uniform(-2, 2, F_IN).astype(np.float32))
    model.input_std.data = torch.from_numpy(g.uniform(0.5, 2, F_IN).astype(np.float32))
    sd = {k: v.detach() for k, v in model.state_dict().items()}
    meta = {
        "training_script": "tools/train_stems/train.py",
        "command": " ".join(sys.argv[1:]),
        "data": "none: an untrained test model (seeded initialisation)",
        "seed": seed,
        "libraries": f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}",
        "n_fft": N_FFT, "hop": HOP, "input_bins": F_IN, "hidden": 4,
    }
    export_weights.write_weight_file(out, sd, "stems-mask", 1, meta)
    write_fixture(model, fixture, seed)
    print(f"wrote {out} ({os.path.getsize(out)} bytes) and {fixture}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiny-test-model", action="store_true",
                    help="write the unit tests' untrained 4-wide model to --out and its fixture to --fixture")
    ap.add_argument("--train")
    ap.add_argument("--mir1k", default="")
    ap.add_argument("--mir1k-root", default="/work/shared/data/mir1k")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fixture", help="also write a PyTorch parity fixture (JSON) for tests/unit/stems_test.cpp")
    args = ap.parse_args()
    torch.set_num_threads(min(2, args.threads))
    if args.tiny_test_model:
        if not args.fixture:
            ap.error("--tiny-test-model needs --fixture")
        write_tiny_test_model(args.out, args.fixture, args.seed)
        return
    if not args.train:
        ap.error("--train is required")
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    mixes, targets, kinds = load_data(args)
    print(f"data: {len(mixes)} items, {sum(len(m) for m in mixes)} frames, {time.time() - t0:.0f} s", flush=True)
    model = MaskNet()
    allx = np.concatenate([np.log1p(m[:, :F_IN].astype(np.float32)) for m in mixes])
    model.input_mean.data = torch.from_numpy(allx.mean(axis=0))
    model.input_std.data = torch.from_numpy(allx.std(axis=0) + 1e-3)
    del allx
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    items = [i for i in range(len(mixes)) if len(mixes[i]) > args.seq]
    for step in range(1, args.steps + 1):
        xb, yb, kb = [], [], []
        for _ in range(args.batch):
            i = items[rng.integers(len(items))]
            a = rng.integers(len(mixes[i]) - args.seq)
            xb.append(mixes[i][a:a + args.seq].astype(np.float32))
            yb.append(targets[i][a:a + args.seq].astype(np.float32))
            kb.append(kinds[i])
        x, y = torch.from_numpy(np.stack(xb)), torch.from_numpy(np.stack(yb))
        m = model(x)
        est = m * x[:, :, None, :]
        loss = 0.0
        kind = torch.tensor(kb)
        corpus = kind == 0
        if corpus.any():
            loss = loss + (est[corpus] - y[corpus]).abs().mean()
        if (~corpus).any():  # MIR-1K: vocals, and accompaniment as the sum of the other three
            e, t = est[~corpus], y[~corpus]
            loss = loss + 0.5 * ((e[:, :, 0] - t[:, :, 0]).abs().mean() +
                                 (e[:, :, 1:].sum(dim=2) - t[:, :, 3]).abs().mean())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0:
            print(f"step {step} loss {loss.item():.4f} {time.time() - t0:.0f} s", flush=True)
        if step == int(0.7 * args.steps):
            for g in opt.param_groups:
                g["lr"] = 3e-4
    sd = {k: v.detach() for k, v in model.state_dict().items()}
    meta = {
        "training_script": "tools/train_stems/train.py",
        "command": " ".join(sys.argv[1:]),
        "data": f"render.py --stems renders in {args.train} ({sum(1 for k in kinds if k == 0)} tracks); "
                f"MIR-1K singers: {args.mir1k or 'none'}",
        "seed": args.seed,
        "libraries": f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}",
        "steps": args.steps,
        "final_loss": float(loss.item()),
        "n_fft": N_FFT, "hop": HOP, "input_bins": F_IN, "hidden": H,
    }
    export_weights.write_weight_file(args.out, sd, "stems-mask", 1, meta)
    if args.fixture:
        write_fixture(model, args.fixture, args.seed)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes), {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
