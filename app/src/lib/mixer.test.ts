import { describe, expect, it } from 'vitest';
import { effectiveGains, needsResync, orderStems } from './mixer';

const s = (name: string, volume = 1, muted = false, solo = false) => ({ name, volume, muted, solo });

describe('stem mixer', () => {
  it('plays every stem at its volume when none is muted or soloed', () => {
    expect(effectiveGains([s('vocals'), s('drums', 0.5), s('bass', 1.5), s('other', 0)])).toEqual([1, 0.5, 1.5, 0]);
  });
  it('silences a muted stem', () => {
    expect(effectiveGains([s('vocals', 1, true), s('drums')])).toEqual([0, 1]);
  });
  it('with a solo, only the soloed stems sound; mute wins over solo', () => {
    expect(effectiveGains([s('vocals', 0.8, false, true), s('drums'), s('bass'), s('other')])).toEqual([0.8, 0, 0, 0]);
    expect(effectiveGains([s('vocals', 1, false, true), s('drums', 1, false, true), s('bass')])).toEqual([1, 1, 0]);
    expect(effectiveGains([s('vocals', 1, true, true), s('drums', 1, false, true)])).toEqual([0, 1]);
    expect(effectiveGains([s('vocals', -1)])).toEqual([0]);
  });
  it('orders stems as a desk does', () => {
    expect(orderStems([s('other'), s('bass'), s('vocals'), s('drums')]).map((x) => x.name)).toEqual(['vocals', 'drums', 'bass', 'other']);
  });
  it('restarts the stems after a seek or a loop, not for clock jitter', () => {
    // started at 10 s when the audio clock read 100 s; now 102 s: expected at 12 s
    expect(needsResync(12.05, 10, 100, 102)).toBe(false);
    expect(needsResync(30, 10, 100, 102)).toBe(true); // seek forward
    expect(needsResync(4, 10, 100, 102)).toBe(true); // loop back
    expect(needsResync(12.3, 10, 100, 102)).toBe(true); // drift beyond the tolerance
  });
});
