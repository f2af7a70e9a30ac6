/* Heatmap: the fitted surface as IV by tenor (rows, expiries) and delta or
 * log-moneyness (columns), evaluated from each expiry's SVI. */
import { useMemo, useState } from 'react';
import { days, vol } from '../lib/format';
import { expiryFreshness } from '../lib/fresh';
import { deltaLabel, kForDeltaX, sortedExpiries, sviIv } from '../lib/quant';
import type { ViewProps } from './types';

type Mode = 'delta' | 'k';
const DELTAS = Array.from({ length: 19 }, (_, i) => (i + 1) / 20);
const KS = Array.from({ length: 17 }, (_, i) => -0.4 + i * 0.05);

/* blue (low) -> teal -> amber -> red (high) */
function color(t: number): string {
  if (!Number.isFinite(t)) return 'transparent';
  const stops = [
    [28, 60, 120],
    [30, 120, 130],
    [190, 150, 40],
    [180, 50, 45],
  ];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i]!.map((v, j) => Math.round(v + (stops[i + 1]![j]! - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export function Heatmap({ st, exportRef }: ViewProps) {
  const doc = st.doc!;
  const [mode, setMode] = useState<Mode>('delta');
  const exps = useMemo(() => sortedExpiries(doc.expiries), [doc.expiries]);
  const cols = mode === 'delta' ? DELTAS : KS;
  const grid = useMemo(
    () =>
      exps.map(([, e]) =>
        cols.map((c) => {
          if (!e.svi) return NaN;
          const k = mode === 'delta' ? kForDeltaX(e.svi, e.T, c) : c;
          return Number.isFinite(k) ? sviIv(e.svi, k, e.T) : NaN;
        }),
      ),
    [exps, cols, mode],
  );
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of grid) for (const v of r) if (Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  const label = (c: number) => (mode === 'delta' ? deltaLabel(c) : c.toFixed(2));
  exportRef.current = () => ({
    header: ['surface', 'expiry', 'T', ...cols.map((c) => (mode === 'delta' ? `iv_${deltaLabel(c)}` : `iv_k${c.toFixed(2)}`))],
    rows: exps.map(([c, e], i) => [doc.id, c, e.T, ...grid[i]!]),
  });
  return (
    <div className="panel-col">
      <div className="toolbar">
        <span className="seg">
          <button className={mode === 'delta' ? 'on' : ''} onClick={() => setMode('delta')}>tenor × delta</button>
          <button className={mode === 'k' ? 'on' : ''} onClick={() => setMode('k')}>tenor × log-moneyness</button>
        </span>
        <span className="facts">
          <span>IV % from SVI; range {vol(lo)} – {vol(hi)}</span>
        </span>
      </div>
      <div className="heat-wrap">
        <table className="heat" data-testid="heatmap">
          <thead>
            <tr>
              <th>expiry</th>
              <th>days</th>
              {cols.map((c) => (
                <th key={c}>{label(c)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {exps.map(([code, e], i) => {
              const f = expiryFreshness(st, e);
              return (
                <tr key={code} className={f.live ? '' : 'stale'}>
                  <td>{code}</td>
                  <td className="num">{days(e.T)}</td>
                  {grid[i]!.map((v, j) => (
                    <td key={j} className="cell" style={{ background: color((v - lo) / (hi - lo || 1)) }}>
                      {vol(v)}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
