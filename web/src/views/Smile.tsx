/* Smile: one expiry's bid, ask and mark IVs with the fitted SVI curve, x
 * axis strike, log-moneyness or delta; the expiry list beside it carries
 * per-expiry freshness. */
import { useMemo, useRef, useState } from 'react';
import type uPlot from 'uplot';
import { deltaLabel, deltaX, sortedExpiries, sviIv } from '../lib/quant';
import { days, price, vol, volPts, age, num } from '../lib/format';
import { expiryFreshness } from '../lib/fresh';
import { useNow } from '../lib/hooks';
import { UPlotChart, volAxis } from '../lib/UPlotChart';
import type { Expiry } from '../protocol/types';
import type { ViewProps } from './types';

export type XMode = 'strike' | 'k' | 'delta';
const CURVE_N = 161;

interface SmileData {
  data: uPlot.AlignedData;
  nPoints: number;
  nCurve: number;
  rows: { strike: number; k: number; x: number; bid: number | null; ask: number | null; mark: number | null; fit: number }[];
}

function xOf(mode: XMode, e: Expiry, k: number, iv: number): number {
  if (mode === 'k') return k;
  if (mode === 'strike') return (e.forward ?? NaN) * Math.exp(k);
  return deltaX(k, iv, e.T);
}

export function buildSmile(e: Expiry, mode: XMode): SmileData {
  const p = e.points;
  const n = p ? p.k.length : 0;
  type Row = [number, number | null, number | null, number | null, number | null];
  const rows: Row[] = [];
  const out: SmileData['rows'] = [];
  let kmin = Infinity;
  let kmax = -Infinity;
  let nPoints = 0;
  for (let i = 0; i < n; i++) {
    const strike = p!.strike[i] ?? NaN;
    const k = p!.k[i] ?? (e.forward ? Math.log(strike / e.forward) : NaN);
    if (!Number.isFinite(k)) continue;
    const bid = p!.bid[i] ?? null;
    const ask = p!.ask[i] ?? null;
    const mark = p!.mark[i] ?? null;
    const fit = e.svi ? sviIv(e.svi, k, e.T) : NaN;
    const ref = Number.isFinite(fit) ? fit : (mark ?? (bid !== null && ask !== null ? (bid + ask) / 2 : (bid ?? ask ?? NaN)));
    const x = xOf(mode, e, k, ref);
    if (!Number.isFinite(x)) continue;
    kmin = Math.min(kmin, k);
    kmax = Math.max(kmax, k);
    rows.push([x, bid, ask, mark, null]);
    out.push({ strike, k, x, bid, ask, mark, fit });
    if (bid !== null || ask !== null || mark !== null) nPoints++;
  }
  let nCurve = 0;
  if (e.svi) {
    if (!Number.isFinite(kmin)) {
      kmin = -0.5;
      kmax = 0.5;
    }
    const pad = Math.max(0.05, 0.1 * (kmax - kmin));
    const lo = kmin - pad;
    const hi = kmax + pad;
    for (let j = 0; j < CURVE_N; j++) {
      const k = lo + ((hi - lo) * j) / (CURVE_N - 1);
      const iv = sviIv(e.svi, k, e.T);
      if (!Number.isFinite(iv)) continue;
      const x = xOf(mode, e, k, iv);
      if (!Number.isFinite(x)) continue;
      rows.push([x, null, null, null, iv]);
      nCurve++;
    }
  }
  rows.sort((a, b) => a[0] - b[0]);
  const cols: (number | null)[][] = [[], [], [], [], []];
  for (const r of rows) for (let c = 0; c < 5; c++) cols[c]!.push(r[c]!);
  out.sort((a, b) => a.x - b.x);
  return { data: cols as uPlot.AlignedData, nPoints, nCurve, rows: out };
}

function pickDefault(list: [string, Expiry][]): string | null {
  const first = list.find(([, e]) => e.T * 365 >= 20 && e.svi) ?? list.find(([, e]) => e.svi) ?? list[0];
  return first ? first[0] : null;
}

