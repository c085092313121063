// User settings, kept in localStorage: key notation, theme, the tempo range and analyzers sent with
// each analysis.
import type { Notation } from './camelot';
import type { AnalysisOptions } from './api';

export const ANALYZERS = [
  { id: 'tempo', label: 'Tempo' },
  { id: 'beats', label: 'Beats, downbeats, meter' },
  { id: 'key', label: 'Key' },
  { id: 'loudness', label: 'Loudness' },
] as const;

export interface Settings {
  notation: Notation;
  theme: 'dark' | 'light';
  minBpm: number;
  maxBpm: number;
  analyzers: string[];
}

export const DEFAULTS: Settings = { notation: 'camelot', theme: 'dark', minBpm: 50, maxBpm: 220, analyzers: ANALYZERS.map((a) => a.id) };
const KEY = 'harmony.settings.v1';

export function loadSettings(): Settings {
  try {
    return { ...DEFAULTS, ...(JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Settings>) };
  } catch {
    return DEFAULTS;
  }
}

export function saveSettings(s: Settings): void {
  localStorage.setItem(KEY, JSON.stringify(s));
}

/** The request options for new analyses (the server's defaults are not repeated). */
export function analysisOptions(s: Settings): AnalysisOptions {
  const params: Record<string, string> = {};
  const all = s.analyzers.length === ANALYZERS.length;
  const tempo = all || s.analyzers.includes('tempo') || s.analyzers.includes('beats');
  if (tempo && s.minBpm !== DEFAULTS.minBpm) params['tempo.min_bpm'] = String(s.minBpm);
  if (tempo && s.maxBpm !== DEFAULTS.maxBpm) params['tempo.max_bpm'] = String(s.maxBpm);
  return { only: all ? [] : s.analyzers, params };
}
