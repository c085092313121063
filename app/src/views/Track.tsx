import { useEffect, useMemo, useRef, useState } from 'react';
import { navigate, useSettings } from '../App';
import { CamelotWheel } from '../components/CamelotWheel';
import { StemMixer } from '../components/StemMixer';
import { TempoCurve } from '../components/TempoCurve';
import { type PlayerControls, Waveform } from '../components/Waveform';
import { EXPORT_FORMATS, downloadExport, exportText, getLibraryMap } from '../lib/api';
import { energyLevel } from '../lib/energy';
import { chordSegments, sectionSegments, segmentAt, stepSection } from '../lib/lanes';
import { toRollNotes } from '../lib/pianoroll';
import { keyIn, parseCamelot, toOpenKey } from '../lib/camelot';
import { formatBpm, formatDb, formatPercent, formatTime } from '../lib/format';
import { type QueueItem, loadAudio, loadMap, queue, useItem } from '../lib/queue';
import type { SongMap, Vote } from '../lib/songmap';

function Votes({ title, votes, decision }: { title: string; votes: Vote[] | undefined; decision?: string }) {
  if (!votes || votes.length === 0) return null;
  return (
    <div className="votes">
      <h3>{title}</h3>
      {decision && <p className="decision">{decision}</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">Estimator</th>
            <th scope="col">Answer</th>
            <th scope="col">Score</th>
            <th scope="col">Note</th>
          </tr>
        </thead>
        <tbody>
          {votes.map((v) => (
            <tr key={v.name + v.value}>
              <td>{v.name}</td>
              <td>{v.value}</td>
              <td>{v.score.toFixed(2)}</td>
              <td className="muted">{v.note}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Stat({ label, value, sub, testid }: { label: string; value: string; sub?: string; testid?: string }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testid}>
        {value}
      </div>
      {sub && <div className="stat-sub">{sub}</div>}
    </div>
  );
}

/** A track of this browser's queue (`#/track/<id>`) or of the CLI's library (`#/lib/<content hash>`). */
export function TrackView({ id, library = false }: { id: string; library?: boolean }) {
  const queued = useItem(library ? '' : id);
  const [libName, setLibName] = useState<string>('');
  const item: Pick<QueueItem, 'name' | 'jobId' | 'status'> | undefined = library ? { name: libName || 'Library track', jobId: undefined, status: 'succeeded' } : queued;
  const { settings } = useSettings();
  const [map, setMap] = useState<SongMap | null>(null);
  const [audio, setAudio] = useState<Blob | undefined>(undefined);
  const [err, setErr] = useState<string | null>(null);
  const [time, setTime] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [ready, setReady] = useState(false);
  const [fmt, setFmt] = useState<string>('rekordbox');
  const [exportMsg, setExportMsg] = useState<string | null>(null);
  const controls = useRef<PlayerControls | null>(null);
  const [loop, setLoop] = useState<{ start: number; end: number; label: string } | null>(null);
  const [chromaShown, setChromaShown] = useState(false);
  const [chordPro, setChordPro] = useState<string | null>(null);

  useEffect(() => {
    if (library) {
      let live = true;
      getLibraryMap<SongMap>(id)
        .then((m) => {
          if (!live) return;
          setLibName((m.audio.path ?? '').split('/').pop() || 'Library track');
          setMap(m);
          setReady(true);
        })
        .catch((e: unknown) => live && setErr(String(e instanceof Error ? e.message : e)));
      return () => {
        live = false;
      };
    }
    const current = queue.get(id);
    if (!current || current.status !== 'succeeded') return;
    let live = true;
    setMap(null);
    Promise.all([loadMap(current), loadAudio(current)])
      .then(([m, a]) => {
        if (!live) return;
        setMap(m);
        setAudio(a);
        if (!a) setReady(true);
      })
      .catch((e: unknown) => live && setErr(String(e)));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, library, queued?.status, queued?.jobId]);

  const beats = useMemo(() => map?.beats?.times_s ?? [], [map]);
  const downbeats = useMemo(() => map?.downbeats?.times_s ?? [], [map]);
  const chords = useMemo(() => chordSegments(map?.chords?.segments), [map]);
  const sections = useMemo(() => sectionSegments(map?.sections?.segments), [map]);
  const notes = useMemo(() => ({ melody: toRollNotes(map?.notes?.melody, 'melody'), bass: toRollNotes(map?.notes?.bass, 'bass'), f0: map?.notes?.melody_f0 }), [map]);
  const keySegments = useMemo(
    () => (map?.key?.segments && map.key.segments.length > 1 ? map.key.segments.map((s) => ({ start_s: s.start_s, end_s: s.end_s, label: keyIn(settings.notation, s.key.camelot, s.key.label) })) : []),
    [map, settings.notation],
  );

  useEffect(() => {
    const barLen = () => {
      if (downbeats.length < 2) return 2;
      return (downbeats[downbeats.length - 1]! - downbeats[0]!) / (downbeats.length - 1);
    };
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.tagName === 'BUTTON')) {
        if (e.key === ' ' && t.tagName === 'BUTTON') return; // the focused button's own action
        if (t.tagName !== 'BUTTON') return;
      }
      const c = controls.current;
      if (!c) return;
      const step = e.shiftKey ? barLen() : 5;
      const now = c.time();
      const secAt = segmentAt(sections, now);
      if (e.key === 'r') {
        // Loop the section under the playhead (again: stop looping).
        setLoop((l) => {
          if (l) return null;
          const s = sections[secAt];
          return s ? { start: s.start, end: s.end, label: s.label } : null;
        });
      } else if (e.key === ']' || e.key === '[') {
        const to = stepSection(sections, now, e.key === ']' ? 1 : -1);
        if (to != null) c.seek(to + 0.005);
      } else if (e.key === ' ') c.playPause();
      else if (e.key === 'ArrowLeft') c.seek(c.time() - step);
      else if (e.key === 'ArrowRight') c.seek(c.time() + step);
      else if (e.key === 'Home') c.seek(0);
      else if (e.key === 'End') c.seek(map?.audio.duration_s ?? 0);
      else if (e.key === '+' || e.key === '=') c.zoom(2);
      else if (e.key === '-') c.zoom(0.5);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [downbeats, map, sections]);

  if (!item)
    return (
      <section>
        <h1>Track not found</h1>
        <p>
          This track is not in this browser's queue. <a href="#/library">Back to the library</a>
        </p>
      </section>
    );
  if (err)
    return (
      <section>
        <h1>{item.name}</h1>
        <p className="error" role="alert">
          The Song Map could not be loaded: {err}
        </p>
      </section>
    );
  if (!map)
    return (
      <section>
        <h1>{item.name}</h1>
        <p aria-busy="true">Loading…</p>
      </section>
    );

  const t = map.tempo;
  const k = map.key;
  const l = map.loudness;
  const cam = k?.camelot ? parseCamelot(k.camelot) : null;
  const duration = map.audio.duration_s;
  const curBar = downbeats.filter((d) => d <= time + 1e-3).length;
  const chordIdx = segmentAt(chords, time);
  const chordNow = chords[chordIdx];
  const chordNext = chordIdx >= 0 ? chords.slice(chordIdx + 1).find((c) => c.label !== chordNow?.label) : undefined;
  const sectionNow = sections[segmentAt(sections, time)];
  const energy = energyLevel(map);
  const toggleLoop = () =>
    setLoop((l) => {
      if (l) return null;
      const s = sectionNow ?? sections[0];
      return s ? { start: s.start, end: s.end, label: s.label } : null;
    });

  return (
    <section className="track" data-testid="track-view" data-ready={ready ? '1' : '0'}>
      <div className="track-head">
        <div>
          <h1 title={item.name}>{item.name}</h1>
          <p className="muted small">
            {formatTime(duration)} · {map.audio.codec ?? ''} {map.audio.sample_rate_hz ? `${map.audio.sample_rate_hz / 1000} kHz` : ''} ·{' '}
            {map.audio.channels ?? ''} ch{map.audio.truncated ? ' · truncated file' : ''}
          </p>
        </div>
        {library ? (
          <p className="muted small" data-testid="library-note">
            From this machine's library (read-only): export with <code>harmony library export</code>
          </p>
        ) : (
          <div className="exports">
            <label>
              <span className="sr-only">Export format</span>
              <select value={fmt} onChange={(e) => setFmt(e.target.value)} aria-label="Export format">
                {EXPORT_FORMATS.map((f) => (
                  <option key={f.id} value={f.id}>
                    {f.label}
                  </option>
                ))}
              </select>
            </label>
            <button
              onClick={() => {
                setExportMsg(null);
                downloadExport(item.jobId!, fmt, settings.notation).then(
                  () => setExportMsg('Downloaded'),
                  (e: unknown) => setExportMsg(`Export failed: ${String(e)}`),
                );
              }}
              disabled={!item.jobId}
            >
              Export
            </button>
            <button
              className="ghost"
              disabled={!queued || queued.status !== 'succeeded'}
              onClick={() => queue.retry(id, true)}
              title="Analyse the file again, even though the server has its result"
            >
              Re-analyse
            </button>
            {exportMsg && (
              <span className="muted small" role="status">
                {exportMsg}
              </span>
            )}
          </div>
        )}
      </div>

      {queued && queued.status !== 'succeeded' && (
        <p className={queued.status === 'failed' ? 'error' : 'muted'} role="status" data-testid="reanalyse-status">
          {queued.status === 'failed' ? `Re-analysis failed: ${queued.error ?? ''} ${queued.errorDetail ?? ''}` : `Re-analysing… ${queued.stage} ${Math.round(queued.progress * 100)} %`}
        </p>
      )}
      <div className="transport">
        <button className="play" onClick={() => controls.current?.playPause()} disabled={!audio || !ready} aria-label={playing ? 'Pause' : 'Play'} data-testid="play">
          {playing ? '❚❚' : '▶'}
        </button>
        <span className="clock" data-testid="clock" aria-live="off">
          {formatTime(time, true)} / {formatTime(duration, true)}
        </span>
        <span className="muted">Bar {curBar > 0 ? curBar : '—'}</span>
        <span className="spacer" />
        <button className="ghost" onClick={() => controls.current?.zoom(0.5)} aria-label="Zoom out" disabled={!audio}>
          −
        </button>
        <button className="ghost" onClick={() => controls.current?.zoom(2)} aria-label="Zoom in" disabled={!audio}>
          +
        </button>
        <button className="ghost" onClick={() => void controls.current?.showSpectrogram()} disabled={!audio || !ready}>
          Spectrogram
        </button>
        <button
          className="ghost"
          onClick={() => {
            controls.current?.showChromagram();
            setChromaShown(true);
          }}
          disabled={!audio || !ready || chromaShown}
        >
          Chromagram
        </button>
      </div>
      {(chords.length > 0 || sections.length > 0) && (
        <div className="playalong" data-testid="playalong">
          {sections.length > 0 && (
            <span>
              <span className="muted small">Section </span>
              <b data-testid="section-now">{sectionNow?.label ?? '—'}</b>
            </span>
          )}
          {chords.length > 0 && (
            <span>
              <span className="muted small">Chord </span>
              <b className="chord-now" data-testid="chord-now">
                {chordNow?.label ?? '—'}
              </b>
              {chordNext && <span className="muted"> → {chordNext.label}</span>}
            </span>
          )}
          <span className="spacer" />
          {chords.length > 0 && item.jobId && (
            <button
              className="ghost"
              aria-expanded={chordPro != null}
              aria-controls="chordpro"
              data-testid="chordpro-toggle"
              onClick={() => {
                if (chordPro != null) setChordPro(null);
                else exportText(item.jobId!, 'chordpro').then(setChordPro, (e: unknown) => setChordPro(`The ChordPro sheet could not be made: ${String(e instanceof Error ? e.message : e)}`));
              }}
            >
              {chordPro != null ? 'Hide ChordPro' : 'ChordPro'}
            </button>
          )}
          {sections.length > 0 && (
            <button className={loop ? 'on' : 'ghost'} aria-pressed={loop != null} onClick={toggleLoop} disabled={!audio || !ready} data-testid="loop">
              {loop ? `Looping ${loop.label} (${formatTime(loop.start)}–${formatTime(loop.end)})` : 'Loop section'}
            </button>
          )}
        </div>
      )}

      <Waveform
        audio={audio}
        duration={duration}
        beats={beats}
        downbeats={downbeats}
        keySegments={keySegments}
        chords={chords}
        sections={sections}
        notes={notes}
        loop={loop}
        controls={controls}
        onTime={setTime}
        onPlaying={setPlaying}
        onReady={() => {
          setReady(true);
          performance.mark('harmony-track-interactive');
        }}
      />
      {chordPro != null && (
        <pre id="chordpro" className="chordpro card" data-testid="chordpro" tabIndex={0} role="region" aria-label="ChordPro lead sheet">
          {chordPro}
        </pre>
      )}
      {map.stems?.format && item.jobId && audio && (
        <StemMixer
          jobId={item.jobId}
          stems={map.stems.stems}
          bytes={map.stems.stems.reduce((n, s) => n + s.duration_s * map.stems!.sample_rate_hz * map.stems!.channels * 4, 0)}
          time={time}
          playing={playing}
          controls={controls}
        />
      )}
      {t?.curve && t.curve.length > 1 && <TempoCurve curve={t.curve} bpm={t.bpm} duration={duration} />}

      <div className="cards">
        <div className="card">
          <h2>Tempo</h2>
          <Stat
            label="BPM"
            value={formatBpm(t?.bpm)}
            testid="bpm"
            sub={t ? (t.bpm == null ? (t.no_tempo_reason ?? 'no tempo') : `confidence ${formatPercent(t.confidence)}${t.stable === false ? ' · variable tempo' : t.stable ? ' · stable' : ''}`) : 'not analysed'}
          />
          {t?.range_bpm && t.range_bpm.length === 2 && (
            <p className="small muted">
              tempo range {formatBpm(t.range_bpm[0])}–{formatBpm(t.range_bpm[1])} BPM
            </p>
          )}
          {t?.alternatives && t.alternatives.length > 0 && (
            <ul className="alts" aria-label="Tempo alternatives">
              {t.alternatives.map((a) => (
                <li key={a.relation + a.bpm}>
                  <b>{formatBpm(a.bpm)}</b> <span className="muted">{a.relation}</span> {formatPercent(a.probability)}
                </li>
              ))}
            </ul>
          )}
          {map.beats?.grid && (
            <p className="small muted">
              {map.beats.grid.constant ? 'constant grid' : 'tempo-following beat map'} · {beats.length} beats · {downbeats.length} bars
            </p>
          )}
        </div>

        <div className="card key-card">
          <h2>Key</h2>
          <div className="key-row">
            <div>
              <Stat label="Key" value={k ? (k.label ?? k.no_key_reason ?? 'no key') : '—'} testid="key" sub={k ? `confidence ${formatPercent(k.confidence)}` : 'not analysed'} />
              <Stat label="Camelot" value={k?.camelot ?? '—'} testid="camelot" />
              <Stat label="Open Key" value={k?.open_key ?? (cam ? toOpenKey(cam) : '—')} testid="openkey" />
              {k?.tuning && (
                <p className="small muted">
                  A4 = {k.tuning.a4_hz.toFixed(1)} Hz ({k.tuning.cents >= 0 ? '+' : ''}
                  {k.tuning.cents.toFixed(0)} ct)
                </p>
              )}
              {k?.modal && (
                <p className="small muted">
                  church mode: {k.modal.label} ({formatPercent(k.modal.confidence)})
                </p>
              )}
            </div>
            <CamelotWheel camelot={k?.camelot} notation={settings.notation} />
          </div>
          {k?.candidates && k.candidates.length > 1 && (
            <p className="small muted">
              runners-up: {k.candidates.slice(1, 4).map((c) => `${keyIn(settings.notation, c.key.camelot, c.key.label)} (${c.score.toFixed(2)})`).join(', ')}
            </p>
          )}
          {k?.segments && k.segments.length > 1 && (
            <p className="small">
              key changes: {k.segments.map((s) => `${formatTime(s.start_s)} ${keyIn(settings.notation, s.key.camelot, s.key.label)}`).join(' → ')}
            </p>
          )}
        </div>

        <div className="card">
          <h2>Meter</h2>
          <Stat label="Meter" value={map.meter?.label ?? '—'} testid="meter" sub={map.meter ? `confidence ${formatPercent(map.meter.confidence)}` : 'not analysed'} />
          {map.meter?.candidates && (
            <p className="small muted">
              {map.meter.candidates
                .slice(0, 4)
                .map((c) => `${c.label} ${formatPercent(c.probability)}`)
                .join(' · ')}
            </p>
          )}
        </div>

        <div className="card">
          <h2>Loudness</h2>
          {l ? (
            <dl className="loud">
              <dt>Integrated</dt>
              <dd data-testid="lufs">{formatDb(l.integrated_lufs, 'LUFS')}</dd>
              <dt>True peak</dt>
              <dd>{formatDb(l.true_peak_dbtp, 'dBTP')}</dd>
              <dt>Loudness range</dt>
              <dd>{formatDb(l.loudness_range_lu, 'LU')}</dd>
              <dt>Max short-term</dt>
              <dd>{formatDb(l.max_short_term_lufs, 'LUFS')}</dd>
              <dt>ReplayGain</dt>
              <dd>{formatDb(l.replaygain_track_gain_db, 'dB')}</dd>
              <dt>Energy</dt>
              <dd data-testid="energy">{energy != null ? `${energy} / 10` : '—'}</dd>
            </dl>
          ) : (
            <p className="muted">not analysed</p>
          )}
        </div>
      </div>

      <div className="card wide">
        <h2>Why these answers</h2>
        <Votes title="Tempo estimators" votes={t?.estimators} decision={t?.decision} />
        <Votes title="Key estimators" votes={k?.estimators} />
        {!t?.estimators?.length && !k?.estimators?.length && <p className="muted">This map carries no per-estimator breakdown.</p>}
      </div>
      {map.audio.warnings && map.audio.warnings.length > 0 && (
        <div className="card wide warn">
          <h2>Warnings</h2>
          <ul>
            {map.audio.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </div>
      )}
      <p>
        <button className="ghost" onClick={() => navigate('#/library')}>
          ← Library
        </button>
      </p>
    </section>
  );
}
