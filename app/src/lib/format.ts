// Display formatting: times, tempo, loudness, sizes, confidences. Pure (format.test.ts).

/** 83.4 -> "1:23", with tenths "1:23.4"; an hour or more -> "1:02:03". Negative/NaN -> "0:00". */
export function formatTime(seconds: number, tenths = false): string {
  let s = Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
  if (tenths) s = Math.round(s * 10) / 10;
  else s = Math.floor(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const secText = tenths ? sec.toFixed(1).padStart(4, '0') : String(Math.floor(sec)).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${secText}` : `${m}:${secText}`;
}

export function formatBpm(bpm: number | null | undefined, digits = 1): string {
  return bpm == null || !Number.isFinite(bpm) ? '—' : bpm.toFixed(digits);
}

export function formatPercent(p: number | null | undefined): string {
  return p == null || !Number.isFinite(p) ? '—' : `${Math.round(p * 100)}%`;
}

export function formatDb(v: number | null | undefined, unit: string): string {
  if (v == null || !Number.isFinite(v)) return '—';
  return `${v.toFixed(1)} ${unit}`.replace('-', '−');
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** "2.3 s left" style ETA; null when unknown. */
export function formatEta(eta: number | null | undefined): string | null {
  if (eta == null || !Number.isFinite(eta) || eta < 0) return null;
  return eta < 60 ? `${Math.ceil(eta)} s left` : `${formatTime(eta)} left`;
}
