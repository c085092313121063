// The analysis queue: files the user dropped, their jobs on the server and live progress. The
// list is kept in localStorage and the files in IndexedDB, so a page reload resumes: jobs already
// accepted are watched again (their WebSocket sends the current state first), uploads that were
// cut off are sent again under the same Idempotency-Key (the server then returns the same job).

import { useSyncExternalStore } from 'react';
import { ApiError, type AnalysisOptions, type JobStatus, type ProgressEvent, cancelJob, eventsUrl, getJob, getResult, submitJob } from './api';
import { idbDelete, idbGet, idbPut } from './idb';
import { type SongMap, type Summary, summarise } from './songmap';

export type ItemStatus = 'pending' | 'uploading' | JobStatus;

export interface QueueItem {
  id: string;
  name: string;
  size: number;
  jobId?: string;
  status: ItemStatus;
  stage: string;
  progress: number;
  eta: number | null;
  error?: string;
  errorDetail?: string;
  addedAt: number;
  cached?: boolean;
  summary?: Summary;
  options: AnalysisOptions;
  attempt?: number; // a retry is a new upload: a new Idempotency-Key
}

const KEY = 'harmony.queue.v1';
const MAX_UPLOADS = 2;
const MAX_WATCHERS = 6;

export const isFinal = (s: ItemStatus) => s === 'succeeded' || s === 'failed' || s === 'canceled';

/** What a failed analysis or upload means for the user; the server's detail is shown below it. */
export function explainError(code: string | undefined, status?: number): string {
  switch (code) {
    case 'unsupported_format':
      return 'Not an audio file Harmony can read';
    case 'no_audio_stream':
      return 'The file has no audio stream';
    case 'no_audio_data':
      return 'The file holds no audio samples';
    case 'empty_file':
      return 'The file is empty';
    case 'decode_failed':
      return 'The audio could not be decoded (damaged file?)';
    case 'content-too-large':
      return "The file is larger than the server's upload limit";
    case 'unsupported-media-type':
      return 'The server does not accept this type of file';
    case 'unauthorized':
      return 'The server needs a token: open the app with `harmony app --token …`';
    case 'network':
      return 'Could not reach the Harmony service';
    case 'result-gone':
      return 'The result was removed by the server (retention); analyse the file again';
    default:
      return status && status >= 500 ? 'The server failed (see its log)' : 'The analysis failed';
  }
}

type Listener = () => void;

class Queue {
  private items: QueueItem[] = [];
  private listeners = new Set<Listener>();
  private uploading = new Set<string>();
  private watching = new Map<string, WebSocket>();
  private started = false;

  constructor() {
    try {
      const raw = localStorage.getItem(KEY);
      if (raw) this.items = JSON.parse(raw) as QueueItem[];
    } catch {
      this.items = [];
    }
  }

  snapshot = (): QueueItem[] => this.items;

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  get(id: string): QueueItem | undefined {
    return this.items.find((i) => i.id === id);
  }

  private update(id: string, patch: Partial<QueueItem>): void {
    this.items = this.items.map((i) => (i.id === id ? { ...i, ...patch } : i));
    this.commit();
  }

  private commit(): void {
    try {
      localStorage.setItem(KEY, JSON.stringify(this.items));
    } catch {
      /* storage full: the in-memory queue still works */
    }
    for (const l of this.listeners) l();
    this.pump();
  }

