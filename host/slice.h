/* slice: the usable points of one (venue, asset, expiry), ready to fit.
 * quotes -> slice_build -> slice -> fit.  Filtering rules (crossed, no bid,
 * capped IVs, stale, deep wings, invalid) live here and only here, and every
 * rejection is counted by reason.
 *
 * Per strike one point is kept: the out-of-the-money option (put below the
 * forward, call at or above), or the other one when the OTM option is
 * unusable.  k = ln(K/F), w = iv^2 T, T = ACT/365 from as_of to expiry.
 *
 * Forward: the median of the quotes' underlying_price (Deribit's per-expiry
 * forward, SYN.* or a real future); without one, put-call parity on the
 * strikes with two-sided call and put prices, regressing C - P on K (coin
 * premiums: C - P = 1 - K/F; USD: C - P = F - K; F = -intercept/slope);
 * else the index price, flagged SLICE_FWD_INDEX.
 *
 * A quote is usable with a bid IV and either an ask IV below iv_cap or, when
 * the ask is missing or capped, a mark IV at or above the bid (one-sided:
 * its band width is taken as 2 (mark - bid)).  A quote without a bid is
 * rejected (n_no_bid) even when it has a mark: a mark alone is the venue's
 * model, not a market.
 *
 * Target IV (AUTO): the mark when it lies inside [bid, ask] (Deribit's mark
 * is a smoothed fair value and steadier than the mid), else the mid.
 * Weight on w: 1 / (2 iv T max(ask - bid, min_spread_vol)); since
 * dw = 2 iv T d(iv), a weighted residual is the vol error in bid/ask widths.
 * Missing IVs are implied from prices (quote_fill_iv) on a copy. */
#ifndef VOLSURF_SLICE_H
#define VOLSURF_SLICE_H

#include <stdint.h>

#include "quote.h"

#define SLICE_MAX_POINTS 512
#define SLICE_US_PER_YEAR (365.0 * 86400.0 * 1e6)

enum slice_forward_src {
  SLICE_FWD_QUOTE = 0,  /* median of the quotes' underlying_price */
  SLICE_FWD_PARITY = 1, /* put-call parity regression on strike pairs */
  SLICE_FWD_INDEX = 2   /* index price: last resort, flagged */
};

enum slice_target {
  SLICE_TARGET_AUTO = 0, /* mark IV when inside the bid/ask band, else mid */
  SLICE_TARGET_MID = 1,
  SLICE_TARGET_MARK = 2
};

struct slice_rejects {
  int n_invalid;   /* NaN strike, strike <= 0, unknown kind, no usable IV */
  int n_expired;   /* expiry at or before as_of */
  int n_stale;     /* quote older than as_of - stale_us */
  int n_no_bid;    /* no bid price / bid IV */
  int n_crossed;   /* bid above ask */
  int n_iv_capped; /* ask IV at the cap (Deribit 500%) and no mark to stand in */
  int n_deep_wing; /* OTM |delta| below min_abs_delta */
  int n_overflow;  /* more than SLICE_MAX_POINTS strikes */
};

/* Defaults (slice_config_default): stale_us 0 (off: recorded chains have no
 * "now"; live callers set a few cadences), iv_cap 5.0 (Deribit's 500% ask
 * cap), min_abs_delta 0.01 (beyond 1-delta a tick moves the IV by points),
 * min_spread_vol 0.005 (half a vol point: tighter bands would dominate the
 * fit), target AUTO. */
struct slice_config {
  int64_t stale_us;      /* 0 disables the staleness filter */
  double iv_cap;         /* ask IV at or above this means "no ask" (5.0 = 500%) */
  double min_abs_delta;  /* deep-wing cut on the OTM option's forward delta */
  double min_spread_vol; /* floor of the bid/ask IV width used in the weights */
  int target;            /* enum slice_target */
};

struct slice {
  char venue[QUOTE_VENUE_LEN];
  char asset[QUOTE_ASSET_LEN];
  int64_t expiry_us, as_of_us;
  double T_years, forward, index_price;
  int forward_src;
  int n_quotes; /* quotes offered to slice_build */
  int n;        /* usable points, sorted by k */
  double strike[SLICE_MAX_POINTS];
  double k[SLICE_MAX_POINTS];
  double w[SLICE_MAX_POINTS];       /* target total variance */
  double weight[SLICE_MAX_POINTS];  /* residual weight on w */
  double iv[SLICE_MAX_POINTS];      /* target IV */
  double iv_bid[SLICE_MAX_POINTS];  /* NaN when absent */
  double iv_ask[SLICE_MAX_POINTS];  /* NaN when absent */
  double iv_mark[SLICE_MAX_POINTS]; /* NaN when absent */
  struct slice_rejects rej;
};

void slice_config_default(struct slice_config *c);

/* Builds a slice from n quotes that share (venue, asset, expiry_us); IVs
 * missing in a quote are implied from its prices first.  Borrows 'q'; writes
 * 'out' entirely; c NULL means slice_config_default.  Allocation-free;
 * thread-safe for distinct 'out'.  Returns 0 (out->n may still be below the fitter's minimum),
 * ERR_INPUT when n < 1 or the quotes do not share one expiry, ERR_RANGE when
 * the expiry is at or before as_of or no forward can be found. */
int slice_build(const struct quote *q, int n, int64_t as_of_us, const struct slice_config *c,
                struct slice *out);

#endif
