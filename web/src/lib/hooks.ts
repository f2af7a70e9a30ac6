/* hooks: React bindings to the connection and the per-surface store.
 * useSurface subscribes to one surface only, so a patch to another surface
 * never re-renders this view. */
import { createContext, useCallback, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import type { ConnInfo, Connection } from '../protocol/connection';
import type { SurfaceState } from '../protocol/store';

export const ConnContext = createContext<Connection | null>(null);

export function useConnection(): Connection {
  const c = useContext(ConnContext);
  if (!c) throw new Error('no Connection in context');
  return c;
}

export function useConnInfo(): ConnInfo {
  const c = useConnection();
  return useSyncExternalStore(c.subscribeInfo, c.getInfo);
}

export function useSurface(id: string | null): SurfaceState | undefined {
  const c = useConnection();
  const sub = useCallback((fn: () => void) => (id ? c.store.subscribe(id, fn) : () => {}), [c, id]);
  const get = useCallback(() => (id ? c.store.get(id) : undefined), [c, id]);
  return useSyncExternalStore(sub, get);
}

/* Local time, ticking every periodMs (ages and freshness). */
export function useNow(periodMs = 500): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const h = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(h);
  }, [periodMs]);
  return now;
}
