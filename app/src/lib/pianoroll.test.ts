import { describe, expect, it } from 'vitest';
import { f0Path, hzToMidi, noteName, pitchLabels, pitchRange, pitchToY, rollHeight, rowHeight, toRollNotes, visibleNotes } from './pianoroll';

const melody = toRollNotes(
  [
    [2, 3, 67, 90, 0.9],
    [0, 1, 60, 80, 0.8],
    [1, 2.5, 64, 70],
  ],
  'melody',
);
const bass = toRollNotes([[0, 4, 36, 100, 1]], 'bass');

describe('piano roll', () => {
  it('reads Song Map rows sorted by onset, dropping empty notes', () => {
    expect(melody.map((n) => n.pitch)).toEqual([60, 64, 67]);
    expect(melody[1]!.confidence).toBe(1); // absent confidence: 1
    expect(toRollNotes([[1, 1, 60, 80]], 'bass')).toEqual([]);
    expect(toRollNotes(undefined, 'bass')).toEqual([]);
  });

  it('maps pitch to y: high at the top, one equal row per semitone, linear', () => {
    expect(pitchToY(72, 48, 72, 240)).toBe(0);
    expect(pitchToY(48, 48, 72, 240)).toBe(240);
    expect(pitchToY(60, 48, 72, 240)).toBe(120);
    expect(rowHeight(48, 72, 240)).toBe(10);
    expect(rollHeight(35, 82)).toBe(235); // about 5 px a semitone
    expect(rollHeight(48, 60)).toBe(120); // at least 120 px
    expect(rollHeight(20, 100)).toBe(260); // at most 260 px
    expect(pitchToY(61, 48, 72, 240) - pitchToY(62, 48, 72, 240)).toBeCloseTo(10);
    expect(pitchToY(64, 48, 72, 240)).toBeLessThan(pitchToY(60, 48, 72, 240));
  });

  it('shows every note with a semitone of margin, at least an octave', () => {
    const [lo, hi] = pitchRange([...melody, ...bass]);
    expect(lo).toBe(35);
    expect(hi).toBe(68);
    // every note's row (centre ± half a semitone) is inside the roll
    for (const n of [...melody, ...bass]) {
      expect(pitchToY(n.pitch + 0.5, lo, hi, 100)).toBeGreaterThanOrEqual(0);
      expect(pitchToY(n.pitch - 0.5, lo, hi, 100)).toBeLessThanOrEqual(100);
    }
    const one = pitchRange(toRollNotes([[0, 1, 60, 80]], 'melody'));
    expect(one[1] - one[0]).toBe(12);
    expect(one[0]).toBeLessThan(60);
    expect(one[1]).toBeGreaterThan(60);
    expect(pitchRange([])).toEqual([48, 72]);
    // the f0 curve widens the range (A5 = 880 Hz = MIDI 81)
    expect(pitchRange(melody, { start_s: 0, hop_s: 0.01, f0_hz: [880, -1000, 0] })[1]).toBe(82);
  });

  it('culls to the visible window (overlap, not just onset)', () => {
    const all = [...melody, ...bass].sort((a, b) => a.start - b.start);
    expect(visibleNotes(all, 0, 4).length).toBe(4);
    // [2.2, 2.4]: the bass (0-4), the E (1-2.5) and the G (2-3); not the C (0-1)
    expect(visibleNotes(all, 2.2, 2.4).map((n) => n.pitch).sort()).toEqual([36, 64, 67]);
    expect(visibleNotes(all, 3.5, 10).map((n) => n.pitch)).toEqual([36]);
    expect(visibleNotes(all, 4, 10)).toEqual([]); // a note ending at the window's start is out
    expect(visibleNotes(all, 1, 1)).toEqual([]);
    // a long list: the same answer as a plain filter
    const many = toRollNotes(
      Array.from({ length: 500 }, (_, i) => [i * 0.37, i * 0.37 + ((i * 7) % 5) * 0.3 + 0.1, 40 + (i % 30), 80] as [number, number, number, number]),
      'melody',
    );
    for (const [a, b] of [[10, 20], [0, 0.5], [100, 185], [184, 400]] as const)
      expect(visibleNotes(many, a, b)).toEqual(many.filter((n) => n.end > a && n.start < b));
  });

  it('names pitches and labels every C', () => {
    expect(noteName(60)).toBe('C4');
    expect(noteName(69)).toBe('A4');
    expect(noteName(61)).toBe('C♯4');
    expect(noteName(35)).toBe('B1');
    expect(hzToMidi(440)).toBeCloseTo(69);
    expect(hzToMidi(261.6256)).toBeCloseTo(60, 3);
    expect(pitchLabels(35, 68).map((l) => l.name)).toEqual(['C2', 'C3', 'C4']);
    expect(pitchLabels(62, 70).map((l) => l.name)).toEqual(['D4']);
  });

  it('draws the f0 curve only where voiced, within the window', () => {
    const f0 = { start_s: 0, hop_s: 0.5, f0_hz: [440, 440, -440, 0, 880, 880] };
    // window 0-2.5 s on a 100 px box: frames at x = 0, 20, (gap), (gap), 80, 100
    const d = f0Path(f0, 0, 2.5, 57, 93, 100, 36);
    expect(d).toBe('M0.0 24.0L20.0 24.0M80.0 12.0L100.0 12.0');
    expect(f0Path(f0, 1.0, 1.5, 57, 93, 100, 36)).toBe(''); // unvoiced there
    expect(f0Path(undefined, 0, 1, 0, 1, 10, 10)).toBe('');
    // decimated to about one point per pixel
    const long = { start_s: 0, hop_s: 0.01, f0_hz: new Array(10000).fill(220) };
    expect(f0Path(long, 0, 100, 40, 70, 200, 100).split(/[ML]/).length - 1).toBeLessThanOrEqual(210);
  });
});