  /** Resumes after a reload: uploads again what was not accepted, watches what is in flight. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.items = this.items.map((i) => (i.status === 'uploading' ? { ...i, status: 'pending' } : i));
    this.commit();
  }

  async add(files: File[], options: AnalysisOptions): Promise<void> {
    const added: QueueItem[] = [];
    for (const f of files) {
      const id = crypto.randomUUID();
      try {
        await idbPut('files', id, f);
      } catch {
        /* no IndexedDB (private mode): upload still works, reload-resume and playback do not */
      }
      added.push({ id, name: f.name, size: f.size, status: 'pending', stage: 'waiting', progress: 0, eta: null, addedAt: Date.now(), options });
      pendingFiles.set(id, f);
    }
    this.items = [...this.items, ...added];
    this.commit();
  }

  async cancel(id: string): Promise<void> {
    const it = this.get(id);
    if (!it || isFinal(it.status)) return;
    if (!it.jobId) {
      this.update(id, { status: 'canceled', stage: 'canceled' });
      return;
    }
    try {
      const job = await cancelJob(it.jobId);
      this.update(id, { status: job.status, stage: job.stage });
    } catch (e) {
      this.fail(id, e);
    }
  }

  remove(id: string): void {
    this.watching.get(id)?.close();
    this.watching.delete(id);
    this.items = this.items.filter((i) => i.id !== id);
    void idbDelete('files', id).catch(() => undefined);
    void idbDelete('maps', id).catch(() => undefined);
    this.commit();
  }

  /** Removes finished items that did not succeed (succeeded ones are the library). */
  clearFailed(): void {
    for (const i of this.items) if (i.status === 'failed' || i.status === 'canceled') this.remove(i.id);
  }

  /** Sends the file again; `refresh`: the server analyses it again even if it has the result. */
  retry(id: string, refresh = false): void {
    const it = this.get(id);
    if (!it || !isFinal(it.status)) return;
    this.update(id, { options: { ...it.options, refresh }, attempt: (it.attempt ?? 0) + 1, status: 'pending', stage: 'waiting', progress: 0, error: undefined, errorDetail: undefined, jobId: undefined, eta: null });
  }

  private fail(id: string, e: unknown): void {
    if (e instanceof ApiError) this.update(id, { status: 'failed', stage: 'failed', error: explainError(e.code, e.status), errorDetail: e.message });
    else this.update(id, { status: 'failed', stage: 'failed', error: explainError('network'), errorDetail: String(e) });
  }

  private pump(): void {
    if (!this.started) return;
    for (const it of this.items) {
      if (it.status === 'pending' && this.uploading.size < MAX_UPLOADS && !this.uploading.has(it.id)) void this.upload(it);
    }
    for (const it of this.items) {
      if (it.jobId && !isFinal(it.status) && !this.watching.has(it.id) && this.watching.size < MAX_WATCHERS) this.watch(it);
    }
  }

  private async upload(it: QueueItem): Promise<void> {
    this.uploading.add(it.id);
    try {
      const file = pendingFiles.get(it.id) ?? (await idbGet<Blob>('files', it.id).catch(() => undefined));
      if (!file) {
        this.uploading.delete(it.id);
        this.update(it.id, { status: 'failed', stage: 'failed', error: 'The file is no longer available in this browser; add it again' });
        return;
      }
      this.update(it.id, { status: 'uploading', stage: 'uploading' });
      const job = await submitJob(file, it.name, it.options, `${it.id}#${it.attempt ?? 0}`);
      pendingFiles.delete(it.id);
      this.uploading.delete(it.id);
      this.update(it.id, { jobId: job.id, status: job.status, stage: job.stage, progress: job.progress, cached: job.cached });
      if (job.status === 'succeeded') await this.finish(it.id, job.id);
      else if (job.status === 'failed') this.update(it.id, { error: explainError(job.error?.code), errorDetail: job.error?.detail });
    } catch (e) {
      this.uploading.delete(it.id);
      this.fail(it.id, e);
    }
  }

  private watch(it: QueueItem): void {
    const jobId = it.jobId!;
    const ws = new WebSocket(eventsUrl(jobId));
    this.watching.set(it.id, ws);
    let final = false;
    ws.onmessage = (m) => {
      const ev = JSON.parse(String(m.data)) as ProgressEvent;
      const patch: Partial<QueueItem> = { status: ev.status, stage: ev.stage, progress: ev.progress, eta: ev.eta_s };
      if (ev.status === 'failed') {
        patch.error = explainError(ev.error?.code);
        patch.errorDetail = ev.error?.detail;
      }
      final = isFinal(ev.status);
      if (ev.status === 'succeeded') {
        void this.finish(it.id, jobId, patch);
      } else {
        this.update(it.id, patch);
      }
    };
    ws.onclose = () => {
      this.watching.delete(it.id);
      if (final) return;
      // Closed early (server restart, network): ask for the state, then watch again.
      setTimeout(() => {
        getJob(jobId)
          .then((job) => {
            if (job.status === 'succeeded') void this.finish(it.id, jobId, { status: 'succeeded', stage: job.stage, progress: 1 });
            else this.update(it.id, { status: job.status, stage: job.stage, progress: job.progress, ...(job.status === 'failed' ? { error: explainError(job.error?.code), errorDetail: job.error?.detail } : {}) });
          })
          .catch((e: unknown) => {
            if (e instanceof ApiError && e.status === 404) this.fail(it.id, e);
            else this.pump();
          });
      }, 1000);
    };
  }

  private async finish(id: string, jobId: string, patch: Partial<QueueItem> = {}): Promise<void> {
    try {
      const map = await getResult<SongMap>(jobId);
      await idbPut('maps', id, map).catch(() => undefined);
      this.update(id, { ...patch, status: 'succeeded', stage: 'done', progress: 1, eta: null, summary: summarise(map) });
    } catch (e) {
      this.fail(id, e);
    }
  }
}

const pendingFiles = new Map<string, Blob>();
export const queue = new Queue();

/** The Song Map of a queue item: from IndexedDB, else from the server. */
export async function loadMap(item: QueueItem): Promise<SongMap> {
  const cached = await idbGet<SongMap>('maps', item.id).catch(() => undefined);
  if (cached) return cached;
  if (!item.jobId) throw new Error('not analysed yet');
  const map = await getResult<SongMap>(item.jobId);
  await idbPut('maps', item.id, map).catch(() => undefined);
  return map;
}

export async function loadAudio(item: QueueItem): Promise<Blob | undefined> {
  return idbGet<Blob>('files', item.id).catch(() => undefined);
}

/** The queue item with this id, kept current (undefined when not in the queue). */
export function useItem(id: string): QueueItem | undefined {
  return useSyncExternalStore(queue.subscribe, () => (id ? queue.get(id) : undefined));
}
