import { describe, expect, it } from 'vitest';
import { chromagram, fft, monoOf } from './chroma';

const tone = (freqs: number[], rate: number, seconds: number) => {
  const x = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < x.length; i++) for (const f of freqs) x[i] = x[i]! + Math.sin((2 * Math.PI * f * i) / rate) / freqs.length;
  return x;
};
const argmax = (v: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
};

describe('chromagram', () => {
  it('FFT finds a bin-centred sine', () => {
    const n = 64;
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    for (let i = 0; i < n; i++) re[i] = Math.cos((2 * Math.PI * 5 * i) / n);
    fft(re, im);
    expect(Math.hypot(re[5]!, im[5]!)).toBeCloseTo(n / 2, 6);
    expect(Math.hypot(re[6]!, im[6]!)).toBeLessThan(1e-9);
  });
  it('puts A440 on A and a C major triad on C, E and G', () => {
    const a = chromagram(tone([440], 22050, 1), 22050, 4);
    expect(argmax(a.total)).toBe(9);
    expect(a.columns).toHaveLength(4);
    for (const c of a.columns) expect(argmax(c)).toBe(9);
    const c = chromagram(tone([261.63, 329.63, 392.0], 22050, 1), 22050, 1);
    const top3 = [...c.total.keys()].sort((x, y) => c.total[y]! - c.total[x]!).slice(0, 3).sort((x, y) => x - y);
    expect(top3).toEqual([0, 4, 7]);
    expect(Math.max(...c.columns[0]!)).toBeCloseTo(1, 6);
  });
  it('copes with silence and short input', () => {
    const s = chromagram(new Float32Array(10000), 22050, 8);
    expect([...s.total].every((v) => v === 0)).toBe(true);
    expect(chromagram(new Float32Array(100), 22050, 8).columns).toHaveLength(1);
    expect([...monoOf([new Float32Array([1, 0]), new Float32Array([0, 1])])]).toEqual([0.5, 0.5]);
  });
});
