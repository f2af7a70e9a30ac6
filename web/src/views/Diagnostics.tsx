/* Diagnostics: per-expiry fit quality and arbitrage flags, with where they
 * bite (butterfly k/strike intervals, the neighbour a calendar violation is
 * against), rejected quote counts and quote age. */
import { useMemo } from 'react';
import { age, days, num, price } from '../lib/format';
import { expiryFreshness } from '../lib/fresh';
import { sortedExpiries } from '../lib/quant';
import { useNow } from '../lib/hooks';
import type { Expiry } from '../protocol/types';
import type { ViewProps } from './types';

function bflyWhere(e: Expiry): string {
  const iv = e.diag?.butterfly ?? [];
  return iv
    .map(([lo, hi]) => {
      const f = e.forward;
      const ks = `k ${num(lo, 3)}..${num(hi, 3)}`;
      return f ? `${ks} (K ${price(f * Math.exp(lo))}–${price(f * Math.exp(hi))})` : ks;
    })
    .join('; ');
}

function rejected(e: Expiry): string {
  return Object.entries(e.rejected ?? {})
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

export function Diagnostics({ st, exportRef, clockOffset }: ViewProps) {
  const doc = st.doc!;
  const now = useNow(1000) + clockOffset;
  const exps = useMemo(() => sortedExpiries(doc.expiries), [doc.expiries]);
  const rows = exps.map(([code, e], i) => {
    const prev = exps[i - 1]?.[0];
    const next = exps[i + 1]?.[0];
    const cal = [e.diag?.calendar_prev && prev ? `vs ${prev}` : '', e.diag?.calendar_next && next ? `vs ${next}` : '']
      .filter(Boolean)
      .join(', ');
    return { code, e, cal, bfly: bflyWhere(e), rej: rejected(e), f: expiryFreshness(st, e) };
  });
  exportRef.current = () => ({
    header: ['surface', 'expiry', 'T', 'forward', 'forward_src', 'usable', 'status', 'n', 'rmse_vp', 'max_vp', 'inside', 'iter', 'fit_us', 'g_min', 'butterfly', 'calendar', 'lee', 'rejected', 'quote_time', 'stale'],
    rows: rows.map(({ code, e, cal, bfly, rej }) => [
      doc.id, code, e.T, e.forward, e.forward_src, e.usable, (e.status ?? []).join(' '), e.diag?.n, e.diag?.rmse_vp, e.diag?.max_vp,
      e.diag?.inside, e.diag?.iter, e.diag?.fit_us, e.diag?.g_min, bfly, cal, e.diag?.lee, rej, e.quote_time, e.stale === true,
    ]),
  });
  return (
    <div className="diag-wrap">
      <table className="grid diag" data-testid="diag-table">
        <thead>
          <tr>
            <th>expiry</th><th>state</th><th>days</th><th>forward</th><th>fit</th><th>status</th><th>pts</th><th>RMSE vp</th><th>max vp</th>
            <th>inside</th><th>iter</th><th>fit µs</th><th>g min</th><th>butterfly</th><th>calendar</th><th>Lee</th>
            <th>rejected</th><th>quotes</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ code, e, cal, bfly, rej, f }) => (
            <tr key={code} className={f.live ? '' : 'stale'}>
              <td>{code}</td>
              <td><span className={`badge ${f.live ? 'live' : 'stale'}`}>{f.label}</span></td>
              <td className="num">{days(e.T)}</td>
              <td className="num">{price(e.forward)} <i className="dim">{e.forward_src ?? ''}</i></td>
              <td>{e.usable === false ? <span className="badge warn">rejected</span> : e.svi ? <span className="badge ok">ok</span> : <span className="badge warn">none</span>}</td>
              <td className="dim">{(e.status ?? []).join(' ')}</td>
              <td className="num">{e.diag?.n ?? '–'}</td>
              <td className="num">{num(e.diag?.rmse_vp, 2)}</td>
              <td className="num">{num(e.diag?.max_vp, 2)}</td>
              <td className="num">{e.diag?.inside !== undefined ? `${(e.diag.inside * 100).toFixed(1)}%` : '–'}</td>
              <td className="num">{e.diag?.iter ?? '–'}</td>
              <td className="num">{num(e.diag?.fit_us, 1)}</td>
              <td className={`num${(e.diag?.g_min ?? 1) < 0 ? ' bad' : ''}`}>{num(e.diag?.g_min, 4)}</td>
              <td className={bfly ? 'bad' : 'dim'}>{bfly || 'none'}</td>
              <td className={cal ? 'bad' : 'dim'}>{cal || 'none'}</td>
              <td className={e.diag?.lee === false ? 'bad' : 'dim'}>{e.diag?.lee === undefined ? '–' : e.diag.lee ? 'ok' : 'breach'}</td>
              <td className="dim">{rej || '–'}</td>
              <td className="num">{e.quote_time ? age(now - e.quote_time) : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
