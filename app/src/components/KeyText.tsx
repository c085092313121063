import { type Notation, keyIn } from '../lib/camelot';

/** A key in the chosen notation from a summary (camelot + standard label). */
export function camelotLabel(n: Notation, s: { camelot: string; key: string }): string {
  return keyIn(n, s.camelot, s.key) || '—';
}
