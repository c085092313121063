import { describe, expect, it } from 'vitest';
import { curvePath, curveRange, gridMarks, labelStride, xPercent } from './grid';

// 120 BPM, 4/4: beats every 0.5 s from 0.25 s, downbeats every 2 s.
const beats = Array.from({ length: 64 }, (_, i) => 0.25 + i * 0.5);
const downbeats = beats.filter((_, i) => i % 4 === 0);

describe('grid', () => {
  it('draws every beat and numbers every bar when zoomed in', () => {
    const m = gridMarks(beats, downbeats, { pxPerSec: 100 });
    expect(m).toHaveLength(64);
    const down = m.filter((x) => x.kind === 'downbeat');
    expect(down).toHaveLength(16);
    expect(down.map((x) => x.bar)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(down.every((x) => x.label)).toBe(true);
    expect(m.filter((x) => x.kind === 'beat').every((x) => !x.label)).toBe(true);
    // in time order
    expect(m.map((x) => x.t)).toEqual([...m.map((x) => x.t)].sort((a, b) => a - b));
  });

  it('drops beats and thins bar numbers when zoomed out', () => {
    const m = gridMarks(beats, downbeats, { pxPerSec: 5 }); // beats 2.5 px apart, bars 10 px
    expect(m.every((x) => x.kind === 'downbeat')).toBe(true);
    const labelled = m.filter((x) => x.label).map((x) => x.bar);
    expect(labelled).toEqual([1, 5, 9, 13]); // stride 4: 40 px between labels
  });

  it('keeps downbeats that are not on a beat, merges the ones that are', () => {
    const m = gridMarks([1, 2, 3], [1.01, 2.5], { pxPerSec: 100 });
    expect(m.map((x) => [x.t, x.kind])).toEqual([
      [1.01, 'downbeat'],
      [2, 'beat'],
      [2.5, 'downbeat'],
      [3, 'beat'],
    ]);
  });

  it('handles empty input', () => {
    expect(gridMarks([], [], { pxPerSec: 10 })).toEqual([]);
    expect(labelStride(0, 40)).toBe(1);
    expect(labelStride(10, 40)).toBe(4);
    expect(labelStride(41, 40)).toBe(1);
  });

  it('positions in percent of the track', () => {
    expect(xPercent(30, 120)).toBe(25);
    expect(xPercent(-1, 120)).toBe(0);
    expect(xPercent(200, 120)).toBe(100);
    expect(xPercent(1, 0)).toBe(0);
  });

  it('draws the tempo curve', () => {
    const pts: [number, number][] = [
      [0, 120],
      [60, 122],
      [120, 118],
    ];
    expect(curveRange(pts, 120)).toEqual([118, 122]);
    expect(curveRange([[0, 128]], 128)).toEqual([126, 130]);
    expect(curvePath(pts, 120, 1000, 80, 118, 122)).toBe('M0.0 40.0 L500.0 0.0 L1000.0 80.0');
    expect(curvePath([], 120, 1000, 80, 118, 122)).toBe('');
  });
});
