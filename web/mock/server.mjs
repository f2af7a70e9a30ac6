#!/usr/bin/env node
/* mock server: a stand-in for `volsurf serve` speaking protocol v1
 * (docs/protocol.md) with synthetic SVI surfaces, for dashboard development
 * and for the end-to-end test before/without the real binary.
 *   node mock/server.mjs --port 8080 --static dist [--rate 10] [--host 127.0.0.1]
 * Prints "listening <port>" once ready.  Independent of src/protocol on
 * purpose: its own diff and checksum cross-check the client's. */
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { WebSocketServer } from 'ws';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] ?? '']] : acc), []),
);
const PORT = Number(args.port ?? 8080);
const HOST = args.host || '127.0.0.1';
const STATIC = args.static ? resolve(args.static) : null;
const RATE = Number(args.rate ?? 10);
const EPOCH = Date.now();
const HEARTBEAT_MS = 1000;

/* ---------- synthetic surfaces ---------- */
let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const r4 = (x) => Math.round(x * 1e4) / 1e4;
const r8 = (x) => Math.round(x * 1e8) / 1e8;
const sig8 = (x) => Number(x.toPrecision(8));
const MON = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const code = (ms) => {
  const d = new Date(ms);
  return `${d.getUTCDate()}${MON[d.getUTCMonth()]}${String(d.getUTCFullYear()).slice(2)}`;
};
const sviW = (p, k) => p.a + p.b * (p.rho * (k - p.m) + Math.sqrt((k - p.m) ** 2 + p.sigma ** 2));
const iv = (p, k, T) => Math.sqrt(Math.max(sviW(p, k), 1e-8) / T);

const SURFACES = [
  ['deribit', 'BTC', 97000, 0.5],
  ['deribit', 'ETH', 3400, 0.65],
  ['deribit', 'SOL_USDC', 180, 0.85],
  ['okx', 'BTC', 97010, 0.51],
  ['okx', 'ETH', 3401, 0.66],
  ['bybit', 'BTC', 96990, 0.5],
];

function makeState(venue, asset, spot, vol0) {
  const now = Date.now();
  const day = 86400000;
  const base = Math.floor(now / day) * day + 8 * 3600000;
  const offs = [1, 2, 7, 14, 21, 35, 63, 91, 182, 273, 364];
  const exps = offs.map((o) => {
    const T = (base + o * day - now) / (365 * day);
    const atmVar = (vol0 * (1 + 0.15 * Math.exp(-T * 4))) ** 2 * T;
    return {
      ms: base + o * day,
      T,
      p: { a: atmVar * 0.6, b: 0.12 * Math.sqrt(T) + 0.02, rho: -0.25 + 0.05 * rnd(), m: 0.01, sigma: 0.15 + 0.1 * T },
    };
  });
  return { id: `${venue}.${asset}`, venue, asset, spot, exps, tick: 0 };
}

function derived(p, T) {
  const a = iv(p, 0, T);
  const s = a * Math.sqrt(T);
  const at = (z) => iv(p, z * s + 0.5 * s * s, T);
  const c25 = at(0.674), p25 = at(-0.674), c10 = at(1.2816), p10 = at(-1.2816);
  return { atm: a, rr25: c25 - p25, fly25: (c25 + p25) / 2 - a, rr10: c10 - p10, fly10: (c10 + p10) / 2 - a };
}

