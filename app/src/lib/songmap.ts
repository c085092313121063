// The parts of the Song Map (schemas/song_map.schema.json) the app shows. Optional everywhere:
// a map holds only the parts that were requested and succeeded.

import { energyLevel } from './energy';
import type { ChordRow, SectionRow } from './lanes';
import type { NoteRow, PitchCurve } from './pianoroll';

export interface Vote {
  name: string;
  value: string;
  score: number;
  note: string;
}
export interface Provenance {
  analyzer?: string;
  version?: number | string;
  chords?: { segments: ChordRow[]; vocabulary?: string; provenance?: Provenance };
  sections?: { segments: SectionRow[]; phrases?: SectionRow[]; provenance?: Provenance };
  elapsed_s?: number;
}
export interface KeyName {
  tonic: string;
  pitch_class: number;
  mode: 'major' | 'minor';
  label: string;
  camelot: string;
  open_key: string;
}
export interface SongMap {
  schema_version?: string | number;
  harmony_version?: string;
  audio: {
    path?: string;
    container?: string;
    codec?: string;
    sample_rate_hz?: number;
    channels?: number;
    bit_rate?: number;
    duration_s: number;
    file_size_bytes?: number;
    content_hash?: string;
    truncated?: boolean;
    warnings?: string[];
  };
  tempo?: {
    bpm: number | null;
    no_tempo_reason?: string;
    confidence?: number;
    range_bpm?: number[];
    stable?: boolean;
    alternatives?: { bpm: number; probability: number; relation: string }[];
    curve?: [number, number][];
    estimators?: Vote[];
    decision?: string;
    provenance?: Provenance;
  };
  beats?: {
    times_s: number[];
    positions?: number[];
    confidence?: number;
    grid?: { constant: boolean; first_beat_s?: number; first_downbeat_s?: number; bpm?: number };
  };
  downbeats?: { times_s: number[]; confidence?: number };
  meter?: { label: string; numerator?: number; denominator?: number; confidence?: number; candidates?: { label: string; probability: number }[] };
  key?: {
    key?: KeyName | null;
    tonic?: string;
    mode?: string;
    label?: string;
    camelot?: string;
    open_key?: string;
    no_key_reason?: string;
    confidence?: number;
    candidates?: { key: KeyName; score: number }[];
    compatible_camelot?: string[];
    tuning?: { a4_hz: number; cents: number; confidence?: number };
    segments?: { start_s: number; end_s: number; key: KeyName; confidence?: number }[];
    modal?: { tonic: string; mode: string; label: string; confidence: number } | null;
    estimators?: Vote[];
    provenance?: Provenance;
  };
  loudness?: {
    integrated_lufs?: number;
    loudness_range_lu?: number;
    true_peak_dbtp?: number;
    sample_peak_dbfs?: number;
    max_momentary_lufs?: number;
    max_short_term_lufs?: number;
    replaygain_track_gain_db?: number;
    silent?: boolean;
  };
  chords?: { segments: ChordRow[]; vocabulary?: string; provenance?: Provenance };
  sections?: { segments: SectionRow[]; phrases?: SectionRow[]; provenance?: Provenance };
  notes?: { melody: NoteRow[]; bass: NoteRow[]; melody_f0?: PitchCurve; confidence?: number; provenance?: Provenance };
  stems?: {
    stems: { name: string; file?: string; duration_s: number; energy_db: number; quality: number }[];
    model: string;
    sample_rate_hz: number;
    channels: number;
    format?: string; // "wav-f32" when the files were written (kept by the server with stems=true)
    confidence?: number;
  };
  elapsed_s?: number;
}

/** The few numbers the queue and the library keep per track (so lists need no full map). */
export interface Summary {
  bpm: number | null;
  bpmConfidence: number | null;
  key: string;
  camelot: string;
  openKey: string;
  meter: string;
  lufs: number | null;
  energy: number | null;
  duration: number;
}

export function summarise(m: SongMap): Summary {
  return {
    bpm: m.tempo?.bpm ?? null,
    bpmConfidence: m.tempo?.confidence ?? null,
    key: m.key?.label ?? '',
    camelot: m.key?.camelot ?? '',
    openKey: m.key?.open_key ?? '',
    meter: m.meter?.label ?? '',
    lufs: m.loudness?.integrated_lufs ?? null,
    energy: energyLevel(m),
    duration: m.audio.duration_s,
  };
}
