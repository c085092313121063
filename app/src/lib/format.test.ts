import { describe, expect, it } from 'vitest';
import { formatBpm, formatBytes, formatDb, formatEta, formatPercent, formatTime } from './format';

describe('format', () => {
  it('formats times', () => {
    expect(formatTime(0)).toBe('0:00');
    expect(formatTime(83.4)).toBe('1:23');
    expect(formatTime(83.46, true)).toBe('1:23.5');
    expect(formatTime(59.96, true)).toBe('1:00.0');
    expect(formatTime(3723)).toBe('1:02:03');
    expect(formatTime(-3)).toBe('0:00');
    expect(formatTime(Number.NaN)).toBe('0:00');
    expect(formatTime(5.04, true)).toBe('0:05.0');
  });
  it('formats numbers', () => {
    expect(formatBpm(127.96)).toBe('128.0');
    expect(formatBpm(null)).toBe('—');
    expect(formatPercent(0.876)).toBe('88%');
    expect(formatDb(-8.24, 'LUFS')).toBe('−8.2 LUFS');
    expect(formatDb(undefined, 'LU')).toBe('—');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
    expect(formatEta(2.2)).toBe('3 s left');
    expect(formatEta(null)).toBeNull();
    expect(formatEta(125)).toBe('2:05 left');
  });
});
