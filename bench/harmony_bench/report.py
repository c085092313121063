"""Aggregates per-track results and writes report.md, per-track CSV, results.json and plots."""
import csv
import json
import os
import statistics

from . import paths
from .keys import label as key_label

RHYTHM_METRICS = [("acc1", "Acc1"), ("acc2", "Acc2"), ("acc1_1pct", "Acc1 ±1%"), ("beat_f", "Beat F"),
                  ("cmlt", "CMLt"), ("amlt", "AMLt"), ("downbeat_f", "Downbeat F"),
                  ("downbeat_f_high", "Downbeat F (high-conf.)"), ("meter_acc", "Meter acc.")]
KEY_METRICS = [("key_weighted", "MIREX weighted"), ("key_exact", "Exact")]
SECTION_METRICS = [("F@0.5", "Boundary F ±0.5 s"), ("F@2", "Boundary F ±2 s"), ("F@3", "Boundary F ±3 s"),
                   ("pairwise_F", "Pairwise F (letters)"), ("intro_acc", "Intro acc."), ("outro_acc", "Outro acc."),
                   ("n_est", "Segments / file")]
CHORD_METRICS = [("root", "Root"), ("thirds", "Thirds"), ("majmin", "MajMin"), ("majmin_inv", "MajMin inv."),
                 ("sevenths", "Sevenths"), ("mirex", "MIREX")]
NOTE_METRICS = [("melody_f", "Melody F"), ("melody_f_offset", "Melody F (offsets)"), ("melody_p", "Melody P"),
                ("melody_r", "Melody R"), ("bass_f", "Bass F"), ("bass_f_offset", "Bass F (offsets)"),
                ("bass_p", "Bass P"), ("bass_r", "Bass R")]
SUITE_TITLES = {"rhythm": "Rhythm: tempo, beats, downbeats, meter", "key": "Key",
                "sections": "Sections: phrase boundaries and repetition letters",
                "chords": "Chords: mir_eval.chord, duration-weighted over the files",
                "notes": "Notes: melody and bass note F, mir_eval.transcription (onset ±50 ms, pitch ±50 cents)"}
SUITE_ORDER = ("rhythm", "key", "sections", "chords", "notes")


def metrics_of(suite):
    return {"rhythm": RHYTHM_METRICS, "key": KEY_METRICS, "sections": SECTION_METRICS,
            "chords": CHORD_METRICS, "notes": NOTE_METRICS}[suite]
KEY_CATS = ["same", "fifth", "relative", "parallel", "other", "missing"]
SETS = (("corpus", "POP909 rendered corpus"), ("real", "real clips (../shared/data)"))


def _mean(xs):
    return sum(xs) / len(xs) if xs else None


def _fmt(x, nd=3):
    return "—" if x is None else ("%.*f" % (nd, x))


def aggregate(suite_data):
    suite = suite_data["suite"]
    out = {"accuracy": {}, "speed": {}}
    res = suite_data["results"]
    for set_name, _ in SETS:
        out["accuracy"][set_name] = accuracy(suite, suite_data["tools"],
                                             [r for r in res if r["set"] == set_name])
    _speed(out, res)
    return out


def accuracy(suite, tools_info, res):
    """Mean scores per tool over the result rows res (one set of files)."""
    metrics = metrics_of(suite)
    acc = {}
    for info in tools_info:
        rows = [r for r in res if r["tool"] == info["name"]]
        if not rows:
            continue
        a = {"n": len(rows), "errors": sum(r["status"] != "ok" for r in rows)}
        for m, _ in metrics:
            vals = [r["scores"][m] for r in rows if m in r["scores"]]
            if suite == "chords":  # weighted by the reference duration each file was scored over
                ws = [r["scores"].get("weight_" + m, 0.0) for r in rows if m in r["scores"]]
                a[m] = sum(v * w for v, w in zip(vals, ws)) / sum(ws) if sum(ws) > 0 else None
            else:
                a[m] = _mean(vals)
            a["n_" + m] = len(vals)
        if suite == "rhythm":
            a["tempo_missing"] = sum(bool(r["scores"].get("tempo_missing")) for r in rows)
            a["beats_missing"] = sum(bool(r["scores"].get("beats_missing")) for r in rows)
        elif suite == "sections":
            a["sections_missing"] = sum(bool(r["scores"].get("sections_missing")) for r in rows)
            vals = [r["scores"]["n_ref"] for r in rows if "n_ref" in r["scores"]]
            a["n_ref"] = _mean(vals)
        elif suite == "chords":
            a["chords_missing"] = sum(bool(r["scores"].get("chords_missing")) for r in rows)
        elif suite == "notes":
            a["notes_missing"] = sum(bool(r["scores"].get("melody_missing") or r["scores"].get("bass_missing"))
                                     for r in rows)
        else:
            cats = [r["scores"].get("key_category") for r in rows if "key_category" in r["scores"]]
            for c in KEY_CATS:
                a["cat_" + c] = cats.count(c) / len(cats) if cats else None
            a["key_missing"] = cats.count("missing")
        acc[info["name"]] = a
    return acc


