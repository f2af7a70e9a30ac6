/* fresh: what the page may call live.  A surface is live only when the
 * link is up, the store is in step and neither the server's document nor
 * its heartbeat says stale; an expiry additionally needs its own stale flag
 * clear.  Anything else shows as STALE, never as live. */
import { surfaceLive, type SurfaceState } from '../protocol/store';
import type { Expiry } from '../protocol/types';

export interface Freshness {
  live: boolean;
  label: string; /* "LIVE", "STALE", "RESYNC", "OFFLINE" */
  why: string;
}

export function surfaceFreshness(st: SurfaceState | undefined): Freshness {
  if (!st || !st.doc) return { live: false, label: 'NO DATA', why: 'waiting for a snapshot' };
  if (!st.connected) return { live: false, label: 'STALE', why: 'connection down' };
  if (st.awaiting) return { live: false, label: 'RESYNC', why: 'resynchronising' };
  if (st.doc.stale) return { live: false, label: 'STALE', why: 'venue link down or silent' };
  if (st.heartbeatStale) return { live: false, label: 'STALE', why: 'server reports stale' };
  return surfaceLive(st) ? { live: true, label: 'LIVE', why: '' } : { live: false, label: 'STALE', why: '' };
}

export function expiryFreshness(st: SurfaceState | undefined, e: Expiry): Freshness {
  const s = surfaceFreshness(st);
  if (!s.live) return s;
  if (e.stale) return { live: false, label: 'STALE', why: 'quotes older than the bound' };
  return s;
}
