#!/usr/bin/python3
"""Builds the tiny test models of src/nn and their PyTorch fixtures in tests/data/nn/.

    /usr/bin/python3 tools/nn/make_test_models.py [OUT_DIR]     (apt-get install python3-torch)

Each model is deterministic (torch.manual_seed(SEED + index)), runs in eval mode on a fixed input,
and is written as <name>.hnn (its weights) plus <name>.io.hnn (tensors "input", "output", ... in the
same format, without the batch dimension: the C++ layers take unbatched tensors). Also written:
bad_hash.hnn (linear.hnn with one payload byte flipped: the loader must refuse it) and
wrong_shape.hnn (a "linear" model whose weight is [4, 7] instead of [4, 6]).

The unit tests (tests/unit/nn_test.cpp) read these committed files; Python is not needed to run them.
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_weights import library_versions, state_dict_tensors, write_weight_file  # noqa: E402

SEED = 1234


def randomise_batchnorm(model):
    """Non-trivial running statistics and affine parameters, so folding is really tested."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn_like(m.running_mean) * 0.3)
                m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
                m.weight.copy_(torch.rand_like(m.weight) + 0.5)
                m.bias.copy_(torch.randn_like(m.bias) * 0.2)


class ConvBn2d(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        return self.bn(self.conv(x))


class TcnBlock(nn.Module):
    """A beat-tracker style residual block: dilated conv1d (kernel 5) + BN + ELU, 1x1 conv, skip."""

    def __init__(self):
        super().__init__()
        self.dilated = nn.Conv1d(4, 4, 5, padding=8, dilation=4, bias=False)
        self.bn = nn.BatchNorm1d(4)
        self.pointwise = nn.Conv1d(4, 4, 1)

    def forward(self, x):
        return x + self.pointwise(F.elu(self.bn(self.dilated(x))))


class TinyCrnn(nn.Module):
    """A chord-recogniser shape: conv2d/BN/ReLU, max-pool, dilated conv2d/BN/ELU, avg-pool over
    frequency, dense + tanh per frame, bidirectional GRU, dense, log-softmax. Input [1, 1, 24, T]."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=(1, 2), dilation=(1, 2))
        self.bn2 = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6 * 6, 12)
        self.gru = nn.GRU(12, 8, batch_first=True, bidirectional=True)
        self.out = nn.Linear(16, 5)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(x, (2, 1))
        x = F.elu(self.bn2(self.conv2(x)))
        x = F.avg_pool2d(x, (2, 1))
        n, c, f, t = x.shape
        x = x.reshape(n, c * f, t).transpose(1, 2)
        x = torch.tanh(self.fc(x))
        x, _ = self.gru(x)
        return F.log_softmax(self.out(x), dim=-1)


def beat_tcn():
    """The beat/downbeat TCN of tools/train_beats/train.py (src/analyzers/rhythm/beat_net.hpp)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train_beats"))
    import train  # noqa: E402

    return train.model_class()()


def models():
    """(name, module factory, input shape without batch, batched?)"""
    return [
        ("linear", lambda: nn.Linear(6, 4), (5, 6), False),
        ("conv1d", lambda: nn.Conv1d(3, 4, 5, padding=4, dilation=2), (3, 20), True),
        ("conv1d_stride", lambda: nn.Conv1d(2, 3, 3, stride=2, padding=1, bias=False), (2, 17), True),
        ("conv2d", lambda: nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=(1, 0), dilation=(2, 1)), (2, 7, 9), True),
        ("conv2d_bn", ConvBn2d, (2, 6, 8), True),
        ("batchnorm1d", lambda: nn.BatchNorm1d(4), (4, 10), True),
        ("gru", lambda: nn.GRU(5, 6, num_layers=2, batch_first=True), (9, 5), True),
        ("bigru", lambda: nn.GRU(5, 4, batch_first=True, bidirectional=True), (9, 5), True),
        ("tcn_block", TcnBlock, (4, 40), True),
        ("crnn", TinyCrnn, (1, 24, 32), True),
        ("beat_tcn", beat_tcn, (1, 48, 400), True),
    ]


def metadata(seed):
    return {
        "training_script": "tools/nn/make_test_models.py",
        "data": "none: random weights for tests",
        "seed": seed,
        "libraries": library_versions(),
    }


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "nn")
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)

    def path(n):
        return os.path.join(out_dir, n)

    for index, (name, factory, in_shape, batched) in enumerate(models()):
        seed = SEED + index
        torch.manual_seed(seed)
        model = factory()
        randomise_batchnorm(model)
        model.eval()
        x = torch.randn(*in_shape)
        with torch.no_grad():
            y = model(x.unsqueeze(0) if batched else x)
            if isinstance(y, tuple):  # GRU: (output, h_n)
                y = y[0]
            if batched:
                y = y.squeeze(0)
        write_weight_file(path(name + ".hnn"), state_dict_tensors(model.state_dict()), name, 1, metadata(seed))
        write_weight_file(path(name + ".io.hnn"), {"input": x, "output": y}, name + ".io", 1, metadata(seed))

    # Parameter-free layers: activations and pooling.
    torch.manual_seed(SEED + 100)
    a = torch.randn(3, 7) * 4
    acts = {
        "input": a,
        "relu": F.relu(a),
        "elu": F.elu(a),
        "tanh": torch.tanh(a),
        "sigmoid": torch.sigmoid(a),
        "softmax_last": F.softmax(a, dim=-1),
        "log_softmax_first": F.log_softmax(a, dim=0),
    }
    write_weight_file(path("activations.io.hnn"), acts, "activations.io", 1, metadata(SEED + 100))
    torch.manual_seed(SEED + 101)
    p2 = torch.randn(2, 7, 9)
    p1 = torch.randn(3, 11)
    pools = {
        "input2d": p2,
        "max2d": F.max_pool2d(p2.unsqueeze(0), (2, 3), stride=(2, 2), padding=(1, 1)).squeeze(0),
        "avg2d": F.avg_pool2d(p2.unsqueeze(0), (2, 2), stride=(2, 1), padding=(0, 1)).squeeze(0),
        "input1d": p1,
        "max1d": F.max_pool1d(p1.unsqueeze(0), 3, stride=2, padding=1).squeeze(0),
        "avg1d": F.avg_pool1d(p1.unsqueeze(0), 4, stride=2).squeeze(0),
    }
    write_weight_file(path("pooling.io.hnn"), pools, "pooling.io", 1, metadata(SEED + 101))

    # Deliberately broken models.
    with open(path("linear.hnn"), "rb") as f:
        data = bytearray(f.read())
    data[-1] ^= 0x40  # a bit flip in the last payload byte: only the hash notices
    with open(path("bad_hash.hnn"), "wb") as f:
        f.write(bytes(data))
    torch.manual_seed(SEED)
    wrong = nn.Linear(7, 4)
    write_weight_file(path("wrong_shape.hnn"), state_dict_tensors(wrong.state_dict()), "linear", 1, metadata(SEED))

    total = sum(os.path.getsize(path(n)) for n in os.listdir(out_dir) if n.endswith(".hnn"))
    print("%s: %d files, %d bytes" % (out_dir, len([n for n in os.listdir(out_dir) if n.endswith(".hnn")]), total))


if __name__ == "__main__":
    main()
