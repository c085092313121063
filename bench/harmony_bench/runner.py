"""Runs a tool on a file, times it and caches peer results.

Timing: every run is a fresh process under /usr/bin/time, so the figures are the whole command
(decoding included): wall seconds (perf_counter around the command), CPU seconds (user + sys of the
process and the children it waited for, e.g. an ffmpeg decoder) and peak RSS (GNU time's %M: the
largest single process of that tree, in kB). The estimate comes from the first run; the
other runs only add timings. The per-file speed figure is the median over runs.

Peer results are cached under $HARMONY_BENCH_CACHE/peers/ keyed by tool, tool version (package
version + wrapper hash) and the audio file's path, size and mtime. Harmony is never cached.
"""
import hashlib
import json
import os
import statistics
import subprocess
import tempfile
import time

from . import paths

TIMEOUT_S = 900


TIME_BIN = "/usr/bin/time"


def timed_run(argv, timeout=TIMEOUT_S, discard_stdout=False):
    """-> dict(rc, wall_s, cpu_s, rss_kb, stdout, stderr)

    The command runs under GNU time (Debian package `time`), which reports the peak RSS and CPU
    time of the command's process tree. Reaping the command directly from this Python process
    would report at least Python's own RSS: a forked child inherits the parent's RSS high-water
    mark. Without /usr/bin/time, os.wait4's rusage is used (and the RSS figure has that floor).
    """
    use_time = os.access(TIME_BIN, os.X_OK)
    with open(os.devnull, "wb") if discard_stdout else tempfile.TemporaryFile() as out, \
            tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as tf:
        cmd = ([TIME_BIN, "-f", "%M %U %S", "-o", tf.name] if use_time else []) + list(argv)
        t0 = time.perf_counter()
        try:
            p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        except OSError as e:
            return {"rc": 127, "wall_s": 0.0, "cpu_s": 0.0, "rss_kb": 0, "stdout": "", "stderr": str(e)}
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        wall = time.perf_counter() - t0
        rc = p.returncode
        cpu, rss = 0.0, 0
        if use_time:
            lines = tf.read().strip().splitlines()
            try:
                m, u, s = lines[-1].split()
                rss, cpu = int(m), float(u) + float(s)
            except (IndexError, ValueError):
                pass
            if rc == 127 and any("No such file" in ln or "cannot run" in ln for ln in lines):
                err.write(("\n".join(lines)).encode())
        err.seek(0)
        stdout = b""
        if not discard_stdout:
            out.seek(0)
            stdout = out.read()
        return {"rc": rc, "wall_s": wall, "cpu_s": cpu, "rss_kb": rss,
                "stdout": stdout.decode("utf-8", "replace"),
                "stderr": err.read().decode("utf-8", "replace")[-2000:]}


def _cache_file(tool, version, track):
    st = os.stat(track["path"])
    key = json.dumps([tool.suite, tool.name, version, os.path.abspath(track["path"]), st.st_size,
                      st.st_mtime_ns])
    h = hashlib.sha1(key.encode()).hexdigest()[:20]
    d = os.path.join(paths.cache_dir(), "peers", tool.suite, tool.name)
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, "%s-%s.json" % (track["id"], h))


def run_tool(tool, version, track, repeats, use_cache=True):
    """-> result dict: status, estimate, runs[{wall_s,cpu_s,rss_kb}], median figures, cached."""
    cache = _cache_file(tool, version, track) if tool.peer else None
    res, fresh = None, False
    if cache and use_cache and os.path.exists(cache):
        try:
            with open(cache) as f:
                res = json.load(f)
            res["cached"] = True
            if res.get("estimate") is not None:
                res["estimate"] = tool.refresh(res["estimate"])
        except (OSError, ValueError):
            res = None
    if res is None:
        res = {"status": "ok", "estimate": None, "runs": [], "error": None, "cached": False}
    if res["status"] == "ok" and res["estimate"] is None:
        res["runs"] = []
    with tempfile.TemporaryDirectory(prefix="hbench-") as tmp:
        outfile = os.path.join(tmp, "out.json")
        while res["status"] == "ok" and len(res["runs"]) < repeats:
            r = timed_run(tool.command(track["path"], outfile))
            if r["rc"] != 0:
                res.update(status="error", error="exit %d: %s" % (r["rc"], r["stderr"].strip()[-400:]))
                break
            if res["estimate"] is None:
                try:
                    res["estimate"] = tool.parse(r["stdout"], outfile)
                except (OSError, ValueError, KeyError, TypeError) as e:
                    res.update(status="error", error="unparseable output: %s" % e)
                    break
            res["runs"].append({k: r[k] for k in ("wall_s", "cpu_s", "rss_kb")})
            fresh = True
    res["cached"] = res["cached"] and not fresh
    runs = res["runs"][:max(repeats, 1)]
    if runs:
        res["wall_s"] = statistics.median(r["wall_s"] for r in runs)
        res["cpu_s"] = statistics.median(r["cpu_s"] for r in runs)
        res["rss_mb"] = max(r["rss_kb"] for r in runs) / 1024.0
        res["n_runs"] = len(runs)
    if cache and res["status"] == "ok" and fresh:
        with open(cache, "w") as f:
            json.dump({k: res[k] for k in ("status", "estimate", "runs", "error")}, f)
    return res
