"""PNG plots (matplotlib, Agg backend): tempo scatter with octave lines, key confusion matrices,
error histograms."""
import math
import os

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .keys import NAMES  # noqa: E402


def _tools(sd):
    return [t["name"] for t in sd["tools"] if t["available"]]


def _grid(n):
    cols = min(n, 3)
    return int(math.ceil(n / cols)), cols


def tempo_scatter(sd, path):
    names = _tools(sd)
    if not names:
        return False
    rows, cols = _grid(len(names))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 4.0 * rows), squeeze=False)
    lo, hi = 30, 320
    x = np.array([lo, hi])
    for ax, name in zip(axes.flat, names):
        rs = [r for r in sd["results"] if r["tool"] == name and r.get("truth_bpm")]
        t = np.array([r["truth_bpm"] for r in rs], dtype=float)
        e = np.array([((r["estimate"] or {}).get("bpm") or np.nan) for r in rs], dtype=float)
        for f, style in ((1, "-"), (2, "--"), (0.5, "--"), (3, ":"), (1 / 3, ":")):
            ax.plot(x, x * f, "k" + style, lw=0.7, alpha=0.6)
        real = np.array([r["set"] == "real" for r in rs])
        ax.scatter(t[~real], e[~real], s=10, alpha=0.7, label="corpus")
        if real.any():
            ax.scatter(t[real], e[real], s=22, marker="^", color="C3", label="real clips")
        miss = np.isnan(e).sum()
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ticks = [40, 60, 80, 120, 160, 240]
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
            axis.set_major_formatter(matplotlib.ticker.FixedFormatter([str(t) for t in ticks]))
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title("%s (%d without estimate)" % (name, miss) if miss else name, fontsize=10)
        ax.set_xlabel("true tempo (bpm)")
        ax.set_ylabel("estimated tempo (bpm)")
        ax.legend(fontsize=7, loc="upper left")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle("Estimated vs true tempo (lines: ×1, ×2 and ×½ dashed, ×3 and ×⅓ dotted)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def _key_index(k):
    return None if not k else k["pc"] + (12 if k["mode"] == "minor" else 0)


def key_confusion(sd, path):
    names = _tools(sd)
    if not names:
        return False
    rows, cols = _grid(len(names))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 4.6 * rows), squeeze=False)
    labels = NAMES + [n.lower() for n in NAMES]
    for ax, name in zip(axes.flat, names):
        m = np.zeros((24, 25))
        for r in sd["results"]:
            if r["tool"] != name or not r.get("truth_key"):
                continue
            ti = _key_index(r["truth_key"])
            ei = _key_index((r["estimate"] or {}).get("key"))
            m[ti, 24 if ei is None else ei] += 1
        ax.imshow(m, cmap="Blues", aspect="auto", interpolation="nearest")
        ax.set_xticks(range(25))
        ax.set_xticklabels(labels + ["none"], fontsize=5, rotation=90)
        ax.set_yticks(range(24))
        ax.set_yticklabels(labels, fontsize=5)
        ax.set_xlabel("estimated (upper case major, lower case minor)", fontsize=7)
        ax.set_ylabel("true", fontsize=7)
        ax.set_title(name, fontsize=10)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def error_histograms(sd, path):
    names = _tools(sd)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    bins = np.linspace(-2, 2, 81)
    fbins = np.linspace(0, 1, 21)
    for name in names:
        rs = [r for r in sd["results"] if r["tool"] == name]
        ratios = [r["scores"]["tempo_ratio"] for r in rs if "tempo_ratio" in r["scores"]]
        if ratios:
            a1.hist(np.log2(np.clip(ratios, 0.2, 5)), bins=bins, histtype="step", lw=1.3, label=name)
        fs = [r["scores"]["beat_f"] for r in rs if "beat_f" in r["scores"]]
        if fs:
            a2.hist(fs, bins=fbins, histtype="step", lw=1.3, label=name)
    a1.set_xlabel("log2(estimated / true tempo)  (0 = right, ±1 = octave error)")
    a1.set_ylabel("files")
    a1.set_title("Tempo error (corpus and real clips)")
    a2.set_xlabel("beat F-measure per file")
    a2.set_title("Beat F-measure (corpus and real clips)")
    a1.legend(fontsize=8)
    a2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def key_histogram(sd, path):
    names = _tools(sd)
    cats = ["same", "fifth", "relative", "parallel", "other", "missing"]
    fig, ax = plt.subplots(figsize=(9, 3.8))
    w = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        cs = [r["scores"].get("key_category") for r in sd["results"]
              if r["tool"] == name and "key_category" in r["scores"]]
        frac = [cs.count(c) / len(cs) if cs else 0 for c in cats]
        ax.bar(np.arange(len(cats)) + i * w, frac, width=w, label=name)
    ax.set_xticks(np.arange(len(cats)) + 0.4 - w / 2)
    ax.set_xticklabels(cats)
    ax.set_ylabel("fraction of files")
    ax.set_title("Key error categories (mir_eval weighted-score relation), corpus and real clips")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def make_all(data, out):
    files = {}
    sd = data["suites"].get("rhythm")
    if sd:
        files["rhythm"] = []
        if tempo_scatter(sd, os.path.join(out, "tempo_scatter.png")):
            files["rhythm"].append("tempo_scatter.png")
        if error_histograms(sd, os.path.join(out, "rhythm_errors.png")):
            files["rhythm"].append("rhythm_errors.png")
    sd = data["suites"].get("key")
    if sd:
        files["key"] = []
        if key_confusion(sd, os.path.join(out, "key_confusion.png")):
            files["key"].append("key_confusion.png")
        if key_histogram(sd, os.path.join(out, "key_errors.png")):
            files["key"].append("key_errors.png")
    return files
