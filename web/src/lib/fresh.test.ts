/* fresh: nothing stale is ever labelled live. */
import { describe, expect, it } from 'vitest';
import type { SurfaceState } from '../protocol/store';
import { expiryFreshness, surfaceFreshness } from './fresh';

const base: SurfaceState = {
  id: 'okx.ETH', doc: { id: 'okx.ETH', venue: 'okx', asset: 'ETH', stale: false }, epoch: 1, seq: 1, checksum: '', integrity: 'ok',
  awaiting: false, heartbeatStale: false, connected: true, serverTime: 0, receivedAt: 0, updates: 1, resyncs: 0, mismatches: 0,
};

describe('freshness', () => {
  it('is LIVE only when link, store, document and heartbeat all agree', () => {
    expect(surfaceFreshness(base)).toMatchObject({ live: true, label: 'LIVE' });
    expect(surfaceFreshness({ ...base, connected: false }).live).toBe(false);
    expect(surfaceFreshness({ ...base, awaiting: true }).label).toBe('RESYNC');
    expect(surfaceFreshness({ ...base, heartbeatStale: true }).label).toBe('STALE');
    expect(surfaceFreshness({ ...base, doc: { ...base.doc!, stale: true } }).label).toBe('STALE');
    expect(surfaceFreshness(undefined).live).toBe(false);
  });

  it('marks a stale expiry STALE on a live surface, and every expiry of a stale surface', () => {
    expect(expiryFreshness(base, { expiry: 0, T: 1, stale: true }).label).toBe('STALE');
    expect(expiryFreshness(base, { expiry: 0, T: 1, stale: false }).live).toBe(true);
    expect(expiryFreshness({ ...base, connected: false }, { expiry: 0, T: 1 }).live).toBe(false);
  });
});
