import { useEffect, useMemo, useState } from 'react';
import { navigate, useQueue, useSettings } from '../App';
import { camelotLabel } from '../components/KeyText';
import { EXPORT_FORMATS, type LibraryTrack, downloadMultiExport, getLibrary } from '../lib/api';
import { SortHeader } from '../components/SortHeader';
import { camelotOrder, makeFilter, sortBy } from '../lib/filter';
import { formatBpm, formatDb, formatTime } from '../lib/format';
import { type QueueItem, queue } from '../lib/queue';

type SortKey = 'name' | 'bpm' | 'key' | 'meter' | 'lufs' | 'energy' | 'duration';

function sortValue(it: QueueItem, k: SortKey): number | string {
  const s = it.summary!;
  switch (k) {
    case 'name':
      return it.name.toLowerCase();
    case 'bpm':
      return s.bpm ?? -1;
    case 'key':
      return camelotOrder(s.camelot);
    case 'meter':
      return s.meter;
    case 'lufs':
      return s.lufs ?? -99;
    case 'energy':
      return s.energy ?? 0;
    case 'duration':
      return s.duration;
  }
}


export function LibraryView() {
  const items = useQueue();
  const { settings } = useSettings();
  const [q, setQ] = useState('');
  const [bpmMin, setBpmMin] = useState('');
  const [bpmMax, setBpmMax] = useState('');
  const [keyText, setKeyText] = useState('');
  const [compat, setCompat] = useState(true);
  const [sort, setSort] = useState<{ k: SortKey; desc: boolean }>({ k: 'name', desc: false });
  const [sel, setSel] = useState<Set<string>>(new Set());
  const [fmt, setFmt] = useState('rekordbox');
  const [msg, setMsg] = useState<string | null>(null);

  const tracks = items.filter((i) => i.status === 'succeeded' && i.summary);
  const rows = useMemo(() => {
    const pass = makeFilter({ q, bpmMin, bpmMax, keyText, compat });
    const out = tracks.filter((it) => pass({ text: it.name, bpm: it.summary!.bpm, camelot: it.summary!.camelot }));
    return sortBy(out, (it) => sortValue(it, sort.k), sort.desc);
  }, [tracks, q, bpmMin, bpmMax, keyText, compat, sort]);

  const header = (k: SortKey, label: string) => <SortHeader k={k} label={label} sort={sort} setSort={setSort} />;
  const selected = rows.filter((r) => sel.has(r.id) && r.jobId);
  const toggle = (id: string) =>
    setSel((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  return (
    <section className="library">
      <h1>Library</h1>
      <div className="filters" role="search">
        <label>
          Search <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="file name" />
        </label>
        <label>
          BPM from <input type="number" inputMode="decimal" value={bpmMin} onChange={(e) => setBpmMin(e.target.value)} className="num" />
        </label>
        <label>
          to <input type="number" inputMode="decimal" value={bpmMax} onChange={(e) => setBpmMax(e.target.value)} className="num" />
        </label>
        <label>
          Key <input value={keyText} onChange={(e) => setKeyText(e.target.value)} placeholder="8A or 1m" className="num" />
        </label>
        <label>
          <input type="checkbox" checked={compat} onChange={(e) => setCompat(e.target.checked)} /> compatible keys
        </label>
      </div>
      <div className="row">
        <span className="muted">
          {rows.length} of {tracks.length} tracks · {selected.length} selected
        </span>
        <span className="spacer" />
        <select value={fmt} onChange={(e) => setFmt(e.target.value)} aria-label="Export format">
          {EXPORT_FORMATS.map((f) => (
            <option key={f.id} value={f.id}>
              {f.label}
            </option>
          ))}
        </select>
        <button
          disabled={selected.length === 0}
          onClick={() => {
            setMsg(null);
            downloadMultiExport(
              selected.map((r) => r.jobId!),
              fmt,
              settings.notation,
            ).then(
              () => setMsg(`Exported ${selected.length} tracks`),
              (e: unknown) => setMsg(`Export failed: ${String(e)}`),
            );
          }}
        >
          Export selected
        </button>
        <button
          className="ghost"
          disabled={selected.length === 0}
          onClick={() => {
            selected.forEach((r) => queue.retry(r.id, true));
            setMsg(`Re-analysing ${selected.length} ${selected.length === 1 ? 'track' : 'tracks'} (the server analyses again: its stored results are not reused)`);
          }}
        >
          Re-analyse
        </button>
      </div>
      {msg && (
        <p role="status" className="small">
          {msg}
        </p>
      )}
      {tracks.length === 0 ? (
        <p className="muted">
          No analysed tracks yet: <a href="#/analyse">analyse some files</a>.
        </p>
      ) : (
        <table className="lib" data-testid="library-table">
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select all"
                  checked={rows.length > 0 && rows.every((r) => sel.has(r.id))}
                  onChange={(e) => setSel(e.target.checked ? new Set(rows.map((r) => r.id)) : new Set())}
                />
              </th>
              {header('name', 'Track')}
              {header('bpm', 'BPM')}
              {header('key', 'Key')}
              {header('meter', 'Meter')}
              {header('lufs', 'Loudness')}
              {header('energy', 'Energy')}
              {header('duration', 'Length')}
            </tr>
          </thead>
          <tbody>
            {rows.map((it) => (
              <tr key={it.id} onDoubleClick={() => navigate(`#/track/${it.id}`)}>
                <td>
                  <input type="checkbox" aria-label={`Select ${it.name}`} checked={sel.has(it.id)} onChange={() => toggle(it.id)} />
                </td>
                <td>
                  <a href={`#/track/${it.id}`}>{it.name}</a>
                </td>
                <td className="n">{formatBpm(it.summary!.bpm)}</td>
                <td>{camelotLabel(settings.notation, it.summary!)}</td>
                <td>{it.summary!.meter || '—'}</td>
                <td className="n">{formatDb(it.summary!.lufs, 'LUFS')}</td>
                <td className="n" data-testid="energy-cell">
                  {it.summary!.energy ?? '—'}
                </td>
                <td className="n">{formatTime(it.summary!.duration)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <CliLibrary q={q} bpmMin={bpmMin} bpmMax={bpmMax} keyText={keyText} compat={compat} />
    </section>
  );
}

type CliSort = 'title' | 'bpm' | 'key' | 'energy' | 'lufs' | 'duration';

/**
 * The library `harmony analyze` fills on this machine (GET /v1/library, read-only), with the same
 * filters as the browser's tracks; a row opens the track view (grid, lanes and numbers; the audio
 * stays on disk).
 */
function CliLibrary({ q, bpmMin, bpmMax, keyText, compat }: { q: string; bpmMin: string; bpmMax: string; keyText: string; compat: boolean }) {
  const { settings } = useSettings();
  const [state, setState] = useState<{ tracks: LibraryTrack[] } | { missing: string } | { error: string } | null>(null);
  const [sort, setSort] = useState<{ k: CliSort; desc: boolean }>({ k: 'title', desc: false });
  useEffect(() => {
    let live = true;
    getLibrary().then(
      (r) => live && setState(r),
      (e: unknown) => live && setState({ error: String(e instanceof Error ? e.message : e) }),
    );
    return () => {
      live = false;
    };
  }, []);
  const tracks = state && 'tracks' in state ? state.tracks : [];
  const rows = useMemo(() => {
    const pass = makeFilter({ q, bpmMin, bpmMax, keyText, compat });
    const out = tracks.filter((t) => pass({ text: `${t.title} ${t.artist} ${t.path}`, bpm: t.bpm, camelot: t.camelot }));
    const v = (t: LibraryTrack): number | string => {
      switch (sort.k) {
        case 'title':
          return t.title.toLowerCase();
        case 'bpm':
          return t.bpm ?? -1;
        case 'key':
          return camelotOrder(t.camelot);
        case 'energy':
          return t.energy ?? 0;
        case 'lufs':
          return t.integrated_lufs ?? -99;
        case 'duration':
          return t.duration_s;
      }
    };
    return sortBy(out, v, sort.desc);
  }, [tracks, q, bpmMin, bpmMax, keyText, compat, sort]);
  const header = (k: CliSort, label: string) => <SortHeader k={k} label={label} sort={sort} setSort={setSort} />;
  return (
    <section className="cli-library" aria-labelledby="cli-lib-title" data-testid="cli-library">
      <h2 id="cli-lib-title">Harmony library on this machine</h2>
      {state == null && <p aria-busy="true">Loading…</p>}
      {state && 'missing' in state && (
        <p className="muted" data-testid="cli-library-missing">
          {state.missing}
        </p>
      )}
      {state && 'error' in state && (
        <p className="error" role="alert">
          The library could not be read: {state.error}
        </p>
      )}
      {state && 'tracks' in state && (
        <>
          <p className="muted small">
            {rows.length} of {tracks.length} tracks analysed with <code>harmony analyze</code> (read-only here)
          </p>
          {tracks.length > 0 && (
            <table className="lib" data-testid="cli-library-table">
              <thead>
                <tr>
                  {header('title', 'Title')}
                  <th scope="col">Artist</th>
                  {header('bpm', 'BPM')}
                  {header('key', 'Key')}
                  {header('energy', 'Energy')}
                  {header('lufs', 'Loudness')}
                  {header('duration', 'Length')}
                </tr>
              </thead>
              <tbody>
                {rows.map((t) => (
                  <tr key={t.content_hash} data-hash={t.content_hash}>
                    <td>
                      <a href={`#/lib/${encodeURIComponent(t.content_hash)}`} title={t.path}>
                        {t.title}
                      </a>
                    </td>
                    <td>{t.artist || '—'}</td>
                    <td className="n">{formatBpm(t.bpm)}</td>
                    <td>{camelotLabel(settings.notation, { key: t.key, camelot: t.camelot })}</td>
                    <td className="n">{t.energy ?? '—'}</td>
                    <td className="n">{formatDb(t.integrated_lufs, 'LUFS')}</td>
                    <td className="n">{formatTime(t.duration_s)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
