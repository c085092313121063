#!/usr/bin/python3
"""Per-song error analysis of a beatles-dev run (the estimates file bench/rhythm_beatles/run.py writes).

    /usr/bin/python3 bench/rhythm_beatles/errors.py EST.json [--below 0.9] [--other OTHER.json]
        [--tool harmony] [--peer PEERS.json --peer-tool qm-dsp] [--downbeats]

Each song whose beat F is below --below gets one class, tested in this order:
- `octave`: the estimated tempo is 2, 1/2, 3/2, 2/3, 3 or 1/3 x the annotated (median IBI) tempo.
- `annotation`: the estimate is steady and right but a constant time shift away from the labels (a
  shift of 70-250 ms gives at least 0.3 more F), or the manifest's chroma check puts the labels off
  by 0.25 s or more.
- `offbeat`: the beats moved half a beat (mid-points of consecutive beats) gain at least 0.3 F.
- `grid_drift`: the output is a constant grid, and the best constant grid fitted to the annotated
  beats themselves (least squares) scores below 0.9 F against them, or the grid's offset to the
  nearest annotated beat runs over 70 ms along the song: the song's tempo moves and one grid
  cannot follow it.
- `local`: the rest (a beat map that wanders, tracker errors in parts of the song).
Gap share: each class's sum of (1 - F) over all songs' sum of (1 - F) (all 83 songs count).
With --other, the F of the same song in another run (e.g. snap_grid=false) is shown beside it.
With --downbeats, songs below 0.8 downbeat F are classed instead: `beats wrong` (beat F below 0.7),
`bar phase off by k` (the reported downbeats moved k tracked beats later gain 0.3 F or more),
`meter` (a meter other than 4/4 reported), `other` (the bar phase changes inside the song, ...).

Label timing: the beat labels were moved onto these mp3s by one straight line per song (see
../shared/data/README.md), and a rip that differs from the annotated one by more than a line (another
master, tape speed) leaves them drifting by tens of ms. With --peer (a peers estimates file, qm-dsp's
beats by default) the labels are re-timed by the peer's slow offset: for each label, the offset of
the peer's nearest beat (when within 0.3 beat), median over +-8 labels, interpolated where the peer
has none. An independent tracker sees that drift too when it is the labels'; the gain of Harmony's
F against the re-timed labels is reported per class (`F peer-retimed`) and songs it lifts by 0.1 or
more that would otherwise be `local`/`grid_drift` are classed `annotation`.
"""
import argparse
import collections
import csv
import json
import os
import sys
import warnings

import mir_eval
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from harmony_bench import paths  # noqa: E402

sys.path.insert(0, HERE)
import run  # noqa: E402  (bench/rhythm_beatles/run.py)

ROOT = os.path.join(paths.shared_dir(), 'data', 'beatles-dev')


def read_beats(path):
    """Beat times and bar positions of a .beats file as arrays (run.py reads the file)."""
    beats, pos = run.read_beats(path)
    return np.array(beats), np.array(pos)


def fmeas(ref, est):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ref = mir_eval.beat.trim_beats(np.asarray(ref, float))
        est = mir_eval.beat.trim_beats(np.asarray(est, float))
        if len(ref) == 0 or len(est) == 0:
            return 0.0
        return mir_eval.beat.f_measure(ref, est)


def best_grid(t):
    i = np.arange(len(t))
    a, b = np.polyfit(i, t, 1)
    return b + a * i


def retime(ref, peer):
    """Labels moved by the peer's slow offset (running median over +-8 labels of the nearest-beat offset)."""
    peer = np.asarray(peer, float)
    if len(peer) < 2:
        return ref
    ibi = np.median(np.diff(ref))
    idx = np.clip(np.searchsorted(peer, ref), 1, len(peer) - 1)
    near = np.where(np.abs(peer[idx] - ref) < np.abs(peer[idx - 1] - ref), peer[idx], peer[idx - 1])
    d = near - ref
    d[np.abs(d) > 0.3 * ibi] = np.nan
    sm = np.full(len(ref), np.nan)
    for i in range(len(ref)):
        w = d[max(0, i - 8):i + 9]
        w = w[np.isfinite(w)]
        if len(w) >= 4:
            sm[i] = np.median(w)
    ok = np.isfinite(sm)
    if not ok.any():
        return ref
    return ref + np.interp(np.arange(len(ref)), np.flatnonzero(ok), sm[ok])