function render(s, now) {
  const expiries = {};
  s.exps.forEach((e, i) => {
    const T = Math.max(1e-4, e.T);
    const F = s.spot * Math.exp(0.05 * T);
    const d = derived(e.p, T);
    const n = 9 + Math.min(14, Math.round(T * 40));
    const width = 2.2 * Math.sqrt(e.p.a / T) * Math.sqrt(T) + 0.05;
    const step = s.spot > 10000 ? 1000 : s.spot > 1000 ? 50 : 5;
    const strike = [], k = [], bid = [], ask = [], mark = [];
    for (let j = 0; j < n; j++) {
      const K = Math.round((F * Math.exp(-width + (2 * width * j) / (n - 1))) / step) * step;
      if (strike.includes(K)) continue;
      const kk = Math.log(K / F);
      const m = iv(e.p, kk, T) + 0.003 * Math.sin(j * 1.7 + s.tick * 0.05);
      const sp = 0.006 + 0.02 * Math.abs(kk);
      strike.push(sig8(K));
      k.push(r4(kk));
      bid.push(j === 0 && i % 3 === 0 ? null : r4(m - sp / 2));
      ask.push(r4(m + sp / 2));
      mark.push(r4(m));
    }
    const stale = i === s.exps.length - 1 && s.venue === 'okx';
    const bfly = i === 0 ? [[r4(-0.7 * width), r4(-0.5 * width)]] : [];
    expiries[code(e.ms)] = {
      expiry: e.ms,
      T: Number(T.toFixed(6)),
      forward: sig8(F),
      forward_src: i < 2 ? 'parity' : 'quote',
      svi: { a: r8(e.p.a), b: r8(e.p.b), rho: r8(e.p.rho), m: r8(e.p.m), sigma: r8(e.p.sigma) },
      atm: r4(d.atm), rr25: r4(d.rr25), fly25: r4(d.fly25), rr10: r4(d.rr10), fly10: r4(d.fly10),
      usable: i !== 0,
      status: i === 0 ? ['converged', 'butterfly'] : ['converged'],
      diag: {
        n: strike.length, iter: 5 + ((s.tick + i) % 6), rmse_vp: 0.21 + 0.01 * (i % 4), max_vp: 0.55, inside: 0.971,
        fit_us: 12.3 + i, g_min: i === 0 ? -0.0123 : 0.1234, butterfly: bfly, lee: true,
        calendar_prev: i === 4, calendar_next: i === 3,
      },
      rejected: { no_bid: i % 3, crossed: 0, iv_capped: 0, deep_wing: 2, stale: 0, invalid: 0 },
      points: { strike, k, bid, ask, mark },
      quote_time: stale ? now - 120000 : now - 40,
      fit_time: now - 10,
      stale,
    };
  });
  const nodes = {};
  [['1d', 1], ['1w', 7], ['2w', 14], ['1m', 30], ['2m', 61], ['3m', 91], ['6m', 182], ['1y', 365]].forEach(([n, dd]) => {
    const T = dd / 365;
    const e = s.exps.find((x) => x.T >= T) ?? s.exps[s.exps.length - 1];
    const d = derived(e.p, Math.max(T, 1e-3));
    nodes[n] = { T: Number(T.toFixed(6)), atm: r4(d.atm), rr25: r4(d.rr25), fly25: r4(d.fly25), rr10: r4(d.rr10), fly10: r4(d.fly10), extrapolated: dd === 1 };
  });
  return {
    id: s.id, venue: s.venue, asset: s.asset, as_of: now, index: sig8(s.spot), stale: false,
    delta_convention: 'forward', expiries, nodes,
  };
}

/* ---------- protocol helpers (independent of src/protocol) ---------- */
const isObj = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
function diff(a, b) {
  const p = {};
  for (const k of Object.keys(a)) if (!(k in b)) p[k] = null;
  for (const k of Object.keys(b)) {
    if (!(k in a)) p[k] = b[k];
    else if (isObj(a[k]) && isObj(b[k])) {
      const d = diff(a[k], b[k]);
      if (Object.keys(d).length) p[k] = d;
    } else if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) p[k] = b[k];
  }
  return p;
}
function checksum(doc) {
  let t = `${doc.id}\n`;
  for (const c of Object.keys(doc.expiries).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))) {
    const s = doc.expiries[c].svi;
    const f = (x) => String(Math.round(x * 1e8) || 0);
    t += s ? `${c}|${f(s.a)}|${f(s.b)}|${f(s.rho)}|${f(s.m)}|${f(s.sigma)}\n` : `${c}|-\n`;
  }
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(t)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

const surf = new Map(); /* id -> {state, doc, seq} */
for (const [v, a, sp, vol] of SURFACES) {
  const st = makeState(v, a, sp, vol);
  surf.set(st.id, { st, doc: render(st, Date.now()), seq: 1 });
}
/* Like the real serve, a surface exists only once its first fit is out:
 * they publish one by one after a warm-up (--warmup-ms, default 800). */
const WARMUP_MS = Number(args['warmup-ms'] ?? 800);
const active = new Set();
const list = () => [...surf.values()].filter(({ doc }) => active.has(doc.id)).map(({ doc, seq }) => ({ id: doc.id, venue: doc.venue, asset: doc.asset, expiries: Object.keys(doc.expiries).length, seq, stale: doc.stale }));

