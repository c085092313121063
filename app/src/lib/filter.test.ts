import { describe, expect, it } from 'vitest';
import { camelotOrder, makeFilter, sortBy } from './filter';

const tracks = [
  { text: 'Alpha.wav', bpm: 120, camelot: '8A' },
  { text: 'beta.mp3', bpm: 128, camelot: '9A' },
  { text: 'Gamma.flac', bpm: null, camelot: '' },
  { text: 'delta.wav', bpm: 90, camelot: '3B' },
];
const none = { q: '', bpmMin: '', bpmMax: '', keyText: '', compat: true };

describe('library filters', () => {
  it('filters by name, BPM range and key with or without compatible keys', () => {
    expect(tracks.filter(makeFilter(none))).toHaveLength(4);
    expect(tracks.filter(makeFilter({ ...none, q: 'WAV' })).map((t) => t.text)).toEqual(['Alpha.wav', 'delta.wav']);
    expect(tracks.filter(makeFilter({ ...none, bpmMin: '100', bpmMax: '125' })).map((t) => t.text)).toEqual(['Alpha.wav']);
    expect(tracks.filter(makeFilter({ ...none, bpmMin: '100' })).map((t) => t.text)).toEqual(['Alpha.wav', 'beta.mp3']);
    expect(tracks.filter(makeFilter({ ...none, keyText: '8A' })).map((t) => t.text)).toEqual(['Alpha.wav', 'beta.mp3']);
    expect(tracks.filter(makeFilter({ ...none, keyText: '8A', compat: false })).map((t) => t.text)).toEqual(['Alpha.wav']);
    expect(tracks.filter(makeFilter({ ...none, keyText: '1m', compat: false })).map((t) => t.text)).toEqual(['Alpha.wav']); // Open Key 1m = 8A
    expect(tracks.filter(makeFilter({ ...none, keyText: 'zz' }))).toHaveLength(4); // not a key: no key filter
  });
  it('sorts both ways without touching the input', () => {
    const asc = sortBy(tracks, (t) => t.bpm ?? -1, false).map((t) => t.bpm);
    expect(asc).toEqual([null, 90, 120, 128]);
    expect(sortBy(tracks, (t) => t.text.toLowerCase(), true).map((t) => t.text)).toEqual(['Gamma.flac', 'delta.wav', 'beta.mp3', 'Alpha.wav']);
    expect(tracks[0]!.text).toBe('Alpha.wav');
    expect(camelotOrder('1A') < camelotOrder('1B')).toBe(true);
    expect(camelotOrder('1B') < camelotOrder('2A')).toBe(true);
    expect(camelotOrder('')).toBe(99);
  });
});
