import { type Camelot, compatible, formatCamelot, parseCamelot, sectorPath, slotCentre, standardName, toOpenKey } from '../lib/camelot';
import type { Notation } from '../lib/camelot';

/** The Camelot wheel: outer ring major (B), inner ring minor (A); the key and its compatible keys lit. */
export function CamelotWheel({ camelot, notation, size = 220 }: { camelot: string | undefined; notation: Notation; size?: number }) {
  const key = camelot ? parseCamelot(camelot) : null;
  const compat = key ? compatible(key) : [];
  const c = size / 2;
  const label = (k: Camelot) => (notation === 'openkey' ? toOpenKey(k) : notation === 'standard' ? standardName(k) : formatCamelot(k));
  const cls = (k: Camelot) => {
    if (key && k.num === key.num && k.letter === key.letter) return 'wheel-key current';
    if (compat.some((x) => x.num === k.num && x.letter === k.letter)) return 'wheel-key compatible';
    return 'wheel-key';
  };
  const slots: Camelot[] = [];
  for (let n = 1; n <= 12; n++) slots.push({ num: n, letter: 'B' }, { num: n, letter: 'A' });
  return (
    <svg
      className="wheel"
      width={size}
      height={size}
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label={key ? `Camelot wheel: ${formatCamelot(key)}; compatible ${compat.slice(1).map(formatCamelot).join(', ')}` : 'Camelot wheel: no key'}
    >
      {slots.map((k) => {
        const [r0, r1] = k.letter === 'B' ? [c * 0.64, c * 0.98] : [c * 0.3, c * 0.64];
        const [x, y] = slotCentre(k.num, c, c, (r0 + r1) / 2);
        return (
          <g key={formatCamelot(k)} className={cls(k)} data-camelot={formatCamelot(k)}>
            <path d={sectorPath(k.num, c, c, r0, r1)} />
            <text x={x} y={y} textAnchor="middle" dominantBaseline="central" fontSize={size / (notation === 'standard' ? 20 : 17)}>
              {label(k)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
