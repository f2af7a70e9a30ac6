/* connection: one websocket to `volsurf serve` speaking protocol v1.
 * Says hello, keeps the surface list, subscribes to the wanted surfaces (and
 * again after every reconnect), routes snapshots/patches/heartbeats to the
 * SurfaceStore and sends the resyncs it asks for.  Liveness: silence for
 * 3 x heartbeat_ms marks everything stale and reconnects; reconnects back
 * off exponentially (capped).  The socket factory and clock are injectable
 * so tests drive it without a network. */
import { RESYNC_RETRY_MS, SurfaceStore, type StoreAction } from './store';
import type { ServerMsg, SurfaceInfo, SurfaceMsg } from './types';

export interface SocketLike {
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code?: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
}

export type ConnState = 'connecting' | 'live' | 'stale' | 'reconnecting' | 'closed';

export interface ConnInfo {
  readonly state: ConnState;
  readonly url: string;
  readonly server: string;
  readonly epoch: number;
  readonly heartbeatMs: number;
  readonly surfaces: readonly SurfaceInfo[];
  readonly lastError: string;
  readonly reconnects: number;
  readonly nextRetryAt: number; /* local ms, 0 when not waiting */
  readonly clockOffset: number; /* server time - local time, ms */
}

export interface ConnOptions {
  socket?: (url: string) => SocketLike;
  clock?: Clock;
  backoffMinMs?: number; /* first retry delay (default 250) */
  backoffMaxMs?: number; /* cap (default 5000) */
  defaultHeartbeatMs?: number; /* until hello says (default 1000) */
}

const OPEN = 1;
export const HEARTBEAT_MISSES = 3;

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/* Backoff before retry n (0-based): min * 2^n capped at max, with up to 20%
 * jitter removed so a restarted server is not hit by every client at once. */
export function backoffMs(n: number, min: number, max: number, rnd = Math.random()): number {
  const base = Math.min(max, min * Math.pow(2, Math.min(n, 30)));
  return Math.round(base * (1 - 0.2 * rnd));
}

export class Connection {
  readonly store: SurfaceStore;
  private info: ConnInfo;
  private listeners = new Set<() => void>();
  private ws: SocketLike | null = null;
  private wanted = new Set<string>();
  /* wanted surfaces subscribed to without a snapshot yet: when (local ms)
   * the subscribe went out.  A refused subscribe (unknown_surface: not
   * published yet) is sent again when the list names it, or after
   * RESYNC_RETRY_MS on a heartbeat. */
  private pending = new Map<string, number>();
  private watchdog: unknown = null;
  private retryTimer: unknown = null;
  private attempt = 0;
  private stopped = true;
  private reqId = 1;
  private readonly mk: (url: string) => SocketLike;
  private readonly clock: Clock;
  private readonly min: number;
  private readonly max: number;

  constructor(url: string, store: SurfaceStore, opt: ConnOptions = {}) {
    this.store = store;
    this.mk = opt.socket ?? ((u) => new WebSocket(u, 'volsurf.v1') as unknown as SocketLike);
    this.clock = opt.clock ?? realClock;
    this.min = opt.backoffMinMs ?? 250;
    this.max = opt.backoffMaxMs ?? 5000;
    this.info = {
      state: 'closed',
      url,
      server: '',
      epoch: 0,
      heartbeatMs: opt.defaultHeartbeatMs ?? 1000,
      surfaces: [],
      lastError: '',
      reconnects: 0,
      nextRetryAt: 0,
      clockOffset: 0,
    };
  }

  getInfo = (): ConnInfo => this.info;

