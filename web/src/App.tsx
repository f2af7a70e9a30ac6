/* App: the dashboard shell: connection state, asset/venue switcher, the
 * selected surface's freshness, the view tabs and CSV export. */
import { useEffect, useMemo, useRef, useState } from 'react';
import { download, toCsv } from './lib/csv';
import { age, price } from './lib/format';
import { surfaceFreshness } from './lib/fresh';
import { useConnInfo, useConnection, useNow, useSurface } from './lib/hooks';
import type { ConnInfo } from './protocol/connection';
import type { SurfaceInfo } from './protocol/types';
import { Diagnostics } from './views/Diagnostics';
import { Heatmap } from './views/Heatmap';
import { Skew } from './views/Skew';
import { Smile } from './views/Smile';
import { Term } from './views/Term';
import type { CsvTable, ViewProps } from './views/types';

const TABS = [
  ['smile', 'Smile', Smile],
  ['term', 'ATM term', Term],
  ['skew', 'RR / Fly', Skew],
  ['heat', 'Heatmap', Heatmap],
  ['diag', 'Fit diagnostics', Diagnostics],
] as const;
type Tab = (typeof TABS)[number][0];

const MAJORS = ['BTC', 'ETH'];

function assetOrder(a: string, b: string): number {
  const ia = MAJORS.indexOf(a);
  const ib = MAJORS.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

function ConnBadge({ info }: { info: ConnInfo }) {
  const now = useNow(250);
  const cls = info.state === 'live' ? 'live' : info.state === 'connecting' ? 'warn' : 'stale';
  let text: string = info.state.toUpperCase();
  if ((info.state === 'stale' || info.state === 'reconnecting') && info.nextRetryAt > now)
    text += ` · retry ${age(info.nextRetryAt - now)}`;
  return (
    <span className={`badge ${cls}`} data-testid="conn-state" data-state={info.state} title={info.lastError || info.url}>
      {text}
    </span>
  );
}

function Picker({ list, selected, onPick }: { list: readonly SurfaceInfo[]; selected: string | null; onPick: (id: string) => void }) {
  const byAsset = useMemo(() => {
    const m = new Map<string, SurfaceInfo[]>();
    for (const s of list) m.set(s.asset, [...(m.get(s.asset) ?? []), s]);
    return [...m.entries()].sort((a, b) => assetOrder(a[0], b[0]));
  }, [list]);
  const cur = list.find((s) => s.id === selected);
  const venues = cur ? (byAsset.find(([a]) => a === cur.asset)?.[1] ?? []) : [];
  return (
    <div className="picker">
      <span className="seg" data-testid="asset-picker">
        {byAsset.map(([asset, ss]) => {
          const pick = ss.find((s) => s.venue === cur?.venue) ?? ss.find((s) => s.venue === 'deribit') ?? ss[0]!;
          return (
            <button key={asset} className={cur?.asset === asset ? 'on' : ''} onClick={() => onPick(pick.id)} data-asset={asset}>
              {asset.replace('_', '/')}
              {ss.every((s) => s.stale) ? <span className="dot stale" /> : null}
            </button>
          );
        })}
      </span>
      <span className="seg" data-testid="venue-picker">
        {venues.map((s) => (
          <button key={s.id} className={s.id === selected ? 'on' : ''} onClick={() => onPick(s.id)} data-venue={s.venue}>
            {s.venue}
            {s.stale ? <span className="dot stale" /> : null}
          </button>
        ))}
      </span>
    </div>
  );
}

function initialSurface(): string | null {
  return new URLSearchParams(window.location.search).get('surface');
}

export function App() {
  const conn = useConnection();
  const info = useConnInfo();
  const [selected, setSelected] = useState<string | null>(initialSurface);
  const [tab, setTab] = useState<Tab>('smile');
  const st = useSurface(selected);
  const exportRef = useRef<(() => CsvTable) | null>(null);
  const now = useNow(500);

  /* default to deribit.BTC (else the first surface) once the list is known */
  useEffect(() => {
    if (selected && info.surfaces.some((s) => s.id === selected)) return;
    if (selected && info.surfaces.length === 0) return;
    const def = info.surfaces.find((s) => s.id === 'deribit.BTC') ?? [...info.surfaces].sort((a, b) => assetOrder(a.asset, b.asset))[0];
    if (def) setSelected(def.id);
  }, [info.surfaces, selected]);

  useEffect(() => {
    conn.setWanted(selected ? [selected] : []);
    if (selected) {
      const u = new URL(window.location.href);
      u.searchParams.set('surface', selected);
      window.history.replaceState(null, '', u);
    }
  }, [conn, selected]);

  const f = surfaceFreshness(st);
  const doc = st?.doc ?? null;
  const View = TABS.find((t) => t[0] === tab)![2] as (p: ViewProps) => React.JSX.Element;
  const asOfAge = doc?.as_of !== undefined ? now + info.clockOffset - doc.as_of : NaN;

  const onExport = () => {
    const t = exportRef.current?.();
    if (!t || !selected) return;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    download(`volsurf-${selected}-${tab}-${stamp}.csv`, toCsv(t.header, t.rows));
  };

  return (
    <div className={`app${f.live ? '' : ' not-live'}`}>
      <header className="top">
        <span className="brand">volsurf</span>
        <ConnBadge info={info} />
        <Picker list={info.surfaces} selected={selected} onPick={setSelected} />
        <span className="spacer" />
        {doc ? (
          <span className="facts" data-testid="surface-facts">
            <b>{doc.id}</b>
            <span>index {price(doc.index)}</span>
            <span title="server time of this version">as of {age(asOfAge)} ago</span>
            <span className="dim">seq {st!.seq}</span>
            <span className={st!.integrity === 'ok' ? 'dim' : 'bad'} title="checksum of the merged state">
              {st!.integrity === 'ok' ? 'checksum ok' : 'CHECKSUM MISMATCH'}
            </span>
          </span>
        ) : null}
        <span className={`badge big ${f.live ? 'live' : 'stale'}`} data-testid="surface-state" data-live={f.live ? '1' : '0'} title={f.why}>
          {f.label}
        </span>
      </header>
      <nav className="tabs">
        {TABS.map(([id, label]) => (
          <button key={id} className={id === tab ? 'on' : ''} onClick={() => setTab(id)} data-testid={`tab-${id}`}>
            {label}
          </button>
        ))}
        <span className="spacer" />
        {!f.live && f.why ? <span className="stale-why">{f.why}</span> : null}
        <button className="export" onClick={onExport} disabled={!doc} data-testid="export-csv">
          Export CSV
        </button>
      </nav>
      <main>
        {st && doc ? (
          <View st={st} exportRef={exportRef} clockOffset={info.clockOffset} />
        ) : (
          <div className="empty">
            {info.state === 'live' ? (selected ? `waiting for ${selected}…` : 'no surfaces published yet') : `connecting to ${info.url}…`}
          </div>
        )}
      </main>
    </div>
  );
}
