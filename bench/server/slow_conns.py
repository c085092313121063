#!/usr/bin/env python3
"""Slow and idle connections against `harmony serve` (issue 19, "Measured").

Starts its own server (SQLite store in a temp data dir, --idle-timeout and --max-connections as
given), opens --hostile connections that never finish a request (half of them idle: connect and
send nothing; half slow: one byte of a request header every --trickle-s seconds), and reopens each
one the moment the server closes it, so the pressure never lets up. While they are held, --jobs
clients submit a short WAV each (concurrently, one new connection per submit) and --pollers time
GET /v1/jobs/{id} on keep-alive connections until every job is finished. With --max-connections
below the number of hostile connections the server is full the whole time: every legitimate
connection is let in by evicting the longest-idle one.

Checks: every job accepted and succeeded, no legitimate request refused or failed, and the status
p99 under --p99-limit-ms. Prints the figures as JSON; exit status 0 only when all hold.

    bench/server/slow_conns.py --harmony build/harmony [--hostile 200] [--jobs 50] \
        [--max-connections 128] [--idle-timeout 5]

Standard library only.
"""
import argparse
import http.client
import json
import os
import random
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load import make_wav, pct, request  # noqa: E402


class Hostile(threading.Thread):
    """N connections that never complete a request, reopened whenever the server closes one."""

    SLOW_REQUEST = b'GET /v1/jobs/0123456789abcdef0123456789abcdef HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ' + b'a' * 4000

    def __init__(self, port, n, trickle_s):
        super().__init__(daemon=True)
        self.port, self.n, self.trickle_s = port, n, trickle_s
        self.stop = threading.Event()
        self.sel = selectors.DefaultSelector()
        self.conns = {}  # socket -> {'slow': bool, 'sent': int, 'next': t, 'opened': t}
        self.opened = 0
        self.closed_by_server = 0
        self.lifetimes = []  # seconds each closed connection was held
        self.connect_failures = 0
        self.held_samples = []  # connections open, sampled every second

    def open_one(self, slow):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect(('127.0.0.1', self.port))
        except OSError:
            self.connect_failures += 1
            s.close()
            return
        s.setblocking(False)
        now = time.monotonic()
        self.conns[s] = {'slow': slow, 'sent': 0, 'next': now + random.random() * self.trickle_s, 'opened': now}
        self.sel.register(s, selectors.EVENT_READ)
        self.opened += 1

    def run(self):
        for i in range(self.n):
            self.open_one(slow=(i % 2 == 1))
        last_sample = time.monotonic()
        while not self.stop.is_set():
            for key, _ in self.sel.select(timeout=0.05):
                s = key.fileobj
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b''
                if data:
                    continue  # an answer (408/503...): keep reading until the server closes
                info = self.conns.pop(s)
                self.sel.unregister(s)
                s.close()
                self.closed_by_server += 1
                self.lifetimes.append(time.monotonic() - info['opened'])
                if not self.stop.is_set():
                    self.open_one(info['slow'])
            now = time.monotonic()
            for s, info in list(self.conns.items()):
                if info['slow'] and now >= info['next'] and info['sent'] < len(self.SLOW_REQUEST):
                    try:
                        s.send(self.SLOW_REQUEST[info['sent']:info['sent'] + 1])
                        info['sent'] += 1
                    except OSError:
                        pass
                    info['next'] = now + self.trickle_s
            if now - last_sample >= 1.0:
                self.held_samples.append(len(self.conns))
                last_sample = now
        for s in list(self.conns):
            s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--harmony', default='build/harmony')
    ap.add_argument('--hostile', type=int, default=200, help='slow or idle connections held open')
    ap.add_argument('--jobs', type=int, default=50)
    ap.add_argument('--pollers', type=int, default=4)
    ap.add_argument('--workers', type=int, default=0, help='server analysis threads (0: its default)')
    ap.add_argument('--clip-s', type=float, default=2.0)
    ap.add_argument('--max-connections', type=int, default=128)
    ap.add_argument('--idle-timeout', type=int, default=5)
    ap.add_argument('--trickle-s', type=float, default=1.0, help='seconds between bytes of a slow connection')
    ap.add_argument('--warmup-s', type=float, default=3.0, help='hostile connections alone before the jobs')
    ap.add_argument('--job-delay-ms', type=int, default=0,
                    help='--debug-job-delay-ms: each job runs at least this long (a longer window under attack)')
    ap.add_argument('--p99-limit-ms', type=float, default=100.0)
    ap.add_argument('--timeout-s', type=float, default=600)
    ap.add_argument('--out', default='')
    a = ap.parse_args()

    clips = [make_wav(5000 + i, a.clip_s) for i in range(a.jobs)]
    tmp = tempfile.mkdtemp(prefix='harmony-slow-')
    port_file = os.path.join(tmp, 'port')
    cmd = [a.harmony, 'serve', '--port', '0', '--port-file', port_file, '--data-dir', os.path.join(tmp, 'data'),
           '--quiet', '--max-connections', str(a.max_connections), '--idle-timeout', str(a.idle_timeout)]
    if a.workers:
        cmd += ['--jobs', str(a.workers)]
    if a.job_delay_ms:
        cmd += ['--debug-job-delay-ms', str(a.job_delay_ms)]
    server = subprocess.Popen(cmd)
    deadline = time.time() + a.timeout_s
    hostile = None
    try:
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if server.poll() is not None or time.time() > deadline:
                sys.exit('server did not start')
            time.sleep(0.05)
        port = int(open(port_file).read())

        hostile = Hostile(port, a.hostile, a.trickle_s)
        hostile.start()
        time.sleep(a.warmup_s)
        held_before_jobs = len(hostile.conns)

        errors, lock = [], threading.Lock()
        ids, submit_lat, known = [None] * a.jobs, [None] * a.jobs, []
        barrier = threading.Barrier(a.jobs)

        def submit(i):
            barrier.wait()
            t0 = time.perf_counter()
            try:
                st, body = request(port, 'POST', '/v1/jobs?filename=clip%d.wav' % i, clips[i],
                                   {'Content-Type': 'audio/wav'})
            except Exception as e:  # noqa: BLE001 - a refused or dropped client is a failure
                errors.append('submit %d: %s' % (i, e))
                return
            submit_lat[i] = time.perf_counter() - t0
            if st != 202:
                errors.append('submit %d: HTTP %d %s' % (i, st, body[:200]))
                return
            ids[i] = json.loads(body)['id']
            with lock:
                known.append(ids[i])

        status_lat, reconnects = [], [0]
        stop = threading.Event()

        def poll(seed):
            rng = random.Random(seed)
            c = None
            while not stop.is_set():
                with lock:
                    jid = rng.choice(known) if known else None
                if jid is None:
                    time.sleep(0.005)
                    continue
                t0 = time.perf_counter()
                for attempt in range(2):
                    try:
                        if c is None:
                            c = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
                        c.request('GET', '/v1/jobs/' + jid)
                        r = c.getresponse()
                        r.read()
                        break
                    except (ConnectionError, http.client.HTTPException, OSError) as e:
                        # The server closed our keep-alive connection (evicted while idle between
                        # two requests): a new one, as any HTTP client does. Counted.
                        c.close()
                        c = None
                        with lock:
                            reconnects[0] += 1
                        if attempt == 1:
                            errors.append('status %s: %s' % (jid, e))
                            r = None
                dt = time.perf_counter() - t0
                if r is None:
                    continue
                with lock:
                    status_lat.append(dt)
                if r.status != 200:
                    errors.append('status %s: HTTP %d' % (jid, r.status))
                time.sleep(0.01)
            if c is not None:
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
        accepted = [x for x in ids if x]
        done = set()
        checks = 0
        while time.time() < deadline and len(done) < len(accepted):
            for jid in accepted:
                if jid in done:
                    continue
                checks += 1
                try:
                    st, body = request(port, 'GET', '/v1/jobs/' + jid)
                except Exception as e:  # noqa: BLE001
                    errors.append('check %s: %s' % (jid, e))
                    continue
                if st == 200 and json.loads(body)['status'] in ('succeeded', 'failed', 'canceled'):
                    done.add(jid)
            time.sleep(0.5)
        t_done = time.perf_counter()
        stop.set()
        for t in pollers:
            t.join()
        held_end = len(hostile.conns)
        hostile.stop.set()
        hostile.join(5)

        states = {}
        for jid in accepted:
            st, body = request(port, 'GET', '/v1/jobs/' + jid)
            s = json.loads(body)['status']
            states[s] = states.get(s, 0) + 1
        ok = (len(accepted) == a.jobs and states.get('succeeded') == a.jobs and not errors and status_lat
              and pct(status_lat, 99) * 1000 < a.p99_limit_ms)
        lifetimes = sorted(hostile.lifetimes)
        res = {
            'hostile_connections': a.hostile,
            'hostile_held_when_jobs_started': held_before_jobs,
            'hostile_held_min_during_run': min(hostile.held_samples) if hostile.held_samples else None,
            'hostile_held_at_end': held_end,
            'hostile_opened_total': hostile.opened,
            'hostile_closed_by_server': hostile.closed_by_server,
            'hostile_lifetime_s_p50': round(pct(lifetimes, 50), 2) if lifetimes else None,
            'hostile_lifetime_s_max': round(lifetimes[-1], 2) if lifetimes else None,
            'max_connections': a.max_connections,
            'idle_timeout_s': a.idle_timeout,
            'job_delay_ms': a.job_delay_ms,
            'trickle_s': a.trickle_s,
            'jobs_submitted': a.jobs,
            'jobs_accepted': len(accepted),
            'final_states': states,
            'submit_latency_ms_p50': round(1000 * pct([x for x in submit_lat if x], 50), 1) if accepted else None,
            'submit_latency_ms_p99': round(1000 * pct([x for x in submit_lat if x], 99), 1) if accepted else None,
            'all_jobs_finished_s': round(t_done - t_start, 2),
            'status_requests': len(status_lat),
            'status_latency_ms_p50': round(1000 * pct(status_lat, 50), 2) if status_lat else None,
            'status_latency_ms_p99': round(1000 * pct(status_lat, 99), 2) if status_lat else None,
            'status_latency_ms_max': round(1000 * max(status_lat), 2) if status_lat else None,
            'poller_reconnects': reconnects[0],
            'check_requests_new_connection_each': checks,
            'errors': errors[:10],
            'ok': bool(ok),
        }
        print(json.dumps(res, indent=2))
        if a.out:
            with open(a.out, 'w') as f:
                json.dump(res, f, indent=2)
        return 0 if ok else 1
    finally:
        if hostile is not None:
            hostile.stop.set()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        subprocess.run(['rm', '-rf', tmp])


if __name__ == '__main__':
    sys.exit(main())
