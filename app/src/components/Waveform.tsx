import { useEffect, useMemo, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import WaveSurfer from 'wavesurfer.js';
import { type GridMark, gridMarks, xPercent } from '../lib/grid';
import type { LaneSegment } from '../lib/lanes';
import { Chromagram } from './Chromagram';
import { Lanes } from './Lanes';
import { PianoRoll } from './PianoRoll';
import type { PitchCurve, RollNote } from '../lib/pianoroll';

export interface PlayerControls {
  playPause: () => void;
  seek: (t: number) => void;
  time: () => number;
  zoom: (factor: number) => void;
  showSpectrogram: () => Promise<void>;
  showChromagram: () => void;
  setMuted: (muted: boolean) => void;
}

interface Props {
  audio: Blob | undefined;
  duration: number;
  beats: number[];
  downbeats: number[];
  keySegments: { start_s: number; end_s: number; label: string }[];
  chords: LaneSegment[];
  sections: LaneSegment[];
  notes: { melody: RollNote[]; bass: RollNote[]; f0?: PitchCurve };
  loop: { start: number; end: number } | null;
  controls: React.MutableRefObject<PlayerControls | null>;
  onTime: (t: number) => void;
  onPlaying: (p: boolean) => void;
  onReady: () => void;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** The grid drawn over the waveform, in % of the track: it follows the zoom with no redraw. */
function GridOverlay({ marks, duration, keySegments }: { marks: GridMark[]; duration: number; keySegments: Props['keySegments'] }) {
  return (
    <div className="grid-overlay" style={{ position: 'absolute', inset: 0, pointerEvents: 'none', zIndex: 3 }}>
      <svg data-testid="beat-grid" width="100%" height="100%" style={{ position: 'absolute', inset: 0, overflow: 'visible' }}>
        {marks.map((m) => (
          <line
            key={`${m.kind}${m.t}`}
            x1={`${xPercent(m.t, duration)}%`}
            x2={`${xPercent(m.t, duration)}%`}
            y1={m.kind === 'downbeat' ? 12 : 16}
            y2="100%"
            stroke={m.kind === 'downbeat' ? 'var(--downbeat)' : 'var(--beat)'}
            strokeWidth={m.kind === 'downbeat' ? 1.5 : 1}
            data-kind={m.kind}
          />
        ))}
        {marks
          .filter((m) => m.label)
          .map((m) => (
            <text key={`b${m.bar}`} x={`${xPercent(m.t, duration)}%`} dx={3} y={10} fontSize={10} fill="var(--downbeat)" data-bar={m.bar}>
              {m.bar}
            </text>
          ))}
      </svg>
      {keySegments.map((s) => (
        <div
          key={`k${s.start_s}`}
          className="key-segment"
          title={s.label}
          style={{ position: 'absolute', bottom: 0, height: 14, background: 'var(--keylane)', color: 'var(--fg)', fontSize: 10, lineHeight: '14px', paddingLeft: 4, overflow: 'hidden', whiteSpace: 'nowrap', borderLeft: '2px solid var(--accent)', boxSizing: 'border-box', left: `${xPercent(s.start_s, duration)}%`, width: `${xPercent(s.end_s - s.start_s, duration)}%` }}
        >
          {s.label}
        </div>
      ))}
    </div>
  );
}

export function Waveform({ audio, duration, beats, downbeats, keySegments, chords, sections, notes, loop, controls, onTime, onPlaying, onReady }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const ws = useRef<WaveSurfer | null>(null);
  const [wrapper, setWrapper] = useState<HTMLElement | null>(null);
  const [pxPerSec, setPxPerSec] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const spectro = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<[number, number]>([0, duration]);
  const [time, setTime] = useState(0);
  const [chroma, setChroma] = useState<AudioBuffer | null>(null);
  // The loop is read on every time update: a ref, so that changing it does not rebuild the player.
  const loopRef = useRef(loop);
  loopRef.current = loop;

  useEffect(() => {
    if (!box.current || !audio) return;
    const w = WaveSurfer.create({
      container: box.current,
      height: 140,
      waveColor: cssVar('--wave'),
      progressColor: cssVar('--wave-played'),
      cursorColor: cssVar('--accent'),
      cursorWidth: 2,
      normalize: true,
      dragToSeek: true,
      autoScroll: true,
      autoCenter: true,
    });
    ws.current = w;
    const measure = () => {
      const el = w.getWrapper();
      const pps = el.scrollWidth / Math.max(duration, 1e-3);
      setPxPerSec(pps);
      // The visible window, for the lanes under the waveform (they follow zoom and scroll).
      if (pps > 0) setView([w.getScroll() / pps, Math.min(duration, (w.getScroll() + w.getWidth()) / pps)]);
    };
    w.on('ready', () => {
      setWrapper(w.getWrapper());
      measure();
      onReady();
    });
    w.on('zoom', measure);
    w.on('redrawcomplete', measure);
    w.on('scroll', (from, to) => setView([from, Math.min(duration, to)]));
    w.on('timeupdate', (t) => {
      const l = loopRef.current;
      if (l && w.isPlaying() && (t >= l.end - 0.01 || t < l.start - 0.25)) {
        w.setTime(l.start); // loop: back to the section's start
        return;
      }
      setTime(t);
      onTime(t);
    });
    w.on('play', () => onPlaying(true));
    w.on('pause', () => onPlaying(false));
    w.on('finish', () => onPlaying(false));
    w.on('error', (e) => setError(String(e)));
    w.loadBlob(audio).catch((e: unknown) => setError(`The audio could not be played in this browser (${String(e)})`));
    let zoomPx = 0;
    controls.current = {
      playPause: () => void w.playPause(),
      seek: (t) => {
        const x = Math.min(Math.max(0, t), w.getDuration() || duration);
        // wavesurfer defers a seek while the media is below HAVE_FUTURE_DATA (just after another
        // seek) and drops that deferred seek when the earlier one's 'seeking' event arrives: two
        // quick seeks (`]` `]`) left the audio at the first one while the clock showed the second.
        // Setting the element's position first makes every seek take effect at once.
        const m = w.getMediaElement();
        if (m && m.readyState >= 1) m.currentTime = x;
        w.setTime(x);
      },
      time: () => w.getCurrentTime(),
      zoom: (f) => {
        const base = zoomPx || w.getWrapper().scrollWidth / Math.max(duration, 1e-3);
        zoomPx = Math.min(2000, Math.max(base === 0 ? 1 : 1, base * f));
        w.zoom(zoomPx);
      },
      showSpectrogram: async () => {
        if (!spectro.current) return;
        const { default: Spectrogram } = await import('wavesurfer.js/dist/plugins/spectrogram.esm.js');
        w.registerPlugin(Spectrogram.create({ container: spectro.current, labels: true, height: 160, fftSamples: 1024 }));
      },
      showChromagram: () => setChroma(w.getDecodedData()),
      setMuted: (m) => w.setMuted(m),
    };
    return () => {
      controls.current = null;
      setWrapper(null);
      w.destroy();
      ws.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [audio, duration]);

  const marks = useMemo(() => (pxPerSec > 0 ? gridMarks(beats, downbeats, { pxPerSec }) : []), [beats, downbeats, pxPerSec]);
  // Without the audio (analysed in another browser) the grid is still drawn on an empty timeline.
  const staticMarks = useMemo(() => (audio ? [] : gridMarks(beats, downbeats, { pxPerSec: 1000 / Math.max(duration, 1) })), [audio, beats, downbeats, duration]);

  return (
    <div className="waveform-wrap">
      {audio ? (
        <div ref={box} className="waveform" data-testid="waveform" />
      ) : (
        <div className="waveform empty" style={{ position: 'relative', height: 140 }}>
          <p className="muted">The audio is not stored in this browser; the grid is shown without the waveform.</p>
          <GridOverlay marks={staticMarks} duration={duration} keySegments={keySegments} />
        </div>
      )}
      {wrapper && createPortal(<GridOverlay marks={marks} duration={duration} keySegments={keySegments} />, wrapper)}
      <Lanes chords={chords} sections={sections} view={audio ? view : [0, duration]} time={time} loop={loop} onSeek={(t) => controls.current?.seek(t)} />
      <PianoRoll melody={notes.melody} bass={notes.bass} f0={notes.f0} view={audio ? view : [0, duration]} time={time} onSeek={(t) => controls.current?.seek(t)} />
      <div ref={spectro} className="spectrogram" />
      {chroma && <Chromagram buffer={chroma} time={time} onSeek={(t) => controls.current?.seek(t)} />}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
