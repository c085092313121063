import { describe, expect, it } from 'vitest';
import { energyLevel } from './energy';

describe('energy rating (src/export/export.cpp energy_level)', () => {
  it('follows the server formula', () => {
    // loud -6 LUFS, LRA 0, 180 BPM: every term at 1 -> 10
    expect(energyLevel({ loudness: { integrated_lufs: -6, loudness_range_lu: 0 }, tempo: { bpm: 180 } })).toBe(10);
    // quiet, wide, slow -> 1
    expect(energyLevel({ loudness: { integrated_lufs: -30, loudness_range_lu: 25 }, tempo: { bpm: 50 } })).toBe(1);
    // -15 LUFS (0.5), LRA 10 (0.5), no tempo (0.3): 0.275 + 0.075 + 0.09 = 0.44 -> 1 + round(3.96) = 5
    expect(energyLevel({ loudness: { integrated_lufs: -15, loudness_range_lu: 10 } })).toBe(5);
  });
  it('has no rating without loudness or for silence', () => {
    expect(energyLevel({})).toBeNull();
    expect(energyLevel({ loudness: { integrated_lufs: -70, silent: true } })).toBeNull();
  });
});
