// Camelot / Open Key arithmetic for harmonic mixing: notation conversions, the compatible keys of
// a key and the geometry of the Camelot wheel. Pure functions (unit-tested in camelot.test.ts).

export type Letter = 'A' | 'B'; // A: minor (inner ring), B: major (outer ring)
export interface Camelot {
  num: number; // 1..12
  letter: Letter;
}

// Standard names by Camelot number (index 1..12).
const MINOR = ['', 'A♭m', 'E♭m', 'B♭m', 'Fm', 'Cm', 'Gm', 'Dm', 'Am', 'Em', 'Bm', 'F♯m', 'D♭m'];
const MAJOR = ['', 'B', 'F♯', 'D♭', 'A♭', 'E♭', 'B♭', 'F', 'C', 'G', 'D', 'A', 'E'];

export function parseCamelot(text: string): Camelot | null {
  const m = /^\s*(\d{1,2})\s*([ABab])\s*$/.exec(text);
  if (!m) return null;
  const num = Number(m[1]);
  if (num < 1 || num > 12) return null;
  return { num, letter: (m[2] ?? 'A').toUpperCase() as Letter };
}

export function formatCamelot(c: Camelot): string {
  return `${c.num}${c.letter}`;
}

/** 12 -> 1 and 1 -> 12 wrap: the wheel is a circle of fifths. */
export function wrap12(n: number): number {
  return ((((n - 1) % 12) + 12) % 12) + 1;
}

/** Camelot number of a major key from its tonic's pitch class (C = 0): C is 8B, G 9B, … */
export function camelotOfPitchClass(pc: number, mode: 'major' | 'minor'): Camelot {
  const p = ((pc % 12) + 12) % 12;
  const major = mode === 'major' ? p : (p + 3) % 12; // the relative major
  return { num: wrap12(8 + 7 * major), letter: mode === 'major' ? 'B' : 'A' };
}

/** Open Key: 1d is C major (8B), 1m is A minor (8A). */
export function toOpenKey(c: Camelot): string {
  return `${wrap12(c.num - 7)}${c.letter === 'B' ? 'd' : 'm'}`;
}

export function fromOpenKey(text: string): Camelot | null {
  const m = /^\s*(\d{1,2})\s*([dmDM])\s*$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  if (n < 1 || n > 12) return null;
  return { num: wrap12(n + 7), letter: (m[2] ?? 'm').toLowerCase() === 'd' ? 'B' : 'A' };
}

export function standardName(c: Camelot): string {
  return (c.letter === 'A' ? MINOR : MAJOR)[c.num] ?? '';
}

/** The keys that mix harmonically with `c`: itself, ±1 on the same ring, and the relative key. */
export function compatible(c: Camelot): Camelot[] {
  const other: Letter = c.letter === 'A' ? 'B' : 'A';
  return [c, { num: wrap12(c.num - 1), letter: c.letter }, { num: wrap12(c.num + 1), letter: c.letter }, { num: c.num, letter: other }];
}

export function isCompatible(a: Camelot, b: Camelot): boolean {
  return compatible(a).some((k) => k.num === b.num && k.letter === b.letter);
}

/** Steps around the wheel between two keys (a ring change counts one): 0 same, 1 compatible. */
export function distance(a: Camelot, b: Camelot): number {
  const d = Math.abs(a.num - b.num) % 12;
  return Math.min(d, 12 - d) + (a.letter === b.letter ? 0 : 1);
}

export type Notation = 'standard' | 'camelot' | 'openkey';

/** A Song Map key in the chosen notation ("" when the map has no key). */
export function keyIn(notation: Notation, camelot: string | undefined | null, label: string | undefined | null): string {
  const c = camelot ? parseCamelot(camelot) : null;
  if (!c) return label ?? '';
  if (notation === 'camelot') return formatCamelot(c);
  if (notation === 'openkey') return toOpenKey(c);
  return label ?? standardName(c);
}

/** Angle (degrees, clockwise from 12 o'clock) of a wheel slot: 12 at the top, 1 at one o'clock. */
export function wheelAngle(num: number): number {
  return (wrap12(num) % 12) * 30;
}

/** SVG path of one annular sector of the wheel, centred on the slot's angle, 30° wide. */
export function sectorPath(num: number, cx: number, cy: number, r0: number, r1: number): string {
  const a0 = ((wheelAngle(num) - 15 - 90) * Math.PI) / 180;
  const a1 = ((wheelAngle(num) + 15 - 90) * Math.PI) / 180;
  const p = (r: number, a: number) => `${(cx + r * Math.cos(a)).toFixed(2)} ${(cy + r * Math.sin(a)).toFixed(2)}`;
  return `M ${p(r1, a0)} A ${r1} ${r1} 0 0 1 ${p(r1, a1)} L ${p(r0, a1)} A ${r0} ${r0} 0 0 0 ${p(r0, a0)} Z`;
}

/** Centre of a slot's label. */
export function slotCentre(num: number, cx: number, cy: number, r: number): [number, number] {
  const a = ((wheelAngle(num) - 90) * Math.PI) / 180;
  return [cx + r * Math.cos(a), cy + r * Math.sin(a)];
}
