/* test_slice: slice_build on crafted quotes (forward sources, every
 * rejection reason, OTM choice, T, weights, target IV, order) and on the two
 * real Deribit chains of ../shared/data, grouped through the book. */
#include <stdint.h>

#include "book.h"
#include "chain.h"
#include "chain_json_loader.h"
#include "err.h"
#include "slice.h"
#include "testutil.h"

#define AS_OF 1700000000000000LL
#define DAY_US 86400000000LL
#define EXPIRY (AS_OF + 73 * DAY_US) /* T = 73/365 = 0.2 */

static struct quote mk(int kind, double K, double bid_iv, double ask_iv, double mark_iv)
{
  struct quote q;
  quote_init(&q);
  strcpy(q.venue, "deribit");
  strcpy(q.asset, "BTC");
  snprintf(q.symbol, sizeof(q.symbol), "BTC-TEST-%g-%c", K, kind == QUOTE_CALL ? 'C' : 'P');
  q.kind = kind;
  q.strike = K;
  q.expiry_us = EXPIRY;
  q.ts_us = q.local_ts_us = AS_OF;
  q.underlying_price = 100.0;
  q.bid_iv = bid_iv;
  q.ask_iv = ask_iv;
  q.mark_iv = mark_iv;
  return q;
}

static struct slice s; /* large: keep it off the stack */

static void time_to_expiry_is_act_365_from_as_of(void)
{
  struct quote q = mk(QUOTE_CALL, 100, 0.49, 0.51, 0.5);
  CU_ASSERT_EQUAL(slice_build(&q, 1, AS_OF, NULL, &s), 0);
  ASSERT_NEAR(s.T_years, 0.2, 1e-15);
  CU_ASSERT_EQUAL(s.expiry_us, EXPIRY);
  CU_ASSERT_EQUAL(s.as_of_us, AS_OF);
  CU_ASSERT_STRING_EQUAL(s.venue, "deribit");
  CU_ASSERT_STRING_EQUAL(s.asset, "BTC");
  CU_ASSERT_EQUAL(s.n_quotes, 1);
  CU_ASSERT_EQUAL(s.n, 1);
}

static void forward_is_the_median_of_the_quotes_underlying_price(void)
{
  struct quote q[4] = {mk(QUOTE_CALL, 100, 0.49, 0.51, 0.5), mk(QUOTE_CALL, 110, 0.49, 0.51, 0.5),
                       mk(QUOTE_PUT, 90, 0.49, 0.51, 0.5), mk(QUOTE_PUT, 80, 0.49, 0.51, 0.5)};
  q[0].underlying_price = 150;
  q[1].underlying_price = 101;
  q[3].underlying_price = NAN;
  q[0].index_price = q[1].index_price = 99.0;
  CU_ASSERT_EQUAL(slice_build(q, 4, AS_OF, NULL, &s), 0);
  CU_ASSERT_EQUAL(s.forward_src, SLICE_FWD_QUOTE);
  CU_ASSERT(s.forward == 101.0);
  CU_ASSERT(s.index_price == 99.0);
}

/* Strikes 'lo'..'hi' with a call and a put each whose mids satisfy parity
 * exactly; bid/ask symmetric around the mid.  No underlying_price. */
static int parity_chain(struct quote *q, double F, double lo, double hi, double step, int coin)
{
  int n = 0;
  for (double K = lo; K <= hi + 1e-9; K += step) {
    double put_usd = (K > F ? K - F : 0.0) + 0.03 * F;
    double call_usd = put_usd + F - K;
    double scale = coin ? 1.0 / F : 1.0;
    for (int kind = 0; kind < 2; kind++) {
      double mid = (kind == QUOTE_CALL ? call_usd : put_usd) * scale;
      q[n] = mk(kind, K, 0.49, 0.51, 0.5);
      q[n].premium_in_coin = coin;
      q[n].underlying_price = NAN;
      q[n].index_price = 0.9 * F;
      q[n].bid_price = mid * 0.98;
      q[n].ask_price = mid * 1.02;
      n++;
    }
  }
  return n;
}

