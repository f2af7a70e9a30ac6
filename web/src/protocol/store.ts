/* store: the client's copy of every subscribed surface, kept in step with
 * the server by protocol v1's rules (docs/protocol.md):
 *   - a snapshot replaces the state (a new epoch drops the old one);
 *   - a patch applies only when its epoch is ours and prev is our seq, else
 *     the surface asks for a resync (one outstanding request at a time);
 *   - after every change the checksum is recomputed; a mismatch after a
 *     patch asks for a resync (after a snapshot it is recorded: asking again
 *     would fetch the same bytes);
 *   - a heartbeat whose seq is ahead of ours means we lost a version.
 * Pure logic: the caller supplies the clock and sends the actions returned.
 * Listeners are per surface, so a patch to one surface wakes only the views
 * that show it (useSyncExternalStore). */
import { checksum } from './checksum';
import { isObject, mergePatch } from './merge';
import type { HeartbeatMsg, SurfaceDoc, SurfaceMsg } from './types';

export interface SurfaceState {
  readonly id: string;
  readonly doc: SurfaceDoc | null;
  readonly epoch: number;
  readonly seq: number;
  readonly checksum: string; /* the server's, for seq */
  readonly integrity: 'ok' | 'mismatch';
  readonly awaiting: boolean; /* a resync was asked for and no snapshot came yet */
  readonly heartbeatStale: boolean; /* the server's stale flag from heartbeats */
  readonly connected: boolean; /* false while the connection is down or silent */
  readonly serverTime: number; /* server time of the last message about it */
  readonly receivedAt: number; /* local time of the last message about it */
  readonly updates: number;
  readonly resyncs: number;
  readonly mismatches: number;
}

export type StoreAction = { type: 'resync'; surface: string; reason: string };

/* Resend a resync when its snapshot has not come after this long. */
export const RESYNC_RETRY_MS = 5000;

type Listener = () => void;

export class SurfaceStore {
  private states = new Map<string, SurfaceState>();
  private listeners = new Map<string, Set<Listener>>();
  private resyncAt = new Map<string, number>();
  private connected = false;

  get(id: string): SurfaceState | undefined {
    return this.states.get(id);
  }

  ids(): string[] {
    return [...this.states.keys()];
  }

  /* Per-surface change notification; returns the unsubscribe function. */
  subscribe(id: string, fn: Listener): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(fn);
    return () => {
      set!.delete(fn);
    };
  }

  private put(st: SurfaceState): void {
    this.states.set(st.id, st);
    this.emit(st.id);
  }

  private emit(id: string): void {
    const set = this.listeners.get(id);
    if (set) for (const fn of [...set]) fn();
  }

  private resync(id: string, now: number, reason: string): StoreAction[] {
    const st = this.states.get(id);
    if (st) this.put({ ...st, awaiting: true, resyncs: st.resyncs + 1 });
    this.resyncAt.set(id, now);
    return [{ type: 'resync', surface: id, reason }];
  }

  /* Connection up/down: while down every surface shows as not live. */
  setConnected(up: boolean): void {
    if (up === this.connected) return;
    this.connected = up;
    for (const [id, st] of this.states) {
      this.states.set(id, { ...st, connected: up });
      this.emit(id);
    }
  }

  isConnected(): boolean {
    return this.connected;
  }

  /* A (re)subscription was sent: what we hold is not live until its
   * snapshot arrives (after a reconnect the old state may be far behind). */
  expectSnapshot(id: string, now: number): void {
    const st = this.states.get(id);
    this.resyncAt.set(id, now);
    if (st && !st.awaiting) this.put({ ...st, awaiting: true });
  }

  /* Forget a surface (unsubscribed). */
  drop(id: string): void {
    if (!this.states.delete(id)) return;
    this.resyncAt.delete(id);
    this.emit(id);
  }

  onSnapshot(msg: SurfaceMsg, now: number): StoreAction[] {
    if (!isObject(msg.data)) return this.resync(msg.surface, now, 'bad snapshot');
    const doc = msg.data as unknown as SurfaceDoc;
    const ok = checksum(doc) === msg.checksum;
    const old = this.states.get(msg.surface);
    this.resyncAt.delete(msg.surface);
    this.put({
      id: msg.surface,
      doc,
      epoch: msg.epoch,
      seq: msg.seq,
      checksum: msg.checksum,
      integrity: ok ? 'ok' : 'mismatch',
      awaiting: false,
      heartbeatStale: false,
      connected: this.connected,
      serverTime: msg.time,
      receivedAt: now,
      updates: (old?.updates ?? 0) + 1,
      resyncs: old?.resyncs ?? 0,
      mismatches: (old?.mismatches ?? 0) + (ok ? 0 : 1),
    });
    return [];
  }

  onPatch(msg: SurfaceMsg, now: number): StoreAction[] {
    const st = this.states.get(msg.surface);
    if (st?.awaiting) return []; /* the snapshot we asked for is on its way */
    if (!st || !st.doc) return this.resync(msg.surface, now, 'patch without state');
    if (msg.epoch !== st.epoch) {
      /* a new server sequence: our state is void */
      this.put({ ...st, doc: null });
      return this.resync(msg.surface, now, 'epoch');
    }
    if (msg.prev !== st.seq) return this.resync(msg.surface, now, 'gap');
    if (!isObject(msg.data)) return this.resync(msg.surface, now, 'bad patch');
    const doc = mergePatch(st.doc as never, msg.data) as unknown as SurfaceDoc;
    const ok = checksum(doc) === msg.checksum;
    this.put({
      ...st,
      doc,
      seq: msg.seq,
      checksum: msg.checksum,
      integrity: ok ? 'ok' : 'mismatch',
      serverTime: msg.time,
      receivedAt: now,
      updates: st.updates + 1,
      mismatches: st.mismatches + (ok ? 0 : 1),
    });
    return ok ? [] : this.resync(msg.surface, now, 'checksum');
  }

  onHeartbeat(msg: HeartbeatMsg, now: number): StoreAction[] {
    const acts: StoreAction[] = [];
    for (const [id, hb] of Object.entries(msg.surfaces ?? {})) {
      const st = this.states.get(id);
      if (!st) continue;
      if (st.awaiting) {
        const at = this.resyncAt.get(id) ?? 0;
        if (now - at >= RESYNC_RETRY_MS) acts.push(...this.resync(id, now, 'resync timeout'));
        continue;
      }
      const stale = hb.stale === true;
      if (stale !== st.heartbeatStale || msg.time !== st.serverTime)
        this.put({ ...st, heartbeatStale: stale, serverTime: msg.time, receivedAt: now });
      if (typeof hb.seq === 'number' && hb.seq > st.seq) acts.push(...this.resync(id, now, 'behind'));
    }
    return acts;
  }
}

/* True only when everything says the surface is live. */
export function surfaceLive(st: SurfaceState | undefined): boolean {
  if (!st || !st.doc || !st.connected || st.awaiting) return false;
  return !st.heartbeatStale && st.doc.stale !== true;
}
