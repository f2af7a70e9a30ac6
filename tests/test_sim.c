/* test_sim: the market simulator (feeds/sim_market) and its Deribit server
 * (feeds/sim_server).  Model: determinism, Deribit's listing schedule,
 * strike grids, quote realism (two-sided, crossed rate, wider wings and
 * short tenors, Black-76 prices on ticks), an arbitrage-free true surface;
 * a second-method oracle: the project's SVI fitter, run on simulated
 * quotes normalized by feeds/deribit.c, recovers the true smile inside the
 * bid/ask band.  Server: a minimal lws client on loopback lists, subscribes,
 * receives tickers that deribit_parse turns into quotes, answers a
 * heartbeat test_request, gets a JSON-RPC error for an unknown method and
 * is closed for an oversize frame, an unanswered heartbeat and a kick.
 * Every wait is bounded (a few seconds). */
#if defined(VOLSURF_HAVE_LIVE_FEEDS) && defined(VOLSURF_HAVE_CJSON)

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "black.h"
#include "deribit.h"
#include "diag.h"
#include "err.h"
#include "fit.h"
#include "listing.h"
#include "norm.h"
#include "now.h"
#include "sim_market.h"
#include "sim_server.h"
#include "slice.h"
#include "svi.h"
#include "synth.h"
#include "testutil.h"
#include <libwebsockets.h>

#define DAY_US 86400000000LL
#define YEAR_US (365.0 * 86400e6)
/* Monday 2025-01-06 12:00 UTC. */
#define START_US 1736164800000000LL

static char text[4096];

static struct sim_market *market(uint64_t seed, double crossed)
{
  struct sim_config c;
  sim_config_default(&c);
  c.seed = seed;
  c.start_us = START_US;
  c.crossed_prob = crossed;
  struct sim_market *m = sim_market_new(&c);
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  return m;
}

/* Hash of everything the market publishes now: listing and tickers. */
static uint64_t market_digest(const struct sim_market *m)
{
  uint64_t h = 1469598103934665603ull;
  for (int i = 0; i < sim_market_count(m); i++) {
    struct sim_ticker t;
    int n1 = sim_wire_instrument(sim_market_instrument(m, i), text, sizeof text);
    for (int j = 0; j < n1; j++)
      h = (h ^ (unsigned char)text[j]) * 1099511628211ull;
    sim_market_ticker(m, i, &t);
    int n2 = sim_wire_ticker(sim_market_instrument(m, i), &t, text, sizeof text);
    CU_ASSERT(n1 > 0 && n2 > 0);
    for (int j = 0; j < n2; j++)
      h = (h ^ (unsigned char)text[j]) * 1099511628211ull;
  }
  return h;
}

static void same_seed_and_times_give_identical_listings_and_tickers(void)
{
  static const int64_t steps[] = {100000, 100000, 3600000000LL, DAY_US, 7 * DAY_US};
  struct sim_market *a = market(42, 0.002), *b = market(42, 0.002), *c = market(43, 0.002);
  CU_ASSERT_EQUAL(market_digest(a), market_digest(b));
  CU_ASSERT_NOT_EQUAL(market_digest(a), market_digest(c));
  int64_t t = START_US;
  for (int i = 0; i < (int)(sizeof steps / sizeof steps[0]); i++) {
    t += steps[i];
    CU_ASSERT_EQUAL(sim_market_advance(a, t), 0);
    CU_ASSERT_EQUAL(sim_market_advance(b, t), 0);
    CU_ASSERT_EQUAL(sim_market_advance(c, t), 0);
    CU_ASSERT_EQUAL(sim_market_count(a), sim_market_count(b));
    CU_ASSERT_EQUAL(market_digest(a), market_digest(b));
    CU_ASSERT_NOT_EQUAL(market_digest(a), market_digest(c));
  }
  CU_ASSERT_EQUAL(sim_market_advance(a, t - 1), ERR_RANGE); /* never back in time */
  sim_market_free(a);
  sim_market_free(b);
  sim_market_free(c);
}

/* Sorted distinct expiries of one asset. */
static int expiries(const struct sim_market *m, const char *asset, int64_t *e, int *period, int cap)
{
  int n = 0;
  for (int i = 0; i < sim_market_count(m); i++) {
    const struct sim_instrument *in = sim_market_instrument(m, i);
    if (strcmp(in->asset, asset) != 0)
      continue;
    int j = 0;
    while (j < n && e[j] != in->expiry_us)
      j++;
    if (j == n && n < cap) {
      e[n] = in->expiry_us;
      period[n++] = in->period;
    }
  }
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && e[j - 1] > e[j]; j--) {
      int64_t t = e[j];
      e[j] = e[j - 1];
      e[j - 1] = t;
      int p = period[j];
      period[j] = period[j - 1];
      period[j - 1] = p;
    }
  return n;
}

