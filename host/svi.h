/* svi: raw SVI total-variance smiles, their derivatives, jump-wings view and
 * no-arbitrage checks (Durrleman's g for butterflies, Lee's wing bound).
 *
 * Raw SVI: w(k) = a + b(rho(k - m) + sqrt((k - m)^2 + sigma^2)), k = ln(K/F),
 * w = total implied variance iv^2 * T.  Fields are named, never ordered: the
 * literature disagrees on the order (Gatheral (a,b,m,rho,sigma), QuantLib
 * (a,b,sigma,rho,m)).  Pure functions, thread-safe, no allocation. */
#ifndef VOLSURF_SVI_H
#define VOLSURF_SVI_H

#include "svi_lm.h" /* struct svi, shared with the GPU fitter */

/* Jump-wings parametrization (Gatheral 2004), which depends on T:
 * v = ATM variance w(0)/T, psi = ATM skew, p = put (left) wing slope,
 * c = call (right) wing slope, vt = minimum implied variance / T. */
struct svi_jw {
  double v, psi, p, c, vt;
};

/* Lee (2004): the large-|k| slope of w is at most 2. */
#define SVI_LEE_MAX_SLOPE 2.0
/* Most sub-intervals of k where g < 0 that a scan reports. */
#define SVI_ARB_MAX_INTERVALS 8

/* w(k). */
double svi_w(const struct svi *p, double k);
/* w(k), w'(k), w''(k); any output pointer may be NULL. */
void svi_eval(const struct svi *p, double k, double *w, double *w1, double *w2);
/* Minimum of w over k: a + b sigma sqrt(1 - rho^2), reached at
 * k* = m - rho sigma / sqrt(1 - rho^2); 'k_at' may be NULL. */
double svi_min_variance(const struct svi *p, double *k_at);
/* Asymptotic wing slopes of w: left b(1 - rho), right b(1 + rho). */
void svi_wing_slopes(const struct svi *p, double *left, double *right);
/* 1 when b(1 + |rho|) <= SVI_LEE_MAX_SLOPE (+1e-12), else 0. */
int svi_lee_ok(const struct svi *p);
/* 0 when b >= 0, |rho| < 1, sigma > 0 and all fields finite, else ERR_INPUT. */
int svi_validate(const struct svi *p);

/* Durrleman's g(k) = (1 - k w'/(2w))^2 - (w'^2/4)(1/w + 1/4) + w''/2.
 * The slice is free of butterfly arbitrage iff g >= 0 and w > 0 for all k.
 * Returns -INFINITY where w <= 0. */
double svi_durrleman_g(const struct svi *p, double k);

/* Result of a butterfly scan: the minimum of g and the k-intervals where
 * g < 0 (ends located to 1e-10 by bisection; at most SVI_ARB_MAX_INTERVALS,
 * n_intervals counts all). */
struct svi_arb {
  double g_min, k_at_g_min;
  int n_intervals;
  double lo[SVI_ARB_MAX_INTERVALS], hi[SVI_ARB_MAX_INTERVALS];
};

/* Scans g on an even grid of n_grid >= 3 points over [k_lo, k_hi], refines
 * the minimum (golden section) and the sign changes (bisection).
 * Returns 0 or ERR_INPUT on a bad range or grid. */
int svi_butterfly_scan(const struct svi *p, double k_lo, double k_hi, int n_grid,
                       struct svi_arb *out);

/* Raw -> jump-wings for maturity T > 0.  Returns 0 or ERR_INPUT. */
int svi_to_jw(const struct svi *p, double T_years, struct svi_jw *out);
/* Jump-wings -> raw for maturity T > 0 (Gatheral & Jacquier 2014, Lemma 3.2).
 * Returns 0, or ERR_RANGE when the JW values admit no raw SVI. */
int svi_from_jw(const struct svi_jw *jw, double T_years, struct svi *out);

#endif