static void parity_regression_recovers_the_forward_for_usd_premiums(void)
{
  struct quote q[64];
  int n = parity_chain(q, 100.0, 80, 120, 5, 0);
  CU_ASSERT_EQUAL(slice_build(q, n, AS_OF, NULL, &s), 0);
  CU_ASSERT_EQUAL(s.forward_src, SLICE_FWD_PARITY);
  ASSERT_REL(s.forward, 100.0, 1e-12);
}

static void parity_regression_recovers_the_forward_for_coin_premiums(void)
{
  struct quote q[64];
  int n = parity_chain(q, 30000.0, 20000, 40000, 2500, 1);
  CU_ASSERT_EQUAL(slice_build(q, n, AS_OF, NULL, &s), 0);
  CU_ASSERT_EQUAL(s.forward_src, SLICE_FWD_PARITY);
  ASSERT_REL(s.forward, 30000.0, 1e-12);
  /* One pair is solved directly: C - P = 1 - K/F. */
  CU_ASSERT_EQUAL(slice_build(q + 4, 2, AS_OF, NULL, &s), 0);
  CU_ASSERT_EQUAL(s.forward_src, SLICE_FWD_PARITY);
  ASSERT_REL(s.forward, 30000.0, 1e-12);
}

static void index_price_is_the_last_resort_and_no_forward_is_a_range_error(void)
{
  struct quote q[2] = {mk(QUOTE_CALL, 100, 0.49, 0.51, 0.5), mk(QUOTE_CALL, 110, 0.49, 0.51, 0.5)};
  q[0].underlying_price = q[1].underlying_price = NAN;
  q[1].index_price = 95.0;
  CU_ASSERT_EQUAL(slice_build(q, 2, AS_OF, NULL, &s), 0);
  CU_ASSERT_EQUAL(s.forward_src, SLICE_FWD_INDEX);
  CU_ASSERT(s.forward == 95.0);
  q[1].index_price = NAN;
  CU_ASSERT_EQUAL(slice_build(q, 2, AS_OF, NULL, &s), ERR_RANGE);
}

static void each_rejection_reason_is_counted(void)
{
  struct slice_config c;
  slice_config_default(&c);
  c.stale_us = 5 * 1000000LL;
  struct quote q[9] = {mk(QUOTE_CALL, 100, 0.49, 0.51, 0.5), /* good */
                       mk(QUOTE_CALL, -5, 0.49, 0.51, 0.5),  /* invalid strike */
                       mk(QUOTE_CALL, 102, 0.49, 0.51, 0.5), /* stale */
                       mk(QUOTE_PUT, 90, NAN, 0.6, 0.55),    /* no bid (a mark is not a bid) */
                       mk(QUOTE_PUT, 95, 0.7, 0.6, 0.65),    /* crossed in IV */
                       mk(QUOTE_CALL, 105, 0.5, 5.0, NAN),   /* ask at the cap, no mark */
                       mk(QUOTE_CALL, 300, 0.49, 0.51, 0.5), /* deep wing */
                       mk(QUOTE_PUT, 92, 0.49, 0.51, 0.5),   /* crossed in price */
                       mk(QUOTE_CALL, 110, 0.5, 5.0, 0.55)}; /* capped ask but a mark: kept */
  q[2].ts_us = AS_OF - 10 * 1000000LL;
  q[7].bid_price = 0.02;
  q[7].ask_price = 0.01;
  CU_ASSERT_EQUAL(slice_build(q, 9, AS_OF, &c, &s), 0);
  CU_ASSERT_EQUAL(s.rej.n_invalid, 1);
  CU_ASSERT_EQUAL(s.rej.n_stale, 1);
  CU_ASSERT_EQUAL(s.rej.n_no_bid, 1);
  CU_ASSERT_EQUAL(s.rej.n_crossed, 2);
  CU_ASSERT_EQUAL(s.rej.n_iv_capped, 1);
  CU_ASSERT_EQUAL(s.rej.n_deep_wing, 1);
  CU_ASSERT_EQUAL(s.rej.n_overflow, 0);
  CU_ASSERT_EQUAL(s.rej.n_expired, 0);
  CU_ASSERT_EQUAL_FATAL(s.n, 2);
  CU_ASSERT(s.strike[0] == 100.0);
  CU_ASSERT(s.strike[1] == 110.0);
  CU_ASSERT(s.iv[1] == 0.55);
  CU_ASSERT(isnan(s.iv_ask[1]));
  /* One-sided: the width is twice the mark's distance to the bid. */
  ASSERT_REL(s.weight[1], 1.0 / (2 * 0.55 * 0.2 * 0.1), 1e-12);
}

