import { curvePath, curveRange } from '../lib/grid';

/** The tempo over time (tempo.curve) on the track's full width, with the global BPM dashed. */
export function TempoCurve({ curve, bpm, duration }: { curve: [number, number][]; bpm: number | null; duration: number }) {
  const w = 1000;
  const h = 80;
  const [lo, hi] = curveRange(curve, bpm);
  const yOf = (b: number) => h - ((b - lo) / (hi - lo)) * h;
  return (
    <figure className="tempo-curve">
      <svg viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" role="img" aria-label={`Tempo curve from ${lo} to ${hi} BPM`}>
        {bpm != null && <line x1={0} x2={w} y1={yOf(bpm)} y2={yOf(bpm)} className="curve-ref" vectorEffect="non-scaling-stroke" />}
        <path d={curvePath(curve, duration, w, h, lo, hi)} className="curve" vectorEffect="non-scaling-stroke" />
      </svg>
      <figcaption>
        <span>{hi} BPM</span>
        <span>Tempo curve</span>
        <span>{lo} BPM</span>
      </figcaption>
    </figure>
  );
}
