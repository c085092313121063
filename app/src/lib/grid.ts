// The beat grid drawn over the waveform: which beat, downbeat and bar-number marks to draw at a
// zoom level, and the tempo-curve path. Pure (grid.test.ts).

export interface GridMark {
  t: number; // seconds
  kind: 'beat' | 'downbeat';
  bar?: number; // 1-based bar number, downbeats only
  label: boolean; // draw the bar number
}

export interface GridOptions {
  pxPerSec: number;
  minBeatPx?: number; // beats closer than this are not drawn (downbeats still are)
  minLabelPx?: number; // bar labels at least this far apart
  tolerance?: number; // a beat within this many seconds of a downbeat is that downbeat
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Smallest power of two k (1, 2, 4, …) with k * step >= min. */
export function labelStride(stepPx: number, minPx: number): number {
  if (!(stepPx > 0)) return 1;
  let k = 1;
  while (k * stepPx < minPx && k < 4096) k *= 2;
  return k;
}

export function gridMarks(beats: readonly number[], downbeats: readonly number[], o: GridOptions): GridMark[] {
  const minBeatPx = o.minBeatPx ?? 4;
  const minLabelPx = o.minLabelPx ?? 36;
  const tol = o.tolerance ?? 0.03;
  const beatStep = median(beats.slice(1).map((t, i) => t - beats[i]!));
  const barStep = median(downbeats.slice(1).map((t, i) => t - downbeats[i]!));
  const drawBeats = beatStep * o.pxPerSec >= minBeatPx;
  const stride = labelStride(barStep * o.pxPerSec, minLabelPx);
  const out: GridMark[] = [];
  let d = 0;
  const down = [...downbeats].sort((a, b) => a - b);
  const pushDown = (i: number) => out.push({ t: down[i]!, kind: 'downbeat', bar: i + 1, label: i % stride === 0 });
  for (const t of beats) {
    while (d < down.length && down[d]! < t - tol) pushDown(d++);
    if (d < down.length && Math.abs(down[d]! - t) <= tol) {
      pushDown(d++);
    } else if (drawBeats) {
      out.push({ t, kind: 'beat', label: false });
    }
  }
  while (d < down.length) pushDown(d++);
  return out;
}

/** Position of a time as a percentage of the track (the overlay scales with the zoom). */
export function xPercent(t: number, duration: number): number {
  return duration > 0 ? Math.min(100, Math.max(0, (t / duration) * 100)) : 0;
}

/** SVG path of the tempo curve [[t, bpm], …] in a w × h box; the BPM axis spans [lo, hi]. */
export function curvePath(points: readonly (readonly [number, number])[], duration: number, w: number, h: number, lo: number, hi: number): string {
  if (points.length === 0 || duration <= 0 || hi <= lo) return '';
  return points
    .map(([t, bpm], i) => {
      const x = (t / duration) * w;
      const y = h - ((Math.min(hi, Math.max(lo, bpm)) - lo) / (hi - lo)) * h;
      return `${i === 0 ? 'M' : 'L'}${x.toFixed(1)} ${y.toFixed(1)}`;
    })
    .join(' ');
}

/** A BPM axis around the curve: at least ±2 BPM, rounded outwards to whole BPM. */
export function curveRange(points: readonly (readonly [number, number])[], bpm: number | null): [number, number] {
  const vals = points.map((p) => p[1]);
  if (bpm != null) vals.push(bpm);
  if (vals.length === 0) return [0, 1];
  let lo = Math.min(...vals);
  let hi = Math.max(...vals);
  const mid = (lo + hi) / 2;
  lo = Math.min(lo, mid - 2);
  hi = Math.max(hi, mid + 2);
  return [Math.floor(lo), Math.ceil(hi)];
}