static void listing_follows_deribit_daily_weekly_monthly_quarterly_schedule(void)
{
  struct sim_market *m = market(1, 0.002);
  int64_t e[32];
  int period[32];
  /* From Monday 6 Jan 2025 noon: dailies 7-10 Jan, Fridays 10/17/24/31 Jan,
   * month ends 31 Jan, 28 Feb, 28 Mar, quarter ends 28 Mar, 27 Jun, 26 Sep,
   * 26 Dec. */
  static const char *want[] = {"7JAN25",  "8JAN25",  "9JAN25",  "10JAN25", "17JAN25", "24JAN25",
                               "31JAN25", "28FEB25", "28MAR25", "27JUN25", "26SEP25", "26DEC25"};
  static const int want_period[] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2};
  for (int a = 0; a < sim_market_n_assets(m); a++) {
    int n = expiries(m, sim_market_asset(m, a), e, period, 32);
    CU_ASSERT_EQUAL(n, 12);
    for (int i = 0; i < n && i < 12; i++) {
      char tok[16];
      synth_expiry_token(e[i], tok, sizeof tok);
      CU_ASSERT_STRING_EQUAL(tok, want[i]);
      CU_ASSERT_EQUAL(e[i] % DAY_US, 8 * 3600000000LL); /* 08:00 UTC */
      CU_ASSERT_EQUAL(period[i], want_period[i]);
    }
  }
  CU_ASSERT(sim_market_count(m) > 1000);
  CU_ASSERT(sim_market_count(m) < 8000);
  CU_ASSERT(sim_market_find(m, "BTC-7JAN25-FOO-C") < 0);
  sim_market_free(m);
}

static void expired_expiries_roll_off_and_new_ones_list_while_ids_stay(void)
{
  struct sim_market *m = market(1, 0.002);
  int i = 0;
  while (strncmp(sim_market_instrument(m, i)->name, "BTC-8JAN25-", 11) != 0)
    i++;
  char name[QUOTE_SYMBOL_LEN];
  snprintf(name, sizeof name, "%s", sim_market_instrument(m, i)->name);
  long id = sim_market_instrument(m, i)->id;
  /* Tuesday 7 Jan 08:00:01: the 7 Jan expiry has settled, 11 Jan lists. */
  CU_ASSERT_EQUAL(sim_market_advance(m, START_US + DAY_US - 4 * 3600000000LL + 1000000), 0);
  int64_t e[32];
  int period[32];
  int n = expiries(m, "BTC", e, period, 32);
  char first[16], fourth[16];
  synth_expiry_token(e[0], first, sizeof first);
  synth_expiry_token(e[3], fourth, sizeof fourth);
  CU_ASSERT_STRING_EQUAL(first, "8JAN25");
  CU_ASSERT_STRING_EQUAL(fourth, "11JAN25");
  CU_ASSERT_EQUAL(n, 12);
  int j = sim_market_find(m, name);
  CU_ASSERT_FATAL(j >= 0);
  CU_ASSERT_EQUAL(sim_market_instrument(m, j)->id, id);
  sim_market_free(m);
}

/* Median gap between neighbouring strikes of one expiry within 1% .. 1 sd. */
/* Lowest and highest strike of one expiry, the spacing at the money (the
 * smallest gap), the forward and the ATM standard deviation sqrt(w(0)). */
static void strike_range(const struct sim_market *m, const char *asset, int64_t expiry, double *lo,
                         double *hi, double *gap_atm, double *F, double *sd)
{
  double K[SIM_MAX_STRIKES];
  int n = 0;
  *lo = INFINITY;
  *hi = -INFINITY;
  for (int i = 0; i < sim_market_count(m); i++) {
    const struct sim_instrument *in = sim_market_instrument(m, i);
    if (strcmp(in->asset, asset) != 0 || in->expiry_us != expiry || in->kind != QUOTE_CALL)
      continue;
    struct svi p;
    sim_market_truth(m, i, &p, F, NULL);
    *sd = sqrt(svi_w(&p, 0.0));
    *lo = fmin(*lo, in->strike);
    *hi = fmax(*hi, in->strike);
    if (n < SIM_MAX_STRIKES)
      K[n++] = in->strike;
  }
  *gap_atm = INFINITY;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      if (K[j] > K[i])
        *gap_atm = fmin(*gap_atm, K[j] - K[i]);
}

static void strikes_bracket_the_forward_and_widen_with_tenor(void)
{
  struct sim_market *m = market(3, 0.002);
  int64_t e[32];
  int period[32];
  for (int a = 0; a < sim_market_n_assets(m); a++) {
    const char *asset = sim_market_asset(m, a);
    int n = expiries(m, asset, e, period, 32);
    double prev_gap = 0.0;
    for (int i = 0; i < n; i++) {
      double lo, hi, gap, F, sd;
      strike_range(m, asset, e[i], &lo, &hi, &gap, &F, &sd);
      /* The grid covers -2 .. +2.5 ATM standard deviations (Deribit stops
       * around 0.3x-4x the forward on the longest expiries). */
      if (!(log(lo / F) < -fmin(2.0 * sd, 0.9)))
        fprintf(stderr, "\n %s %d lo %g hi %g F %g sd %g gap %g", asset, i, lo, hi, F, sd, gap);
      CU_ASSERT(log(lo / F) < -fmin(2.0 * sd, 0.9));
      CU_ASSERT(log(hi / F) > fmin(2.5 * sd, 1.2));
      CU_ASSERT(gap >= prev_gap * 0.99); /* spacing never shrinks with tenor */
      prev_gap = gap;
    }
    double lo0, hi0, gap0, F0, sd0, lo1, hi1, gap1, F1, sd1;
    strike_range(m, asset, e[0], &lo0, &hi0, &gap0, &F0, &sd0);
    strike_range(m, asset, e[n - 1], &lo1, &hi1, &gap1, &F1, &sd1);
    CU_ASSERT(gap1 >= 5.0 * gap0);
    CU_ASSERT(hi1 / lo1 > 3.0 * hi0 / lo0);
  }
  /* XRP strikes are decimals, named with Deribit's 'd'. */
  int found = 0;
  for (int i = 0; i < sim_market_count(m) && !found; i++)
    found = strncmp(sim_market_instrument(m, i)->name, "XRP_USDC-", 9) == 0 &&
            strchr(sim_market_instrument(m, i)->name + 9, 'd') != NULL;
  CU_ASSERT(found);
  sim_market_free(m);
}

