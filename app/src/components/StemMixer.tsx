// The stem mixer: the four stems the server kept for this job (submitted with stems), played with
// WebAudio in sync with the main player's playhead (the main player is muted while the stems
// play): per stem mute, solo and volume. Loaded on demand (a float WAV per stem).
import { useEffect, useRef, useState } from 'react';
import { fetchStem } from '../lib/api';
import { type Strip, effectiveGains, needsResync, orderStems } from '../lib/mixer';
import type { PlayerControls } from './Waveform';

interface StemInfo {
  name: string;
  energy_db: number;
  quality: number;
}

interface Engine {
  ctx: AudioContext;
  buffers: AudioBuffer[];
  gains: GainNode[];
  sources: AudioBufferSourceNode[];
  startOffset: number;
  startClock: number;
}

export function StemMixer({ jobId, stems, bytes, time, playing, controls }: { jobId: string; stems: StemInfo[]; bytes: number; time: number; playing: boolean; controls: React.MutableRefObject<PlayerControls | null> }) {
  const ordered = orderStems(stems);
  const [state, setState] = useState<'idle' | 'loading' | 'ready' | 'error'>('idle');
  const [err, setErr] = useState<string>('');
  const [on, setOn] = useState(false);
  const [running, setRunning] = useState(false);
  const [strips, setStrips] = useState<Strip[]>(() => ordered.map((s) => ({ name: s.name, volume: 1, muted: false, solo: false })));
  const engine = useRef<Engine | null>(null);
  const gains = effectiveGains(strips);

  const stopSources = () => {
    const e = engine.current;
    if (!e) return;
    for (const s of e.sources) {
      try {
        s.stop();
      } catch {
        /* never started */
      }
      s.disconnect();
    }
    e.sources = [];
    setRunning(false);
  };

  const load = async () => {
    setState('loading');
    try {
      const ctx = new AudioContext();
      const buffers = await Promise.all(ordered.map(async (s) => ctx.decodeAudioData(await fetchStem(jobId, s.name))));
      const g = buffers.map(() => {
        const n = ctx.createGain();
        n.connect(ctx.destination);
        return n;
      });
      engine.current = { ctx, buffers, gains: g, sources: [], startOffset: 0, startClock: 0 };
      setState('ready');
      setOn(true);
    } catch (e) {
      setErr(String(e instanceof Error ? e.message : e));
      setState('error');
    }
  };

  // The main player is silent while the stems play (its playhead still leads).
  useEffect(() => {
    controls.current?.setMuted(on);
  }, [on, controls]);

  // Gains follow the strips.
  useEffect(() => {
    const e = engine.current;
    if (!e) return;
    e.gains.forEach((g, i) => g.gain.setValueAtTime(gains[i] ?? 0, e.ctx.currentTime));
  });

  // Follow the playhead: start with the main player, stop with it, start again after a seek or a
  // loop's jump back (the stems and the main player then differ by more than the tolerance).
  useEffect(() => {
    const e = engine.current;
    if (!e) return;
    if (!on || !playing) {
      if (e.sources.length > 0) stopSources();
      return;
    }
    if (e.sources.length > 0 && !needsResync(time, e.startOffset, e.startClock, e.ctx.currentTime, 0.2)) return;
    stopSources();
    void e.ctx.resume();
    const at = Math.max(0, time);
    e.sources = e.buffers.map((b, i) => {
      const src = e.ctx.createBufferSource();
      src.buffer = b;
      src.connect(e.gains[i]!);
      if (at < b.duration) src.start(0, at);
      return src;
    });
    e.startOffset = at;
    e.startClock = e.ctx.currentTime;
    setRunning(true);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [time, playing, on, state]);

  useEffect(
    () => () => {
      stopSources();
      controls.current?.setMuted(false);
      void engine.current?.ctx.close();
      engine.current = null;
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );

  const set = (i: number, patch: Partial<Strip>) => setStrips((ss) => ss.map((s, j) => (j === i ? { ...s, ...patch } : s)));
  const mb = (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0);
  // Where the stems are now (for the tests: it must match the playhead).
  const e = engine.current;
  const stemPos = e && running ? e.startOffset + (e.ctx.currentTime - e.startClock) : null;
  return (
    <div className="card wide mixer" data-testid="stem-mixer" data-state={state} data-on={on ? '1' : '0'} data-running={running ? '1' : '0'} data-stem-pos={stemPos?.toFixed(3)} data-audio-state={e?.ctx.state}>
      <h2>Stem mixer</h2>
      {state === 'idle' && (
        <p>
          <button onClick={() => void load()} data-testid="stems-load">
            Load stems ({mb} MB)
          </button>{' '}
          <span className="muted small">vocals, drums, bass and other, as separated by the server; played in sync with the playhead</span>
        </p>
      )}
      {state === 'loading' && <p aria-busy="true">Loading the stems…</p>}
      {state === 'error' && (
        <p className="error" role="alert">
          The stems could not be loaded: {err}
        </p>
      )}
      {state === 'ready' && (
        <>
          <p>
            <button className={on ? 'on' : 'ghost'} aria-pressed={on} onClick={() => setOn((o) => !o)} data-testid="stems-on">
              {on ? 'Playing the stem mix' : 'Play the stem mix'}
            </button>{' '}
            <span className="muted small">{on ? 'the original is muted' : 'the original plays'}</span>
          </p>
          <div className="strips">
            {strips.map((s, i) => {
              const info = ordered[i]!;
              return (
                <div key={s.name} className="strip" data-testid="stem-strip" data-name={s.name} data-gain={gains[i]}>
                  <b>{s.name}</b>
                  <button className={s.muted ? 'on' : 'ghost'} aria-pressed={s.muted} aria-label={`Mute ${s.name}`} title={`Mute ${s.name}`} onClick={() => set(i, { muted: !s.muted })} data-testid="stem-mute">
                    M
                  </button>
                  <button className={s.solo ? 'on' : 'ghost'} aria-pressed={s.solo} aria-label={`Solo ${s.name}`} title={`Solo ${s.name}`} onClick={() => set(i, { solo: !s.solo })} data-testid="stem-solo">
                    S
                  </button>
                  <input type="range" min={0} max={1.5} step={0.05} value={s.volume} aria-label={`${s.name} volume`} onChange={(e) => set(i, { volume: Number(e.target.value) })} data-testid="stem-volume" />
                  <span className="muted small" title="stem energy relative to the mix">
                    {info.energy_db <= -119 ? 'silent' : `${info.energy_db.toFixed(1)} dB`}
                  </span>
                </div>
              );
            })}
          </div>
        </>
      )}
    </div>
  );
}
