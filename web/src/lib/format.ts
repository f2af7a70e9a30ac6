/* format: how numbers read on the desk: vols in % with 2 decimals, prices
 * with thousands separators, ages in s/m/h. */
export function vol(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : (x * 100).toFixed(2);
}

/* A vol difference (RR, fly) in vol points with a sign. */
export function volPts(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const v = (x * 100).toFixed(2);
  return x > 0 ? `+${v}` : v;
}

export function price(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const d = Math.abs(x) >= 1000 ? 0 : Math.abs(x) >= 10 ? 2 : 4;
  return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

export function num(x: number | null | undefined, d: number): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d);
}

export function age(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 0) ms = 0;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}

export function days(T: number): string {
  const d = T * 365;
  return d < 10 ? d.toFixed(1) : d.toFixed(0);
}

export function utc(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  return new Date(ms).toISOString().slice(11, 23);
}