struct quote_census {
  long n, n_two_sided, n_crossed, n_no_bid, n_no_ask, n_ask_cap, n_bad_tick, n_bad_mark;
};

static int on_tick(double px, double tick)
{
  return fabs(px / tick - round(px / tick)) < 1e-6;
}

static void census(const struct sim_market *m, struct quote_census *c)
{
  for (int i = 0; i < sim_market_count(m); i++) {
    const struct sim_instrument *in = sim_market_instrument(m, i);
    struct sim_ticker t;
    CU_ASSERT_EQUAL(sim_market_ticker(m, i, &t), 0);
    c->n++;
    int bid = t.best_bid_price > 0.0, ask = t.best_ask_price > 0.0;
    c->n_no_bid += !bid;
    c->n_no_ask += !ask;
    c->n_ask_cap += t.ask_iv >= 500.0;
    if (bid && ask) {
      c->n_two_sided++;
      c->n_crossed += t.best_bid_price > t.best_ask_price;
    }
    CU_ASSERT_EQUAL(t.crossed, bid && ask && t.best_bid_price > t.best_ask_price);
    double tick = in->tick_size;
    if ((bid && !on_tick(t.best_bid_price, tick)) || (ask && !on_tick(t.best_ask_price, tick)))
      c->n_bad_tick++;
    /* Mark: Black-76 at mark_iv (percent, 2 decimals) in coin or USDC. */
    double usd =
        black_price(t.underlying_price, in->strike, t.mark_iv / 100.0, t.T_years, in->kind);
    double mark = in->coin ? usd / t.underlying_price : usd;
    double vega = black_vega(t.forward, in->strike, t.true_iv, t.T_years);
    double tol = 1e-4 * vega / (in->coin ? t.forward : 1.0) + 2e-6 * mark + 1e-4;
    if (!(fabs(mark - t.mark_price) <= tol))
      c->n_bad_mark++;
  }
}

static void quotes_are_two_sided_on_ticks_with_the_configured_crossed_rate(void)
{
  struct quote_census c0 = {0}, c5 = {0};
  struct sim_market *m0 = market(5, 0.0), *m5 = market(5, 0.05);
  for (int s = 0; s < 4; s++) {
    census(m0, &c0);
    census(m5, &c5);
    int64_t t = START_US + (s + 1) * 3600000000LL;
    sim_market_advance(m0, t);
    sim_market_advance(m5, t);
  }
  CU_ASSERT_EQUAL(c0.n_crossed, 0);
  CU_ASSERT(c0.n_two_sided > 0.8 * c0.n);
  double rate = (double)c5.n_crossed / (double)c5.n_two_sided;
  CU_ASSERT(rate > 0.035 && rate < 0.065);
  CU_ASSERT(c0.n_no_bid > 0.02 * c0.n); /* far wings */
  CU_ASSERT(c0.n_no_ask > 0 && c0.n_no_ask < 0.01 * c0.n);
  CU_ASSERT(c0.n_ask_cap >= c0.n_no_ask); /* no ask -> ask_iv 500 */
  CU_ASSERT_EQUAL(c0.n_bad_tick, 0);
  CU_ASSERT_EQUAL(c0.n_bad_mark, 0);
  sim_market_free(m0);
  sim_market_free(m5);
}

/* Mean ask_iv - bid_iv (percent) of two-sided OTM quotes of one asset with
 * T in [t_lo, t_hi] years and |k| / (atm sqrt T) in [z_lo, z_hi]. */
static double mean_width(const struct sim_market *m, const char *asset, double t_lo, double t_hi,
                         double z_lo, double z_hi)
{
  double sum = 0.0;
  int n = 0;
  for (int i = 0; i < sim_market_count(m); i++) {
    const struct sim_instrument *in = sim_market_instrument(m, i);
    struct sim_ticker t;
    struct svi p;
    double F, T;
    if (strcmp(in->asset, asset) != 0)
      continue;
    sim_market_truth(m, i, &p, &F, &T);
    sim_market_ticker(m, i, &t);
    double k = log(in->strike / F), z = fabs(k) / sqrt(svi_w(&p, 0.0));
    int otm = in->kind == QUOTE_CALL ? k > 0 : k < 0;
    if (T < t_lo || T > t_hi || z < z_lo || z > z_hi || !otm || t.crossed ||
        t.best_bid_price <= 0.0 || t.ask_iv >= 500.0 || t.bid_iv <= 0.0)
      continue;
    sum += t.ask_iv - t.bid_iv;
    n++;
  }
  CU_ASSERT(n > 0);
  return n ? sum / n : NAN;
}

static void spreads_widen_in_the_wings_and_at_short_tenors(void)
{
  struct sim_market *m = market(11, 0.0);
  double daily_atm = mean_width(m, "BTC", 0.0, 4.0 / 365, 0.0, 0.5);
  double long_atm = mean_width(m, "BTC", 0.2, 2.0, 0.0, 0.5);
  double long_wing = mean_width(m, "BTC", 0.2, 2.0, 1.5, 2.5);
  CU_ASSERT(daily_atm > 1.5 * long_atm);
  CU_ASSERT(long_wing > 1.2 * long_atm);
  CU_ASSERT(long_atm > 0.3 && long_atm < 3.0); /* vol points, Deribit-like */
  sim_market_free(m);
}

