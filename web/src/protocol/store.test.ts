/* SurfaceStore: sequence, epoch and checksum rules of protocol v1. */
import { describe, expect, it } from 'vitest';
import { checksum } from './checksum';
import { mergePatch } from './merge';
import { RESYNC_RETRY_MS, SurfaceStore, surfaceLive } from './store';
import type { Json, JsonObject, SurfaceDoc, SurfaceMsg } from './types';

const svi = { a: 0.01, b: 0.1, rho: -0.3, m: 0, sigma: 0.2 };
const doc0: SurfaceDoc = {
  id: 'deribit.BTC',
  venue: 'deribit',
  asset: 'BTC',
  stale: false,
  expiries: { '27DEC26': { expiry: 1, T: 1, svi, atm: 0.5 }, '5JUN26': { expiry: 0, T: 0.5, svi } },
};

function snap(doc: SurfaceDoc, seq: number, epoch = 7): SurfaceMsg {
  return { type: 'snapshot', time: 1, surface: doc.id, epoch, seq, prev: seq - 1, checksum: checksum(doc), data: doc as unknown as JsonObject };
}
/* A patch from 'from' and the resulting document. */
function patch(from: SurfaceDoc, p: JsonObject, seq: number, epoch = 7, sum?: string): [SurfaceMsg, SurfaceDoc] {
  const to = mergePatch(from as unknown as Json, p) as unknown as SurfaceDoc;
  return [{ type: 'patch', time: 2, surface: from.id, epoch, seq, prev: seq - 1, checksum: sum ?? checksum(to), data: p }, to];
}

function fresh(): SurfaceStore {
  const s = new SurfaceStore();
  s.setConnected(true);
  return s;
}

describe('SurfaceStore', () => {
  it('takes a snapshot and reports it live', () => {
    const s = fresh();
    expect(s.onSnapshot(snap(doc0, 5), 0)).toEqual([]);
    const st = s.get('deribit.BTC')!;
    expect(st.seq).toBe(5);
    expect(st.integrity).toBe('ok');
    expect(surfaceLive(st)).toBe(true);
  });

  it('applies a patch in sequence and keeps untouched expiries by identity', () => {
    const s = fresh();
    s.onSnapshot(snap(doc0, 5), 0);
    const before = s.get('deribit.BTC')!.doc!.expiries!['5JUN26'];
    const [p, to] = patch(doc0, { expiries: { '27DEC26': { atm: 0.51, svi: { a: 0.011 } } } }, 6);
    expect(s.onPatch(p, 1)).toEqual([]);
    const st = s.get('deribit.BTC')!;
    expect(st.seq).toBe(6);
    expect(st.doc).toEqual(to);
    expect(st.doc!.expiries!['5JUN26']).toBe(before);
  });

  it('asks for a resync on a gap and ignores patches until the snapshot comes', () => {
    const s = fresh();
    s.onSnapshot(snap(doc0, 5), 0);
    const [p7] = patch(doc0, { index: 1 }, 7);
    expect(s.onPatch(p7, 1)).toEqual([{ type: 'resync', surface: 'deribit.BTC', reason: 'gap' }]);
    expect(surfaceLive(s.get('deribit.BTC'))).toBe(false);
    const [p8] = patch(doc0, { index: 2 }, 8);
    expect(s.onPatch(p8, 2)).toEqual([]);
    s.onSnapshot(snap({ ...doc0, index: 3 }, 9), 3);
    expect(s.get('deribit.BTC')!.doc!.index).toBe(3);
    expect(surfaceLive(s.get('deribit.BTC'))).toBe(true);
  });

  it('drops its state and resyncs on a new epoch', () => {
    const s = fresh();
    s.onSnapshot(snap(doc0, 5), 0);
    const [p] = patch(doc0, { index: 1 }, 6, 8);
    expect(s.onPatch(p, 1)[0]!.reason).toBe('epoch');
    expect(s.get('deribit.BTC')!.doc).toBeNull();
    s.onSnapshot(snap(doc0, 1, 8), 2);
    expect(s.get('deribit.BTC')!.epoch).toBe(8);
    expect(s.get('deribit.BTC')!.seq).toBe(1);
  });

  it('asks for a resync when the checksum after a patch differs', () => {
    const s = fresh();
    s.onSnapshot(snap(doc0, 5), 0);
    const [p] = patch(doc0, { expiries: { '27DEC26': { svi: { a: 0.02 } } } }, 6, 7, 'deadbeef');
    expect(s.onPatch(p, 1)).toEqual([{ type: 'resync', surface: 'deribit.BTC', reason: 'checksum' }]);
    expect(s.get('deribit.BTC')!.integrity).toBe('mismatch');
    expect(s.get('deribit.BTC')!.mismatches).toBe(1);
  });

  it('records a snapshot whose checksum differs without asking again', () => {
    const s = fresh();
    expect(s.onSnapshot({ ...snap(doc0, 5), checksum: '00000000' }, 0)).toEqual([]);
    expect(s.get('deribit.BTC')!.integrity).toBe('mismatch');
  });

  it('resyncs a patch for a surface it holds no state for', () => {
    const s = fresh();
    const [p] = patch(doc0, { index: 1 }, 6);
    expect(s.onPatch(p, 0)[0]!.reason).toBe('patch without state');
  });

  it('resyncs when a heartbeat shows a newer seq, and repeats a lost resync', () => {
    const s = fresh();
    s.onSnapshot(snap(doc0, 5), 0);
    expect(s.onHeartbeat({ type: 'heartbeat', time: 3, surfaces: { 'deribit.BTC': { seq: 5 } } }, 10)).toEqual([]);
    expect(s.onHeartbeat({ type: 'heartbeat', time: 4, surfaces: { 'deribit.BTC': { seq: 6 } } }, 20)[0]!.reason).toBe('behind');
    expect(s.onHeartbeat({ type: 'heartbeat', time: 5, surfaces: { 'deribit.BTC': { seq: 6 } } }, 30)).toEqual([]);
    const again = s.onHeartbeat({ type: 'heartbeat', time: 6, surfaces: { 'deribit.BTC': { seq: 6 } } }, 20 + RESYNC_RETRY_MS);
    expect(again[0]!.reason).toBe('resync timeout');
  });

  it('never shows a surface live when the server, the heartbeat or the link says stale', () => {
    const s = fresh();
    s.onSnapshot(snap({ ...doc0, stale: true }, 5), 0);
    expect(surfaceLive(s.get('deribit.BTC'))).toBe(false);
    s.onSnapshot(snap(doc0, 6), 0);
    s.onHeartbeat({ type: 'heartbeat', time: 3, surfaces: { 'deribit.BTC': { seq: 6, stale: true } } }, 1);
    expect(surfaceLive(s.get('deribit.BTC'))).toBe(false);
    s.onHeartbeat({ type: 'heartbeat', time: 4, surfaces: { 'deribit.BTC': { seq: 6, stale: false } } }, 2);
    expect(surfaceLive(s.get('deribit.BTC'))).toBe(true);
    s.setConnected(false);
    expect(surfaceLive(s.get('deribit.BTC'))).toBe(false);
  });

  it('wakes only the listeners of the surface that changed', () => {
    const s = fresh();
    let btc = 0;
    let eth = 0;
    s.subscribe('deribit.BTC', () => btc++);
    s.subscribe('deribit.ETH', () => eth++);
    s.onSnapshot(snap(doc0, 5), 0);
    const [p] = patch(doc0, { index: 5 }, 6);
    s.onPatch(p, 1);
    expect(btc).toBe(2);
    expect(eth).toBe(0);
  });
});
