// User settings, kept in localStorage: key notation, theme, the tempo range and analyzers sent with
// each analysis.
import type { Notation } from './camelot';
import type { AnalysisOptions } from './api';

export const ANALYZERS = [
  { id: 'tempo', label: 'Tempo' },
  { id: 'beats', label: 'Beats, downbeats, meter' },
  { id: 'key', label: 'Key' },
  { id: 'loudness', label: 'Loudness' },
  { id: 'chords', label: 'Chords' },
  { id: 'sections', label: 'Sections' },
  { id: 'notes', label: 'Melody and bass notes (piano roll)' },
] as const;

/** Analyzers the server leaves out by default and the app too (slower, for some uses only). */
export const OPT_IN = ['notes'];

export interface Settings {
  notation: Notation;
  theme: 'dark' | 'light';
  minBpm: number;
  maxBpm: number;
  analyzers: string[];
  stems: boolean; // separate stems and keep them on the server (the track view's stem mixer)
  seen?: number; // how many analyzers the app offered when these settings were saved
}

export const DEFAULTS: Settings = {
  notation: 'camelot',
  theme: 'dark',
  minBpm: 50,
  maxBpm: 220,
  analyzers: ANALYZERS.map((a) => a.id as string).filter((id) => !OPT_IN.includes(id)),
  stems: false,
  seen: ANALYZERS.length,
};
const KEY = 'harmony.settings.v1';

export function loadSettings(): Settings {
  try {
    const s = { ...DEFAULTS, ...(JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Settings>) };
    // Settings saved before chords and sections were offered had every analyzer of that time on:
    // they get the new ones too (the version 1 list was tempo, beats, key, loudness).
    // (Opt-in analyzers offered later, such as notes, stay off.)
    if (!s.seen || s.seen < ANALYZERS.length) {
      if ((s.seen ?? 0) < 6 && ['tempo', 'beats', 'key', 'loudness'].every((a) => s.analyzers.includes(a))) s.analyzers = [...new Set([...s.analyzers, 'chords', 'sections'])];
      s.seen = ANALYZERS.length;
    }
    return s;
  } catch {
    return DEFAULTS;
  }
}

export function saveSettings(s: Settings): void {
  localStorage.setItem(KEY, JSON.stringify(s));
}

/**
 * The request options for new analyses (the server's default parameters are not repeated). The
 * analyzers are always named, so the user's choice in Settings holds whatever the server's
 * default set is.
 */
export function analysisOptions(s: Settings): AnalysisOptions {
  const params: Record<string, string> = {};
  const only = ANALYZERS.map((a) => a.id as string).filter((id) => s.analyzers.includes(id));
  // chords and sections read the beat grid, which needs the tempo: the engine adds them itself.
  const tempo = ['tempo', 'beats', 'chords', 'sections'].some((a) => only.includes(a));
  if (tempo && s.minBpm !== DEFAULTS.minBpm) params['tempo.min_bpm'] = String(s.minBpm);
  if (tempo && s.maxBpm !== DEFAULTS.maxBpm) params['tempo.max_bpm'] = String(s.maxBpm);
  return s.stems ? { only, params, stems: true } : { only, params };
}
