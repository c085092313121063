// The chord and section lanes under the waveform: segments from the Song Map, the segment at a
// time, the visible part at a zoom, and a colour per label (the same chord or section letter
// always gets the same colour, with a text colour readable on it). Pure (lanes.test.ts).

export interface LaneSegment {
  start: number;
  end: number;
  label: string; // what the lane shows: "Am7", "Chorus A"
  key: string; // what decides the colour: the chord's root + quality family, the section's letter
  title: string; // tooltip / accessible name
}

const PITCH: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

/** Pitch class of a root spelled "C", "F#", "Bb" (null when not a note). */
export function pitchClass(root: string): number | null {
  const m = /^([A-G])([#b]*)$/.exec(root);
  if (!m) return null;
  let pc = PITCH[m[1]!]!;
  for (const c of m[2]!) pc += c === '#' ? 1 : -1;
  return ((pc % 12) + 12) % 12;
}

/** "A:min7/b7" -> { root: "A", quality: "min7", bass: "b7" }; "N" -> null. */
export function parseHarte(label: string): { root: string; quality: string; bass: string } | null {
  if (label === 'N' || label === 'X' || label === '') return null;
  const [head, bass = ''] = label.split('/') as [string, string?];
  const [root, quality = 'maj'] = head.split(':') as [string, string?];
  if (pitchClass(root) == null) return null;
  return { root, quality, bass };
}

/** A readable chord name: "A:min7" -> "Am7", "C:maj" -> "C", "G:7/3" -> "G7/3", "N" -> "N.C.". */
export function chordName(label: string): string {
  const p = parseHarte(label);
  if (!p) return 'N.C.';
  const q: Record<string, string> = { maj: '', min: 'm', min7: 'm7', maj7: 'maj7', '7': '7', dim: 'dim', dim7: 'dim7', hdim7: 'm7b5', aug: 'aug', sus2: 'sus2', sus4: 'sus4', maj6: '6', min6: 'm6', '9': '9', maj9: 'maj9', min9: 'm9', minmaj7: 'm(maj7)', 'sus4(b7)': '7sus4' };
  return p.root + (q[p.quality] ?? p.quality) + (p.bass ? `/${p.bass}` : '');
}

const MINOR = /^(min|dim|hdim)/;

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
  };
  return [f(0), f(8), f(4)];
}

function luminance([r, g, b]: [number, number, number]): number {
  const lin = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio of two relative luminances. */
export function contrast(l1: number, l2: number): number {
  return (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
}

const DARK = '#0b0d12';
const DARK_LUM = luminance([11 / 255, 13 / 255, 18 / 255]);

/** A background and the text colour (near-black or white) that reads best on it. */
export function swatch(h: number, s: number, l: number): { bg: string; fg: string; ratio: number } {
  const bgLum = luminance(hslToRgb(h, s / 100, l / 100));
  const onDark = contrast(bgLum, DARK_LUM);
  const onWhite = contrast(bgLum, 1);
  return { bg: `hsl(${h} ${s}% ${l}%)`, fg: onDark >= onWhite ? DARK : '#ffffff', ratio: Math.max(onDark, onWhite) };
}

/**
 * Colour of a chord: the hue follows the root around the circle of fifths (neighbouring keys
 * look alike, as on the Camelot wheel); minor-family chords are darker than major ones. No chord
 * is grey.
 */
export function chordColour(label: string): { bg: string; fg: string; ratio: number } {
  const p = parseHarte(label);
  if (!p) return swatch(220, 8, 36);
  const fifths = (pitchClass(p.root)! * 7) % 12;
  return swatch(fifths * 30, 60, MINOR.test(p.quality) ? 27 : 70);
}

/** Colour of a section by its repetition letter (A, B, …): the same letter, the same colour. */
export function sectionColour(letter: string, fn: string): { bg: string; fg: string; ratio: number } {
  if (fn === 'silence') return swatch(220, 8, 30);
  let code = 0;
  for (const c of letter) code = code * 26 + (c.charCodeAt(0) - 65);
  const hue = Math.round((code * 137.508 + 200) % 360); // golden angle: letters far apart
  return swatch(hue, 55, 62);
}

const FUNCTION_NAMES: Record<string, string> = { intro: 'Intro', verse: 'Verse', 'pre-chorus': 'Pre-chorus', chorus: 'Chorus', bridge: 'Bridge', instrumental: 'Instrumental', outro: 'Outro', silence: 'Silence' };

export type ChordRow = [number, number, string, number, { name?: string }?];
export type SectionRow = [number, number, string, number, string?, number?];

export function chordSegments(rows: ChordRow[] | undefined): LaneSegment[] {
  return (rows ?? []).map(([start, end, label, conf, extra]) => {
    const name = extra?.name && label !== 'N' ? extra.name : chordName(label);
    return { start, end, label: name, key: label, title: `${name} (${label}) · ${Math.round(conf * 100)} %` };
  });
}

export function sectionSegments(rows: SectionRow[] | undefined): LaneSegment[] {
  return (rows ?? []).map(([start, end, letter, conf, fn = '', bars]) => {
    const label = fn ? `${FUNCTION_NAMES[fn] ?? fn} ${letter}` : letter;
    return { start, end, label, key: `${letter}|${fn}`, title: `${label}${bars ? ` · ${bars} bars` : ''} · ${Math.round(conf * 100)} %` };
  });
}

/** Index of the segment holding time t (binary search; -1 when none). */
export function segmentAt(segs: LaneSegment[], t: number): number {
  let lo = 0;
  let hi = segs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segs[mid]!;
    if (t < s.start) hi = mid - 1;
    else if (t >= s.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** Left and width in % of the visible window [from, to] (clipped), or null when outside it. */
export function placeInView(s: { start: number; end: number }, from: number, to: number): { left: number; width: number } | null {
  const span = to - from;
  if (!(span > 0) || s.end <= from || s.start >= to) return null;
  const a = Math.max(s.start, from);
  const b = Math.min(s.end, to);
  return { left: ((a - from) / span) * 100, width: ((b - a) / span) * 100 };
}

/**
 * Where `]` (dir +1) and `[` (dir -1) go from time `now`: the next section's start; back, the start
 * of the section under the playhead unless it began under half a second ago (then the one before),
 * and 0 before the first. null: no next section.
 */
export function stepSection(segs: { start: number }[], now: number, dir: 1 | -1): number | null {
  if (dir > 0) return segs.find((s) => s.start > now + 0.05)?.start ?? null;
  for (let i = segs.length - 1; i >= 0; i--) if (segs[i]!.start < now - 0.5) return segs[i]!.start;
  return 0;
}
