// The job API of `harmony serve` (docs/api.md), from the same origin. A token (servers beyond
// loopback) arrives once in the URL fragment (#token=…, as `harmony app --token` opens it) and is
// kept for the session; it goes in the Authorization header, and as ?access_token= on WebSockets.

const TOKEN_KEY = 'harmony.token';

export function initToken(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (m && m[1]) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', window.location.pathname + window.location.search + '#/analyse');
  }
}

function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const t = token();
  if (t) headers.set('Authorization', `Bearer ${t}`);
  const res = await fetch(path, { ...init, headers });
  if (!res.ok) {
    let code = `http_${res.status}`;
    let detail = res.statusText;
    try {
      const p = (await res.json()) as { type?: string; detail?: string; title?: string };
      code = p.type?.replace('urn:harmony:problem:', '') ?? code;
      detail = p.detail || p.title || detail;
    } catch {
      /* not a problem document */
    }
    throw new ApiError(res.status, code, detail);
  }
  return res;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';

export interface Problem {
  code?: string;
  detail?: string;
  title?: string;
}

export interface Job {
  id: string;
  status: JobStatus;
  stage: string;
  progress: number;
  eta_s: number | null;
  cached?: boolean;
  refresh?: boolean;
  error: Problem | null;
}

export interface ProgressEvent {
  type: 'progress';
  job: string;
  status: JobStatus;
  stage: string;
  progress: number;
  eta_s: number | null;
  error?: Problem;
}

export interface AnalysisOptions {
  only: string[];
  params: Record<string, string>;
  refresh?: boolean; // analyse again even when the server's result store holds this analysis
  stems?: boolean; // separate stems and keep their audio on the server (the stem mixer)
}

export async function submitJob(file: Blob, name: string, opts: AnalysisOptions, idempotencyKey: string): Promise<Job> {
  const q = new URLSearchParams({ filename: name });
  if (opts.only.length > 0) q.set('only', opts.only.join(','));
  for (const [k, v] of Object.entries(opts.params)) q.append('param', `${k}=${v}`);
  if (opts.refresh) q.set('refresh', '1');
  if (opts.stems) q.set('stems', '1');
  const type = file.type && /^(audio|video)\//.test(file.type) ? file.type : 'application/octet-stream';
  const res = await api(`/v1/jobs?${q.toString()}`, {
    method: 'POST',
    body: file,
    headers: { 'Content-Type': type, 'Idempotency-Key': idempotencyKey },
  });
  return (await res.json()) as Job;
}

export async function getJob(id: string): Promise<Job> {
  return (await (await api(`/v1/jobs/${encodeURIComponent(id)}`)).json()) as Job;
}

export async function cancelJob(id: string): Promise<Job> {
  return (await (await api(`/v1/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' })).json()) as Job;
}

export async function getResult<T>(id: string): Promise<T> {
  return (await (await api(`/v1/jobs/${encodeURIComponent(id)}/result`)).json()) as T;
}

/** One stem's audio of a job submitted with stems (GET /v1/jobs/{id}/stems/{name}, a float WAV). */
export async function fetchStem(id: string, name: string): Promise<ArrayBuffer> {
  return (await api(`/v1/jobs/${encodeURIComponent(id)}/stems/${encodeURIComponent(name)}`)).arrayBuffer();
}

export function eventsUrl(id: string): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const t = token();
  return `${proto}//${window.location.host}/v1/jobs/${encodeURIComponent(id)}/events${t ? `?access_token=${encodeURIComponent(t)}` : ''}`;
}

export const EXPORT_FORMATS = [
  { id: 'rekordbox', label: 'rekordbox XML' },
  { id: 'traktor', label: 'Traktor NML' },
  { id: 'm3u', label: 'M3U' },
  { id: 'csv', label: 'CSV' },
  { id: 'jams', label: 'JAMS' },
  { id: 'chordpro', label: 'ChordPro (chords)' },
  { id: 'lab', label: 'MIREX chords .lab' },
  { id: 'json', label: 'Song Map JSON' },
] as const;

function filenameOf(res: Response, fallback: string): string {
  const cd = res.headers.get('Content-Disposition') ?? '';
  const m = /filename="([^"]+)"/.exec(cd);
  return m?.[1] ?? fallback;
}

export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** One job's export as text (the ChordPro sheet shown in the track view). */
export async function exportText(id: string, format: string): Promise<string> {
  return (await api(`/v1/jobs/${encodeURIComponent(id)}/export/${format}`)).text();
}

/** Downloads one job's export (the server's exporters), with the chosen key notation. */
export async function downloadExport(id: string, format: string, keyNotation: string): Promise<void> {
  const res = await api(`/v1/jobs/${encodeURIComponent(id)}/export/${format}?key_notation=${keyNotation}`);
  saveBlob(await res.blob(), filenameOf(res, `${id}.${format}`));
}

/** Several jobs in one file (POST /v1/exports/{format}; the server orders M3U harmonically). */
export async function downloadMultiExport(ids: string[], format: string, keyNotation: string): Promise<void> {
  const res = await api(`/v1/exports/${format}?key_notation=${keyNotation}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jobs: ids }),
  });
  saveBlob(await res.blob(), filenameOf(res, `harmony.${format}`));
}

/** A track of the CLI's library (GET /v1/library). */
export interface LibraryTrack {
  content_hash: string;
  path: string;
  title: string;
  artist: string;
  duration_s: number;
  bpm: number | null;
  key: string;
  camelot: string;
  open_key: string;
  integrated_lufs: number | null;
  energy: number | null;
  analyzed_at: string;
  copies: number;
}

/** The CLI's library; null when the server serves none (404 library-not-found, with why). */
export async function getLibrary(): Promise<{ tracks: LibraryTrack[] } | { missing: string }> {
  try {
    return (await (await api('/v1/library')).json()) as { tracks: LibraryTrack[] };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return { missing: e.message };
    throw e;
  }
}

export async function getLibraryMap<T>(contentHash: string): Promise<T> {
  return (await (await api(`/v1/library/tracks/${encodeURIComponent(contentHash)}`)).json()) as T;
}