def classify(ref, est, est_bpm, manifest_row, f_retimed=None):
    f = fmeas(ref, est)
    ref_bpm = 60.0 / np.median(np.diff(ref))
    info = {'f': f, 'ref_bpm': ref_bpm, 'est_bpm': est_bpm}
    ratio = est_bpm / ref_bpm if est_bpm else 0
    for r, name in ((2, 'x2'), (0.5, 'x1/2'), (1.5, 'x3/2'), (2 / 3, 'x2/3'), (3, 'x3'), (1 / 3, 'x1/3')):
        if abs(ratio / r - 1) < 0.04:
            info['detail'] = name
            return 'octave', info
    est = np.asarray(est)
    ibi = np.diff(est)
    constant = len(ibi) > 2 and np.std(ibi) < 0.002
    info['constant'] = constant
    # constant shift
    best_s, best_f = 0.0, f
    for s in np.arange(-0.25, 0.2501, 0.01):
        fs = fmeas(ref, est + s)
        if fs > best_f + 1e-9:
            best_s, best_f = s, fs
    info['shift'] = (best_s, best_f)
    chroma = float(manifest_row.get('chroma_best_shift_s') or 0) if manifest_row else 0.0
    if (abs(best_s) >= 0.07 and best_f - f >= 0.3) or abs(chroma) >= 0.25 or (
            f_retimed is not None and f_retimed - f >= 0.1):
        info['detail'] = 'shift %+.2f s -> F %.3f; chroma shift %+.2f; peer-retimed F %s' % (
            best_s, best_f, chroma, '%.3f' % f_retimed if f_retimed is not None else '-')
        return 'annotation', info
    mids = 0.5 * (est[1:] + est[:-1])
    fo = fmeas(ref, mids)
    info['offbeat_f'] = fo
    if fo - f >= 0.3:
        info['detail'] = 'half a beat: F %.3f' % fo
        return 'offbeat', info
    if constant:
        g = best_grid(ref)
        fg = fmeas(ref, g)
        # offset of the estimate's nearest beat along the song
        idx = np.clip(np.searchsorted(est, ref), 1, len(est) - 1)
        near = np.where(np.abs(est[idx] - ref) < np.abs(est[idx - 1] - ref), est[idx], est[idx - 1])
        off = near - ref
        q = len(off) // 4
        spread = np.ptp([np.median(off[k * q:(k + 1) * q]) for k in range(4)]) if q > 4 else 0
        info['oracle_grid_f'] = fg
        info['detail'] = 'oracle grid F %.3f, drift of quarter medians %.0f ms' % (fg, 1000 * spread)
        if fg < 0.9 or spread > 0.07:
            return 'grid_drift', info
    info['detail'] = info.get('detail', '') + (' beat map' if not constant else ' constant')
    return 'local', info


