// The chromagram view: pitch-class energy over time, computed in the page from the decoded audio
// (lib/chroma.ts), one canvas column per pooled group of frames; a click seeks.
import { useEffect, useRef, useState } from 'react';
import { PITCH_NAMES, chromagram, monoOf } from '../lib/chroma';

export function Chromagram({ buffer, time, onSeek }: { buffer: AudioBuffer; time: number; onSeek: (t: number) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [info, setInfo] = useState<{ dominant: string; columns: number } | null>(null);
  const duration = buffer.duration;

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const width = Math.max(100, Math.floor(c.clientWidth || 800));
    c.width = width;
    c.height = 12 * 10;
    const chans = Array.from({ length: buffer.numberOfChannels }, (_, i) => buffer.getChannelData(i));
    const g = chromagram(monoOf(chans), buffer.sampleRate, width);
    const ctx = c.getContext('2d');
    if (!ctx) return;
    const colW = width / g.columns.length;
    g.columns.forEach((col, x) => {
      for (let pc = 0; pc < 12; pc++) {
        const v = col[pc]!;
        ctx.fillStyle = `hsl(${200 - 160 * v} 85% ${8 + 55 * v}%)`;
        ctx.fillRect(Math.floor(x * colW), (11 - pc) * 10, Math.ceil(colW), 10);
      }
    });
    let best = 0;
    for (let i = 1; i < 12; i++) if (g.total[i]! > g.total[best]!) best = i;
    setInfo({ dominant: PITCH_NAMES[best]!, columns: g.columns.length });
  }, [buffer]);

  return (
    <figure className="chroma" data-testid="chromagram" data-dominant={info?.dominant ?? ''} data-columns={info?.columns ?? 0}>
      <div className="chroma-body">
        <ol className="chroma-names" aria-hidden="true">
          {[...PITCH_NAMES].reverse().map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ol>
        <div className="chroma-plot">
          <canvas
            ref={canvas}
            role="img"
            aria-label={`Chromagram: pitch-class energy over time${info ? `; strongest pitch class ${info.dominant}` : ''}`}
            onClick={(e) => {
              const r = e.currentTarget.getBoundingClientRect();
              onSeek(((e.clientX - r.left) / r.width) * duration);
            }}
          />
          <span className="lane-head" style={{ left: `${(time / Math.max(duration, 1e-3)) * 100}%` }} />
        </div>
      </div>
      <figcaption className="small muted">Chromagram (computed in this page from the audio){info ? ` · strongest pitch class: ${info.dominant}` : ''}</figcaption>
    </figure>
  );
}
