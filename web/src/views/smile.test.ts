/* buildSmile: the smile chart's table (points and SVI curve on one sorted x). */
import { describe, expect, it } from 'vitest';
import type { Expiry } from '../protocol/types';
import { buildSmile } from './Smile';

const e: Expiry = {
  expiry: 0,
  T: 0.25,
  forward: 100,
  svi: { a: 0.01, b: 0.1, rho: -0.3, m: 0, sigma: 0.2 },
  points: {
    strike: [80, 100, 120],
    k: [-0.2231, 0, 0.1823],
    bid: [0.55, 0.4, null],
    ask: [0.57, 0.42, 0.5],
    mark: [0.56, null, 0.49],
  },
};

describe('buildSmile', () => {
  for (const mode of ['strike', 'k', 'delta'] as const) {
    it(`puts points and curve on one ascending ${mode} axis`, () => {
      const s = buildSmile(e, mode);
      expect(s.nPoints).toBe(3);
      expect(s.nCurve).toBeGreaterThan(100);
      const xs = s.data[0] as number[];
      for (let i = 1; i < xs.length; i++) expect(xs[i]!).toBeGreaterThanOrEqual(xs[i - 1]!);
      expect((s.data[1] as (number | null)[]).filter((v) => v !== null)).toHaveLength(2); /* bids */
      expect((s.data[4] as (number | null)[]).filter((v) => v !== null)).toHaveLength(s.nCurve);
    });
  }

  it('maps strikes through the forward and deltas into (0, 1)', () => {
    expect(buildSmile(e, 'strike').rows.map((r) => Math.round(r.x))).toEqual([80, 100, 120]);
    for (const r of buildSmile(e, 'delta').rows) expect(r.x > 0 && r.x < 1).toBe(true);
  });

  it('draws no curve without a fit', () => {
    const { svi: _svi, ...nofit } = e;
    expect(buildSmile(nofit, 'k').nCurve).toBe(0);
  });
});