/* Calendar and butterfly checks of the true smiles of every asset. */
static void check_true_surface(const struct sim_market *m)
{
  for (int a = 0; a < sim_market_n_assets(m); a++) {
    int64_t e[32];
    int period[32];
    int n = expiries(m, sim_market_asset(m, a), e, period, 32);
    struct svi prev = {0};
    for (int x = 0; x < n; x++) {
      int i = 0;
      while (sim_market_instrument(m, i)->expiry_us != e[x] ||
             strcmp(sim_market_instrument(m, i)->asset, sim_market_asset(m, a)) != 0)
        i++;
      struct svi p;
      sim_market_truth(m, i, &p, NULL, NULL);
      struct svi_arb arb;
      CU_ASSERT_EQUAL(svi_butterfly_scan(&p, -3.0, 3.0, 601, &arb), 0);
      CU_ASSERT(arb.g_min >= 0.0);
      CU_ASSERT_EQUAL(arb.n_intervals, 0);
      CU_ASSERT(svi_lee_ok(&p));
      if (x > 0) {
        double lo, hi;
        CU_ASSERT_EQUAL(diag_calendar_pair(&prev, &p, -3.0, 3.0, 601, &lo, &hi), 0);
      }
      prev = p;
    }
  }
}

static void true_surface_is_free_of_calendar_and_butterfly_arbitrage(void)
{
  for (uint64_t seed = 1; seed <= 5; seed++) {
    struct sim_market *m = market(seed, 0.002);
    check_true_surface(m);
    /* Parameters evolve: check again after days of drift. */
    for (int d = 1; d <= 3; d++) {
      sim_market_advance(m, START_US + d * 2 * DAY_US);
      check_true_surface(m);
    }
    sim_market_free(m);
  }
}

/* ---- through the real Deribit normalizer ---- */

/* The simulated get_instruments body for every option, loaded into a
 * listing as the connector would. */
