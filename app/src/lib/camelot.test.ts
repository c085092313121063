import { describe, expect, it } from 'vitest';
import { camelotOfPitchClass, compatible, distance, formatCamelot, fromOpenKey, isCompatible, keyIn, parseCamelot, sectorPath, standardName, toOpenKey, wheelAngle, wrap12 } from './camelot';

describe('camelot', () => {
  it('parses and formats', () => {
    expect(parseCamelot('8A')).toEqual({ num: 8, letter: 'A' });
    expect(parseCamelot(' 12b ')).toEqual({ num: 12, letter: 'B' });
    expect(parseCamelot('13A')).toBeNull();
    expect(parseCamelot('0B')).toBeNull();
    expect(parseCamelot('Am')).toBeNull();
    expect(formatCamelot({ num: 3, letter: 'B' })).toBe('3B');
  });

  it('maps pitch classes around the circle of fifths', () => {
    expect(formatCamelot(camelotOfPitchClass(0, 'major'))).toBe('8B'); // C
    expect(formatCamelot(camelotOfPitchClass(7, 'major'))).toBe('9B'); // G
    expect(formatCamelot(camelotOfPitchClass(5, 'major'))).toBe('7B'); // F
    expect(formatCamelot(camelotOfPitchClass(9, 'minor'))).toBe('8A'); // A minor
    expect(formatCamelot(camelotOfPitchClass(8, 'minor'))).toBe('1A'); // G# minor
    expect(formatCamelot(camelotOfPitchClass(11, 'major'))).toBe('1B'); // B
    expect(formatCamelot(camelotOfPitchClass(4, 'major'))).toBe('12B'); // E
    // every one of the 24 keys lands on a distinct slot
    const all = new Set<string>();
    for (let pc = 0; pc < 12; pc++) for (const m of ['major', 'minor'] as const) all.add(formatCamelot(camelotOfPitchClass(pc, m)));
    expect(all.size).toBe(24);
  });

  it('converts to Open Key and back', () => {
    expect(toOpenKey({ num: 8, letter: 'B' })).toBe('1d');
    expect(toOpenKey({ num: 8, letter: 'A' })).toBe('1m');
    expect(toOpenKey({ num: 1, letter: 'B' })).toBe('6d');
    expect(toOpenKey({ num: 7, letter: 'A' })).toBe('12m');
    for (let n = 1; n <= 12; n++)
      for (const l of ['A', 'B'] as const) expect(fromOpenKey(toOpenKey({ num: n, letter: l }))).toEqual({ num: n, letter: l });
    expect(fromOpenKey('13d')).toBeNull();
  });

  it('names keys', () => {
    expect(standardName({ num: 8, letter: 'A' })).toBe('Am');
    expect(standardName({ num: 8, letter: 'B' })).toBe('C');
    expect(keyIn('camelot', '8A', 'A minor')).toBe('8A');
    expect(keyIn('openkey', '8A', 'A minor')).toBe('1m');
    expect(keyIn('standard', '8A', 'A minor')).toBe('A minor');
    expect(keyIn('camelot', '', '')).toBe('');
  });

  it('finds compatible keys with wrap-around', () => {
    expect(compatible({ num: 8, letter: 'A' }).map(formatCamelot)).toEqual(['8A', '7A', '9A', '8B']);
    expect(compatible({ num: 12, letter: 'B' }).map(formatCamelot)).toEqual(['12B', '11B', '1B', '12A']);
    expect(compatible({ num: 1, letter: 'A' }).map(formatCamelot)).toEqual(['1A', '12A', '2A', '1B']);
    expect(isCompatible({ num: 1, letter: 'A' }, { num: 12, letter: 'A' })).toBe(true);
    expect(isCompatible({ num: 1, letter: 'A' }, { num: 12, letter: 'B' })).toBe(false);
    expect(isCompatible({ num: 5, letter: 'A' }, { num: 7, letter: 'A' })).toBe(false);
  });

  it('measures distance on the wheel', () => {
    expect(distance({ num: 8, letter: 'A' }, { num: 8, letter: 'A' })).toBe(0);
    expect(distance({ num: 1, letter: 'A' }, { num: 12, letter: 'A' })).toBe(1);
    expect(distance({ num: 1, letter: 'A' }, { num: 7, letter: 'B' })).toBe(7);
    expect(wrap12(0)).toBe(12);
    expect(wrap12(13)).toBe(1);
  });

  it('draws the wheel: 12 at the top, clockwise', () => {
    expect(wheelAngle(12)).toBe(0);
    expect(wheelAngle(3)).toBe(90);
    expect(wheelAngle(6)).toBe(180);
    const p = sectorPath(12, 100, 100, 50, 100);
    // the sector at the top spans x symmetric around the centre, above it
    const nums = p.match(/-?\d+\.\d+/g)!.map(Number);
    expect(nums[0]! + nums[2]!).toBeCloseTo(200, 1); // x of the two outer corners: symmetric about 100
    expect(nums[1]!).toBeLessThan(100); // above the centre
  });
});
