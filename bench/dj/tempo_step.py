#!/usr/bin/python3
# Usage: bench/dj/tempo_step.py NAME=HARMONY_BINARY ... (e.g. before=/path/old/harmony after=build/harmony)
"""Issue 20 item 5 measurement: dev renders with constant tempo, second half sped up with ffmpeg
atempo (x1.04 = 125 -> 130); the rekordbox TEMPO sections of two Harmony binaries are compared with
the true beats (the render's beats, moved by the stretch)."""
import glob, json, os, subprocess, sys, xml.etree.ElementTree as ET
import numpy as np

CORPUS = os.path.join(os.environ.get('HARMONY_BENCH_CACHE') or os.path.expanduser('~/.cache/harmony-bench'), 'corpus-seed1')
OUT = os.environ.get('OUT', '/tmp/harmony-dj-tempo-step')
os.makedirs(OUT, exist_ok=True)
RATIO = 1.04
bins = dict(a.split('=', 1) for a in sys.argv[1:])

def pick(n=10):
    out = []
    for f in sorted(glob.glob(CORPUS + '/*.json')):
        j = json.load(open(f))
        sid = int(j['song_id'])
        if sid > 200 or not j['has_drums'] or j['meter'] != '4/4': continue
        b = np.array([x[0] for x in j['beats']])
        if len(b) < 40: continue
        ibi = np.diff(b)
        if ibi.std() / ibi.mean() > 0.002: continue
        if not 100 <= 60 / ibi.mean() <= 140: continue
        out.append((j, f))
        if len(out) >= n: break
    return out

def make(j, f):
    src = os.path.join(CORPUS, j['audio_file'])
    b = np.array([x[0] for x in j['beats']])
    T1 = float(b[np.argmin(np.abs(b - j['duration'] / 2))])
    wav = os.path.join(OUT, j['track_id'] + '-step.wav')
    if not os.path.exists(wav):
        subprocess.run(['ffmpeg', '-v', 'error', '-y', '-i', src, '-filter_complex',
                        f'[0:a]atrim=0:{T1},asetpts=N/SR/TB[a];[0:a]atrim={T1},asetpts=N/SR/TB,atempo={RATIO}[b];[a][b]concat=n=2:v=0:a=1',
                        '-ar', '44100', wav], check=True)
    truth = np.where(b < T1, b, T1 + (b - T1) / RATIO)
    return wav, truth, T1, 60 / np.diff(b).mean()

def sections(binary, wavs, tag):
    xml = os.path.join(OUT, tag + '.xml')
    subprocess.run([binary, 'analyze', *wavs, '--only', 'tempo,beats', '--no-library', '--export', 'rekordbox', '-o', xml],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = {}
    for t in ET.parse(xml).getroot().iter('TRACK'):
        if t.get('Location') is None: continue
        name = os.path.basename(t.get('Location'))
        res[name] = [(float(x.get('Inizio')), float(x.get('Bpm'))) for x in t.findall('TEMPO')]
    return res

def grid_err(secs, truth):
    """Each grid beat from 5 s to the last true beat: its distance to the nearest true beat (a grid at
    half or double tempo is scored on the beats it has)."""
    errs = []
    end = truth[-1]
    for k, (s0, bpm) in enumerate(secs):
        stop = secs[k + 1][0] - 1e-6 if k + 1 < len(secs) else end + 0.01
        p = 60 / bpm
        g = s0
        while g < stop:
            if g >= 5:
                errs.append(truth[np.argmin(np.abs(truth - g))] - g)
            g += p
    return -np.array(errs)

tracks = [make(j, f) + (j['track_id'],) for j, f in pick()]
for tag, binary in bins.items():
    res = sections(binary, [t[0] for t in tracks], tag)
    counts, errs, place = [], [], []
    for wav, truth, T1, bpm, tid in tracks:
        secs = res[os.path.basename(wav)]
        e = grid_err(secs, truth)
        e = e - np.median(e)
        counts.append(len(secs))
        errs.append(np.percentile(np.abs(e), 95))
        near = [abs(s[0] - T1) for s in secs[1:]]
        place.append(min(near) if near else float('nan'))
        print(f'{tag} {tid} {bpm:.2f}->{bpm*RATIO:.2f} at {T1:.2f}: {len(secs)} sections '
              + ' '.join(f'[{s[0]:.2f} {s[1]:.2f}]' for s in secs[:6]) + f'; grid |err| p95 {errs[-1]*1000:.1f} ms, max {np.abs(e).max()*1000:.1f} ms')
    print(f'== {tag}: sections median {np.median(counts)} (max {max(counts)}), exactly 2: {sum(c == 2 for c in counts)}/{len(counts)}; '
          f'nearest boundary to the step median {np.nanmedian(place)*1000:.0f} ms; grid |err| p95 median {np.median(errs)*1000:.1f} ms, worst {max(errs)*1000:.1f} ms')
