#!/usr/bin/env python3
"""Load run for `harmony serve` on loopback (issue 7, "Measured").

Starts its own server (SQLite store in a temp data dir), synthesises N distinct short WAV clips,
submits them all concurrently (one thread per job, released together by a barrier), and while the
queue drains, a few pollers time GET /v1/jobs/{id}. At the end it checks that every accepted job
succeeded, none was lost and none ran twice (attempts == 1 for every job, and the server's
analyses counter equals N), and prints the figures as JSON.

    bench/server/load.py --harmony build/harmony [--jobs 500] [--pollers 8] [--clip-s 1.0]

Standard library only. Bounded: --timeout-s caps the whole run.
"""
import argparse
import http.client
import json
import math
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave
import io


def make_wav(seed, seconds, rate=22050):
    rng = random.Random(seed)
    f0 = 110.0 * 2 ** (rng.randrange(36) / 12.0)
    bpm = 90 + rng.randrange(60)
    n = int(seconds * rate)
    beat = 60.0 / bpm
    frames = bytearray()
    for i in range(n):
        t = i / rate
        x = 0.25 * math.sin(2 * math.pi * f0 * t) + 0.12 * math.sin(2 * math.pi * 1.5 * f0 * t)
        tb = t % beat
        x += 0.6 * math.exp(-tb * 60.0) * (rng.random() * 2 - 1)
        frames += struct.pack('<h', max(-32767, min(32767, int(x * 20000))))
    buf = io.BytesIO()
    with wave.open(buf, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return buf.getvalue()


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo, hi = int(math.floor(k)), int(math.ceil(k))
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def request(port, method, path, body=None, headers=None, timeout=60):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--harmony', default='build/harmony')
    ap.add_argument('--jobs', type=int, default=500)
    ap.add_argument('--pollers', type=int, default=8)
    ap.add_argument('--clip-s', type=float, default=1.0)
    ap.add_argument('--workers', type=int, default=0, help='server analysis threads (0: its default)')
    ap.add_argument('--timeout-s', type=float, default=900)
    ap.add_argument('--out', default='')
    a = ap.parse_args()

    clips = [make_wav(1000 + i, a.clip_s) for i in range(a.jobs)]
    tmp = tempfile.mkdtemp(prefix='harmony-load-')
    port_file = os.path.join(tmp, 'port')
    cmd = [a.harmony, 'serve', '--port', '0', '--port-file', port_file, '--data-dir', os.path.join(tmp, 'data'),
           '--quiet', '--max-connections', str(a.jobs + 64)]
    if a.workers:
        cmd += ['--jobs', str(a.workers)]
    server = subprocess.Popen(cmd)
    deadline = time.time() + a.timeout_s
    try:
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if server.poll() is not None or time.time() > deadline:
                sys.exit('server did not start')
            time.sleep(0.05)
        port = int(open(port_file).read())

        ids = [None] * a.jobs
        submit_lat = [None] * a.jobs
        errors = []
        barrier = threading.Barrier(a.jobs)
        known = []

        def submit(i):
            barrier.wait()
            t0 = time.perf_counter()
            try:
                st, body = request(port, 'POST', '/v1/jobs?filename=clip%d.wav' % i, clips[i],
                                   {'Content-Type': 'audio/wav'})
            except Exception as e:  # noqa: BLE001 - counted as lost
                errors.append('submit %d: %s' % (i, e))
                return
            submit_lat[i] = time.perf_counter() - t0
            if st != 202:
                errors.append('submit %d: HTTP %d %s' % (i, st, body[:200]))
                return
            ids[i] = json.loads(body)['id']
            with lock:
                known.append(ids[i])

        # Status latency under load: from the first accepted job, through the burst, until drained.
        status_lat = []
        stop = threading.Event()
        lock = threading.Lock()

        def poll(seed):
            rng = random.Random(seed)
            c = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
            while not stop.is_set():
                with lock:
                    if not known:
                        jid = None
                    else:
                        jid = rng.choice(known)
                if jid is None:
                    time.sleep(0.005)
                    continue
                t0 = time.perf_counter()
                c.request('GET', '/v1/jobs/' + jid)
                r = c.getresponse()
                r.read()
                dt = time.perf_counter() - t0
                with lock:
                    status_lat.append((t0, dt))
                if r.status != 200:
                    errors.append('status %s: HTTP %d' % (jid, r.status))
            c.close()

        pollers = [threading.Thread(target=poll, args=(s,)) for s in range(a.pollers)]
        for t in pollers:
            t.start()
        t_start = time.perf_counter()
        threads = [threading.Thread(target=submit, args=(i,)) for i in range(a.jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        t_submitted = time.perf_counter()
        accepted = [x for x in ids if x]

        while time.time() < deadline:
            st, body = request(port, 'GET', '/health')
            h = json.loads(body)
            if h['jobs']['queued'] == 0 and h['jobs']['running'] == 0:
                break
            time.sleep(0.2)
        t_done = time.perf_counter()
        stop.set()
        for t in pollers:
            t.join()

        # Verify: every job succeeded, each ran exactly once.
        states, attempts = {}, {}
        for jid in accepted:
            st, body = request(port, 'GET', '/v1/jobs/' + jid)
            j = json.loads(body)
            states[j['status']] = states.get(j['status'], 0) + 1
            attempts[j['attempts']] = attempts.get(j['attempts'], 0) + 1
        st, body = request(port, 'GET', '/health')
        health = json.loads(body)
        ok = (len(accepted) == a.jobs and len(set(accepted)) == a.jobs and states.get('succeeded') == a.jobs
              and attempts.get(1) == a.jobs and health['analyses'] == a.jobs and not errors)
        all_lat = [d for _, d in status_lat]
        burst_lat = [d for t, d in status_lat if t < t_submitted]

        def ms(v, p):
            return round(1000 * pct(v, p), 2) if v else None

        res = {
            'pollers': a.pollers,
            'server_workers': a.workers or os.cpu_count(),
            'jobs_submitted': a.jobs,
            'jobs_accepted': len(accepted),
            'distinct_ids': len(set(accepted)),
            'final_states': states,
            'attempts_histogram': {str(k): v for k, v in attempts.items()},
            'server_analyses_counter': health['analyses'],
            'lost': a.jobs - states.get('succeeded', 0),
            'run_twice': sum(v for k, v in attempts.items() if k > 1) + max(0, health['analyses'] - a.jobs),
            'clip_s': a.clip_s,
            'submit_wall_s': round(t_submitted - t_start, 3),
            'submit_latency_ms_p50': round(1000 * pct([x for x in submit_lat if x], 50), 1),
            'submit_latency_ms_p99': round(1000 * pct([x for x in submit_lat if x], 99), 1),
            'drain_wall_s': round(t_done - t_start, 3),
            'jobs_per_s': round(a.jobs / (t_done - t_start), 1),
            'status_requests': len(status_lat),
            'status_latency_ms_p50': ms(all_lat, 50),
            'status_latency_ms_p99': ms(all_lat, 99),
            'status_requests_during_submit_burst': len(burst_lat),
            'status_latency_during_burst_ms_p50': ms(burst_lat, 50),
            'status_latency_during_burst_ms_p99': ms(burst_lat, 99),
            'errors': errors[:10],
            'ok': ok,
        }
        print(json.dumps(res, indent=2))
        if a.out:
            with open(a.out, 'w') as f:
                json.dump(res, f, indent=2)
        return 0 if ok else 1
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        subprocess.run(['rm', '-rf', tmp])


if __name__ == '__main__':
    sys.exit(main())
