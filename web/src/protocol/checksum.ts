/* checksum: the surface checksum of docs/protocol.md: FNV-1a 32 over the
 * canonical text "<id>\n" + "<code>|<a>|<b>|<rho>|<m>|<sigma>\n" per expiry
 * (codes in ascending byte order; "<code>|-\n" without svi), each parameter
 * written as round(x * 1e8). */
import type { SurfaceDoc, Svi } from './types';

const enc = new TextEncoder();

export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function hex8(h: number): string {
  return (h >>> 0).toString(16).padStart(8, '0');
}

/* round(x * 1e8) as a decimal integer; the inputs carry 8 decimals, so the
 * product is within float noise of an integer and ties cannot occur. */
export function scaled(x: number): string {
  const r = Math.round(x * 1e8);
  return Object.is(r, -0) || r === 0 ? '0' : r.toFixed(0);
}

function byteCompare(a: string, b: string): number {
  const x = enc.encode(a);
  const y = enc.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function isSvi(v: unknown): v is Svi {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return ['a', 'b', 'rho', 'm', 'sigma'].every((k) => typeof s[k] === 'number');
}

export function canonicalText(doc: SurfaceDoc): string {
  let out = `${doc.id}\n`;
  const exps = doc.expiries ?? {};
  const codes = Object.keys(exps).sort(byteCompare);
  for (const code of codes) {
    const s = exps[code]?.svi;
    if (isSvi(s))
      out += `${code}|${scaled(s.a)}|${scaled(s.b)}|${scaled(s.rho)}|${scaled(s.m)}|${scaled(s.sigma)}\n`;
    else out += `${code}|-\n`;
  }
  return out;
}

export function checksum(doc: SurfaceDoc): string {
  return hex8(fnv1a32(enc.encode(canonicalText(doc))));
}
