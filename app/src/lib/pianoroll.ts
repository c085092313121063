// The piano roll under the waveform: the Song Map's melody and bass notes and the melody's f0
// curve (the `notes` analyzer), placed on a pitch axis and culled to the visible window. Pure
// (pianoroll.test.ts).

/** A note as the Song Map stores it: [onset_s, offset_s, pitch_midi, velocity, confidence?]. */
export type NoteRow = [number, number, number, number, number?];

export interface PitchCurve {
  start_s: number;
  hop_s: number;
  f0_hz: number[]; // > 0 voiced, < 0 unvoiced (magnitude: best guess), 0 no pitch
}

export interface RollNote {
  start: number;
  end: number;
  pitch: number; // MIDI, may be fractional (tuning)
  velocity: number;
  confidence: number;
  kind: 'melody' | 'bass';
}

export function toRollNotes(rows: NoteRow[] | undefined, kind: RollNote['kind']): RollNote[] {
  return (rows ?? [])
    .filter((r) => r[1] > r[0] && Number.isFinite(r[2]))
    .map(([start, end, pitch, velocity, confidence]) => ({ start, end, pitch, velocity, confidence: confidence ?? 1, kind }))
    .sort((a, b) => a.start - b.start);
}

export function hzToMidi(hz: number): number {
  return 69 + 12 * Math.log2(hz / 440);
}

const NAMES = ['C', 'C♯', 'D', 'D♯', 'E', 'F', 'F♯', 'G', 'G♯', 'A', 'A♯', 'B'];

/** "C4" for MIDI 60 (scientific pitch notation). */
export function noteName(midi: number): string {
  const m = Math.round(midi);
  return `${NAMES[((m % 12) + 12) % 12]}${Math.floor(m / 12) - 1}`;
}

/**
 * The pitch range shown: every note and voiced f0 frame, one semitone of margin on each side, at
 * least `minSpan` semitones (centred), in whole semitones. [lo, hi] with lo < hi; C3–C5 when empty.
 */
export function pitchRange(notes: RollNote[], f0?: PitchCurve, minSpan = 12): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const n of notes) {
    lo = Math.min(lo, n.pitch);
    hi = Math.max(hi, n.pitch);
  }
  for (const hz of f0?.f0_hz ?? [])
    if (hz > 0) {
      const m = hzToMidi(hz);
      lo = Math.min(lo, m);
      hi = Math.max(hi, m);
    }
  if (!Number.isFinite(lo)) return [48, 72];
  lo = Math.floor(lo - 1);
  hi = Math.ceil(hi + 1);
  if (hi - lo < minSpan) {
    const grow = minSpan - (hi - lo);
    lo -= Math.floor(grow / 2);
    hi += Math.ceil(grow / 2);
  }
  return [lo, hi];
}

/**
 * The y (pixels from the top) of a pitch's row centre in a roll `height` px tall showing [lo, hi]:
 * high pitches at the top, one row per semitone (row height = height / (hi - lo)).
 */
export function pitchToY(midi: number, lo: number, hi: number, height: number): number {
  return ((hi - midi) / (hi - lo)) * height;
}

/** The roll's height for [lo, hi]: about 5 px a semitone, 120 to 260 px. */
export function rollHeight(lo: number, hi: number): number {
  return Math.round(Math.min(260, Math.max(120, (hi - lo) * 5)));
}

/** Height of one semitone row. */
export function rowHeight(lo: number, hi: number, height: number): number {
  return height / (hi - lo);
}

/**
 * The notes that overlap the visible window [from, to] (notes sorted by start): a binary search
 * for the first note starting at or after `to`, then those before it that end after `from`.
 */
export function visibleNotes(notes: RollNote[], from: number, to: number): RollNote[] {
  if (!(to > from)) return [];
  let lo = 0;
  let hi = notes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (notes[mid]!.start < to) lo = mid + 1;
    else hi = mid;
  }
  const out: RollNote[] = [];
  for (let i = 0; i < lo; i++) if (notes[i]!.end > from) out.push(notes[i]!);
  return out;
}

/** Pitch axis labels: every C in range (and the lowest pitch when no C is in it). */
export function pitchLabels(lo: number, hi: number): { midi: number; name: string }[] {
  const out: { midi: number; name: string }[] = [];
  for (let m = Math.ceil(lo); m <= Math.floor(hi); m++) if (((m % 12) + 12) % 12 === 0) out.push({ midi: m, name: noteName(m) });
  if (out.length === 0) out.push({ midi: Math.ceil(lo), name: noteName(Math.ceil(lo)) });
  return out;
}

/**
 * The f0 curve in the window [from, to] as an SVG path in a `width` × `height` box: voiced frames
 * only (a gap at every unvoiced or pitchless frame), at most about one point per pixel.
 */
export function f0Path(f0: PitchCurve | undefined, from: number, to: number, lo: number, hi: number, width: number, height: number): string {
  if (!f0 || !(to > from) || !(f0.hop_s > 0) || f0.f0_hz.length === 0) return '';
  const first = Math.max(0, Math.floor((from - f0.start_s) / f0.hop_s));
  const last = Math.min(f0.f0_hz.length - 1, Math.ceil((to - f0.start_s) / f0.hop_s));
  const framesPerPx = Math.max(1, Math.floor((last - first + 1) / Math.max(1, width)));
  let d = '';
  let pen = false;
  for (let i = first; i <= last; i += framesPerPx) {
    const hz = f0.f0_hz[i]!;
    if (!(hz > 0)) {
      pen = false;
      continue;
    }
    const x = ((f0.start_s + i * f0.hop_s - from) / (to - from)) * width;
    const y = pitchToY(hzToMidi(hz), lo, hi, height);
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`;
    pen = true;
  }
  return d;
}