def downbeat_classes(rows, below):
    gap_all, gap, count = 0.0, collections.Counter(), collections.Counter()
    for r in rows:
        ref, pos = read_beats(os.path.join(ROOT, r['song'] + '.beats'))
        e = r['estimate'] or {}
        est = np.asarray(e.get('beats') or [], float)
        db = np.asarray(e.get('downbeats') or [], float)
        fd = fmeas(ref[pos == 1], db) if len(db) else 0.0
        gap_all += 1 - fd
        if fd >= below:
            continue
        fb = fmeas(ref, est) if len(est) else 0.0
        best_k, best_f = 0, fd
        if len(est) and len(db):
            idx = [int(np.argmin(np.abs(est - d))) for d in db]
            for k in (1, 2, 3):
                f = fmeas(ref[pos == 1], [est[i + k] for i in idx if i + k < len(est)])
                if f > best_f:
                    best_k, best_f = k, f
        if fb < 0.7:
            c = 'beats wrong'
        elif best_f >= fd + 0.3:
            c = 'bar phase off by %d' % best_k
        elif e.get('meter') != '4/4':
            c = 'meter %s' % e.get('meter')
        else:
            c = 'other'
        gap[c] += 1 - fd
        count[c] += 1
        print('%-20s downbeat F %.3f  beat F %.3f  meter %s  confidence %s  %s' % (
            c, fd, fb, e.get('meter'), '%.2f' % e['downbeat_confidence'] if e.get('downbeat_confidence') is not None
            else '-', r['song']))
    n = len(rows)
    print('\nsongs %d; mean downbeat F %.3f; gap %.2f' % (n, 1 - gap_all / n, gap_all))
    for c, v in gap.most_common():
        print('  %-20s %2d songs, gap %.2f (%.0f %% of the gap, %.3f of mean F)' % (c, count[c], v, 100 * v / gap_all, v / n))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('estimates')
    ap.add_argument('--below', type=float, default=0.9)
    ap.add_argument('--other', help='a second estimates file, for its F beside each song')
    ap.add_argument('--peer', default=os.path.join(paths.cache_dir(), 'rhythm-beatles', 'peers-estimates.json'),
                    help='estimates file holding the peer whose beats re-time the labels ("" = none)')
    ap.add_argument('--peer-tool', default='qm-dsp')
    ap.add_argument('--tool', default='harmony', help='whose rows of the estimates file to analyse')
    ap.add_argument('--downbeats', action='store_true', help='class the downbeat errors instead (below 0.8)')
    a = ap.parse_args()
    manifest = {}
    mpath = os.path.join(ROOT, 'manifest.tsv')
    if os.path.isfile(mpath):
        for r in csv.DictReader(open(mpath), delimiter='\t'):
            manifest[r['path']] = r
    rows = [r for r in json.load(open(a.estimates))['rows'] if r['tool'] == a.tool]
    if not rows:
        ap.error('no %s rows in %s' % (a.tool, a.estimates))
    if a.downbeats:
        downbeat_classes(rows, 0.8 if a.below == 0.9 else a.below)
        return 0
    other = {}
    if a.other:
        other = {r['song']: r for r in json.load(open(a.other))['rows'] if r['tool'] == a.tool}
    peer = {}
    if a.peer and os.path.isfile(a.peer):
        peer = {r['song']: r['estimate'] for r in json.load(open(a.peer))['rows']
                if r['tool'] == a.peer_tool and r.get('estimate') and r['estimate'].get('beats')}
    retimed_f, retimed_gain = [], collections.Counter()
    gap_all = 0.0
    gap = collections.Counter()
    count = collections.Counter()
    oracle_gain = collections.Counter()
    oracle_grid = []
    for r in rows:
        ref, _ = read_beats(os.path.join(ROOT, r['song'] + '.beats'))
        e = r['estimate']
        g = fmeas(ref, best_grid(ref))
        oracle_grid.append(g)
        if not e or not e.get('beats'):
            gap_all += 1.0
            gap['no_beats'] += 1.0
            count['no_beats'] += 1
            continue
        f = fmeas(ref, e['beats'])
        gap_all += 1 - f
        fr = fmeas(retime(ref, peer[r['song']]['beats']), e['beats']) if r['song'] in peer else None
        if fr is not None:
            retimed_f.append(fr)
        if f >= a.below:
            if fr is not None:
                retimed_gain['songs >= below'] += fr - f
            continue
        cls, info = classify(ref, e['beats'], e.get('bpm'), manifest.get(r['song']), fr)
        if fr is not None:
            retimed_gain[cls] += fr - f
        gap[cls] += 1 - f
        count[cls] += 1
        extra = ''
        if r['song'] in other and other[r['song']]['estimate'] and other[r['song']]['estimate'].get('beats'):
            fo = fmeas(ref, other[r['song']]['estimate']['beats'])
            extra = ' | other F %.3f' % fo
            oracle_gain[cls] += max(0.0, fo - f)
        print('%-11s F %.3f  %5.1f vs %5.1f BPM  %s%s  oracle-grid %.3f  retimed %s  %s' % (
            cls, f, e.get('bpm') or 0, info['ref_bpm'], 'grid' if info.get('constant') else 'map ',
            extra, g, '%.3f' % fr if fr is not None else '-', r['song']) + '   ' + info.get('detail', ''))
    print()
    n = len(rows)
    print('songs %d; mean beat F %.3f; gap (sum of 1-F) %.2f = %.3f of mean F' % (
        n, 1 - gap_all / n, gap_all, gap_all / n))
    for c, v in gap.most_common():
        print('  %-11s %2d songs, gap %.2f (%.0f %% of the gap, %.3f of mean F)%s' % (
            c, count[c], v, 100 * v / gap_all, v / n,
            ('; other run recovers %.3f of mean F' % (oracle_gain[c] / n)) if a.other else '') +
              ('; peer-retimed labels add %.3f' % (retimed_gain[c] / n) if peer else ''))
    rest = gap_all - sum(gap.values())
    print('  songs >= %.2f: gap %.2f (%.0f %%)' % (a.below, rest, 100 * rest / gap_all))
    if peer:
        print('  songs >= %.2f: peer-retimed labels add %.3f' % (a.below, retimed_gain['songs >= below'] / n))
        print('mean beat F against labels re-timed by %s\'s slow offset: %.3f (%d songs)' % (
            a.peer_tool, np.mean(retimed_f), len(retimed_f)))
    print('oracle constant grid on the annotations: mean F %.3f; below 0.9 on %d songs' % (
        np.mean(oracle_grid), sum(x < 0.9 for x in oracle_grid)))


if __name__ == '__main__':
    sys.exit(main())
