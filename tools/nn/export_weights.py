#!/usr/bin/python3
"""Writes Harmony nn weight files (format: src/nn/README.md) from a PyTorch state_dict or numpy arrays.

    /usr/bin/python3 tools/nn/export_weights.py model.pt out.hnn --name chords --version 1 \
        --script tools/train_chords/train.py --data "isophonics v1" --seed 7

model.pt is a state_dict saved with torch.save (or a whole module, whose state_dict is taken).
BatchNorm's num_batches_tracked counters are training state and are dropped. Every tensor is
stored as little-endian float32.

As a module: write_weight_file(path, tensors, name, version, metadata) with tensors an ordered
mapping name -> numpy array (float32) or torch tensor. Python is never needed at run time; this is
a tool.
"""

import argparse
import json
import platform
import struct
import sys

import numpy as np

MAGIC = b"HRMNYNN\0"
FORMAT_VERSION = 1
PREAMBLE = 32
ALIGN = 64

_P1 = 0x9E3779B185EBCA87
_P2 = 0xC2B2AE3D27D4EB4F
_P3 = 0x165667B19E3779F9
_P4 = 0x85EBCA77C2B2AE63
_P5 = 0x27D4EB2F165667C5
_M = (1 << 64) - 1


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & _M


def _round(acc, lane):
    acc = (acc + lane * _P2) & _M
    return (_rotl(acc, 31) * _P1) & _M


def _merge(acc, val):
    acc ^= _round(0, val)
    return (acc * _P1 + _P4) & _M


def xxh64(data: bytes, seed: int = 0) -> int:
    """XXH64, as libxxhash's XXH64() (pure Python fallback; uses the xxhash module when present)."""
    try:
        import xxhash  # type: ignore

        return xxhash.xxh64_intdigest(data, seed)
    except ImportError:
        pass
    n = len(data)
    i = 0
    if n >= 32:
        v1 = (seed + _P1 + _P2) & _M
        v2 = (seed + _P2) & _M
        v3 = seed
        v4 = (seed - _P1) & _M
        lanes = struct.unpack_from("<%dQ" % ((n // 32) * 4), data)
        for j in range(0, len(lanes), 4):
            v1 = _round(v1, lanes[j])
            v2 = _round(v2, lanes[j + 1])
            v3 = _round(v3, lanes[j + 2])
            v4 = _round(v4, lanes[j + 3])
        i = (n // 32) * 32
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & _M
        for v in (v1, v2, v3, v4):
            h = _merge(h, v)
    else:
        h = (seed + _P5) & _M
    h = (h + n) & _M
    while i + 8 <= n:
        (k,) = struct.unpack_from("<Q", data, i)
        h ^= _round(0, k)
        h = (_rotl(h, 27) * _P1 + _P4) & _M
        i += 8
    if i + 4 <= n:
        (k,) = struct.unpack_from("<I", data, i)
        h ^= (k * _P1) & _M
        h = (_rotl(h, 23) * _P2 + _P3) & _M
        i += 4
    while i < n:
        h ^= (data[i] * _P5) & _M
        h = (_rotl(h, 11) * _P1) & _M
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M
    h ^= h >> 29
    h = (h * _P3) & _M
    h ^= h >> 32
    return h


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def library_versions() -> dict:
    v = {"python": platform.python_version(), "numpy": np.__version__}
    try:
        import torch

        v["torch"] = torch.__version__
    except ImportError:
        pass
    return v


def encode(tensors, name: str, version: int, metadata: dict) -> bytes:
    """The bytes of a weight file: preamble, JSON header, zero padding, 64-aligned payload."""
    entries = []
    payload = bytearray()
    for tname, t in tensors.items():
        if hasattr(t, "detach"):
            t = t.detach().cpu().numpy()
        a = np.ascontiguousarray(np.asarray(t, dtype="<f4"))
        offset = _align(len(payload))
        payload.extend(b"\0" * (offset - len(payload)))
        payload.extend(a.tobytes())
        entries.append(
            {"name": tname, "dtype": "f32", "shape": list(a.shape), "offset": offset, "nbytes": a.nbytes}
        )
    header = {
        "format": "harmony-nn-weights",
        "model": {"name": name, "version": int(version)},
        "metadata": metadata,
        "tensors": entries,
    }
    hjson = json.dumps(header, separators=(",", ":"), sort_keys=False).encode("utf-8")
    start = _align(PREAMBLE + len(hjson))
    out = bytearray(MAGIC + struct.pack("<IIQQ", FORMAT_VERSION, len(hjson), len(payload), 0))
    out += hjson
    out += b"\0" * (start - len(out))
    out += payload
    h = xxh64(bytes(out[:24]) + bytes(out[PREAMBLE:]))
    out[24:32] = struct.pack("<Q", h)
    return bytes(out)


def state_dict_tensors(state_dict):
    """Ordered name -> tensor, without BatchNorm's integer step counters."""
    return {k: v for k, v in state_dict.items() if not k.endswith("num_batches_tracked")}


def write_weight_file(path: str, tensors, name: str, version: int, metadata: dict) -> str:
    """Writes the file; returns its hash as the C++ loader reports it ("xxh64:...")."""
    data = encode(tensors, name, version, metadata)
    with open(path, "wb") as f:
        f.write(data)
    return "xxh64:%016x" % struct.unpack_from("<Q", data, 24)[0]


def main(argv=None):
    import torch

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("state_dict", help="torch.save'd state_dict or module")
    ap.add_argument("out", help="output weight file (.hnn)")
    ap.add_argument("--name", required=True, help="model name (checked by the C++ module that loads it)")
    ap.add_argument("--version", type=int, default=1, help="model version (bump when outputs change)")
    ap.add_argument("--script", default="", help="training script that produced the weights")
    ap.add_argument("--data", default="", help="training data (name, version, split)")
    ap.add_argument("--seed", type=int, default=None, help="training seed")
    ap.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE", help="extra metadata")
    args = ap.parse_args(argv)
    sd = torch.load(args.state_dict, map_location="cpu")
    if hasattr(sd, "state_dict"):
        sd = sd.state_dict()
    meta = {"training_script": args.script, "data": args.data, "seed": args.seed, "libraries": library_versions()}
    for kv in args.meta:
        k, _, v = kv.partition("=")
        meta[k] = v
    digest = write_weight_file(args.out, state_dict_tensors(sd), args.name, args.version, meta)
    print("%s: %d tensors, %s" % (args.out, len(state_dict_tensors(sd)), digest))


if __name__ == "__main__":
    sys.exit(main())