static void expired_slice_counts_every_quote_and_is_a_range_error(void)
{
  struct quote q[2] = {mk(QUOTE_CALL, 100, 0.49, 0.51, 0.5), mk(QUOTE_PUT, 90, 0.49, 0.51, 0.5)};
  CU_ASSERT_EQUAL(slice_build(q, 2, EXPIRY, NULL, &s), ERR_RANGE);
  CU_ASSERT_EQUAL(s.rej.n_expired, 2);
  CU_ASSERT_EQUAL(s.n, 0);
}

static void more_strikes_than_fit_overflow_and_are_counted(void)
{
  static struct quote q[600];
  struct slice_config c;
  slice_config_default(&c);
  c.min_abs_delta = 0.0;
  for (int i = 0; i < 600; i++)
    q[i] = mk(QUOTE_CALL, 50 + 0.1 * i, 0.49, 0.51, 0.5);
  CU_ASSERT_EQUAL(slice_build(q, 600, AS_OF, &c, &s), 0);
  CU_ASSERT_EQUAL(s.n, SLICE_MAX_POINTS);
  CU_ASSERT_EQUAL(s.rej.n_overflow, 600 - SLICE_MAX_POINTS);
}

static void bad_arguments_are_input_errors(void)
{
  struct quote q[2] = {mk(QUOTE_CALL, 100, 0.49, 0.51, 0.5), mk(QUOTE_PUT, 90, 0.49, 0.51, 0.5)};
  CU_ASSERT_EQUAL(slice_build(q, 0, AS_OF, NULL, &s), ERR_INPUT);
  q[1].expiry_us += DAY_US;
  CU_ASSERT_EQUAL(slice_build(q, 2, AS_OF, NULL, &s), ERR_INPUT);
}

static void otm_option_is_kept_per_strike_and_itm_stands_in(void)
{
  struct quote q[7] = {mk(QUOTE_PUT, 90, 0.59, 0.61, 0.6),   mk(QUOTE_CALL, 90, 0.69, 0.71, 0.7),
                       mk(QUOTE_PUT, 110, 0.54, 0.56, 0.55), mk(QUOTE_CALL, 110, 0.44, 0.46, 0.45),
                       mk(QUOTE_PUT, 100, 0.51, 0.53, 0.52), mk(QUOTE_CALL, 100, 0.49, 0.51, 0.5),
                       mk(QUOTE_PUT, 95, NAN, 0.6, 0.55)};
  struct quote q95 = mk(QUOTE_CALL, 95, 0.64, 0.66, 0.65);
  struct quote all[8];
  memcpy(all, q, sizeof(q));
  all[7] = q95;
  CU_ASSERT_EQUAL(slice_build(all, 8, AS_OF, NULL, &s), 0);
  CU_ASSERT_EQUAL_FATAL(s.n, 4);
  CU_ASSERT(s.strike[0] == 90 && s.iv[0] == 0.6);   /* put below F */
  CU_ASSERT(s.strike[1] == 95 && s.iv[1] == 0.65);  /* ITM call: the put has no bid */
  CU_ASSERT(s.strike[2] == 100 && s.iv[2] == 0.5);  /* call at F */
  CU_ASSERT(s.strike[3] == 110 && s.iv[3] == 0.45); /* call above F */
  CU_ASSERT_EQUAL(s.rej.n_no_bid, 1);
}

