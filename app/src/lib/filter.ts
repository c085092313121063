// The library's filters and sorting, shared by the browser's tracks and the CLI library's table.
// Pure (filter.test.ts).
import { fromOpenKey, isCompatible, parseCamelot } from './camelot';

export interface TrackFilter {
  q: string; // part of the name (case-insensitive)
  bpmMin: string; // as typed; '' = no bound
  bpmMax: string;
  keyText: string; // Camelot or Open Key; '' (or not a key) = any key
  compat: boolean; // the key and its compatible keys
}

export interface Filterable {
  text: string;
  bpm: number | null;
  camelot: string;
}

export function makeFilter(f: TrackFilter): (t: Filterable) => boolean {
  const lo = f.bpmMin ? Number(f.bpmMin) : -Infinity;
  const hi = f.bpmMax ? Number(f.bpmMax) : Infinity;
  const key = parseCamelot(f.keyText) ?? fromOpenKey(f.keyText);
  const q = f.q.toLowerCase();
  return (t) => {
    if (q && !t.text.toLowerCase().includes(q)) return false;
    if ((f.bpmMin || f.bpmMax) && (t.bpm == null || t.bpm < lo || t.bpm > hi)) return false;
    if (key) {
      const c = parseCamelot(t.camelot);
      if (!c) return false;
      if (f.compat ? !isCompatible(key, c) : c.num !== key.num || c.letter !== key.letter) return false;
    }
    return true;
  };
}

/** A sorted copy (stable), ascending or descending by `value`. */
export function sortBy<T>(rows: T[], value: (t: T) => number | string, desc: boolean): T[] {
  return [...rows].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const r = x < y ? -1 : x > y ? 1 : 0;
    return desc ? -r : r;
  });
}

/** Wheel order of a Camelot key (1A, 1B, 2A, …), unknown keys last. */
export function camelotOrder(camelot: string): number {
  const c = parseCamelot(camelot);
  return c ? c.num * 2 + (c.letter === 'B' ? 1 : 0) : 99;
}