def _speed(out, res):
    # Speed over the timed files, per tool; ratios over the files both tools analysed.
    timed = [r for r in res if r["speed_sample"] and r["status"] == "ok" and r["wall_s"]]
    by_tool = {}
    for r in timed:
        by_tool.setdefault(r["tool"], {})[r["track"]] = r
    h = by_tool.get("harmony", {})
    for name, per in by_tool.items():
        rs = list(per.values())
        wall = sum(r["wall_s"] for r in rs)
        audio = sum(r["duration_s"] for r in rs)
        sp = {"n_files": len(rs), "wall_s": wall, "cpu_s": sum(r["cpu_s"] for r in rs), "audio_s": audio,
              "xrt": audio / wall if wall else None,
              "median_xrt": statistics.median(r["duration_s"] / r["wall_s"] for r in rs),
              "median_file_s": statistics.median(r["wall_s"] for r in rs),
              "rss_mb_median": statistics.median(r["rss_mb"] for r in rs),
              "rss_mb_max": max(r["rss_mb"] for r in rs),
              "runs_per_file": statistics.median(r["n_runs"] for r in rs),
              "cached_files": sum(bool(r["cached"]) for r in rs)}
        common = [t for t in per if t in h]
        if name != "harmony" and common:
            hw = sum(h[t]["wall_s"] for t in common)
            pw = sum(per[t]["wall_s"] for t in common)
            hc = sum(h[t]["cpu_s"] for t in common)
            pc = sum(per[t]["cpu_s"] for t in common)
            sp["harmony_over_peer_wall"] = hw / pw if pw else None
            sp["harmony_over_peer_cpu"] = hc / pc if pc else None
            sp["harmony_over_peer_rss"] = (statistics.median(h[t]["rss_mb"] for t in common) /
                                           statistics.median(per[t]["rss_mb"] for t in common))
            sp["n_common"] = len(common)
        out["speed"][name] = sp
    return out


def _accuracy_table(suite, acc, tools_info):
    metrics = metrics_of(suite)
    cols = [m for m, _ in metrics if any(a.get("n_" + m) for a in acc.values())]
    heads = [h for m, h in metrics if m in cols]
    extra = ["fifth", "relative", "parallel", "other", "missing"] if suite == "key" else []
    lines = ["| tool | files | " + " | ".join(heads + extra) + " | no estimate / errors |",
             "|---" * (3 + len(heads) + len(extra)) + "|"]
    if suite == "sections":
        n_ref = [a.get("n_ref") for a in acc.values() if a.get("n_ref")]
        if n_ref:
            lines.insert(0, "Reference: %.1f segments per file (human phrase labels)." % n_ref[0])
            lines.insert(1, "")
    for info in tools_info:
        a = acc.get(info["name"])
        if a is None:
            if not info["available"]:
                lines.append("| %s | — | %s |" % (info["name"], "not run: " + info["reason"]))
            continue
        cells = [_fmt(a.get(m)) for m in cols]
        cells += [_fmt(a.get("cat_" + c)) for c in extra]
        if suite == "rhythm":
            miss = "%d tempo, %d beats / %d" % (a["tempo_missing"], a["beats_missing"], a["errors"])
        elif suite == "sections":
            miss = "%d / %d" % (a["sections_missing"], a["errors"])
        elif suite == "chords":
            miss = "%d / %d" % (a["chords_missing"], a["errors"])
        elif suite == "notes":
            miss = "%d / %d" % (a["notes_missing"], a["errors"])
        else:
            miss = "%d / %d" % (a["key_missing"], a["errors"])
        lines.append("| %s | %d | %s | %s |" % (info["name"], a["n"], " | ".join(cells), miss))
    return lines