static void target_iv_follows_the_configured_rule(void)
{
  struct slice_config c;
  slice_config_default(&c);
  struct quote inside = mk(QUOTE_CALL, 100, 0.48, 0.52, 0.515);
  struct quote outside = mk(QUOTE_CALL, 100, 0.48, 0.52, 0.6);
  CU_ASSERT_EQUAL(slice_build(&inside, 1, AS_OF, &c, &s), 0);
  CU_ASSERT(s.iv[0] == 0.515); /* AUTO: mark inside the band */
  CU_ASSERT_EQUAL(slice_build(&outside, 1, AS_OF, &c, &s), 0);
  ASSERT_NEAR(s.iv[0], 0.5, 1e-15); /* AUTO: mark outside -> mid */
  c.target = SLICE_TARGET_MID;
  CU_ASSERT_EQUAL(slice_build(&inside, 1, AS_OF, &c, &s), 0);
  ASSERT_NEAR(s.iv[0], 0.5, 1e-15);
  c.target = SLICE_TARGET_MARK;
  CU_ASSERT_EQUAL(slice_build(&outside, 1, AS_OF, &c, &s), 0);
  CU_ASSERT(s.iv[0] == 0.6);
  CU_ASSERT(s.iv_bid[0] == 0.48 && s.iv_ask[0] == 0.52 && s.iv_mark[0] == 0.6);
}

static void weights_scale_vol_errors_by_the_bid_ask_width(void)
{
  struct quote q[2] = {mk(QUOTE_CALL, 100, 0.48, 0.52, 0.5),
                       mk(QUOTE_CALL, 105, 0.4995, 0.5005, 0.5)};
  CU_ASSERT_EQUAL(slice_build(q, 2, AS_OF, NULL, &s), 0);
  CU_ASSERT_EQUAL_FATAL(s.n, 2);
  double T = 0.2;
  ASSERT_REL(s.w[0], 0.25 * T, 1e-15);
  ASSERT_REL(s.weight[0], 1.0 / (2 * 0.5 * T * 0.04), 1e-12);
  /* A band tighter than min_spread_vol is floored at 0.005. */
  ASSERT_REL(s.weight[1], 1.0 / (2 * 0.5 * T * 0.005), 1e-12);
  ASSERT_NEAR(s.k[1], log(105.0 / 100.0), 1e-15);
}

static void points_are_sorted_by_k(void)
{
  static const double K[] = {120, 101, 135, 103, 110, 102, 125, 100};
  struct quote q[8];
  for (int i = 0; i < 8; i++)
    q[i] = mk(QUOTE_CALL, K[i], 0.49, 0.51, 0.5);
  CU_ASSERT_EQUAL(slice_build(q, 8, AS_OF, NULL, &s), 0);
  CU_ASSERT_EQUAL(s.n, 8);
  for (int i = 1; i < s.n; i++)
    CU_ASSERT(s.k[i] > s.k[i - 1]);
}

/* Sanity shared by both real chains. */
static void check_real_slices(const struct slice *sl, int n, int min_points)
{
  for (int i = 0; i < n; i++) {
    const struct slice *x = &sl[i];
    CU_ASSERT(x->T_years > 0.0);
    CU_ASSERT(x->forward_src == SLICE_FWD_QUOTE);
    CU_ASSERT(fabs(x->forward / x->index_price - 1.0) < 0.05);
    CU_ASSERT(x->n >= min_points);
    if (i > 0)
      CU_ASSERT(x->expiry_us > sl[i - 1].expiry_us);
    for (int j = 0; j < x->n; j++) {
      CU_ASSERT(x->iv[j] > 0.05 && x->iv[j] < 5.0);
      CU_ASSERT(isfinite(x->weight[j]) && x->weight[j] > 0.0);
      CU_ASSERT(fabs(x->w[j] - x->iv[j] * x->iv[j] * x->T_years) < 1e-15);
      if (j > 0)
        CU_ASSERT(x->k[j] > x->k[j - 1]);
    }
  }
}

