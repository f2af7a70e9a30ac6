/* quant: the little maths the views need, evaluated in the browser from the
 * published parameters: raw SVI total variance and IV, Black-76 forward
 * delta (undiscounted, delta_convention "forward"), and the inverse map from
 * a delta to log-moneyness on the fitted smile. */
import type { Expiry, Svi } from '../protocol/types';

/* Raw SVI total variance w(k) = a + b(rho(k-m) + sqrt((k-m)^2 + sigma^2)). */
export function sviW(p: Svi, k: number): number {
  const d = k - p.m;
  return p.a + p.b * (p.rho * d + Math.sqrt(d * d + p.sigma * p.sigma));
}

/* Implied vol sqrt(w/T) (NaN when w <= 0 or T <= 0). */
export function sviIv(p: Svi, k: number, T: number): number {
  const w = sviW(p, k);
  return w > 0 && T > 0 ? Math.sqrt(w / T) : NaN;
}

/* Standard normal CDF (W. J. Cody's erfc rational approximation via
 * Abramowitz-Stegun 7.1.26 is too coarse for wings; this uses the
 * complementary error function of Numerical Recipes erfcc, |err| < 1.2e-7). */
export function normCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - 0.5 * r : 0.5 * r;
}

/* Black-76 d1 at log-moneyness k = ln(K/F) with vol iv and time T. */
export function d1(k: number, iv: number, T: number): number {
  const s = iv * Math.sqrt(T);
  return (-k + 0.5 * s * s) / s;
}

/* Forward call delta N(d1); the put delta is callDelta - 1. */
export function callDelta(k: number, iv: number, T: number): number {
  return normCdf(d1(k, iv, T));
}

/* The delta axis coordinate: N(-d1) = -put delta, rising with strike from 0
 * (deep OTM puts) to 1 (deep OTM calls): 0.25 is the 25-delta put, 0.75 the
 * 25-delta call. */
export function deltaX(k: number, iv: number, T: number): number {
  return 1 - callDelta(k, iv, T);
}

/* Label of a delta axis coordinate: "25P", "ATM", "10C". */
export function deltaLabel(x: number): string {
  if (Math.abs(x - 0.5) < 1e-9) return 'ATM';
  return x < 0.5 ? `${Math.round(x * 100)}P` : `${Math.round((1 - x) * 100)}C`;
}

/* The log-moneyness whose delta coordinate on the fitted smile is x
 * (bisection on [-4, 4]; NaN when the smile does not reach it). */
export function kForDeltaX(p: Svi, T: number, x: number): number {
  const f = (k: number) => deltaX(k, sviIv(p, k, T), T) - x;
  let lo = -4;
  let hi = 4;
  let flo = f(lo);
  const fhi = f(hi);
  if (!(flo < 0 && fhi > 0)) return NaN;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    const fm = f(mid);
    if (!Number.isFinite(fm)) return NaN;
    if (fm < 0) {
      lo = mid;
      flo = fm;
    } else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/* Model IV of an expiry at k (NaN without a fit). */
export function expiryIv(e: Expiry, k: number): number {
  return e.svi ? sviIv(e.svi, k, e.T) : NaN;
}

/* Expiries sorted by expiry time. */
export function sortedExpiries(exps: Record<string, Expiry> | undefined): [string, Expiry][] {
  return Object.entries(exps ?? {}).sort((a, b) => a[1].expiry - b[1].expiry);
}
