/* Connection: hello/subscribe, resync sending, heartbeat silence and capped
 * backoff, driven by a fake socket and a fake clock. */
import { describe, expect, it } from 'vitest';
import { checksum } from './checksum';
import { backoffMs, Connection, defaultWsUrl, type Clock, type SocketLike } from './connection';
import { SurfaceStore, surfaceLive } from './store';
import type { JsonObject, SurfaceDoc } from './types';

class FakeClock implements Clock {
  t = 1000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (h: unknown): void => {
    this.timers.delete(h as number);
  };
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.timers) if (e[1].at <= end && (!first || e[1].at < first[1].at)) first = e;
      if (!first) break;
      this.timers.delete(first[0]);
      this.t = first[1].at;
      first[1].fn();
    }
    this.t = end;
  }
}

class FakeSocket implements SocketLike {
  readyState = 1;
  sent: JsonObject[] = [];
  closed: number | undefined;
  onopen: SocketLike['onopen'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  onmessage: SocketLike['onmessage'] = null;
  send(d: string): void {
    this.sent.push(JSON.parse(d) as JsonObject);
  }
  close(code?: number): void {
    this.closed = code ?? 1000;
    this.readyState = 3;
  }
  recv(o: object): void {
    this.onmessage?.({ data: JSON.stringify(o) });
  }
}

const doc: SurfaceDoc = { id: 'deribit.BTC', venue: 'deribit', asset: 'BTC', expiries: {} };

function setup() {
  const clock = new FakeClock();
  const socks: FakeSocket[] = [];
  const store = new SurfaceStore();
  const c = new Connection('ws://x/ws', store, {
    clock,
    socket: () => {
      const s = new FakeSocket();
      socks.push(s);
      return s;
    },
  });
  return { clock, socks, store, c };
}

describe('Connection', () => {
  it('subscribes to the wanted surfaces after hello and keeps the list', () => {
    const { socks, c } = setup();
    c.setWanted(['deribit.BTC']);
    c.start();
    expect(c.getInfo().state).toBe('connecting');
    socks[0]!.recv({ type: 'hello', time: 5, protocol: 1, epoch: 7, heartbeat_ms: 1000 });
    expect(c.getInfo().state).toBe('live');
    expect(socks[0]!.sent[0]).toMatchObject({ type: 'subscribe', surfaces: ['deribit.BTC'] });
    socks[0]!.recv({ type: 'surfaces', time: 5, surfaces: [{ id: 'deribit.BTC', venue: 'deribit', asset: 'BTC' }] });
    expect(c.getInfo().surfaces.map((s) => s.id)).toEqual(['deribit.BTC']);
  });

  it('subscribes again to a surface refused as unknown once the list names it', () => {
    const { socks, c, store } = setup();
    c.setWanted(['deribit.BTC']);
    c.start();
    const s = socks[0]!;
    s.recv({ type: 'hello', time: 5, protocol: 1, epoch: 7, heartbeat_ms: 1000 });
    s.recv({ type: 'surfaces', time: 5, surfaces: [] });
    s.recv({ type: 'error', time: 5, code: 'unknown_surface', message: 'unknown surface', id: 1 });
    expect(s.sent.filter((m) => m.type === 'subscribe')).toHaveLength(1);
    s.recv({ type: 'surfaces', time: 6, surfaces: [{ id: 'deribit.BTC', venue: 'deribit', asset: 'BTC' }] });
    expect(s.sent.filter((m) => m.type === 'subscribe')).toHaveLength(2);
    s.recv({ type: 'snapshot', time: 7, surface: 'deribit.BTC', epoch: 7, seq: 1, prev: 0, checksum: checksum(doc), data: doc });
    expect(surfaceLive(store.get('deribit.BTC'))).toBe(true);
    s.recv({ type: 'surfaces', time: 8, surfaces: [{ id: 'deribit.BTC', venue: 'deribit', asset: 'BTC' }] });
    expect(s.sent.filter((m) => m.type === 'subscribe')).toHaveLength(2);
  });

  it('subscribes again after a reconnect when the surface is not back yet, via heartbeats', () => {
    const { clock, socks, c } = setup();
    c.setWanted(['deribit.BTC']);
    c.start();
    const s = socks[0]!;
    s.recv({ type: 'hello', time: 5, protocol: 1, epoch: 7, heartbeat_ms: 1000 });
    for (let i = 0; i < 6; i++) {
      clock.advance(1000);
      s.recv({ type: 'heartbeat', time: 6 + i, surfaces: {} });
    }
    expect(s.sent.filter((m) => m.type === 'subscribe').length).toBeGreaterThanOrEqual(2);
  });

  it('switching surfaces unsubscribes the old one and subscribes the new one', () => {
    const { socks, c, store } = setup();
    c.setWanted(['deribit.BTC']);
    c.start();
    socks[0]!.recv({ type: 'hello', time: 5, protocol: 1, epoch: 7, heartbeat_ms: 1000 });
    socks[0]!.recv({ type: 'snapshot', time: 6, surface: 'deribit.BTC', epoch: 7, seq: 1, prev: 0, checksum: checksum(doc), data: doc });
    c.setWanted(['deribit.ETH']);
    expect(socks[0]!.sent.slice(1).map((m) => [m.type, m.surfaces])).toEqual([
      ['unsubscribe', ['deribit.BTC']],
      ['subscribe', ['deribit.ETH']],
    ]);
    expect(store.get('deribit.BTC')).toBeUndefined();
  });

  it('sends the resync the store asks for on a gap', () => {
    const { socks, c } = setup();
    c.setWanted(['deribit.BTC']);
    c.start();
    const s = socks[0]!;
    s.recv({ type: 'hello', time: 5, protocol: 1, epoch: 7, heartbeat_ms: 1000 });
    s.recv({ type: 'snapshot', time: 6, surface: 'deribit.BTC', epoch: 7, seq: 1, prev: 0, checksum: checksum(doc), data: doc });
    s.recv({ type: 'patch', time: 7, surface: 'deribit.BTC', epoch: 7, seq: 3, prev: 2, checksum: checksum(doc), data: {} });
    expect(s.sent.at(-1)).toEqual({ type: 'resync', surface: 'deribit.BTC' });
  });

  it('goes stale after 3 silent heartbeats, reconnects with backoff, and resubscribes', () => {
    const { clock, socks, c, store } = setup();
    c.setWanted(['deribit.BTC']);
    c.start();
    socks[0]!.recv({ type: 'hello', time: 5, protocol: 1, epoch: 7, heartbeat_ms: 1000 });
    socks[0]!.recv({ type: 'snapshot', time: 6, surface: 'deribit.BTC', epoch: 7, seq: 1, prev: 0, checksum: checksum(doc), data: doc });
    expect(store.get('deribit.BTC')!.connected).toBe(true);
    clock.advance(2999);
    expect(c.getInfo().state).toBe('live');
    clock.advance(1);
    expect(c.getInfo().state).toBe('stale');
    expect(store.get('deribit.BTC')!.connected).toBe(false);
    expect(socks[0]!.closed).toBeDefined();
    clock.advance(250);
    expect(socks.length).toBe(2);
    socks[1]!.recv({ type: 'hello', time: 9, protocol: 1, epoch: 8, heartbeat_ms: 1000 });
    expect(socks[1]!.sent[0]).toMatchObject({ type: 'subscribe', surfaces: ['deribit.BTC'] });
    expect(c.getInfo().state).toBe('live');
    /* the old state is not live until the new snapshot comes */
    expect(surfaceLive(store.get('deribit.BTC'))).toBe(false);
    socks[1]!.recv({ type: 'snapshot', time: 10, surface: 'deribit.BTC', epoch: 8, seq: 1, prev: 0, checksum: checksum(doc), data: doc });
    expect(surfaceLive(store.get('deribit.BTC'))).toBe(true);
  });

  it('retries a refused connection with growing, capped delays', () => {
    const { clock, socks, c } = setup();
    c.start();
    const gaps: number[] = [];
    for (let i = 0; i < 8; i++) {
      const s = socks.at(-1)!;
      const t0 = clock.now();
      s.onclose?.({ code: 1006 });
      const before = socks.length;
      while (socks.length === before) clock.advance(10);
      gaps.push(clock.now() - t0);
    }
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(5000 + 10);
    expect(c.getInfo().state).toBe('reconnecting');
  });
});

describe('backoffMs', () => {
  it('doubles from the minimum and stops at the cap', () => {
    expect(backoffMs(0, 250, 5000, 0)).toBe(250);
    expect(backoffMs(1, 250, 5000, 0)).toBe(500);
    expect(backoffMs(10, 250, 5000, 0)).toBe(5000);
    expect(backoffMs(100, 250, 5000, 1)).toBe(4000);
  });
});

describe('defaultWsUrl', () => {
  it('is same-origin /ws unless the page or the build names another', () => {
    expect(defaultWsUrl({ protocol: 'https:', host: 'd.example:8443', search: '' })).toBe('wss://d.example:8443/ws');
    expect(defaultWsUrl({ protocol: 'http:', host: 'h', search: '' })).toBe('ws://h/ws');
    expect(defaultWsUrl({ protocol: 'http:', host: 'h', search: '?ws=ws%3A%2F%2Fo%2Fws' })).toBe('ws://o/ws');
    expect(defaultWsUrl({ protocol: 'http:', host: 'h', search: '' }, 'wss://b/ws')).toBe('wss://b/ws');
  });
});