static struct listing *listing_of(const struct sim_market *m)
{
  size_t cap = (size_t)sim_market_count(m) * 1024 + 64, n = 0;
  char *body = malloc(cap);
  CU_ASSERT_PTR_NOT_NULL_FATAL(body);
  n += (size_t)snprintf(body, cap, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[");
  for (int i = 0; i < sim_market_count(m); i++) {
    int w = sim_wire_instrument(sim_market_instrument(m, i), body + n + (i > 0), cap - n - 1);
    CU_ASSERT_FATAL(w > 0);
    if (i > 0)
      body[n++] = ',';
    n += (size_t)w;
  }
  n += (size_t)snprintf(body + n, cap - n, "]}");
  struct listing *l = listing_new(16384);
  struct feeds_stats st = {0};
  CU_ASSERT_EQUAL(listing_add_deribit(l, body, n, &st), sim_market_count(m));
  CU_ASSERT_EQUAL(st.n_rejected[FEEDS_REJ_FIELD], 0);
  free(body);
  return l;
}

static void deribit_normalizer_parses_every_simulated_ticker(void)
{
  struct sim_market *m = market(9, 0.002);
  struct listing *l = listing_of(m);
  struct quote q;
  struct feeds_batch b;
  struct feeds_stats st = {0};
  feeds_batch_init(&b, &q, NULL, 1);
  long n_ok = 0, n_mismatch = 0;
  for (int i = 0; i < sim_market_count(m); i++) {
    const struct sim_instrument *in = sim_market_instrument(m, i);
    struct sim_ticker t;
    sim_market_ticker(m, i, &t);
    int len = sim_wire_ticker(in, &t, text, sizeof text);
    CU_ASSERT_FATAL(len > 0);
    CU_ASSERT_EQUAL_FATAL(deribit_parse(l, text, (size_t)len, START_US, &b, &st), 1);
    CU_ASSERT_EQUAL(b.msg, FEEDS_MSG_DATA);
    int ok = strcmp(q.symbol, in->name) == 0 && strcmp(q.asset, in->asset) == 0 &&
             q.kind == in->kind && q.strike == in->strike && q.expiry_us == in->expiry_us &&
             q.premium_in_coin == in->coin && q.ts_us == t.timestamp_ms * 1000 &&
             fabs(q.mark_iv - t.mark_iv / 100.0) < 1e-12 &&
             q.underlying_price == t.underlying_price && q.index_price == t.index_price;
    /* Sentinels: no bid -> NaN bid; ask_iv 500 -> NaN ask IV. */
    ok = ok && (t.best_bid_price > 0.0 ? q.bid_price == t.best_bid_price : isnan(q.bid_price));
    ok = ok && (t.bid_iv > 0.0 ? fabs(q.bid_iv - t.bid_iv / 100.0) < 1e-12 : isnan(q.bid_iv));
    ok = ok && (t.ask_iv < 500.0 ? fabs(q.ask_iv - t.ask_iv / 100.0) < 1e-12 : isnan(q.ask_iv));
    ok = ok && (t.best_ask_price > 0.0 ? q.ask_price == t.best_ask_price : isnan(q.ask_price));
    if (!ok && n_mismatch < 3)
      fprintf(stderr, "\n  mismatch: %s\n  %s %s %g %g\n", text, q.symbol, q.asset, q.bid_iv,
              q.ask_iv);
    n_ok += ok;
    n_mismatch += !ok;
  }
  CU_ASSERT_EQUAL(n_mismatch, 0);
  CU_ASSERT_EQUAL(n_ok, sim_market_count(m));
  CU_ASSERT_EQUAL(st.n_expiry_from_symbol, 0);
  for (int r = 0; r < FEEDS_REJ_N; r++)
    CU_ASSERT_EQUAL(st.n_rejected[r], 0);
  listing_free(l);
  sim_market_free(m);
}

/* Second-method oracle: slices built from normalized simulated quotes and
 * fitted with host/fit recover the true smile inside the bid/ask band. */
static void fitter_recovers_the_true_smile_within_the_bid_ask_band(void)
{
  struct sim_market *m = market(21, 0.002);
  struct listing *l = listing_of(m);
  static struct quote qs[2 * SIM_MAX_STRIKES];
  static struct slice s;
  struct feeds_batch b;
  struct feeds_stats st = {0};
  struct svi_lm_config fc;
  fit_config_default(&fc);
  int64_t e[32];
  int period[32];
  int n_slices = 0, n_inside_total = 0, n_points_total = 0;
  for (int a = 0; a < sim_market_n_assets(m); a++) {
    const char *asset = sim_market_asset(m, a);
    int ne = expiries(m, asset, e, period, 32);
    for (int x = 0; x < ne; x++) {
      int nq = 0, truth_i = -1;
      for (int i = 0; i < sim_market_count(m) && nq < 2 * SIM_MAX_STRIKES; i++) {
        const struct sim_instrument *in = sim_market_instrument(m, i);
        if (in->expiry_us != e[x] || strcmp(in->asset, asset) != 0)
          continue;
        struct sim_ticker t;
        sim_market_ticker(m, i, &t);
        int len = sim_wire_ticker(in, &t, text, sizeof text);
        feeds_batch_init(&b, &qs[nq], NULL, 1);
        nq += deribit_parse(l, text, (size_t)len, sim_market_now(m), &b, &st);
        truth_i = i;
      }
      if (slice_build(qs, nq, sim_market_now(m), NULL, &s) < 0 || s.n < 8)
        continue;
      struct svi truth;
      double F, T;
      sim_market_truth(m, truth_i, &truth, &F, &T);
      if (s.forward != F)
        fprintf(stderr, "\n %s %d fwd %.17g %.17g src %d", asset, x, s.forward, F, s.forward_src);
      CU_ASSERT_EQUAL(s.forward, F); /* the forward comes through the wire */
      struct svi_lm_result r;
      CU_ASSERT_EQUAL(fit_slice(&s, NULL, &fc, &r), 0);
      int inside = 0, two = 0;
      double sse = 0.0;
      for (int j = 0; j < s.n; j++) {
        double fit_iv = sqrt(svi_w(&r.p, s.k[j]) / s.T_years);
        double true_iv = sqrt(svi_w(&truth, s.k[j]) / T);
        sse += (fit_iv - true_iv) * (fit_iv - true_iv);
        if (!isnan(s.iv_bid[j]) && !isnan(s.iv_ask[j]) && s.iv_bid[j] <= s.iv_ask[j]) {
          two++;
          inside += fit_iv >= s.iv_bid[j] - 1e-4 && fit_iv <= s.iv_ask[j] + 1e-4;
        }
      }
      double rmse = sqrt(sse / s.n);
      if (rmse > 0.005)
        fprintf(stderr, "\n  %s expiry %d: rmse vs truth %.4f over %d points\n", asset, x, rmse,
                s.n);
      CU_ASSERT(rmse < 0.005); /* half a vol point */
      n_inside_total += inside;
      n_points_total += two;
      n_slices++;
    }
  }
  CU_ASSERT(n_slices >= 40);
  CU_ASSERT(n_inside_total > 0.95 * n_points_total);
  listing_free(l);
  sim_market_free(m);
}

/* ---- loopback: a minimal lws client ---- */

#define TC_MAX_MSGS 8192

struct tclient {
  struct lws_context *ctx;
  struct lws *wsi;
  lws_sorted_usec_list_t sul;
  int connected, closed, close_code;
  char *out[16];
  int n_out;
  char *rx;
  size_t rx_n;
  char *msgs[TC_MAX_MSGS];
  int n_msgs;
};

static void tc_wake(lws_sorted_usec_list_t *sul)
{
  struct tclient *c = (struct tclient *)(void *)((char *)sul - offsetof(struct tclient, sul));
  lws_sul_schedule(c->ctx, 0, &c->sul, tc_wake, 20 * 1000);
}

static int tc_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
  struct tclient *c = lws_context_user(lws_get_context(wsi));
  (void)user;
  switch (reason) {
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    c->connected = 1;
    if (c->n_out)
      lws_callback_on_writable(wsi);
    break;
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    c->closed = 1;
    c->wsi = NULL;
    break;
  case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
    if (len >= 2)
      c->close_code = ((const unsigned char *)in)[0] << 8 | ((const unsigned char *)in)[1];
    break;
  case LWS_CALLBACK_CLIENT_CLOSED:
    c->closed = 1;
    c->wsi = NULL;
    break;
  case LWS_CALLBACK_CLIENT_RECEIVE:
    c->rx = realloc(c->rx, c->rx_n + len + 1);
    memcpy(c->rx + c->rx_n, in, len);
    c->rx_n += len;
    if (lws_is_final_fragment(wsi)) {
      c->rx[c->rx_n] = '\0';
      if (c->n_msgs < TC_MAX_MSGS)
        c->msgs[c->n_msgs++] = c->rx;
      else
        free(c->rx);
      c->rx = NULL;
      c->rx_n = 0;
    }
    break;
  case LWS_CALLBACK_CLIENT_WRITEABLE:
    if (c->n_out) {
      char *m = c->out[0];
      size_t n = strlen(m + LWS_PRE);
      int w = lws_write(wsi, (unsigned char *)m + LWS_PRE, n, LWS_WRITE_TEXT);
      free(m);
      memmove(c->out, c->out + 1, (size_t)(--c->n_out) * sizeof(c->out[0]));
      if (w < (int)n)
        return -1;
      if (c->n_out)
        lws_callback_on_writable(wsi);
    }
    break;
  default:
    break;
  }
  return 0;
}

static const struct lws_protocols tc_protocols[] = {{"tc", tc_callback, 0, 65536, 0, NULL, 0},
                                                    {NULL, NULL, 0, 0, 0, NULL, 0}};

static void tc_send(struct tclient *c, const char *msg)
{
  if (c->n_out >= 16)
    return;
  size_t n = strlen(msg);
  char *m = malloc(LWS_PRE + n + 1);
  memcpy(m + LWS_PRE, msg, n + 1);
  c->out[c->n_out++] = m;
  if (c->wsi && c->connected)
    lws_callback_on_writable(c->wsi);
}

/* Services the client until pred(c, arg) holds or timeout_ms passes. */
static int tc_until(struct tclient *c, int (*pred)(struct tclient *, const void *), const void *arg,
                    int timeout_ms)
{
  int64_t end = (now_mono_us() / 1000) + timeout_ms;
  while (!pred(c, arg) && (now_mono_us() / 1000) < end)
    lws_service(c->ctx, 0);
  return pred(c, arg);
}

static int tc_is_connected(struct tclient *c, const void *arg)
{
  (void)arg;
  return c->connected || c->closed;
}

static int tc_is_closed(struct tclient *c, const void *arg)
{
  (void)arg;
  return c->closed;
}

/* The index of the first message containing 'needle', or -1. */
static int tc_find(struct tclient *c, const char *needle)
{
  for (int i = 0; i < c->n_msgs; i++)
    if (strstr(c->msgs[i], needle))
      return i;
  return -1;
}

static int tc_has(struct tclient *c, const void *needle)
{
  return tc_find(c, needle) >= 0;
}

static int tc_has_n(struct tclient *c, const void *n)
{
  return c->n_msgs >= *(const int *)n;
}

static struct tclient *tc_open(int port, size_t max_frame)
{
  struct tclient *c = calloc(1, sizeof(*c));
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = tc_protocols;
  info.user = c;
  (void)max_frame;
  c->ctx = lws_create_context(&info);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c->ctx);
  lws_sul_schedule(c->ctx, 0, &c->sul, tc_wake, 20 * 1000);
  struct lws_client_connect_info ci;
  memset(&ci, 0, sizeof ci);
  ci.context = c->ctx;
  ci.address = "127.0.0.1";
  ci.port = port;
  ci.path = "/ws/api/v2";
  ci.host = "127.0.0.1";
  ci.origin = "127.0.0.1";
  ci.protocol = NULL;
  ci.pwsi = &c->wsi;
  lws_client_connect_via_info(&ci);
  tc_until(c, tc_is_connected, NULL, 3000);
  CU_ASSERT(c->connected);
  return c;
}