  subscribeInfo = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  };

  private set(p: Partial<ConnInfo>): void {
    this.info = { ...this.info, ...p };
    for (const fn of [...this.listeners]) fn();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) this.detach(ws).close(1000);
    this.store.setConnected(false);
    this.set({ state: 'closed', nextRetryAt: 0 });
  }

  /* The surfaces the views want; (un)subscribes the difference now when
   * live, and the whole set after every (re)connect. */
  setWanted(ids: string[]): void {
    const next = new Set(ids);
    const add = ids.filter((id) => !this.wanted.has(id));
    const del = [...this.wanted].filter((id) => !next.has(id));
    this.wanted = next;
    for (const id of del) (this.store.drop(id), this.pending.delete(id));
    if (this.info.state === 'live' || this.info.state === 'stale') {
      if (del.length) this.send({ type: 'unsubscribe', surfaces: del, id: this.reqId++ });
      this.subscribe(add);
    }
  }

  private subscribe(ids: string[]): void {
    if (!ids.length) return;
    const now = this.clock.now();
    for (const id of ids) this.pending.set(id, now);
    this.send({ type: 'subscribe', surfaces: ids, id: this.reqId++ });
  }

  /* Subscribe again to pending surfaces: all that the list names (listed),
   * or those waiting longer than RESYNC_RETRY_MS. */
  private retryPending(listed: boolean): void {
    const now = this.clock.now();
    const names = new Set(this.info.surfaces.map((s) => s.id));
    const again = [...this.pending].filter(([id, at]) => (listed ? names.has(id) : now - at >= RESYNC_RETRY_MS)).map(([id]) => id);
    this.subscribe(again);
  }

  private send(obj: object): void {
    if (this.ws && this.ws.readyState === OPEN) this.ws.send(JSON.stringify(obj));
  }

  private detach(ws: SocketLike): SocketLike {
    ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
    return ws;
  }

  private clearTimers(): void {
    if (this.watchdog !== null) this.clock.clearTimeout(this.watchdog);
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
    this.watchdog = this.retryTimer = null;
  }

  private armWatchdog(): void {
    if (this.watchdog !== null) this.clock.clearTimeout(this.watchdog);
    this.watchdog = this.clock.setTimeout(
      () => this.silent(),
      HEARTBEAT_MISSES * this.info.heartbeatMs,
    );
  }

  private open(): void {
    this.retryTimer = null;
    this.set({ state: this.info.reconnects ? 'reconnecting' : 'connecting', nextRetryAt: 0 });
    let ws: SocketLike;
    try {
      ws = this.mk(this.info.url);
    } catch (e) {
      this.set({ lastError: `cannot open: ${String(e)}` });
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onmessage = (ev) => this.onFrame(ev.data);
    ws.onclose = (ev) => this.lost(`closed${ev && ev.code ? ` (${ev.code})` : ''}`);
    ws.onerror = () => {
      /* onclose follows */
    };
    /* a connect that never answers counts as silence too */
    this.armWatchdog();
  }

  /* No frame for 3 heartbeats: everything is stale; drop the socket and retry. */
  private silent(): void {
    this.watchdog = null;
    this.store.setConnected(false);
    this.set({ state: 'stale', lastError: 'no heartbeat' });
    const ws = this.ws;
    this.ws = null;
    if (ws) this.detach(ws).close(4002);
    this.scheduleRetry();
  }

  private lost(why: string): void {
    const ws = this.ws;
    this.ws = null;
    if (ws) this.detach(ws);
    if (this.watchdog !== null) this.clock.clearTimeout(this.watchdog);
    this.watchdog = null;
    this.store.setConnected(false);
    this.set({ state: 'stale', lastError: why });
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer !== null) return;
    const ms = backoffMs(this.attempt++, this.min, this.max);
    this.set({ reconnects: this.info.reconnects + 1, nextRetryAt: this.clock.now() + ms });
    this.retryTimer = this.clock.setTimeout(() => this.open(), ms);
  }

  private apply(acts: StoreAction[]): void {
    for (const a of acts) this.send({ type: 'resync', surface: a.surface });
  }

  private onFrame(data: unknown): void {
    this.armWatchdog();
    if (typeof data !== 'string') return;
    let msg: ServerMsg;
    try {
      msg = JSON.parse(data) as ServerMsg;
    } catch {
      this.set({ lastError: 'bad frame from server' });
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const now = this.clock.now();
    switch (msg.type) {
      case 'hello': {
        const hb = typeof msg.heartbeat_ms === 'number' && msg.heartbeat_ms > 0 ? msg.heartbeat_ms : 1000;
        this.attempt = 0;
        this.set({
          state: 'live',
          server: String(msg.server ?? ''),
          epoch: msg.epoch,
          heartbeatMs: hb,
          clockOffset: typeof msg.time === 'number' ? msg.time - now : 0,
        });
        for (const id of this.wanted) this.store.expectSnapshot(id, now);
        this.store.setConnected(true);
        this.armWatchdog();
        this.pending.clear();
        this.subscribe([...this.wanted]);
        return;
      }
      case 'surfaces':
        if (Array.isArray(msg.surfaces)) {
          this.set({ surfaces: msg.surfaces });
          this.retryPending(true);
        }
        return;
      case 'snapshot':
      case 'patch': {
        const m = msg as SurfaceMsg;
        if (!this.wanted.has(m.surface)) return; /* unsubscribed meanwhile */
        if (this.info.state !== 'live') this.set({ state: 'live' });
        if (m.type === 'snapshot') this.pending.delete(m.surface);
        this.apply(m.type === 'snapshot' ? this.store.onSnapshot(m, now) : this.store.onPatch(m, now));
        return;
      }
      case 'heartbeat':
        if (this.info.state !== 'live') this.set({ state: 'live' });
        this.store.setConnected(true);
        if (typeof msg.time === 'number') {
          const off = msg.time - now;
          if (Math.abs(off - this.info.clockOffset) > 250) this.set({ clockOffset: off });
        }
        this.apply(this.store.onHeartbeat(msg, now));
        this.retryPending(false);
        return;
      case 'error':
        this.set({ lastError: `${msg.code}${msg.message ? `: ${msg.message}` : ''}` });
        return;
      default:
        return;
    }
  }
}

/* The websocket address: ?ws=... on the page, else the build-time
 * VITE_VOLSURF_WS, else same origin /ws. */
export function defaultWsUrl(loc: { protocol: string; host: string; search: string }, buildUrl?: string): string {
  const q = new URLSearchParams(loc.search).get('ws');
  if (q) return q;
  if (buildUrl) return buildUrl;
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}
