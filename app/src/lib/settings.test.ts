import { describe, expect, it } from 'vitest';
import { DEFAULTS, analysisOptions } from './settings';

describe('analysis settings', () => {
  it('leaves the opt-in notes and stems out by default', () => {
    expect(DEFAULTS.analyzers).toEqual(['tempo', 'beats', 'key', 'loudness', 'chords', 'sections']);
    expect(DEFAULTS.stems).toBe(false);
    expect(analysisOptions(DEFAULTS)).toEqual({ only: DEFAULTS.analyzers, params: {} });
  });
  it('asks for notes and stems when chosen', () => {
    const o = analysisOptions({ ...DEFAULTS, analyzers: [...DEFAULTS.analyzers, 'notes'], stems: true });
    expect(o.only).toContain('notes');
    expect(o.stems).toBe(true);
  });
});
