// Melody and bass as a piano roll under the lanes: the Song Map's notes (the `notes` analyzer)
// on a pitch axis, aligned with the waveform's zoom and scroll like the chord lane (positions in %
// of the visible window), the melody's f0 curve over its notes, a label at every C, the playhead.
// A click seeks to the time under the pointer.
import { useMemo } from 'react';
import { formatTime } from '../lib/format';
import { type PitchCurve, type RollNote, f0Path, rollHeight, noteName, pitchLabels, pitchRange, pitchToY, rowHeight, visibleNotes } from '../lib/pianoroll';

const PATH_W = 1000; // the f0 path's coordinate width (stretched to the lane)

export function PianoRoll({ melody, bass, f0, view, time, onSeek }: { melody: RollNote[]; bass: RollNote[]; f0?: PitchCurve; view: [number, number]; time: number; onSeek: (t: number) => void }) {
  const all = useMemo(() => [...melody, ...bass].sort((a, b) => a.start - b.start), [melody, bass]);
  const [lo, hi] = useMemo(() => pitchRange(all, f0), [all, f0]);
  // About 5 px a semitone, 120 to 260 px tall.
  const HEIGHT = rollHeight(lo, hi);
  const [from, to] = view;
  const shown = useMemo(() => visibleNotes(all, from, to), [all, from, to]);
  const path = useMemo(() => f0Path(f0, from, to, lo, hi, PATH_W, HEIGHT), [f0, from, to, lo, hi]);
  const row = rowHeight(lo, hi, HEIGHT);
  const span = to - from;
  if (all.length === 0 && !path) return null;
  return (
    <>
      <div
        className="pianoroll"
        role="img"
        aria-label={`Piano roll: ${melody.length} melody notes, ${bass.length} bass notes, ${noteName(lo)} to ${noteName(hi)}`}
        data-testid="pianoroll"
        data-lo={lo}
        data-hi={hi}
        style={{ height: HEIGHT }}
        onClick={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          if (span > 0 && r.width > 0) onSeek(from + ((e.clientX - r.left) / r.width) * span);
        }}
      >
        {pitchLabels(lo, hi).map((l) => (
          <div key={l.midi} className="roll-c" style={{ top: pitchToY(l.midi + 0.5, lo, hi, HEIGHT), height: row }} data-midi={l.midi}>
            <span className="roll-label">{l.name}</span>
          </div>
        ))}
        {span > 0 &&
          shown.map((n) => (
            <div
              key={`${n.kind}${n.start}${n.pitch}`}
              className={`note ${n.kind}`}
              style={{
                left: `${((n.start - from) / span) * 100}%`,
                width: `${((n.end - n.start) / span) * 100}%`,
                top: pitchToY(n.pitch + 0.5, lo, hi, HEIGHT),
                height: Math.max(2, row),
                opacity: 0.45 + 0.55 * Math.min(1, Math.max(0, n.confidence)),
              }}
              title={`${n.kind === 'melody' ? 'Melody' : 'Bass'} ${noteName(n.pitch)} at ${formatTime(n.start)} (${(n.end - n.start).toFixed(2)} s)`}
              data-kind={n.kind}
              data-start={n.start}
              data-end={n.end}
              data-pitch={n.pitch}
            />
          ))}
        {path && (
          <svg className="roll-f0" viewBox={`0 0 ${PATH_W} ${HEIGHT}`} preserveAspectRatio="none" aria-hidden="true" data-testid="f0-curve">
            <path d={path} vectorEffect="non-scaling-stroke" />
          </svg>
        )}
        {time >= from && time <= to && span > 0 && <span className="lane-head" style={{ left: `${((time - from) / span) * 100}%` }} data-testid="roll-head" />}
      </div>
      <p className="roll-legend small muted" aria-hidden="true">
        <i className="swatch melody" /> melody <i className="swatch bass" /> bass <i className="swatch f0" /> melody pitch (f0)
      </p>
    </>
  );
}
