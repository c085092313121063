#!/usr/bin/env python3
"""kill -9 cycles with a poisoned job, SQLite mode (issue 19, "Measured").

Fills a SQLite queue through `harmony serve --jobs 0` (one "poisoned" job first, then N ordinary
jobs), then starts `harmony serve` on it (--max-attempts M, --debug-job-delay-ms D so that every
job is running for at least D ms, one worker by default) and kills it with SIGKILL --cycles times,
restarting it on the same data dir each time:
  * while the poisoned job has attempts left, the kill comes whenever it is running (a file that
    crashes the server every time it is analysed);
  * afterwards the kill comes at a random moment while ordinary jobs are running, once the jobs
    interrupted by the previous kill have finished (an operator's or the OOM killer's kill).
After the last restart it waits for the queue to drain and checks: the poisoned job failed after
exactly M attempts (not more: no restart loop), every ordinary job succeeded, and the analyses
counter equals N (no job completed twice). Prints the figures as JSON; exit 0 only when all hold.

    bench/server/kill9.py --harmony build/harmony [--cycles 10] [--jobs 20] [--max-attempts 3]

Standard library only.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load import make_wav, request  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--harmony', default='build/harmony')
    ap.add_argument('--cycles', type=int, default=10)
    ap.add_argument('--jobs', type=int, default=20, help='ordinary jobs besides the poisoned one')
    ap.add_argument('--workers', type=int, default=1,
                    help='server analysis threads; with more than one, the jobs running beside the poisoned one '
                    'die with it at every kill and use up their attempts too')
    ap.add_argument('--max-attempts', type=int, default=3)
    ap.add_argument('--delay-ms', type=int, default=1500, help='--debug-job-delay-ms: each job runs at least this')
    ap.add_argument('--clip-s', type=float, default=1.0)
    ap.add_argument('--seed', type=int, default=19)
    ap.add_argument('--timeout-s', type=float, default=900)
    ap.add_argument('--out', default='')
    a = ap.parse_args()
    rng = random.Random(a.seed)
    deadline = time.time() + a.timeout_s

    tmp = tempfile.mkdtemp(prefix='harmony-kill9-')
    data = os.path.join(tmp, 'data')
    port_file = os.path.join(tmp, 'port')
    state = {'server': None, 'port': None}

    def start(workers):
        if os.path.exists(port_file):
            os.remove(port_file)
        cmd = [a.harmony, 'serve', '--port', '0', '--port-file', port_file, '--data-dir', data, '--quiet',
               '--jobs', str(workers), '--max-attempts', str(a.max_attempts),
               '--debug-job-delay-ms', str(a.delay_ms)]
        state['server'] = subprocess.Popen(cmd)
        t0 = time.monotonic()
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if state['server'].poll() is not None or time.time() > deadline:
                sys.exit('server did not start')
            time.sleep(0.02)
        state['port'] = int(open(port_file).read())
        return time.monotonic() - t0

    def job(jid):
        st, body = request(state['port'], 'GET', '/v1/jobs/' + jid)
        if st != 200:
            raise RuntimeError('GET job %s: HTTP %d' % (jid, st))
        return json.loads(body)

    def wait_until(pred, what):
        while time.time() < deadline:
            v = pred()
            if v:
                return v
            time.sleep(0.05)
        raise RuntimeError('timed out waiting for ' + what)

    try:
        # The queue is filled by a server that runs nothing (--jobs 0), stopped cleanly; the cycles
        # start from it, so the poisoned job (the oldest) is the first one claimed.
        start(0)
        port = state['port']
        # The poisoned job first (the oldest: claimed first after every restart), then the others.
        st, body = request(port, 'POST', '/v1/jobs?filename=poison.wav', make_wav(9999, a.clip_s),
                           {'Content-Type': 'audio/wav'})
        assert st == 202, body
        poison = json.loads(body)['id']
        others = []
        for i in range(a.jobs):
            st, body = request(port, 'POST', '/v1/jobs?filename=clip%d.wav' % i, make_wav(7000 + i, a.clip_s),
                               {'Content-Type': 'audio/wav'})
            assert st == 202, body
            others.append(json.loads(body)['id'])
        state['server'].terminate()
        state['server'].wait(30)
        restart_s = [start(a.workers)]

        kills = []
        interrupted = []  # ordinary jobs running at the previous kill
        for cycle in range(a.cycles):
            p = job(poison)
            if p['status'] in ('queued', 'running'):
                # The poison is claimed first after a restart: kill while it runs.
                wait_until(lambda: job(poison)['status'] == 'running', 'the poisoned job to run')
                time.sleep(rng.uniform(0.1, a.delay_ms / 1000.0 * 0.8))
                reason = 'poisoned job running'
            else:
                # Let the jobs interrupted last time finish, then kill at a random moment mid-job.
                wait_until(lambda: all(job(j)['status'] in ('succeeded', 'failed') for j in interrupted),
                           'interrupted jobs to finish')
                if not any(job(j)['status'] in ('queued', 'running') for j in others):
                    break  # nothing left to interrupt
                wait_until(lambda: any(job(j)['status'] == 'running' for j in others), 'a job to run')
                time.sleep(rng.uniform(0.1, a.delay_ms / 1000.0 * 0.8))
                reason = 'ordinary jobs running'
            running = [j for j in others if job(j)['status'] == 'running']
            poison_attempts = job(poison)['attempts']
            state['server'].send_signal(signal.SIGKILL)
            state['server'].wait()
            kills.append({'cycle': cycle + 1, 'reason': reason, 'ordinary_running': len(running),
                          'poison_attempts_at_kill': poison_attempts})
            interrupted = running
            restart_s.append(start(a.workers))

        # Drain.
        def drained():
            st, body = request(state['port'], 'GET', '/health')
            h = json.loads(body)
            return h if h['jobs']['queued'] == 0 and h['jobs']['running'] == 0 else None

        health = wait_until(drained, 'the queue to drain')
        p = job(poison)
        finals = [job(j) for j in others]
        states, attempts = {}, {}
        for j in finals:
            states[j['status']] = states.get(j['status'], 0) + 1
            attempts[j['attempts']] = attempts.get(j['attempts'], 0) + 1
        ok = (p['status'] == 'failed' and p['attempts'] == a.max_attempts and states.get('succeeded') == a.jobs
              and health['analyses'] == a.jobs and len(kills) == a.cycles)
        res = {
            'cycles': len(kills),
            'kills': kills,
            'max_attempts': a.max_attempts,
            'poisoned_job': {'status': p['status'], 'attempts': p['attempts'],
                             'error': (p.get('error') or {}).get('detail')},
            'ordinary_jobs': a.jobs,
            'ordinary_final_states': states,
            'ordinary_attempts_histogram': {str(k): v for k, v in sorted(attempts.items())},
            'ordinary_failed': [{'attempts': j['attempts'], 'error': (j.get('error') or {}).get('detail')}
                                for j in finals if j['status'] != 'succeeded'],
            'server_analyses_counter': health['analyses'],
            'restart_to_listening_ms_median': round(1000 * sorted(restart_s)[len(restart_s) // 2], 1),
            'ok': bool(ok),
        }
        print(json.dumps(res, indent=2))
        if a.out:
            with open(a.out, 'w') as f:
                json.dump(res, f, indent=2)
        return 0 if ok else 1
    finally:
        if state['server'] is not None and state['server'].poll() is None:
            state['server'].terminate()
            try:
                state['server'].wait(10)
            except subprocess.TimeoutExpired:
                state['server'].kill()
        subprocess.run(['rm', '-rf', tmp])


if __name__ == '__main__':
    sys.exit(main())