/* ---------- HTTP + WS ---------- */
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json' };
const http = createServer(async (req, res) => {
  const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
  if (path === '/healthz') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","mock":true}');
  if (!STATIC) return res.writeHead(404).end('no static dir');
  const file = normalize(join(STATIC, path === '/' ? 'index.html' : path));
  if (!file.startsWith(STATIC)) return res.writeHead(403).end();
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(await readFile(file));
  } catch {
    res.writeHead(404).end('not found');
  }
});
const wss = new WebSocketServer({ server: http, path: '/ws', maxPayload: 65536 });
const clients = new Set();
const send = (ws, o) => ws.readyState === 1 && ws.send(typeof o === 'string' ? o : JSON.stringify(o));
const snapshot = (id) => {
  const s = surf.get(id);
  return { type: 'snapshot', time: Date.now(), surface: id, epoch: EPOCH, seq: s.seq, prev: s.seq - 1, checksum: checksum(s.doc), data: s.doc };
};

wss.on('connection', (ws) => {
  const c = { ws, subs: new Set() };
  clients.add(c);
  send(ws, { type: 'hello', time: Date.now(), protocol: 1, server: 'volsurf-mock', epoch: EPOCH, heartbeat_ms: HEARTBEAT_MS, max_message: 4096 });
  send(ws, { type: 'surfaces', time: Date.now(), surfaces: list() });
  ws.on('message', (raw) => {
    let m;
    try {
      m = JSON.parse(String(raw));
    } catch {
      return send(ws, { type: 'error', time: Date.now(), code: 'bad_json', message: 'not JSON' });
    }
    const idm = typeof m.id === 'number' ? { id: m.id } : {};
    if (m.type === 'list') send(ws, { type: 'surfaces', time: Date.now(), surfaces: list(), ...idm });
    else if (m.type === 'subscribe' && Array.isArray(m.surfaces)) {
      for (const id of m.surfaces) {
        if (!active.has(id)) send(ws, { type: 'error', time: Date.now(), code: 'unknown_surface', message: 'unknown surface', ...idm });
        else (c.subs.add(id), send(ws, snapshot(id)));
      }
    } else if (m.type === 'unsubscribe' && Array.isArray(m.surfaces)) {
      for (const id of m.surfaces) c.subs.delete(id);
      send(ws, { type: 'ack', time: Date.now(), surfaces: [...c.subs], ...idm });
    } else if (m.type === 'resync' && typeof m.surface === 'string') {
      if (active.has(m.surface)) send(ws, snapshot(m.surface));
      else send(ws, { type: 'error', time: Date.now(), code: 'unknown_surface', message: 'unknown surface', ...idm });
    } else send(ws, { type: 'error', time: Date.now(), code: 'bad_type', message: 'unknown type', ...idm });
  });
  ws.on('close', () => clients.delete(c));
});

setInterval(() => {
  const now = Date.now();
  for (const [id, s] of surf) {
    if (!active.has(id)) continue;
    s.st.tick++;
    s.st.spot *= 1 + 0.0002 * (rnd() - 0.5);
    for (const e of s.st.exps) {
      e.p.a = Math.max(1e-5, e.p.a * (1 + 0.002 * (rnd() - 0.5)));
      e.p.rho = Math.max(-0.9, Math.min(0.9, e.p.rho + 0.002 * (rnd() - 0.5)));
    }
    const next = render(s.st, now);
    const patch = diff(s.doc, next);
    s.doc = next;
    s.seq++;
    const frame = JSON.stringify({ type: 'patch', time: now, surface: id, epoch: EPOCH, seq: s.seq, prev: s.seq - 1, checksum: checksum(next), data: patch });
    for (const c of clients) if (c.subs.has(id)) send(c.ws, frame);
  }
}, 1000 / RATE);

setInterval(() => {
  for (const c of clients) {
    const surfaces = {};
    for (const id of c.subs) surfaces[id] = { seq: surf.get(id).seq, stale: surf.get(id).doc.stale };
    send(c.ws, { type: 'heartbeat', time: Date.now(), surfaces });
  }
}, HEARTBEAT_MS);

[...surf.keys()].forEach((id, i) =>
  setTimeout(() => {
    active.add(id);
    const frame = JSON.stringify({ type: 'surfaces', time: Date.now(), surfaces: list() });
    for (const c of clients) send(c.ws, frame);
  }, WARMUP_MS + 150 * i),
);

http.listen(PORT, HOST, () => console.log(`listening ${http.address().port}`));
const bye = () => {
  for (const c of clients) c.ws.close(1001);
  process.exit(0);
};
process.on('SIGTERM', bye);
process.on('SIGINT', bye);