static void tc_close(struct tclient *c)
{
  lws_sul_cancel(&c->sul);
  lws_context_destroy(c->ctx);
  for (int i = 0; i < c->n_msgs; i++)
    free(c->msgs[i]);
  for (int i = 0; i < c->n_out; i++)
    free(c->out[i]);
  free(c->rx);
  free(c);
}

static struct sim_server *server(int hb_min, size_t frame_max)
{
  struct sim_server_config c;
  sim_server_config_default(&c);
  c.listen = "127.0.0.1:0";
  c.market.seed = 77;
  c.market.start_us = START_US;
  c.heartbeat_min_s = hb_min;
  c.frame_max = frame_max;
  char err[256];
  struct sim_server *s = sim_server_start(&c, err, sizeof err);
  if (!s)
    fprintf(stderr, "\n  %s\n", err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT(sim_server_port(s) > 0);
  return s;
}

static void server_lists_subscribes_and_pushes_tickers_the_normalizer_parses(void)
{
  struct sim_server *s = server(10, 65536);
  struct tclient *c = tc_open(sim_server_port(s), 0);
  tc_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/get_instruments\","
             "\"params\":{\"currency\":\"BTC\",\"kind\":\"option\",\"expired\":false}}");
  CU_ASSERT_FATAL(tc_until(c, tc_has, "\"id\":1,", 3000));
  const char *body = c->msgs[tc_find(c, "\"id\":1,")];
  struct listing *l = listing_new(16384);
  struct feeds_stats st = {0};
  int n_btc = listing_add_deribit(l, body, strlen(body), &st);
  CU_ASSERT(n_btc > 300);
  CU_ASSERT(strstr(body, "ETH-") == NULL);
  /* USDC lists the linear altcoin options too. */
  tc_send(c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"public/get_instruments\","
             "\"params\":{\"currency\":\"USDC\",\"kind\":\"option\"}}");
  CU_ASSERT_FATAL(tc_until(c, tc_has, "\"id\":2,", 3000));
  body = c->msgs[tc_find(c, "\"id\":2,")];
  CU_ASSERT(listing_add_deribit(l, body, strlen(body), &st) > 100);
  CU_ASSERT(strstr(body, "SOL_USDC-") && strstr(body, "XRP_USDC-") && !strstr(body, "\"BTC-"));

