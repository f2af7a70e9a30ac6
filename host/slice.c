/* slice: quotes of one (venue, asset, expiry) -> the points a fit uses.
 * book_slices -> slice_build -> fit.  The only place with filtering rules.
 *
 * Order of work: validate and age-filter every quote; find the forward
 * (venue's underlying_price, else put-call parity, else index); imply missing
 * IVs on a copy; keep one point per strike (OTM preferred); sort by k.
 * Every offered quote is either used, the unused twin of a used strike, or
 * counted in exactly one slice_rejects reason.  No allocation: scratch lives
 * on the stack and is bounded by SLICE_MAX_POINTS strikes. */
#include "slice.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "black.h"
#include "err.h"

/* Quotes used for the forward median; more than this (two per strike) only
 * happens with duplicate instruments and the first ones are enough. */
#define SLICE_FWD_SAMPLES (2 * SLICE_MAX_POINTS)

void slice_config_default(struct slice_config *c)
{
  /* stale_us 0: a recorded chain (schepal: 2.5 min of get_order_book calls)
   * has no "now"; live callers set it to a few cadences. */
  c->stale_us = 0;
  /* Deribit caps ask_iv at 500% when nobody offers below it. */
  c->iv_cap = 5.0;
  /* |delta| < 1%: far wings where a one-tick price change moves the IV by
   * many vol points and quotes are mostly the venue's minimum price. */
  c->min_abs_delta = 0.01;
  /* Half a vol point: tighter bid/ask bands than this are not more
   * informative than the fit itself, and would dominate the weights. */
  c->min_spread_vol = 0.005;
  c->target = SLICE_TARGET_AUTO;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n)
{
  if (n == 0)
    return NAN;
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int usable_price(double p)
{
  return isfinite(p) && p > 0.0;
}

/* Put-call parity with r = 0 (undiscounted, as the venues quote):
 *   USD premiums:  C - P = D (F - K)
 *   coin premiums: C - P = D (1 - K/F)   (premium_usd / F)
 * Both are linear in K, y = a + b K, with F = -a / b.  A free intercept
 * absorbs a discount factor D != 1.  One pair is solved directly. */
static double parity_forward(const double *K, const double *y, int n, int coin)
{
  if (n == 1) {
    double f = coin ? K[0] / (1.0 - y[0]) : K[0] + y[0];
    return f;
  }
  double sk = 0, sy = 0, skk = 0, sky = 0;
  for (int i = 0; i < n; i++) {
    sk += K[i];
    sy += y[i];
    skk += K[i] * K[i];
    sky += K[i] * y[i];
  }
  double mk = sk / n, my = sy / n;
  double var = skk / n - mk * mk, cov = sky / n - mk * my;
  if (!(var > 0.0))
    return NAN;
  double b = cov / var, a = my - b * mk;
  return b < 0.0 ? -a / b : NAN;
}

/* One strike's candidates: the latest call and put offered for it. */
struct strike_slot {
  double K;
  int call, put; /* index into q, -1 when absent */
};

static int find_or_add_strike(struct strike_slot *s, int *n_s, double K)
{
  for (int i = 0; i < *n_s; i++)
    if (s[i].K == K)
      return i;
  if (*n_s == SLICE_MAX_POINTS)
    return -1;
  s[*n_s].K = K;
  s[*n_s].call = s[*n_s].put = -1;
  return (*n_s)++;
}

enum verdict { V_OK = 0, V_INVALID, V_NO_BID, V_CROSSED, V_CAPPED, V_DEEP_WING };

struct point {
  double K, k, iv, bid, ask, mark, width;
};

/* Judges one quote (already IV-filled) and, when usable, fills the point. */
static int judge(const struct quote *q, double F, double T, const struct slice_config *c,
                 struct point *pt)
{
  double bid = q->bid_iv, ask = q->ask_iv, mark = q->mark_iv;
  if (!(isfinite(bid) && bid > 0.0))
    return V_NO_BID;
  int ask_capped = isfinite(ask) && ask >= c->iv_cap;
  if (ask_capped || !(isfinite(ask) && ask > 0.0))
    ask = NAN;
  if (!(isfinite(mark) && mark > 0.0 && mark < c->iv_cap))
    mark = NAN;
  if (usable_price(q->bid_price) && usable_price(q->ask_price) && q->bid_price > q->ask_price)
    return V_CROSSED;
  if (!isnan(ask) && bid > ask)
    return V_CROSSED;

  double iv;
  double mid = 0.5 * (bid + ask); /* NaN without an ask */
  int mark_inside = !isnan(mark) && mark >= bid && (isnan(ask) || mark <= ask);
  if (isnan(ask)) {
    /* One-sided: only a mark at or above the bid says where the ask would be. */
    if (!mark_inside)
      return ask_capped ? V_CAPPED : V_INVALID;
    iv = mark;
  } else if (c->target == SLICE_TARGET_MID) {
    iv = mid;
  } else if (c->target == SLICE_TARGET_MARK) {
    iv = isnan(mark) ? mid : mark;
  } else {
    iv = mark_inside ? mark : mid;
  }
  if (!(isfinite(iv) && iv > 0.0))
    return V_INVALID;

  /* Deep wing on the OTM side of this strike, with this quote's own IV. */
  int otm_call = q->strike >= F;
  double d = black_delta(F, q->strike, iv, T, otm_call, 0);
  if (!isfinite(d))
    return V_INVALID;
  if (fabs(d) < c->min_abs_delta)
    return V_DEEP_WING;

  pt->K = q->strike;
  pt->k = log(q->strike / F);
  pt->iv = iv;
  pt->bid = bid;
  pt->ask = ask;
  pt->mark = mark;
  pt->width = isnan(ask) ? 2.0 * (mark - bid) : ask - bid;
  return V_OK;
}

static void count(struct slice_rejects *rej, int v)
{
  switch (v) {
  case V_INVALID:
    rej->n_invalid++;
    break;
  case V_NO_BID:
    rej->n_no_bid++;
    break;
  case V_CROSSED:
    rej->n_crossed++;
    break;
  case V_CAPPED:
    rej->n_iv_capped++;
    break;
  case V_DEEP_WING:
    rej->n_deep_wing++;
    break;
  default:
    break;
  }
}

/* A copy of q with missing IVs implied from its prices on forward F. */
static void filled_copy(const struct quote *q, double F, struct quote *out)
{
  *out = *q;
  if (!(isfinite(out->underlying_price) && out->underlying_price > 0.0))
    out->underlying_price = F;
  if (isnan(out->bid_iv) || isnan(out->ask_iv) || isnan(out->mark_iv))
    quote_fill_iv(out);
}

static int cmp_point(const void *a, const void *b)
{
  double x = ((const struct point *)a)->k, y = ((const struct point *)b)->k;
  return (x > y) - (x < y);
}

static int find_forward(const struct quote *q, const unsigned char *alive, int n,
                        const struct strike_slot *s, int n_s, struct slice *out)
{
  double v[SLICE_FWD_SAMPLES];
  int m = 0;
  for (int i = 0; i < n && m < SLICE_FWD_SAMPLES; i++)
    if (alive[i] && usable_price(q[i].index_price))
      v[m++] = q[i].index_price;
  out->index_price = median(v, m);

  m = 0;
  for (int i = 0; i < n && m < SLICE_FWD_SAMPLES; i++)
    if (alive[i] && usable_price(q[i].underlying_price))
      v[m++] = q[i].underlying_price;
  if (m > 0) {
    out->forward = median(v, m);
    out->forward_src = SLICE_FWD_QUOTE;
    return 0;
  }

  double K[SLICE_MAX_POINTS], y[SLICE_MAX_POINTS];
  int np = 0;
  for (int j = 0; j < n_s; j++) {
    if (s[j].call < 0 || s[j].put < 0)
      continue;
    const struct quote *c = &q[s[j].call], *p = &q[s[j].put];
    if (!usable_price(c->bid_price) || !usable_price(c->ask_price) || !usable_price(p->bid_price) ||
        !usable_price(p->ask_price) || c->bid_price > c->ask_price || p->bid_price > p->ask_price)
      continue;
    K[np] = s[j].K;
    y[np] = 0.5 * (c->bid_price + c->ask_price) - 0.5 * (p->bid_price + p->ask_price);
    np++;
  }
  if (np > 0) {
    double f = parity_forward(K, y, np, q[0].premium_in_coin);
    if (isfinite(f) && f > 0.0) {
      out->forward = f;
      out->forward_src = SLICE_FWD_PARITY;
      return 0;
    }
  }
  if (usable_price(out->index_price)) {
    out->forward = out->index_price;
    out->forward_src = SLICE_FWD_INDEX;
    return 0;
  }
  return ERR_RANGE;
}

int slice_build(const struct quote *q, int n, int64_t as_of_us, const struct slice_config *c,
                struct slice *out)
{
  struct slice_config def;
  if (!c) {
    slice_config_default(&def);
    c = &def;
  }
  memset(out, 0, sizeof(*out));
  out->as_of_us = as_of_us;
  out->forward = out->index_price = out->T_years = NAN;
  out->n_quotes = n < 0 ? 0 : n;
  if (!q || n < 1)
    return ERR_INPUT;
  for (int i = 1; i < n; i++)
    if (q[i].expiry_us != q[0].expiry_us || strcmp(q[i].venue, q[0].venue) != 0 ||
        strcmp(q[i].asset, q[0].asset) != 0)
      return ERR_INPUT;
  memcpy(out->venue, q[0].venue, sizeof(out->venue));
  memcpy(out->asset, q[0].asset, sizeof(out->asset));
  out->venue[QUOTE_VENUE_LEN - 1] = out->asset[QUOTE_ASSET_LEN - 1] = '\0';
  out->expiry_us = q[0].expiry_us;
  if (q[0].expiry_us <= as_of_us) {
    out->rej.n_expired = n;
    return ERR_RANGE;
  }
  out->T_years = (double)(q[0].expiry_us - as_of_us) / SLICE_US_PER_YEAR;

  /* Pass 1: validity, age, one slot per strike (latest quote wins). */
  unsigned char alive[2 * SLICE_MAX_POINTS + 1];
  struct strike_slot s[SLICE_MAX_POINTS];
  int n_s = 0;
  int n_scan = n;
  for (int i = 0; i < n_scan; i++) {
    const struct quote *qi = &q[i];
    unsigned char ok = 0;
    if (!(isfinite(qi->strike) && qi->strike > 0.0) ||
        (qi->kind != QUOTE_CALL && qi->kind != QUOTE_PUT)) {
      out->rej.n_invalid++;
    } else if (c->stale_us > 0 && qi->ts_us < as_of_us - c->stale_us) {
      out->rej.n_stale++;
    } else {
      int j = find_or_add_strike(s, &n_s, qi->strike);
      if (j < 0) {
        out->rej.n_overflow++;
      } else {
        int *slot = qi->kind == QUOTE_CALL ? &s[j].call : &s[j].put;
        /* A repeated instrument: the older quote is superseded, not rejected. */
        if (*slot < 0 || q[*slot].ts_us <= qi->ts_us)
          *slot = i;
        ok = 1;
      }
    }
    if (i < (int)sizeof(alive))
      alive[i] = ok;
  }
  int n_alive_idx = n < (int)sizeof(alive) ? n : (int)sizeof(alive);

  if (find_forward(q, alive, n_alive_idx, s, n_s, out) != 0)
    return ERR_RANGE;
  double F = out->forward, T = out->T_years;

  /* Pass 2: one point per strike, OTM first. */
  struct point pts[SLICE_MAX_POINTS];
  int np = 0;
  for (int j = 0; j < n_s; j++) {
    int otm = s[j].K >= F ? s[j].call : s[j].put;
    int itm = s[j].K >= F ? s[j].put : s[j].call;
    int cand[2] = {otm, itm};
    for (int t = 0; t < 2; t++) {
      if (cand[t] < 0)
        continue;
      struct quote qc;
      filled_copy(&q[cand[t]], F, &qc);
      int v = judge(&qc, F, T, c, &pts[np]);
      if (v == V_OK) {
        np++;
        break;
      }
      count(&out->rej, v);
    }
  }

  qsort(pts, (size_t)np, sizeof(pts[0]), cmp_point);
  for (int i = 0; i < np; i++) {
    const struct point *p = &pts[i];
    /* dw = 2 iv T d(iv): dividing the w residual by 2 iv T spread turns it
     * into a vol error measured in bid/ask widths. */
    double spread = p->width > c->min_spread_vol ? p->width : c->min_spread_vol;
    out->strike[i] = p->K;
    out->k[i] = p->k;
    out->iv[i] = p->iv;
    out->w[i] = p->iv * p->iv * T;
    out->weight[i] = 1.0 / (2.0 * p->iv * T * spread);
    out->iv_bid[i] = p->bid;
    out->iv_ask[i] = p->ask;
    out->iv_mark[i] = p->mark;
  }
  out->n = np;
  return 0;
}
