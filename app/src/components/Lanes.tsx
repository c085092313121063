// The chord and section lanes under the waveform: coloured segments (one colour per chord family
// or section letter) that follow the waveform's zoom and scroll; a click seeks to the segment's
// start. Sections are buttons (Tab reaches them); chords are many, so they are clickable but out
// of the tab order (the `[`/`]` keys step through sections, the current chord is announced above).
import { type LaneSegment, chordColour, placeInView, sectionColour, segmentAt } from '../lib/lanes';
import { formatTime } from '../lib/format';

interface LaneProps {
  name: string;
  segs: LaneSegment[];
  colour: (s: LaneSegment) => { bg: string; fg: string };
  view: [number, number];
  time: number;
  focusable: boolean;
  loop: { start: number; end: number } | null;
  onSeek: (t: number) => void;
  testid: string;
}

function Lane({ name, segs, colour, view, time, focusable, loop, onSeek, testid }: LaneProps) {
  const cur = segmentAt(segs, time);
  return (
    <div className="lane" role="group" aria-label={name} title={name} data-testid={testid}>
      <div className="lane-track">
        {segs.map((s, i) => {
          const at = placeInView(s, view[0], view[1]);
          if (!at) return null;
          const c = colour(s);
          const looped = loop != null && Math.abs(loop.start - s.start) < 1e-6 && Math.abs(loop.end - s.end) < 1e-6;
          return (
            <button
              key={`${s.start}`}
              className={`seg${i === cur ? ' current' : ''}${looped ? ' looped' : ''}`}
              style={{ left: `${at.left}%`, width: `${at.width}%`, background: c.bg, color: c.fg }}
              title={s.title}
              aria-label={`${s.title}, at ${formatTime(s.start)}`}
              aria-current={i === cur ? 'true' : undefined}
              tabIndex={focusable ? 0 : -1}
              data-start={s.start}
              data-end={s.end}
              data-label={s.label}
              onClick={() => onSeek(s.start + 0.005)}
            >
              {s.label}
            </button>
          );
        })}
        {time >= view[0] && time <= view[1] && view[1] > view[0] && <span className="lane-head" style={{ left: `${((time - view[0]) / (view[1] - view[0])) * 100}%` }} />}
      </div>
    </div>
  );
}

export function Lanes(props: {
  chords: LaneSegment[];
  sections: LaneSegment[];
  view: [number, number];
  time: number;
  loop: { start: number; end: number } | null;
  onSeek: (t: number) => void;
}) {
  const { chords, sections, view, time, loop, onSeek } = props;
  const common = { view, time, loop, onSeek };
  if (chords.length === 0 && sections.length === 0) return null;
  return (
    <div className="lanes">
      {sections.length > 0 && (
        <Lane name="Sections" segs={sections} colour={(s) => sectionColour(s.key.split('|')[0] ?? '', s.key.split('|')[1] ?? '')} focusable testid="section-lane" {...common} />
      )}
      {chords.length > 0 && <Lane name="Chords" segs={chords} colour={(s) => chordColour(s.key)} focusable={false} testid="chord-lane" {...common} />}
    </div>
  );
}