  /* Subscribe to 20 BTC options and one unknown instrument. */
  char req[8192];
  size_t n = (size_t)snprintf(req, sizeof req,
                              "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"public/subscribe\","
                              "\"params\":{\"channels\":[\"ticker.BTC-1JAN20-1-C.100ms\"");
  int n_sub = 0;
  for (int i = 0; i < l->n && n_sub < 20; i += 7)
    if (strncmp(l->e[i].symbol, "BTC-", 4) == 0) {
      n += (size_t)snprintf(req + n, sizeof req - n, ",\"ticker.%s.100ms\"", l->e[i].symbol);
      n_sub++;
    }
  snprintf(req + n, sizeof req - n, "]}}");
  tc_send(c, req);
  CU_ASSERT_FATAL(tc_until(c, tc_has, "\"id\":3,", 3000));
  cJSON *ack = cJSON_Parse(c->msgs[tc_find(c, "\"id\":3,")]);
  CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(ack, "result")), 20);
  cJSON_Delete(ack);
  int want = c->n_msgs + 60;
  CU_ASSERT(tc_until(c, tc_has_n, &want, 3000));

  struct quote qs[1];
  struct feeds_batch b;
  feeds_batch_init(&b, qs, NULL, 1);
  struct feeds_stats ps = {0};
  int n_quotes = 0, n_sane = 0;
  for (int i = 0; i < c->n_msgs; i++) {
    if (!strstr(c->msgs[i], "\"subscription\""))
      continue;
    int got = deribit_parse(l, c->msgs[i], strlen(c->msgs[i]), START_US, &b, &ps);
    CU_ASSERT_EQUAL(got, 1);
    if (got != 1)
      continue;
    n_quotes++;
    const struct quote *q = &qs[0];
    n_sane += q->premium_in_coin == 1 && q->mark_iv > 0.2 && q->mark_iv < 3.0 &&
              q->underlying_price > 1000.0 && q->expiry_us > START_US &&
              !(q->bid_price > q->ask_price && q->bid_iv < q->ask_iv);
  }
  CU_ASSERT(n_quotes >= 40);
  CU_ASSERT_EQUAL(n_sane, n_quotes);
  CU_ASSERT_EQUAL(ps.n_expiry_from_symbol, 0);

  /* Unsubscribe answers with what was removed; get_time and test answer. */
  tc_send(c, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"public/unsubscribe\","
             "\"params\":{\"channels\":[\"ticker.BTC-1JAN20-1-C.100ms\"]}}");
  tc_send(c, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"public/get_time\"}");
  CU_ASSERT(tc_until(c, tc_has, "\"id\":5,", 3000));
  CU_ASSERT(tc_find(c, "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":[]") >= 0);
  listing_free(l);
  tc_close(c);
  struct sim_server_stats ss;
  sim_server_stats(s, &ss);
  CU_ASSERT_EQUAL(ss.n_connects, 1);
  CU_ASSERT(ss.n_tickers >= 40);
  sim_server_stop(s);
}

static void unknown_method_and_bad_params_get_json_rpc_errors(void)
{
  struct sim_server *s = server(10, 65536);
  struct tclient *c = tc_open(sim_server_port(s), 0);
  tc_send(c, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"private/buy\",\"params\":{}}");
  tc_send(c, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"public/get_instruments\","
             "\"params\":{\"currency\":\"DOGE\"}}");
  tc_send(c, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"public/set_heartbeat\","
             "\"params\":{\"interval\":1}}");
  tc_send(c, "not json at all");
  CU_ASSERT(tc_until(c, tc_has, "Parse error", 3000));
  struct feeds_batch b;
  struct feeds_stats st = {0};
  feeds_batch_init(&b, NULL, NULL, 0);
  int i = tc_find(c, "\"id\":7,");
  CU_ASSERT_FATAL(i >= 0);
  CU_ASSERT(strstr(c->msgs[i], "\"code\":-32601") != NULL);
  deribit_parse(NULL, c->msgs[i], strlen(c->msgs[i]), 0, &b, &st);
  CU_ASSERT_EQUAL(b.msg, FEEDS_MSG_ERROR);
  CU_ASSERT_EQUAL(b.id, 7);
  CU_ASSERT_EQUAL(b.error_code, -32601);
  i = tc_find(c, "\"id\":8,");
  CU_ASSERT(i >= 0 && strstr(c->msgs[i], "\"code\":-32602") != NULL);
  i = tc_find(c, "\"id\":9,");
  CU_ASSERT(i >= 0 && strstr(c->msgs[i], "\"code\":-32602") != NULL); /* interval < 10 */
  CU_ASSERT(!c->closed);
  tc_close(c);
  sim_server_stop(s);
}

static void heartbeat_test_request_is_sent_and_an_unanswered_one_closes(void)
{
  struct sim_server *s = server(1, 65536);
  struct tclient *c = tc_open(sim_server_port(s), 0);
  tc_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/set_heartbeat\","
             "\"params\":{\"interval\":1}}");
  CU_ASSERT_FATAL(tc_until(c, tc_has, "test_request", 3000));
  int i = tc_find(c, "test_request");
  struct feeds_batch b;
  struct feeds_stats st = {0};
  feeds_batch_init(&b, NULL, NULL, 0);
  deribit_parse(NULL, c->msgs[i], strlen(c->msgs[i]), 0, &b, &st);
  CU_ASSERT_EQUAL(b.msg, FEEDS_MSG_TEST_REQUEST);
  /* Answer the first one, as the connector must... */
  tc_send(c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"public/test\",\"params\":{}}");
  CU_ASSERT(tc_until(c, tc_has, "\"version\"", 3000));
  /* ...then go quiet: the server closes within about two intervals. */
  CU_ASSERT(tc_until(c, tc_is_closed, NULL, 4000));
  struct sim_server_stats ss;
  sim_server_stats(s, &ss);
  CU_ASSERT_EQUAL(ss.n_test_answers, 1);
  CU_ASSERT_EQUAL(ss.n_hb_timeouts, 1);
  tc_close(c);
  sim_server_stop(s);
}