static void shared_deribit_csv_gives_seven_sane_slices(void)
{
  char path[1024], err[160];
  if (!test_shared_path("deribit_btc_chain_20200514T0541Z_schepal.csv", path, sizeof(path)))
    return;
  struct chain_reader *r;
  CU_ASSERT_EQUAL_FATAL(chain_open(path, CHAIN_FORMAT_AUTO, &r, err, sizeof(err)), 0);
  struct book *b = book_new(1024);
  struct quote q;
  int64_t as_of = 0;
  while (chain_next(r, &q) == 1) {
    CU_ASSERT_EQUAL(book_put(b, &q), 0);
    if (q.ts_us > as_of)
      as_of = q.ts_us;
  }
  chain_close(r);
  static struct slice sl[16];
  int failed = -1;
  int n = book_slices(b, as_of, NULL, sl, 16, &failed);
  CU_ASSERT_EQUAL(n, 7);
  CU_ASSERT_EQUAL(failed, 0);
  int total = 0, rejected = 0;
  for (int i = 0; i < n; i++) {
    total += sl[i].n;
    rejected += sl[i].rej.n_no_bid + sl[i].rej.n_iv_capped + sl[i].rej.n_crossed;
  }
  fprintf(stderr, "\n  schepal: %d slices, %d points, %d rejected quotes\n", n, total, rejected);
  check_real_slices(sl, n, 3);
  CU_ASSERT(total >= 100 && total <= 200); /* 310 quotes, ~2 per strike */
  CU_ASSERT(sl[0].T_years < 1.0 / 365.0);  /* 14MAY20 08:00, 2.3 h after capture */
  book_free(b);
}

static void shared_json_chain_gives_eleven_sane_slices(void)
{
#ifdef VOLSURF_HAVE_CJSON
  char path[1024];
  if (!test_shared_path("deribit_btc_chain_20260526T1927Z_maksm05.json", path, sizeof(path)))
    return;
  struct quote *q = NULL;
  int64_t as_of = 0;
  int n = chain_json_load(path, &q, &as_of);
  CU_ASSERT_EQUAL_FATAL(n, 878);
  CU_ASSERT_EQUAL(as_of, 1779823664000000LL); /* 2026-05-26T19:27:44Z */
  struct book *b = book_new(2048);
  for (int i = 0; i < n; i++)
    CU_ASSERT_EQUAL(book_put(b, &q[i]), 0);
  static struct slice sl[16];
  int failed = -1;
  int m = book_slices(b, as_of, NULL, sl, 16, &failed);
  CU_ASSERT_EQUAL(m, 11);
  CU_ASSERT_EQUAL(failed, 0);
  int total = 0;
  for (int i = 0; i < m; i++)
    total += sl[i].n;
  fprintf(stderr, "\n  maksm05: %d slices, %d points\n", m, total);
  check_real_slices(sl, m, 5);
  CU_ASSERT(sl[0].forward == 75797.57); /* forwards[0].forward_price */
  CU_ASSERT(sl[10].forward > sl[0].forward);
  CU_ASSERT(total >= 250 && total <= 439);
  book_free(b);
  free(q);
#endif
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(time_to_expiry_is_act_365_from_as_of),
      TEST_CASE(forward_is_the_median_of_the_quotes_underlying_price),
      TEST_CASE(parity_regression_recovers_the_forward_for_usd_premiums),
      TEST_CASE(parity_regression_recovers_the_forward_for_coin_premiums),
      TEST_CASE(index_price_is_the_last_resort_and_no_forward_is_a_range_error),
      TEST_CASE(each_rejection_reason_is_counted),
      TEST_CASE(expired_slice_counts_every_quote_and_is_a_range_error),
      TEST_CASE(more_strikes_than_fit_overflow_and_are_counted),
      TEST_CASE(bad_arguments_are_input_errors),
      TEST_CASE(otm_option_is_kept_per_strike_and_itm_stands_in),
      TEST_CASE(target_iv_follows_the_configured_rule),
      TEST_CASE(weights_scale_vol_errors_by_the_bid_ask_width),
      TEST_CASE(points_are_sorted_by_k),
      TEST_CASE(shared_deribit_csv_gives_seven_sane_slices),
      TEST_CASE(shared_json_chain_gives_eleven_sane_slices),
  };
  return test_run("slice", cases, TEST_COUNT(cases));
}