def _speed_table(speed, tools_info):
    lines = ["| tool | files | runs/file | audio s | wall s (sum of medians) | × real time | median × RT | "
             "CPU s | peak RSS MB (median / max) | cached | Harmony/peer wall | Harmony/peer CPU | "
             "Harmony/peer RSS |", "|---" * 13 + "|"]
    for info in tools_info:
        s = speed.get(info["name"])
        if not s:
            continue
        lines.append("| %s | %d | %g | %.0f | %.1f | %.1f | %.1f | %.1f | %.0f / %.0f | %d | %s | %s | %s |" % (
            info["name"], s["n_files"], s["runs_per_file"], s["audio_s"], s["wall_s"], s["xrt"] or 0,
            s["median_xrt"], s["cpu_s"], s["rss_mb_median"], s["rss_mb_max"], s["cached_files"],
            _fmt(s.get("harmony_over_peer_wall"), 2), _fmt(s.get("harmony_over_peer_cpu"), 2),
            _fmt(s.get("harmony_over_peer_rss"), 2)))
    return lines


def _real_detail(suite, suite_data):
    res = [r for r in suite_data["results"] if r["set"] == "real"]
    names = [t["name"] for t in suite_data["tools"] if t["available"]]
    tracks = []
    for r in res:
        if r["track"] not in tracks:
            tracks.append(r["track"])
    if not tracks:
        return []
    lines = ["| clip | truth | " + " | ".join(names) + " |", "|---" * (2 + len(names)) + "|"]
    for tid in tracks:
        rows = {r["tool"]: r for r in res if r["track"] == tid}
        any_r = next(iter(rows.values()))
        truth = any_r["truth_label"] + (" (%s)" % any_r["note"] if any_r.get("note") else "")
        cells = []
        for n in names:
            r = rows.get(n)
            if not r or r["status"] != "ok":
                cells.append("error" if r else "—")
                continue
            e = r["estimate"] or {}
            if suite == "rhythm":
                cells.append("%s bpm, F %s" % (_fmt(e.get("bpm"), 1), _fmt(r["scores"].get("beat_f"), 2)))
            else:
                cells.append(key_label(e.get("key")))
        lines.append("| %s | %s | %s |" % (tid, truth, " | ".join(cells)))
    return lines


def _round(x):
    if isinstance(x, float):
        return round(x, 4)
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_round(v) for v in x]
    return x


def _slim(r):
    """A result without beat or note lists (counts instead), per-run timings only for timed files."""
    e = dict(r["estimate"] or {})
    for k in ("beats", "downbeats", "melody", "bass"):
        if isinstance(e.get(k), list):
            e["n_" + k] = len(e.pop(k))
    out = {k: v for k, v in r.items() if v is not None and k not in ("estimate", "runs")}
    if r["speed_sample"]:
        out["runs"] = r["runs"]
    out["estimate"] = e
    return _round(out)


def write_csv(path, suite, results):
    metrics = [m for m, _ in metrics_of(suite)]
    cols = (["track", "set", "format", "duration_s", "tool", "status", "cached", "truth", "estimate"] + metrics +
            ({"rhythm": ["tempo_ratio"], "key": ["key_category"], "sections": ["n_ref"], "chords": ["n_ref"],
              "notes": ["n_ref_notes"]}[suite]) +
            ["wall_s", "cpu_s", "rss_mb", "x_realtime", "n_runs", "error"])
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in results:
            e = r["estimate"] or {}
            if suite == "rhythm":
                est = "" if r["status"] != "ok" else "%s bpm, %d beats" % (
                    _fmt(e.get("bpm"), 2), len(e.get("beats") or []))
            elif suite == "sections":
                est = " ".join("%.1f%s" % (x[0], x[2]) for x in (e.get("sections") or []))
            elif suite == "chords":
                est = "%d segments" % len(e.get("chords") or [])
            elif suite == "notes":
                est = "%d melody, %d bass notes" % (len(e.get("melody") or []), len(e.get("bass") or []))
            else:
                est = key_label(e.get("key")) if r["status"] == "ok" else ""
            row = [r["track"], r["set"], r["format"], "%.2f" % r["duration_s"], r["tool"], r["status"],
                   int(bool(r["cached"])), r["truth_label"], est]
            row += [("%.4f" % r["scores"][m]) if m in r["scores"] else "" for m in metrics]
            extra = r["scores"].get({"rhythm": "tempo_ratio", "key": "key_category", "sections": "n_ref",
                                     "chords": "n_ref", "notes": "n_ref_notes"}[suite], "")
            row += ["%.4f" % extra if isinstance(extra, float) else extra]
            row += ["%.3f" % r["wall_s"] if r["wall_s"] else "", "%.3f" % r["cpu_s"] if r["cpu_s"] else "",
                    "%.1f" % r["rss_mb"] if r["rss_mb"] else "",
                    "%.1f" % (r["duration_s"] / r["wall_s"]) if r["wall_s"] else "", r["n_runs"],
                    (r["error"] or "")[:200]]
            w.writerow(row)


