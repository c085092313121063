// A chromagram computed in the page from the decoded audio (the Song Map carries none): Hann
// windowed FFT frames, each bin's energy folded onto its pitch class (A4 = 440 Hz, 55 Hz–5 kHz),
// then the frames pooled into columns for drawing. Pure (chroma.test.ts).

/** In-place radix-2 FFT of (re, im); the length must be a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const xr = re[b]! * cr - im[b]! * ci;
        const xi = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
        const t = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = t;
      }
    }
  }
}

export const PITCH_NAMES = ['C', 'C♯', 'D', 'E♭', 'E', 'F', 'F♯', 'G', 'A♭', 'A', 'B♭', 'B'];

export interface Chromagram {
  columns: Float32Array[]; // 12 values per column, each column's maximum is 1 (silent: all 0)
  seconds: number; // duration covered
  total: Float64Array; // 12 values: the track's summed chroma energy per pitch class
}

/**
 * Chroma of a mono signal. `columns` is how many columns to pool the frames into (the canvas
 * width); frames are `size` samples long (a power of two), `hop` apart.
 */
export function chromagram(samples: Float32Array, rate: number, columns: number, size = 4096, hop = 2048): Chromagram {
  const frames = samples.length >= size ? 1 + Math.floor((samples.length - size) / hop) : 0;
  const cols = Math.max(1, Math.min(columns, Math.max(frames, 1)));
  const out = Array.from({ length: cols }, () => new Float32Array(12));
  const total = new Float64Array(12);
  const win = new Float64Array(size);
  for (let i = 0; i < size; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (size - 1));
  // Bin -> pitch class (or -1 outside 55 Hz–5 kHz).
  const pcOf = new Int8Array(size / 2);
  for (let k = 0; k < size / 2; k++) {
    const f = (k * rate) / size;
    if (f < 55 || f > 5000) pcOf[k] = -1;
    else pcOf[k] = ((Math.round(12 * Math.log2(f / 440)) % 12) + 12 + 9) % 12;
  }
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let fr = 0; fr < frames; fr++) {
    const off = fr * hop;
    for (let i = 0; i < size; i++) {
      re[i] = samples[off + i]! * win[i]!;
      im[i] = 0;
    }
    fft(re, im);
    const col = out[Math.min(cols - 1, Math.floor((fr * cols) / frames))]!;
    for (let k = 1; k < size / 2; k++) {
      const pc = pcOf[k]!;
      if (pc < 0) continue;
      const e = re[k]! * re[k]! + im[k]! * im[k]!;
      col[pc] = col[pc]! + e;
      total[pc] = total[pc]! + e;
    }
  }
  for (const c of out) {
    let m = 0;
    for (const v of c) m = Math.max(m, v);
    if (m > 0) for (let i = 0; i < 12; i++) c[i] = c[i]! / m;
  }
  return { columns: out, seconds: samples.length / rate, total };
}

/** Mono mix of an AudioBuffer's channels. */
export function monoOf(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const n = channels[0]?.length ?? 0;
  const out = new Float32Array(n);
  for (const ch of channels) for (let i = 0; i < n; i++) out[i] = out[i]! + ch[i]! / channels.length;
  return out;
}
