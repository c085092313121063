// The stem mixer's pure logic: each stem's gain from its volume, mute and solo, and when the
// stems' playback must be restarted to follow the main player's playhead (mixer.test.ts).

export interface Strip {
  name: string;
  volume: number; // 0..1.5 (1: as separated)
  muted: boolean;
  solo: boolean;
}

/** The gain each stem plays at: with any stem soloed only the soloed ones sound (mute still wins). */
export function effectiveGains(strips: Strip[]): number[] {
  const anySolo = strips.some((s) => s.solo);
  return strips.map((s) => (s.muted || (anySolo && !s.solo) ? 0 : Math.max(0, s.volume)));
}

/** The stems in the order a mixing desk shows them. */
export const STEM_ORDER = ['vocals', 'drums', 'bass', 'other'] as const;

export function orderStems<T extends { name: string }>(stems: T[]): T[] {
  const rank = (n: string) => {
    const i = (STEM_ORDER as readonly string[]).indexOf(n);
    return i < 0 ? STEM_ORDER.length : i;
  };
  return [...stems].sort((a, b) => rank(a.name) - rank(b.name));
}

/**
 * Whether the stems, started at `startOffset` when the audio clock read `startClock`, have drifted
 * from the main player's playhead `playhead` by more than `tolerance` seconds (a seek, a loop's
 * jump back, or real drift): then they are started again at the playhead.
 */
export function needsResync(playhead: number, startOffset: number, startClock: number, clockNow: number, tolerance = 0.12): boolean {
  const expected = startOffset + (clockNow - startClock);
  return Math.abs(expected - playhead) > tolerance;
}
