import { describe, expect, it } from 'vitest';
import { stepSection, chordColour, chordName, chordSegments, parseHarte, pitchClass, placeInView, sectionColour, sectionSegments, segmentAt } from './lanes';

describe('chord labels', () => {
  it('parses Harte labels', () => {
    expect(parseHarte('A:min7/b7')).toEqual({ root: 'A', quality: 'min7', bass: 'b7' });
    expect(parseHarte('C')).toEqual({ root: 'C', quality: 'maj', bass: '' });
    expect(parseHarte('N')).toBeNull();
    expect(parseHarte('H:maj')).toBeNull();
    expect(pitchClass('Bb')).toBe(10);
    expect(pitchClass('B#')).toBe(0);
    expect(pitchClass('Cb')).toBe(11);
  });
  it('names chords for reading', () => {
    expect(chordName('A:min7')).toBe('Am7');
    expect(chordName('C:maj')).toBe('C');
    expect(chordName('G:7/3')).toBe('G7/3');
    expect(chordName('B:hdim7')).toBe('Bm7b5');
    expect(chordName('N')).toBe('N.C.');
  });
  it('gives one colour per chord family and readable text on every colour', () => {
    expect(chordColour('A:min').bg).toBe(chordColour('A:min7').bg);
    expect(chordColour('A:min').bg).not.toBe(chordColour('A:maj').bg);
    expect(chordColour('C:maj').bg).not.toBe(chordColour('G:maj').bg);
    const roots = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
    for (const r of roots) for (const q of ['maj', 'min', '7', 'dim']) expect(chordColour(`${r}:${q}`).ratio).toBeGreaterThanOrEqual(4.5);
    expect(chordColour('N').ratio).toBeGreaterThanOrEqual(4.5);
    for (const l of 'ABCDEFGHIJKLMNOP') expect(sectionColour(l, 'verse').ratio).toBeGreaterThanOrEqual(4.5);
    expect(sectionColour('A', 'verse').bg).toBe(sectionColour('A', 'chorus').bg);
    expect(sectionColour('A', 'verse').bg).not.toBe(sectionColour('B', 'verse').bg);
  });
});

describe('segments', () => {
  const chords = chordSegments([
    [0, 2, 'N', 0.9],
    [2, 4, 'A:min7', 0.8, { name: 'Am7' }],
    [4, 8, 'F:maj', 0.7],
  ]);
  it('reads the Song Map rows', () => {
    expect(chords.map((c) => c.label)).toEqual(['N.C.', 'Am7', 'F']);
    expect(chords[1]!.title).toBe('Am7 (A:min7) · 80 %');
    const s = sectionSegments([
      [0, 8, 'A', 0.6, 'intro', 4],
      [8, 16, 'B', 0.7, 'chorus', 4],
      [16, 20, 'C', 0.5],
    ]);
    expect(s.map((x) => x.label)).toEqual(['Intro A', 'Chorus B', 'C']);
    expect(s[1]!.title).toBe('Chorus B · 4 bars · 70 %');
  });
  it('finds the segment at a time', () => {
    expect(segmentAt(chords, 0)).toBe(0);
    expect(segmentAt(chords, 3.99)).toBe(1);
    expect(segmentAt(chords, 4)).toBe(2);
    expect(segmentAt(chords, 8)).toBe(-1);
    expect(segmentAt([], 1)).toBe(-1);
  });
  it('places a segment in the visible window', () => {
    expect(placeInView({ start: 2, end: 4 }, 0, 8)).toEqual({ left: 25, width: 25 });
    expect(placeInView({ start: 2, end: 6 }, 4, 8)).toEqual({ left: 0, width: 50 });
    expect(placeInView({ start: 0, end: 2 }, 4, 8)).toBeNull();
    expect(placeInView({ start: 0, end: 2 }, 4, 4)).toBeNull();
  });
});

describe('section keys', () => {
  const secs = [{ start: 0 }, { start: 8 }, { start: 16 }];
  it('] goes to the next section, [ to the current or previous one', () => {
    expect(stepSection(secs, 0, 1)).toBe(8);
    expect(stepSection(secs, 8, 1)).toBe(16);
    expect(stepSection(secs, 17, 1)).toBeNull();
    expect(stepSection(secs, 12, -1)).toBe(8); // back to the start of this section
    expect(stepSection(secs, 8.2, -1)).toBe(0); // just started: the one before
    expect(stepSection(secs, 0.3, -1)).toBe(0);
    expect(stepSection([], 5, -1)).toBe(0);
  });
});
