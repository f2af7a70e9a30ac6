/* Term: ATM vol by expiry and at the constant-maturity nodes. */
import { useMemo } from 'react';
import type uPlot from 'uplot';
import { days, num, vol } from '../lib/format';
import { expiryFreshness, surfaceFreshness } from '../lib/fresh';
import { sortedExpiries } from '../lib/quant';
import { UPlotChart, volAxis } from '../lib/UPlotChart';
import { NODE_NAMES } from '../protocol/types';
import type { ViewProps } from './types';

/* Rows [days, byExpiry, byNode...] merged on one sorted x. */
export function mergeSeries(series: [number, number | null | undefined][][]): uPlot.AlignedData {
  const rows: (number | null)[][] = [];
  series.forEach((s, i) => {
    for (const [x, y] of s) {
      if (!Number.isFinite(x) || y === undefined || y === null || !Number.isFinite(y)) continue;
      const r: (number | null)[] = new Array(series.length + 1).fill(null);
      r[0] = x;
      r[i + 1] = y;
      rows.push(r);
    }
  });
  rows.sort((a, b) => a[0]! - b[0]!);
  const cols: (number | null)[][] = Array.from({ length: series.length + 1 }, () => []);
  for (const r of rows) r.forEach((v, c) => cols[c]!.push(v));
  return cols as uPlot.AlignedData;
}

export const darkAxis = { stroke: '#8a94a6', grid: { stroke: '#1f2633' }, ticks: { stroke: '#2a3242' } };

export function Term({ st, exportRef }: ViewProps) {
  const doc = st.doc!;
  const exps = useMemo(() => sortedExpiries(doc.expiries), [doc.expiries]);
  const nodes = NODE_NAMES.filter((n) => doc.nodes?.[n]).map((n) => [n, doc.nodes![n]!] as const);
  const data = useMemo(
    () =>
      mergeSeries([
        exps.map(([, e]) => [e.T * 365, e.atm]),
        nodes.map(([, n]) => [n.T * 365, n.atm]),
      ]),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [exps, doc.nodes],
  );
  exportRef.current = () => ({
    header: ['surface', 'kind', 'name', 'T', 'days', 'atm_iv', 'extrapolated', 'stale'],
    rows: [
      ...exps.map(([c, e]) => [doc.id, 'expiry', c, e.T, e.T * 365, e.atm, '', e.stale === true]),
      ...nodes.map(([n, x]) => [doc.id, 'node', n, x.T, x.T * 365, x.atm, x.extrapolated === true, '']),
    ],
  });
  const f = surfaceFreshness(st);
  const options = (): Omit<uPlot.Options, 'width' | 'height'> => ({
    scales: { x: { time: false, distr: 3 } },
    axes: [
      { ...darkAxis, label: 'days to expiry (log scale)' },
      { ...darkAxis, values: volAxis, label: 'ATM IV %', size: 50 },
    ],
    series: [
      { label: 'days', value: (_u, v) => (v === null ? '–' : num(v, 1)) },
      { label: 'ATM by expiry', stroke: '#4c9be8', width: 2, spanGaps: true, points: { show: true, size: 6, fill: '#4c9be8' }, value: (_u, v) => vol(v) },
      { label: 'ATM by tenor', stroke: '#d4a72c', paths: () => null, points: { show: true, size: 8, fill: '#0d1117', stroke: '#d4a72c', width: 2 }, value: (_u, v) => vol(v) },
    ],
  });
  return (
    <div className="panel-col">
      <div className={`chart-wrap${f.live ? '' : ' is-stale'}`} data-testid="term-chart">
        <UPlotChart layoutKey="term" options={options} data={data} height={340} />
        {!f.live ? <div className="stale-veil">{f.label}</div> : null}
      </div>
      <div className="tables">
        <table className="grid">
          <thead>
            <tr><th>expiry</th><th>days</th><th>ATM</th><th>state</th></tr>
          </thead>
          <tbody>
            {exps.map(([c, e]) => {
              const ef = expiryFreshness(st, e);
              return (
                <tr key={c} className={ef.live ? '' : 'stale'}>
                  <td>{c}</td><td className="num">{days(e.T)}</td><td className="num">{vol(e.atm)}</td>
                  <td><span className={`badge ${ef.live ? 'live' : 'stale'}`}>{ef.label}</span></td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <table className="grid">
          <thead>
            <tr><th>tenor</th><th>days</th><th>ATM</th><th></th></tr>
          </thead>
          <tbody>
            {nodes.map(([n, x]) => (
              <tr key={n}>
                <td>{n}</td><td className="num">{days(x.T)}</td><td className="num">{vol(x.atm)}</td>
                <td>{x.extrapolated ? <span className="badge warn">extrap.</span> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
