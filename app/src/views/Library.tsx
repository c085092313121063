import { useMemo, useState } from 'react';
import { navigate, useQueue, useSettings } from '../App';
import { camelotLabel } from '../components/KeyText';
import { EXPORT_FORMATS, downloadMultiExport } from '../lib/api';
import { isCompatible, parseCamelot, fromOpenKey } from '../lib/camelot';
import { formatBpm, formatDb, formatTime } from '../lib/format';
import { type QueueItem, queue } from '../lib/queue';

type SortKey = 'name' | 'bpm' | 'key' | 'meter' | 'lufs' | 'duration';

function sortValue(it: QueueItem, k: SortKey): number | string {
  const s = it.summary!;
  switch (k) {
    case 'name':
      return it.name.toLowerCase();
    case 'bpm':
      return s.bpm ?? -1;
    case 'key': {
      const c = parseCamelot(s.camelot);
      return c ? c.num * 2 + (c.letter === 'B' ? 1 : 0) : 99;
    }
    case 'meter':
      return s.meter;
    case 'lufs':
      return s.lufs ?? -99;
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
  const keyFilter = parseCamelot(keyText) ?? fromOpenKey(keyText);
  const rows = useMemo(() => {
    const lo = bpmMin ? Number(bpmMin) : -Infinity;
    const hi = bpmMax ? Number(bpmMax) : Infinity;
    const out = tracks.filter((it) => {
      const s = it.summary!;
      if (q && !it.name.toLowerCase().includes(q.toLowerCase())) return false;
      if ((bpmMin || bpmMax) && (s.bpm == null || s.bpm < lo || s.bpm > hi)) return false;
      if (keyFilter) {
        const c = parseCamelot(s.camelot);
        if (!c) return false;
        if (compat ? !isCompatible(keyFilter, c) : c.num !== keyFilter.num || c.letter !== keyFilter.letter) return false;
      }
      return true;
    });
    out.sort((a, b) => {
      const x = sortValue(a, sort.k);
      const y = sortValue(b, sort.k);
      const r = x < y ? -1 : x > y ? 1 : 0;
      return sort.desc ? -r : r;
    });
    return out;
  }, [tracks, q, bpmMin, bpmMax, keyFilter, compat, sort]);

  const header = (k: SortKey, label: string) => (
    <th scope="col" aria-sort={sort.k === k ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button className="th" onClick={() => setSort((s) => ({ k, desc: s.k === k ? !s.desc : false }))}>
        {label}
        {sort.k === k ? (sort.desc ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  );
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
        <button className="ghost" disabled={selected.length === 0} onClick={() => selected.forEach((r) => queue.retry(r.id))}>
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
                <td className="n">{formatTime(it.summary!.duration)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
