"""bench/run: accuracy and speed of Harmony and its peers, on the same files in the same run."""
import argparse
import datetime
import hashlib
import os
import shutil
import subprocess
import tempfile
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from . import corpus, paths, realclips, report, runner, scoring, tools

SUITES = ("rhythm", "key", "sections", "chords", "notes")


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    ap.add_argument("--suite", choices=("rhythm", "key", "sections", "chords", "notes", "decode", "all"), default="all")
    ap.add_argument("--split", choices=tuple(corpus.SPLITS), default="dev",
                    help="dev (songs 1-200, seed 1: tune on this) or test (frozen, seed 101: reported beside "
                         "dev, never tuned on; no real clips, no speed repeats, no baseline)")
    ap.add_argument("--quick", action="store_true",
                    help="the CI subset: bench/sets/quick.txt (30 songs) + the labelled real clips")
    ap.add_argument("--set", default=None,
                    help="song set from bench/sets/ (default: quick with --quick, else the split's set)")
    ap.add_argument("--songs", default=None, help="explicit song ids, e.g. 1-20 or 3,7 (overrides --set)")
    ap.add_argument("--no-real", action="store_true", help="skip the real clips of ../shared/data")
    ap.add_argument("--tools", default=None,
                    help="comma list of rows to run: harmony,aubio,qm-dsp,essentia (default all)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed runs per tool and file (default 1 with --quick, else 3)")
    ap.add_argument("--speed-set", default=None,
                    help="with a full run, files in this set get --repeats runs, the others one run "
                         "(default: speed, 10 songs); 'all' times every file --repeats times")
    ap.add_argument("--jobs", type=int, default=1,
                    help="files analysed in parallel (default 1: timings are cleanest serial)")
    ap.add_argument("--rerun-peers", action="store_true", help="ignore cached peer results")
    ap.add_argument("--cached-timings", action="store_true",
                    help="let timed files reuse cached peer timings too (the default with --quick; "
                         "a full run re-times every peer on the timed files in the same run)")
    ap.add_argument("--out", default=None,
                    help="report folder (default bench/results/latest with --quick, bench/results/test with "
                         "--split test, else bench/results)")
    ap.add_argument("--check-baseline", action="store_true",
                    help="exit 1 if Harmony is below bench/baseline/quick.json by more than its margin")
    ap.add_argument("--update-baseline", action="store_true",
                    help="write Harmony's quick-set scores to bench/baseline/quick.json")
    ap.add_argument("--no-plots", action="store_true")
    return ap.parse_args(argv)


def log(msg):
    print(msg, flush=True)


def git_info():
    def g(*a):
        r = subprocess.run(["git", "-C", paths.REPO_DIR] + list(a), capture_output=True, text=True)
        return r.stdout.strip()
    return {"commit": g("rev-parse", "HEAD") or "unknown", "describe": g("describe", "--always", "--dirty"),
            "dirty": bool(g("status", "--porcelain", "--", ".", ":!bench/results"))}


def select_tracks(args, shared):
    split = corpus.SPLITS[args.split]
    if args.songs:
        songs, set_name = corpus.parse_songs(args.songs), "songs " + args.songs
    else:
        set_name = args.set or ("quick" if args.quick else split["set"])
        songs = corpus.song_list(set_name)
    seed = split["seed"]
    if not corpus.ensure_rendered(songs, shared, jobs=min(args.jobs, 2) if args.jobs > 1 else 2, seed=seed,
                                  log=log):
        log("warning: some renders are missing; they are left out")
    tracks = corpus.load_corpus_tracks(songs, seed=seed)
    if not args.no_real:
        tracks += realclips.load_real_clips(shared)
    return tracks, set_name


