/* types: the surface document and the messages of protocol v1
 * (docs/protocol.md).  Optional members are absent when missing, never null
 * (inside arrays a missing value is null). */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface Svi {
  a: number;
  b: number;
  rho: number;
  m: number;
  sigma: number;
}

export interface Diag {
  n?: number;
  iter?: number;
  rmse_vp?: number;
  max_vp?: number;
  inside?: number;
  fit_us?: number;
  g_min?: number;
  butterfly?: [number, number][];
  lee?: boolean;
  calendar_prev?: boolean;
  calendar_next?: boolean;
}

export interface Points {
  strike: (number | null)[];
  k: (number | null)[];
  bid: (number | null)[];
  ask: (number | null)[];
  mark: (number | null)[];
}

export interface Expiry {
  expiry: number;
  T: number;
  forward?: number;
  forward_src?: string;
  svi?: Svi;
  atm?: number;
  rr25?: number;
  fly25?: number;
  rr10?: number;
  fly10?: number;
  usable?: boolean;
  status?: string[];
  diag?: Diag;
  rejected?: Record<string, number>;
  points?: Points;
  quote_time?: number;
  fit_time?: number;
  stale?: boolean;
}

export interface Node {
  T: number;
  atm?: number;
  rr25?: number;
  fly25?: number;
  rr10?: number;
  fly10?: number;
  extrapolated?: boolean;
}

export interface SurfaceDoc {
  id: string;
  venue: string;
  asset: string;
  as_of?: number;
  index?: number;
  stale?: boolean;
  delta_convention?: string;
  expiries?: Record<string, Expiry>;
  nodes?: Record<string, Node>;
}

export interface SurfaceInfo {
  id: string;
  venue: string;
  asset: string;
  expiries?: number;
  seq?: number;
  stale?: boolean;
}

export interface HelloMsg {
  type: 'hello';
  time: number;
  protocol: number;
  server?: string;
  epoch: number;
  heartbeat_ms: number;
  max_message?: number;
}
export interface SurfacesMsg {
  type: 'surfaces';
  time: number;
  surfaces: SurfaceInfo[];
  id?: number;
}
export interface SurfaceMsg {
  type: 'snapshot' | 'patch';
  time: number;
  surface: string;
  epoch: number;
  seq: number;
  prev: number;
  checksum: string;
  data: JsonObject;
}
export interface HeartbeatMsg {
  type: 'heartbeat';
  time: number;
  surfaces?: Record<string, { seq: number; stale?: boolean }>;
}
export interface AckMsg {
  type: 'ack';
  time: number;
  id?: number;
  surfaces?: string[];
}
export interface ErrorMsg {
  type: 'error';
  time: number;
  code: string;
  message?: string;
  id?: number;
}
export type ServerMsg = HelloMsg | SurfacesMsg | SurfaceMsg | HeartbeatMsg | AckMsg | ErrorMsg;

/* Node names in tenor order (docs/protocol.md). */
export const NODE_NAMES = ['1d', '1w', '2w', '1m', '2m', '3m', '6m', '1y'] as const;