static void oversize_frame_closes_the_connection_with_1009(void)
{
  struct sim_server *s = server(10, 4096);
  struct tclient *c = tc_open(sim_server_port(s), 0);
  char *big = malloc(10000);
  memset(big, 'x', 9999);
  big[9999] = '\0';
  static const char head[] =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/test\",\"params\":{\"p\":\"";
  memcpy(big, head, sizeof head - 1);
  tc_send(c, big);
  free(big);
  CU_ASSERT(tc_until(c, tc_is_closed, NULL, 3000));
  CU_ASSERT_EQUAL(c->close_code, 1009);
  struct sim_server_stats ss;
  sim_server_stats(s, &ss);
  CU_ASSERT_EQUAL(ss.n_oversize, 1);
  CU_ASSERT_EQUAL(ss.n_requests, 0);
  tc_close(c);
  sim_server_stop(s);
}

static void faults_garbage_frame_then_kick_closes_every_client(void)
{
  struct sim_server *s = server(10, 65536);
  struct tclient *c = tc_open(sim_server_port(s), 0);
  sim_server_send_garbage(s);
  CU_ASSERT_FATAL(tc_until(c, tc_has, "garbage", 3000));
  struct feeds_batch b;
  struct feeds_stats st = {0};
  feeds_batch_init(&b, NULL, NULL, 0);
  int i = tc_find(c, "garbage");
  deribit_parse(NULL, c->msgs[i], strlen(c->msgs[i]), 0, &b, &st);
  CU_ASSERT_EQUAL(b.msg, FEEDS_MSG_REJECTED);
  CU_ASSERT_EQUAL(st.n_rejected[FEEDS_REJ_JSON], 1);
  /* Silent: requests go unanswered; loud again: answered. */
  sim_server_set_silent(s, 1);
  tc_send(c, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"public/test\"}");
  CU_ASSERT(!tc_until(c, tc_has, "\"id\":5,", 500));
  sim_server_set_silent(s, 0);
  tc_send(c, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"public/test\"}");
  CU_ASSERT(tc_until(c, tc_has, "\"id\":6,", 3000));
  sim_server_kick_all(s);
  CU_ASSERT(tc_until(c, tc_is_closed, NULL, 3000));
  CU_ASSERT_EQUAL(c->close_code, 1001);
  tc_close(c);
  /* The server takes new connections after a kick. */
  c = tc_open(sim_server_port(s), 0);
  CU_ASSERT(c->connected && !c->closed);
  /* Stopping with a client still connected frees everything (ASan) and
   * the client sees the close. */
  sim_server_stop(s);
  CU_ASSERT(tc_until(c, tc_is_closed, NULL, 3000));
  tc_close(c);
}

int main(void)
{
  lws_set_log_level(LLL_ERR, NULL);
  static const struct test_case cases[] = {
      TEST_CASE(same_seed_and_times_give_identical_listings_and_tickers),
      TEST_CASE(listing_follows_deribit_daily_weekly_monthly_quarterly_schedule),
      TEST_CASE(expired_expiries_roll_off_and_new_ones_list_while_ids_stay),
      TEST_CASE(strikes_bracket_the_forward_and_widen_with_tenor),
      TEST_CASE(quotes_are_two_sided_on_ticks_with_the_configured_crossed_rate),
      TEST_CASE(spreads_widen_in_the_wings_and_at_short_tenors),
      TEST_CASE(true_surface_is_free_of_calendar_and_butterfly_arbitrage),
      TEST_CASE(deribit_normalizer_parses_every_simulated_ticker),
      TEST_CASE(fitter_recovers_the_true_smile_within_the_bid_ask_band),
      TEST_CASE(server_lists_subscribes_and_pushes_tickers_the_normalizer_parses),
      TEST_CASE(unknown_method_and_bad_params_get_json_rpc_errors),
      TEST_CASE(heartbeat_test_request_is_sent_and_an_unanswered_one_closes),
      TEST_CASE(oversize_frame_closes_the_connection_with_1009),
      TEST_CASE(faults_garbage_frame_then_kick_closes_every_client),
  };
  return test_run("sim", cases, TEST_COUNT(cases));
}

#else
int main(void)
{
  return 77; /* built without libwebsockets/libcurl/cJSON: no simulator */
}
#endif