def run_suite(suite, tracks, args, speed_ids):
    names = set(args.tools.split(",")) if args.tools else None
    rows = tools.tools_for(suite, names)
    tool_info = []
    for t in rows:
        ok, why = t.available()
        tool_info.append({"name": t.name, "available": ok, "reason": why, "peer": t.peer,
                          "version": t.version() if ok else "", "description": t.description,
                          "provides": list(t.provides)})
        log("  %-20s %s" % (t.name, ("ok  " + tool_info[-1]["version"]) if ok else "SKIPPED: " + why))
    jobs = []
    for tr in tracks:
        wanted = [tr["truth"].get(k) for k in
                  {"rhythm": ("tempo_bpm", "beats"), "key": ("key",), "sections": ("sections",),
                   "chords": ("chords",), "notes": ("melody_notes", "bass_notes")}[suite]]
        if not any(wanted):
            continue
        for t, info in zip(rows, tool_info):
            if info["available"]:
                reps = args.repeats if tr["id"] in speed_ids else 1
                jobs.append((tr, t, info, reps))
    results = []
    errors = {}
    done = [0]
    t0 = time.time()

    def work(job):
        tr, t, info, reps = job
        fresh = tr["id"] in speed_ids and not args.cached_timings
        res = runner.run_tool(t, info["version"], tr, reps, use_cache=not (args.rerun_peers or fresh))
        sc = {"rhythm": scoring.score_rhythm, "key": scoring.score_key, "sections": scoring.score_sections,
              "chords": scoring.score_chords, "notes": scoring.score_notes}[suite](
            tr["truth"], res.get("estimate") if res["status"] == "ok" else None, t.provides)
        done[0] += 1
        if done[0] % 20 == 0 or done[0] == len(jobs):
            log("  [%s %d/%d] %.0f s" % (suite, done[0], len(jobs), time.time() - t0))
        if res["status"] != "ok":
            errors[t.name] = errors.get(t.name, 0) + 1
            if errors[t.name] <= 2:
                log("  ! %s on %s: %s%s" % (t.name, tr["id"], (res["error"] or "")[:200],
                                            " (further errors of this tool are only counted)"
                                            if errors[t.name] == 2 else ""))
        return {"suite": suite, "tool": t.name, "track": tr["id"], "set": tr["set"],
                "format": tr["format"], "duration_s": tr["duration_s"], "speed_sample": tr["id"] in speed_ids,
                "status": res["status"], "error": res.get("error"), "cached": res.get("cached", False),
                "wall_s": res.get("wall_s"), "cpu_s": res.get("cpu_s"), "rss_mb": res.get("rss_mb"),
                "n_runs": res.get("n_runs", 0), "runs": res.get("runs", []),
                "estimate": res.get("estimate"), "scores": sc,
                "truth_label": report._truth_label(suite, tr["truth"]), "note": tr.get("note"),
                "truth_bpm": tr["truth"].get("tempo_bpm"), "truth_key": tr["truth"].get("key")}

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        results = list(ex.map(work, jobs))
    for name, n in errors.items():
        log("  %s: %d file(s) failed" % (name, n))
    return {"suite": suite, "tools": tool_info, "results": results}


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    shared = paths.shared_dir()
    if not corpus.corpus_present(shared):
        log("bench: %s (../shared/corpus) is absent: no evaluation corpus, nothing to measure. "
            "Skipping the benchmark (exit 0)." % shared)
        return 0
    if (args.check_baseline or args.update_baseline) and not args.quick:
        log("bench: --check-baseline / --update-baseline compare the quick set; add --quick")
        return 2
    if args.split != "dev":
        if args.quick or args.check_baseline or args.update_baseline:
            log("bench: the %s split is reported, never tuned on or gated: no --quick, --check-baseline or "
                "--update-baseline with it" % args.split)
            return 2
        args.no_real = True  # the real clips are not part of a split; the dev report has them
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.quick:
        args.cached_timings = True
    out = args.out or os.path.join(paths.BENCH_DIR, "results",
                                   "latest" if args.quick else ("" if args.split == "dev" else args.split))
    out = os.path.abspath(out)
    os.makedirs(out, exist_ok=True)
    suites = SUITES if args.suite == "all" else ((args.suite,) if args.suite != "decode" else ())
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "git": git_info(), "command": "bench/run " + " ".join(argv if argv is not None else sys.argv[1:]),
            "repeats": args.repeats, "jobs": args.jobs, "host": host_info(),
            "split": args.split, "seed": corpus.SPLITS[args.split]["seed"]}
    t_start = time.time()
    data = {"meta": meta, "suites": {}}
    frozen = freeze_harmony(meta)
    if suites:
        tracks, set_name = select_tracks(args, shared)
        meta["set"] = set_name
        if args.split != "dev" and not args.speed_set:
            speed_ids = set()  # speed is measured on the dev split; here every file runs once
        elif args.quick or args.songs or args.set or args.speed_set == "all":
            speed_ids = {t["id"] for t in tracks}
        else:
            sp = set(corpus.song_list(args.speed_set or "speed"))
            speed_ids = {t["id"] for t in tracks
                         if t["set"] == "real" or int(t["id"].split("-")[1]) in sp}
        meta["n_corpus"] = sum(t["set"] == "corpus" for t in tracks)
        meta["n_real"] = sum(t["set"] == "real" for t in tracks)
        meta["n_speed"] = len(speed_ids)
        log("bench: %d corpus tracks (%s) + %d real clips; %d timed %d× -> %s" % (
            meta["n_corpus"], set_name, meta["n_real"], len(speed_ids), args.repeats, out))
        for s in suites:
            log("suite %s:" % s)
            data["suites"][s] = run_suite(s, tracks, args, speed_ids)
    if args.suite in ("decode", "all") and args.split == "dev":
        from . import decode_suite
        log("suite decode:")
        data["suites"]["decode"] = decode_suite.run(args.repeats if not args.quick else 3, log=log)
    meta["elapsed_s"] = time.time() - t_start
    if frozen:
        shutil.rmtree(frozen, ignore_errors=True)
    summary = report.write_all(data, out, plots=not args.no_plots, log=log)
    rc = 0
    if args.update_baseline or args.check_baseline:
        from . import baseline
        if args.update_baseline:
            baseline.update(summary, log=log)
        if args.check_baseline:
            rc = baseline.check(summary, log=log)
    log("bench: done in %.0f s; report %s" % (time.time() - t_start, os.path.join(out, "report.md")))
    return rc


def freeze_harmony(meta):
    """Copies the Harmony binary to a temporary folder and uses that copy for the whole run, so a
    rebuild during a long run cannot mix two builds in one report. Records its hash and mtime."""
    src = paths.harmony_bin()
    if not (os.path.isfile(src) and os.access(src, os.X_OK)):
        return None
    d = tempfile.mkdtemp(prefix="hbench-bin-")
    dst = os.path.join(d, "harmony")
    shutil.copy2(src, dst)
    with open(dst, "rb") as f:
        digest = hashlib.sha1(f.read()).hexdigest()[:12]
    meta["harmony_binary"] = {"path": src, "sha1": digest, "built": datetime.datetime.fromtimestamp(
        os.path.getmtime(src), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    os.environ["HARMONY_BIN"] = dst
    return d


def host_info():
    info = {"cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info
