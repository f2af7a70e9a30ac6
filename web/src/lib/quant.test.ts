/* quant: SVI evaluation and Black-76 delta against closed-form values. */
import { describe, expect, it } from 'vitest';
import { callDelta, deltaLabel, deltaX, kForDeltaX, normCdf, sviIv, sviW } from './quant';

const p = { a: 0.04, b: 0.1, rho: -0.3, m: 0.02, sigma: 0.15 };

describe('quant', () => {
  it('evaluates raw SVI', () => {
    const k = 0.1;
    const w = 0.04 + 0.1 * (-0.3 * 0.08 + Math.sqrt(0.08 * 0.08 + 0.15 * 0.15));
    expect(sviW(p, k)).toBeCloseTo(w, 14);
    expect(sviIv(p, k, 0.5)).toBeCloseTo(Math.sqrt(w / 0.5), 14);
    expect(Number.isNaN(sviIv({ ...p, a: -1 }, 0, 1))).toBe(true);
  });

  it('has a normal CDF good to 1e-7', () => {
    expect(normCdf(0)).toBeCloseTo(0.5, 7);
    expect(normCdf(1)).toBeCloseTo(0.8413447460685429, 7);
    expect(normCdf(-1.959963984540054)).toBeCloseTo(0.025, 7);
  });

  it('gives the Black-76 forward call delta', () => {
    /* ATM forward: d1 = s sqrt(T)/2 */
    expect(callDelta(0, 0.5, 1)).toBeCloseTo(normCdf(0.25), 10);
    expect(deltaX(0, 0.5, 1)).toBeCloseTo(1 - normCdf(0.25), 10);
  });

  it('inverts delta on the smile', () => {
    const T = 0.25;
    for (const x of [0.1, 0.25, 0.5, 0.75, 0.9]) {
      const k = kForDeltaX(p, T, x);
      expect(deltaX(k, sviIv(p, k, T), T)).toBeCloseTo(x, 8);
    }
    expect(deltaLabel(0.25)).toBe('25P');
    expect(deltaLabel(0.9)).toBe('10C');
    expect(deltaLabel(0.5)).toBe('ATM');
  });
});
