// The 1–10 energy rating the exporters and the CLI library compute (src/export/export.cpp,
// energy_level): integrated loudness, loudness range and tempo. Ported so that the browser's
// library shows the same number the server's CSV/rekordbox exports and `harmony library` do.
import type { SongMap } from './songmap';

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** null when the map has no loudness part or is silent (as the server). */
export function energyLevel(m: Pick<SongMap, 'loudness' | 'tempo'>): number | null {
  const l = m.loudness;
  if (!l || l.silent || l.integrated_lufs == null) return null;
  const loud = clamp01((l.integrated_lufs + 24) / 18); // -24 LUFS -> 0, -6 LUFS -> 1
  const dense = clamp01(1 - (l.loudness_range_lu ?? 0) / 20); // compressed -> 1
  const bpm = m.tempo?.bpm;
  const tempo = bpm != null ? clamp01((bpm - 60) / 120) : 0.3;
  const score = 0.55 * loud + 0.15 * dense + 0.3 * tempo;
  // C++ std::lround rounds halves away from zero; score >= 0 here, so floor(x + 0.5) is the same.
  return 1 + Math.floor(9 * score + 0.5);
}
