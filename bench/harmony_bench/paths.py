"""Locations: repository, shared data, cache, tools."""
import os

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(BENCH_DIR)


def shared_dir():
    """../shared next to the repository root, or $HARMONY_SHARED."""
    return os.path.abspath(os.environ.get("HARMONY_SHARED") or os.path.join(REPO_DIR, "..", "shared"))


def cache_dir():
    base = os.environ.get("HARMONY_BENCH_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "harmony-bench")
    os.makedirs(base, exist_ok=True)
    return base


def harmony_bin():
    return os.environ.get("HARMONY_BIN") or os.path.join(REPO_DIR, "build", "harmony")


QM_PEER = os.path.join(BENCH_DIR, "peers", "qm", "build", "qm_peer")
ESSENTIA_DIR = os.path.join(BENCH_DIR, "peers", "essentia")
ESSENTIA_PEER = os.path.join(ESSENTIA_DIR, "essentia_peer.js")
SETS_DIR = os.path.join(BENCH_DIR, "sets")
BASELINE_QUICK = os.path.join(BENCH_DIR, "baseline", "quick.json")
