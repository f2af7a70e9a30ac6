/* Skew: 25-delta and 10-delta risk reversals and butterflies, by expiry
 * (chart + table) and by constant tenor (table). */
import { useMemo } from 'react';
import type uPlot from 'uplot';
import { days, num, vol, volPts } from '../lib/format';
import { expiryFreshness, surfaceFreshness } from '../lib/fresh';
import { sortedExpiries } from '../lib/quant';
import { UPlotChart } from '../lib/UPlotChart';
import { NODE_NAMES } from '../protocol/types';
import { darkAxis } from './Term';
import type { ViewProps } from './types';

const ptsAxis = (_u: uPlot, vals: number[]) => vals.map((v) => (v * 100).toFixed(1));

export function Skew({ st, exportRef }: ViewProps) {
  const doc = st.doc!;
  const exps = useMemo(() => sortedExpiries(doc.expiries), [doc.expiries]);
  const nodes = NODE_NAMES.filter((n) => doc.nodes?.[n]).map((n) => [n, doc.nodes![n]!] as const);
  const data = useMemo(() => {
    /* expiries are sorted by time, so T ascends: one shared x */
    const xs = exps.map(([, e]) => e.T * 365);
    const col = (f: (e: (typeof exps)[number][1]) => number | undefined) => exps.map(([, e]) => f(e) ?? null);
    return [xs, col((e) => e.rr25), col((e) => e.rr10), col((e) => e.fly25), col((e) => e.fly10)] as uPlot.AlignedData;
  }, [exps]);
  exportRef.current = () => ({
    header: ['surface', 'kind', 'name', 'T', 'atm', 'rr25', 'fly25', 'rr10', 'fly10', 'extrapolated'],
    rows: [
      ...exps.map(([c, e]) => [doc.id, 'expiry', c, e.T, e.atm, e.rr25, e.fly25, e.rr10, e.fly10, '']),
      ...nodes.map(([n, x]) => [doc.id, 'node', n, x.T, x.atm, x.rr25, x.fly25, x.rr10, x.fly10, x.extrapolated === true]),
    ],
  });
  const f = surfaceFreshness(st);
  const line = (label: string, color: string, dash?: number[]): uPlot.Series => ({
    label,
    stroke: color,
    width: 2,
    dash,
    spanGaps: true,
    points: { show: true, size: 5, fill: color },
    value: (_u, v) => volPts(v),
  });
  const options = (): Omit<uPlot.Options, 'width' | 'height'> => ({
    scales: { x: { time: false, distr: 3 } },
    axes: [
      { ...darkAxis, label: 'days to expiry (log scale)' },
      { ...darkAxis, values: ptsAxis, label: 'vol points', size: 50 },
    ],
    series: [
      { label: 'days', value: (_u, v) => (v === null ? '–' : num(v, 1)) },
      line('RR25', '#4c9be8'),
      line('RR10', '#4c9be8', [6, 4]),
      line('Fly25', '#d4a72c'),
      line('Fly10', '#d4a72c', [6, 4]),
    ],
  });
  return (
    <div className="panel-col">
      <div className={`chart-wrap${f.live ? '' : ' is-stale'}`} data-testid="skew-chart">
        <UPlotChart layoutKey="skew" options={options} data={data} height={300} />
        {!f.live ? <div className="stale-veil">{f.label}</div> : null}
      </div>
      <div className="tables">
        <table className="grid">
          <thead>
            <tr><th>expiry</th><th>days</th><th>ATM</th><th>RR25</th><th>Fly25</th><th>RR10</th><th>Fly10</th></tr>
          </thead>
          <tbody>
            {exps.map(([c, e]) => (
              <tr key={c} className={expiryFreshness(st, e).live ? '' : 'stale'}>
                <td>{c}</td><td className="num">{days(e.T)}</td><td className="num">{vol(e.atm)}</td>
                <td className="num">{volPts(e.rr25)}</td><td className="num">{volPts(e.fly25)}</td>
                <td className="num">{volPts(e.rr10)}</td><td className="num">{volPts(e.fly10)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table className="grid" data-testid="node-table">
          <thead>
            <tr><th>tenor</th><th>ATM</th><th>RR25</th><th>Fly25</th><th>RR10</th><th>Fly10</th><th></th></tr>
          </thead>
          <tbody>
            {nodes.map(([n, x]) => (
              <tr key={n}>
                <td>{n}</td><td className="num">{vol(x.atm)}</td>
                <td className="num">{volPts(x.rr25)}</td><td className="num">{volPts(x.fly25)}</td>
                <td className="num">{volPts(x.rr10)}</td><td className="num">{volPts(x.fly10)}</td>
                <td>{x.extrapolated ? <span className="badge warn">extrap.</span> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
