/* derived: what a desk reads off a fitted smile: ATM vol (k = 0), 25-delta
 * and 10-delta risk reversal and butterfly, and constant-maturity nodes
 * (1d 1w 2w 1m 2m 3m 6m 1y) interpolated in total variance.
 *
 * RR = vol(delta call) - vol(delta put); fly = (vol(call) + vol(put))/2 -
 * vol(ATM).  Delta convention named in every result: forward Black-76 delta
 * by default, premium-adjusted for coin-settled options on request (not
 * monotone in K: the out-of-the-money root is taken).  Pure, thread-safe. */
#ifndef VOLSURF_DERIVED_H
#define VOLSURF_DERIVED_H

#include "svi.h"

enum derived_delta_conv { DERIVED_DELTA_FORWARD = 0, DERIVED_DELTA_PREMIUM_ADJUSTED = 1 };

#define DERIVED_N_NODES 8

struct derived {
  int delta_conv;
  double atm_vol;
  double vol_c25, vol_p25, vol_c10, vol_p10; /* vols at the delta strikes */
  double k_c25, k_p25, k_c10, k_p10;         /* log-moneyness of those strikes */
  double rr25, fly25, rr10, fly10;           /* NaN where a strike cannot be found */
};

struct derived_node {
  const char *name; /* "1d", "1w", ... */
  double T_years;
  int valid;        /* 0 when no usable expiry exists */
  int extrapolated; /* 1 outside the listed expiries (flat vol) */
  struct derived d; /* same quantities on the interpolated smile */
};

/* Name and tenor (years, ACT/365) of node i, 0 <= i < DERIVED_N_NODES. */
const char *derived_node_name(int i);
double derived_node_years(int i);

/* "forward" or "premium_adjusted". */
const char *derived_delta_conv_name(int conv);

/* Derived values of one smile with maturity T > 0.  Delta strikes are the
 * roots of delta(k; vol(k)) = +-0.25, +-0.10 found by an outward scan from
 * k = 0 and Brent's method (|delta - target| ~ 1e-15).  Returns 0, or
 * ERR_INPUT (out set to NaN) for an invalid SVI, T, convention or w(0) <= 0. */
int derived_slice(const struct svi *p, double T_years, int delta_conv, struct derived *out);

/* Constant-maturity nodes from n fitted expiries sorted by T (usable[i] 0
 * skips expiry i; usable may be NULL for "all"; expiries with T <= 0 or an
 * invalid SVI are skipped too): between expiries total variance is linear in
 * T at fixed k; before the first and after the last, the nearest smile's vol
 * is held flat (extrapolated = 1).  Borrows all arrays; node names point to
 * static strings.  Writes DERIVED_N_NODES nodes.  Returns the number of valid
 * nodes (0 when no expiry is usable or delta_conv is unknown). */
int derived_nodes(const double *T_years, const struct svi *p, const int *usable, int n,
                  int delta_conv, struct derived_node out[DERIVED_N_NODES]);

#endif
