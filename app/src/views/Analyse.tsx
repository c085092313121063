import { useRef, useState } from 'react';
import { navigate, useQueue, useSettings } from '../App';
import { camelotLabel } from '../components/KeyText';
import { formatBpm, formatBytes, formatEta } from '../lib/format';
import { type QueueItem, isFinal, queue } from '../lib/queue';
import { analysisOptions } from '../lib/settings';

// Extensions taken from a dropped or picked folder (a folder's covers and cue sheets are skipped;
// files dropped one by one are all sent, and the server says which are not audio).
const AUDIO_EXT = /\.(wav|wave|aif|aiff|aifc|flac|mp3|mp2|ogg|oga|opus|m4a|mp4|aac|alac|wma|wv|ape|mka|webm|caf)$/i;

async function entryFiles(entry: FileSystemEntry): Promise<File[]> {
  if (entry.isFile) {
    return new Promise((resolve) => (entry as FileSystemFileEntry).file((f) => resolve(AUDIO_EXT.test(f.name) ? [f] : []), () => resolve([])));
  }
  if (!entry.isDirectory) return [];
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const all: File[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve) => reader.readEntries(resolve, () => resolve([])));
    if (batch.length === 0) break;
    for (const e of batch) all.push(...(await entryFiles(e)));
  }
  return all;
}

async function droppedFiles(dt: DataTransfer): Promise<File[]> {
  const out: File[] = [];
  const entries = Array.from(dt.items)
    .map((i) => (i.kind === 'file' ? i.webkitGetAsEntry?.() : null))
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return Array.from(dt.files);
  for (const e of entries) {
    if (e.isDirectory) out.push(...(await entryFiles(e)));
    else {
      const f = await new Promise<File | null>((resolve) => (e as FileSystemFileEntry).file(resolve, () => resolve(null)));
      if (f) out.push(f);
    }
  }
  return out;
}

const STATUS_TEXT: Record<QueueItem['status'], string> = {
  pending: 'Waiting',
  uploading: 'Uploading',
  queued: 'Queued',
  running: 'Analysing',
  succeeded: 'Done',
  failed: 'Failed',
  canceled: 'Canceled',
};

function Row({ it }: { it: QueueItem }) {
  const { settings } = useSettings();
  const pct = Math.round((isFinal(it.status) && it.status === 'succeeded' ? 1 : it.progress) * 100);
  const eta = it.status === 'running' ? formatEta(it.eta) : null;
  return (
    <li className={`qitem ${it.status}`} data-testid="queue-item" data-status={it.status} data-name={it.name}>
      <div className="qname">
        <strong title={it.name}>{it.name}</strong>
        <span className="muted"> {formatBytes(it.size)}</span>
      </div>
      <div className="qprogress">
        <div
          className="bar"
          role="progressbar"
          aria-label={`Progress of ${it.name}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={pct}
        >
          <div className="fill" style={{ width: `${pct}%` }} />
        </div>
        <span className="qstage">
          {STATUS_TEXT[it.status]}
          {it.status === 'running' && it.stage ? ` · ${it.stage}` : ''}
          {it.status === 'running' ? ` · ${pct}%` : ''}
          {eta ? ` · ${eta}` : ''}
          {it.cached ? ' · from the result store' : ''}
        </span>
        {it.status === 'failed' && (
          <div className="error" role="alert">
            {it.error}
            {it.errorDetail ? <span className="detail">: {it.errorDetail}</span> : null}
          </div>
        )}
      </div>
      <div className="qresult">
        {it.summary && (
          <span data-testid="queue-summary">
            <b>{formatBpm(it.summary.bpm)}</b> BPM · <b>{camelotLabel(settings.notation, it.summary)}</b>
          </span>
        )}
      </div>
      <div className="qactions">
        {it.status === 'succeeded' && <button onClick={() => navigate(`#/track/${it.id}`)}>Open</button>}
        {!isFinal(it.status) && (
          <button className="ghost" onClick={() => void queue.cancel(it.id)} aria-label={`Cancel ${it.name}`}>
            Cancel
          </button>
        )}
        {(it.status === 'failed' || it.status === 'canceled') && (
          <button className="ghost" onClick={() => queue.retry(it.id)}>
            Retry
          </button>
        )}
        {isFinal(it.status) && (
          <button className="ghost" onClick={() => queue.remove(it.id)} aria-label={`Remove ${it.name}`}>
            Remove
          </button>
        )}
      </div>
    </li>
  );
}

export function AnalyseView() {
  const items = useQueue();
  const { settings } = useSettings();
  const [over, setOver] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const dirInput = useRef<HTMLInputElement>(null);
  const add = (files: File[]) => {
    if (files.length > 0) void queue.add(files, analysisOptions(settings));
  };
  const counts = { done: 0, failed: 0, active: 0 };
  for (const i of items) {
    if (i.status === 'succeeded') counts.done++;
    else if (i.status === 'failed' || i.status === 'canceled') counts.failed++;
    else counts.active++;
  }
  const recent = [...items].reverse();
  return (
    <section className="analyse">
      <h1>Analyse</h1>
      <div
        className={over ? 'dropzone over' : 'dropzone'}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void droppedFiles(e.dataTransfer).then(add);
        }}
      >
        <p>Drop audio files or folders here</p>
        <div className="row">
          <button onClick={() => fileInput.current?.click()}>Choose files…</button>
          <button className="ghost" onClick={() => dirInput.current?.click()}>
            Choose a folder…
          </button>
        </div>
        <input
          ref={fileInput}
          data-testid="file-input"
          type="file"
          multiple
          hidden
          aria-label="Audio files"
          accept="audio/*,video/*,.flac,.opus,.m4a,.wma,.aiff,.aif"
          onChange={(e) => {
            add(Array.from(e.target.files ?? []));
            e.target.value = '';
          }}
        />
        <input
          ref={dirInput}
          type="file"
          hidden
          aria-label="Audio folder"
          {...{ webkitdirectory: '' }}
          onChange={(e) => {
            add(Array.from(e.target.files ?? []).filter((f) => AUDIO_EXT.test(f.name)));
            e.target.value = '';
          }}
        />
        <p className="muted small">Files stay on this machine: they go to the local Harmony service only.</p>
      </div>
      {items.length > 0 && (
        <div className="summary-line" data-testid="batch-summary" aria-live="polite">
          {counts.done} done · {counts.active} in progress · {counts.failed} failed or canceled
          {counts.failed > 0 && (
            <button className="ghost small" onClick={() => queue.clearFailed()}>
              Clear failed
            </button>
          )}
        </div>
      )}
      <ul className="queue" aria-label="Analysis queue">
        {recent.map((it) => (
          <Row key={it.id} it={it} />
        ))}
      </ul>
    </section>
  );
}