export function Smile({ st, exportRef, clockOffset }: ViewProps) {
  const doc = st.doc!;
  const list = useMemo(() => sortedExpiries(doc.expiries), [doc.expiries]);
  const [picked, setPicked] = useState<string | null>(null);
  const [mode, setMode] = useState<XMode>('k');
  const now = useNow(1000);
  const code = picked && doc.expiries?.[picked] ? picked : pickDefault(list);
  const e = code ? doc.expiries?.[code] : undefined;
  const sm = useMemo(() => (e ? buildSmile(e, mode) : null), [e, mode]);

  exportRef.current = () => ({
    header: ['surface', 'expiry', 'T', 'forward', 'strike', 'k', 'x_' + mode, 'bid_iv', 'ask_iv', 'mark_iv', 'svi_iv'],
    rows: (sm?.rows ?? []).map((r) => [doc.id, code, e?.T, e?.forward, r.strike, r.k, r.x, r.bid, r.ask, r.mark, r.fit]),
  });

  const fresh = e ? expiryFreshness(st, e) : null;
  /* butterfly-arbitrage intervals (k) shaded on the chart, in the x units */
  const bands = useRef<[number, number][]>([]);
  bands.current = (e?.diag?.butterfly ?? []).map(([lo, hi]) => {
    const x = (k: number) => xOf(mode, e!, k, e!.svi ? sviIv(e!.svi, k, e!.T) : NaN);
    return [x(lo), x(hi)];
  });
  const options = (): Omit<uPlot.Options, 'width' | 'height'> => ({
    hooks: {
      drawClear: [
        (u: uPlot) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = 'rgba(229, 83, 75, 0.13)';
          for (const [a, b] of bands.current) {
            if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
            const x0 = u.valToPos(Math.min(a, b), 'x', true);
            const x1 = u.valToPos(Math.max(a, b), 'x', true);
            ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height);
          }
          ctx.restore();
        },
      ],
    },
    legend: { show: true, live: true },
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: false } },
    axes: [
      {
        stroke: '#8a94a6',
        grid: { stroke: '#1f2633' },
        ticks: { stroke: '#2a3242' },
        label: mode === 'strike' ? 'strike' : mode === 'k' ? 'log-moneyness ln(K/F)' : 'delta (forward, Black-76)',
        values:
          mode === 'delta'
            ? (_u, vals) => vals.map((v) => deltaLabel(v))
            : mode === 'strike'
              ? (_u, vals) => vals.map((v) => v.toLocaleString('en-US'))
              : undefined,
        splits: mode === 'delta' ? () => [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95] : undefined,
      },
      { stroke: '#8a94a6', grid: { stroke: '#1f2633' }, ticks: { stroke: '#2a3242' }, values: volAxis, label: 'IV %', size: 50 },
    ],
    series: [
      { label: mode, value: (_u, v) => (v === null ? '–' : mode === 'delta' ? deltaLabel(v) : mode === 'k' ? v.toFixed(4) : price(v)) },
      { label: 'bid', stroke: '#3fb37f', paths: () => null, points: { show: true, size: 7, fill: '#3fb37f', stroke: '#3fb37f' }, value: (_u, v) => vol(v) },
      { label: 'ask', stroke: '#e5534b', paths: () => null, points: { show: true, size: 7, fill: '#e5534b', stroke: '#e5534b' }, value: (_u, v) => vol(v) },
      { label: 'mark', stroke: '#d4a72c', paths: () => null, points: { show: true, size: 7, width: 2, fill: '#0d1117', stroke: '#d4a72c' }, value: (_u, v) => vol(v) },
      { label: 'SVI', stroke: '#4c9be8', width: 2, spanGaps: true, points: { show: false }, value: (_u, v) => vol(v) },
    ],
  });

  return (
    <div className="smile">
      <div className="expiry-list" data-testid="expiry-list">
        {list.map(([c, x]) => {
          const f = expiryFreshness(st, x);
          return (
            <button
              key={c}
              className={`expiry-chip${c === code ? ' sel' : ''}${f.live ? '' : ' stale'}`}
              onClick={() => setPicked(c)}
              title={f.why || 'live'}
              data-code={c}
            >
              <span className={`dot ${f.live ? 'live' : 'stale'}`} />
              <span className="code">{c}</span>
              <span className="num">{days(x.T)}d</span>
              <span className="num">{vol(x.atm)}</span>
              {x.usable === false ? <span className="flag">!</span> : null}
            </button>
          );
        })}
      </div>
      <div className="smile-main">
        <div className="toolbar">
          <span className="seg">
            {(['strike', 'k', 'delta'] as XMode[]).map((m) => (
              <button key={m} className={m === mode ? 'on' : ''} onClick={() => setMode(m)} data-testid={`x-${m}`}>
                {m === 'k' ? 'log-moneyness' : m}
              </button>
            ))}
          </span>
          {e && fresh ? (
            <span className="facts">
              <b>{code}</b>
              <span>T {num(e.T * 365, 1)}d</span>
              <span>F {price(e.forward)} <i>{e.forward_src ?? ''}</i></span>
              <span>ATM {vol(e.atm)}</span>
              <span>RR25 {volPts(e.rr25)}</span>
              <span>Fly25 {volPts(e.fly25)}</span>
              <span>RR10 {volPts(e.rr10)}</span>
              <span>Fly10 {volPts(e.fly10)}</span>
              <span>RMSE {num(e.diag?.rmse_vp, 2)}vp</span>
              <span>quotes {e.quote_time ? age(now + clockOffset - e.quote_time) : '–'} ago</span>
              <span className={`badge ${fresh.live ? 'live' : 'stale'}`} data-testid="expiry-state">
                {fresh.label}
              </span>
              {e.usable === false ? <span className="badge warn">fit rejected: {(e.status ?? []).join(', ')}</span> : null}
              {bands.current.length ? <span className="bad">butterfly arbitrage shaded</span> : null}
            </span>
          ) : null}
        </div>
        {e && sm ? (
          <div
            className={`chart-wrap${fresh?.live ? '' : ' is-stale'}`}
            data-testid="smile-chart"
            data-points={sm.nPoints}
            data-curve={sm.nCurve}
            data-expiry={code ?? ''}
          >
            <UPlotChart layoutKey={`smile-${mode}`} options={options} data={sm.data} height={480} />
            {!fresh?.live ? <div className="stale-veil">{fresh?.label}: {fresh?.why}</div> : null}
          </div>
        ) : (
          <div className="empty">no expiries</div>
        )}
      </div>
    </div>
  );
}