def _truth_label(suite, track_truth):
    if suite == "notes":
        return "%d melody, %s bass notes" % (len(track_truth.get("melody_notes") or []),
                                            len(track_truth["bass_notes"]) if track_truth.get("bass_notes")
                                            else "no")
    if suite == "chords":
        return "%d chords" % len(track_truth.get("chords") or [])
    if suite == "sections":
        return " ".join("%.1f%s" % (x[0], x[2]) for x in (track_truth.get("sections") or []))
    if suite == "rhythm":
        t = track_truth
        return "%s bpm%s" % (_fmt(t.get("tempo_bpm"), 1), ", " + t["meter"] if t.get("meter") else "")
    return key_label(track_truth.get("key"))


def _decode_lines(dec):
    if not dec:
        return []
    lines = []
    if dec.get("skipped"):
        lines.append("Skipped: %s" % dec["skipped"])
    if dec.get("rows"):
        lines += ["| file | tool | runs | median wall s | × real time | CPU s | peak RSS MB | Harmony/ffmpeg wall |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in dec["rows"]:
            lines.append("| %s | %s | %d | %.3f | %.0f | %.3f | %.0f | %s |" % (
                r["file"], r["tool"], r["n_runs"], r["wall_s"], r["xrt"], r["cpu_s"], r["rss_mb"],
                _fmt(r.get("harmony_over_ffmpeg"), 2)))
    for n in dec.get("notes", []):
        lines.append("")
        lines.append(n)
    return lines


SPLIT_COLS = {"rhythm": [("acc1", "Acc1"), ("acc2", "Acc2"), ("acc1_1pct", "Acc1 ±1%"), ("beat_f", "Beat F"),
                         ("downbeat_f", "Downbeat F"), ("meter_acc", "Meter acc.")],
              "key": [("key_weighted", "MIREX weighted"), ("key_exact", "Exact")],
              "sections": [("F@0.5", "F ±0.5 s"), ("F@2", "F ±2 s"), ("F@3", "F ±3 s"), ("pairwise_F", "Pairwise F"),
                           ("intro_acc", "Intro acc."), ("outro_acc", "Outro acc.")],
              "chords": [("root", "Root"), ("majmin", "MajMin"), ("sevenths", "Sevenths"), ("mirex", "MIREX")],
              "notes": [("melody_f", "Melody F"), ("melody_f_offset", "Melody F (offsets)"), ("bass_f", "Bass F"),
                        ("bass_f_offset", "Bass F (offsets)")]}


def _song(track_id):
    return int(track_id.split("-")[1])


def _load_results(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def split_comparison(data):
    """The dev and test splits side by side (corpus files only): dev from this run or the committed
    bench/results/results.json, test from this run or bench/results/test/results.json, and dev
    restricted to the songs of the test results (same compositions, other renders). For a test-split
    run (all of it or a subset) and for a dev run over the whole dev set."""
    from . import corpus
    m = data["meta"]
    split = m.get("split", "dev")
    if split != "test" and m.get("set") != corpus.SPLITS["dev"]["set"]:
        return []
    here = {"meta": m, "suites": data["suites"]}
    dev = here if split == "dev" else _load_results(os.path.join(paths.BENCH_DIR, "results", "results.json"))
    test = here if split == "test" else _load_results(os.path.join(paths.BENCH_DIR, "results", "test", "results.json"))
    if not dev or not test:
        return []
    test_songs = {_song(r["track"]) for sd in test["suites"].values() for r in sd.get("results", [])
                  if r.get("set") == "corpus"}
    dseed, tseed = corpus.SPLITS["dev"]["seed"], corpus.SPLITS["test"]["seed"]

    def origin(d):
        g = d["meta"]["git"]
        return "this run" if d is here else "`%s`, commit %s" % (
            "results/results.json" if d is dev else "results/test/results.json", g["commit"][:7])

    rows = [("dev: songs 1–200, seed %d (tuned on)" % dseed, dev, lambda r: True),
            ("dev, only the test songs (%d), seed %d" % (len(test_songs), dseed), dev,
             lambda r: _song(r["track"]) in test_songs),
            ("**test**: %d songs, seed %d (reported, never tuned on)" % (len(test_songs), tseed), test,
             lambda r: True)]
    L = ["## Dev and test splits", "",
         "The test split (`sets/test.txt`, seed %d) is frozen: it is reported here, beside the dev split, and "
         "no setting is ever chosen by its score (bench/README.md, *Splits*). Its songs are among the dev "
         "songs (the corpus has no unused song), rendered with another seed: other instruments, tempo scale, "
         "transposition, drums, excerpt and format. Sources: dev from %s; test from %s." % (
             tseed, origin(dev), origin(test)), ""]
    for suite in SUITE_ORDER:
        if suite not in dev["suites"] or suite not in test["suites"]:
            continue
        cols = SPLIT_COLS[suite]
        L += ["### %s" % {"rhythm": "Rhythm", "key": "Key", "sections": "Sections", "chords": "Chords",
                             "notes": "Notes"}[suite], "",
              "| tool | split | files | " + " | ".join(h for _, h in cols) + " |",
              "|---" * (3 + len(cols)) + "|"]
        tools_info = test["suites"][suite]["tools"]
        for info in tools_info:
            for label, d, keep in rows:
                res = [r for r in d["suites"][suite]["results"] if r["set"] == "corpus" and keep(r)]
                a = accuracy(suite, [info], res).get(info["name"])
                if a:
                    L.append("| %s | %s | %d | %s |" % (info["name"], label, a["n"],
                                                        " | ".join(_fmt(a.get(c)) for c, _ in cols)))
        L.append("")
    return L


def markdown(data, summary, plots):
    m = data["meta"]
    g = m["git"]
    L = ["# Harmony benchmark report", "",
         "* commit: `%s`%s (%s)" % (g["commit"], " + uncommitted changes" if g["dirty"] else "", g["describe"]),
         "* date: %s; host: %s, %s CPUs" % (m["date"], m["host"].get("cpu", "?"), m["host"].get("cpus")),
         "* command: `%s` (elapsed %.0f s)" % (m["command"], m.get("elapsed_s", 0))]
    if m.get("harmony_binary"):
        hb = m["harmony_binary"]
        L.append("* Harmony binary: `%s` built %s, sha1 %s (a copy of it served the whole run)" % (
            os.path.relpath(hb["path"], paths.REPO_DIR), hb["built"], hb["sha1"]))
    if "set" in m:
        L.append("* files: %d corpus tracks (split `%s`, set `%s`, POP909 renders, seed %d) + %d real clips; "
                 "speed: %d files, median of %d runs each (others 1 run); %d file(s) analysed at a time"
                 % (m["n_corpus"], m.get("split", "dev"), m["set"], m.get("seed", 1), m["n_real"], m["n_speed"],
                    m["repeats"], m["jobs"]))
        if m.get("split", "dev") != "dev":
            L.append("* **%s split: reported, never tuned on.** Speed and the real clips are measured in the dev "
                     "report (`bench/results/report.md`)." % m["split"])
    L.append("")
    L += split_comparison(data)
    for suite in SUITE_ORDER:
        sd = data["suites"].get(suite)
        if not sd:
            continue
        agg = summary[suite]
        L += ["## %s" % SUITE_TITLES[suite], ""]
        for set_name, title in SETS:
            acc = agg["accuracy"].get(set_name)
            if acc:
                L += ["### Accuracy, %s" % title, ""] + _accuracy_table(suite, acc, sd["tools"]) + [""]
        detail = _real_detail(suite, sd)
        if detail:
            L += ["Real clips, one by one:", ""] + detail + [""]
        L += ["### Speed (whole command per file, decoding included)", ""]
        L += _speed_table(agg["speed"], sd["tools"]) + [""]
        L += ["Tools:", ""]
        for t in sd["tools"]:
            L.append("* **%s** %s — %s" % (t["name"], ("(%s)" % t["version"]) if t["version"] else "",
                                          t["description"] if t["available"] else "not run: " + t["reason"]))
        L.append("")
        for p in plots.get(suite, []):
            L.append("![%s](%s)" % (os.path.splitext(p)[0], p))
        L.append("")
    if data["suites"].get("decode"):
        L += ["## Decode speed", ""] + _decode_lines(data["suites"]["decode"]) + [""]
    L += ["## How to read this", "",
          "* Scores are mir_eval 0.7 (Debian python3-mir-eval): tempo Acc1 = within 4 %, Acc1 ±1 % = within "
          "1 %, Acc2 = within 4 % after factors 2, 3, 1/2, 1/3 (each a `mir_eval.tempo.detection` call); "
          "beat F-measure (±70 ms), CMLt, AMLt from `mir_eval.beat` after its 5 s trim; downbeat F-measure "
          "is `mir_eval.beat.f_measure` on downbeats; key is `mir_eval.key.weighted_score` (1 / 0.5 fifth / "
          "0.3 relative / 0.2 parallel / 0), exact = 1. Meter accuracy is exact label equality.",
          "* A tool's missing estimate scores 0 and is counted under *no estimate*; `—` means the tool does "
          "not offer that output at all (aubio and Essentia have no downbeats; only Harmony reports meter).",
          "* Downbeat F (high-conf.) uses only corpus tracks whose downbeat annotation has confidence "
          "`high` (the three independent phase votes agree; see ../shared/corpus/README.md).",
          "* Speed: wall and CPU seconds of the whole command per file, median over runs, summed over files; "
          "× real time = audio seconds / wall seconds; peak RSS is the largest process of the command's tree. "
          "Harmony/peer < 1 means Harmony is faster or smaller. Peer results may come from the cache "
          "($HARMONY_BENCH_CACHE/peers, keyed by tool version and file); the *cached* column counts them.",
          ""]
    return "\n".join(L)


def write_all(data, out, plots=True, log=print):
    summary = {}
    for suite in SUITE_ORDER:
        sd = data["suites"].get(suite)
        if not sd:
            continue
        summary[suite] = aggregate(sd)
        write_csv(os.path.join(out, "%s_tracks.csv" % suite), suite, sd["results"])
    plot_files = {}
    if plots and any(s in data["suites"] for s in ("rhythm", "key")):
        from . import plots as plotmod
        try:
            plot_files = plotmod.make_all(data, out)
        except Exception as e:  # plots are a convenience; never lose the report over them
            log("plots failed: %s" % e)
    slim = {"meta": data["meta"], "summary": summary, "suites": {}}
    for name, sd in data["suites"].items():
        if name == "decode":
            slim["suites"][name] = sd
        else:
            slim["suites"][name] = {"tools": sd["tools"], "results": [_slim(r) for r in sd["results"]]}
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(slim, f, separators=(",", ":"), sort_keys=True)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(markdown(data, summary, plot_files))
    for suite, agg in summary.items():
        acc = agg["accuracy"].get("corpus", {})
        for name, a in acc.items():
            if suite == "rhythm":
                log("  %-18s rhythm  Acc1 %s  Acc2 %s  BeatF %s  DownbeatF %s" % (
                    name, _fmt(a.get("acc1")), _fmt(a.get("acc2")), _fmt(a.get("beat_f")), _fmt(a.get("downbeat_f"))))
            elif suite == "sections":
                log("  %-18s sections  F@0.5 %s  F@2 %s  F@3 %s  pairwise F %s  intro %s  outro %s" % (
                    name, _fmt(a.get("F@0.5")), _fmt(a.get("F@2")), _fmt(a.get("F@3")), _fmt(a.get("pairwise_F")),
                    _fmt(a.get("intro_acc")), _fmt(a.get("outro_acc"))))
            elif suite == "chords":
                log("  %-18s chords  root %s  majmin %s  majmin_inv %s  sevenths %s  mirex %s" % (
                    name, _fmt(a.get("root")), _fmt(a.get("majmin")), _fmt(a.get("majmin_inv")),
                    _fmt(a.get("sevenths")), _fmt(a.get("mirex"))))
            elif suite == "notes":
                log("  %-18s notes   melody F %s (offsets %s, n=%d)  bass F %s (offsets %s, n=%d)" % (
                    name, _fmt(a.get("melody_f")), _fmt(a.get("melody_f_offset")), a.get("n_melody_f", 0),
                    _fmt(a.get("bass_f")), _fmt(a.get("bass_f_offset")), a.get("n_bass_f", 0)))
            else:
                log("  %-18s key     weighted %s  exact %s" % (name, _fmt(a.get("key_weighted")),
                                                                _fmt(a.get("key_exact"))))
    return summary
