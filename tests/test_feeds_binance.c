/* test_feeds_binance: the Binance eapi normalizer on
 * tests/fixtures/binance/ (provenance in tests/fixtures/README.md): "-1.0"
 * IVs and "0.000" prices as NaN, no forward (NaN) but the index from i,
 * decimal strikes, the combined-stream wrapper, exchangeInfo expiries, acks
 * and errors, bad input counted. */
#ifdef VOLSURF_HAVE_CJSON

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "binance.h"
#include "err.h"
#include "listing.h"
#include "norm.h"
#define FEEDS_TEST_VENUE "binance"
#include "feeds_testutil.h"
#include "testutil.h"

#define LOCAL_TS 1700000000000000LL

static int parse_fixture(const struct listing *l, const char *name)
{
  size_t len;
  char *msg = fixture(name, &len);
  int n = binance_parse(l, msg, len, LOCAL_TS, &batch, &stats);
  free(msg);
  return n;
}

static void reset(void)
{
  feeds_test_reset();
}

static struct listing *load_exchange_info(void)
{
  size_t len;
  char *body = fixture("exchange_info_reconstructed.json", &len);
  struct listing *l = listing_new(16);
  CU_ASSERT_EQUAL(listing_add_binance(l, body, len, &stats), 2);
  free(body);
  return l;
}

static void mark_event_reads_minus_one_iv_and_zero_bid_as_nan(void)
{
  reset();
  CU_ASSERT_EQUAL(parse_fixture(NULL, "mark_ws_official.json"), 1);
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_DATA);
  const struct quote *q = &quotes[0];
  CU_ASSERT_STRING_EQUAL(q->venue, "binance");
  CU_ASSERT_STRING_EQUAL(q->asset, "BTC");
  CU_ASSERT_STRING_EQUAL(q->symbol, "BTC-251120-126000-C");
  CU_ASSERT_EQUAL(q->kind, QUOTE_CALL);
  CU_ASSERT_EQUAL(q->premium_in_coin, 0);
  ASSERT_NEAR(q->strike, 126000.0, 0.0);
  CU_ASSERT_EQUAL(q->expiry_us, 1763625600000000LL); /* 2025-11-20 08:00 UTC, from the symbol */
  CU_ASSERT_EQUAL(qflags[0], FEEDS_QF_EXPIRY_FROM_SYMBOL);
  CU_ASSERT_EQUAL(q->ts_us, 1762867543321000LL);
  CU_ASSERT(isnan(q->bid_price) && isnan(q->bid_amount)); /* bo "0.000" */
  CU_ASSERT(isnan(q->bid_iv));                            /* b "-1.0" */
  ASSERT_NEAR(q->ask_price, 900.0, 0.0);
  ASSERT_NEAR(q->ask_amount, 0.2, 1e-15);
  ASSERT_NEAR(q->ask_iv, 0.98161161, 1e-12);
  ASSERT_NEAR(q->mark_iv, 0.9408058, 1e-12);
  ASSERT_NEAR(q->mark_price, 770.543, 1e-12);
  ASSERT_NEAR(q->delta, 0.11111964, 1e-12);
}

static void mark_event_has_an_index_but_no_forward(void)
{
  reset();
  parse_fixture(NULL, "mark_ws_official.json");
  ASSERT_NEAR(quotes[0].index_price, 104334.60217391, 1e-8);
  CU_ASSERT(isnan(quotes[0].underlying_price));
  CU_ASSERT_STRING_EQUAL(quotes[0].underlying_index, "");
}

static void combined_stream_xrp_capture_has_decimal_strike_and_listing_expiry(void)
{
  reset();
  struct listing *l = load_exchange_info();
  CU_ASSERT_EQUAL(parse_fixture(l, "mark_ws_xrp_2025_reconstructed.json"), 1);
  const struct quote *q = &quotes[0];
  CU_ASSERT_STRING_EQUAL(q->asset, "XRP");
  CU_ASSERT_EQUAL(q->kind, QUOTE_PUT);
  ASSERT_NEAR(q->strike, 2.05, 1e-15);
  CU_ASSERT_EQUAL(q->expiry_us, 1766131200000000LL); /* 2025-12-19 08:00 UTC */
  CU_ASSERT_EQUAL(qflags[0], 0);
  CU_ASSERT(isnan(q->bid_iv) && isnan(q->ask_iv) && isnan(q->bid_price));
  ASSERT_NEAR(q->mark_iv, 2.6, 1e-15);
  ASSERT_NEAR(q->index_price, 1.96239445, 1e-12);
  CU_ASSERT_EQUAL(q->ts_us, 1765983420260000LL);
  listing_free(l);
}

static void exchange_info_keeps_the_stated_expiry_and_counts_non_0800(void)
{
  reset();
  struct listing *l = load_exchange_info();
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_FIELD], 1); /* side "SHORT" */
  const struct listing_entry *e = listing_find(l, "BTC-220815-50000-C");
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  /* The doc example says 00:00 UTC; kept as stated, and made visible. */
  CU_ASSERT_EQUAL(e->expiry_us, 1660521600000000LL);
  CU_ASSERT_EQUAL(l->n_expiry_not_0800, 1);
  CU_ASSERT_EQUAL(e->kind, QUOTE_CALL);
  ASSERT_NEAR(e->strike, 50000.0, 0.0);
  struct listing_entry p;
  CU_ASSERT_EQUAL(binance_symbol_parse("BTC-220815-50000-C", &p), 0);
  CU_ASSERT_EQUAL(p.expiry_us, 1660550400000000LL); /* symbol fallback: 08:00 */
  listing_free(l);
}

static void rest_mark_gives_fraction_ivs_and_no_prices(void)
{
  reset();
  size_t len;
  char *body = fixture("mark_rest_official.json", &len);
  CU_ASSERT_EQUAL(binance_parse_rest_mark(NULL, body, len, LOCAL_TS, &batch, &stats), 1);
  free(body);
  const struct quote *q = &quotes[0];
  CU_ASSERT_EQUAL(q->expiry_us, 1596096000000000LL); /* 2020-07-30 08:00 UTC */
  ASSERT_NEAR(q->strike, 9000.0, 0.0);
  ASSERT_NEAR(q->bid_iv, 1.40000077, 1e-12);
  ASSERT_NEAR(q->ask_iv, 1.50000153, 1e-12);
  ASSERT_NEAR(q->mark_iv, 1.45, 1e-12);
  ASSERT_NEAR(q->mark_price, 1343.2883, 1e-12);
  ASSERT_NEAR(q->delta, 0.55937056, 1e-12);
  CU_ASSERT(isnan(q->bid_price) && isnan(q->ask_price) && isnan(q->index_price));
  CU_ASSERT_EQUAL(q->ts_us, LOCAL_TS);
}

static void subscribe_ack_and_errors_are_classified(void)
{
  reset();
  parse_fixture(NULL, "subscribe_ack.json");
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_ACK);
  CU_ASSERT_EQUAL(batch.id, 1);
  parse_fixture(NULL, "rest_error_crafted.json");
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_ERROR);
  CU_ASSERT_EQUAL(batch.error_code, -1121);
  size_t len;
  char *body = fixture("rest_error_crafted.json", &len);
  binance_parse_rest_mark(NULL, body, len, LOCAL_TS, &batch, &stats);
  free(body);
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_ERROR);
  CU_ASSERT_EQUAL(stats.n_acks, 1);
  CU_ASSERT_EQUAL(stats.n_venue_errors, 2);
}

static void bad_rows_are_counted_and_good_rows_kept(void)
{
  reset();
  CU_ASSERT_EQUAL(parse_fixture(NULL, "bad_rows_mixed_crafted.json"), 1);
  CU_ASSERT_EQUAL(batch.n_rows_bad, 3);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_FIELD], 2);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_SYMBOL], 1);
  ASSERT_NEAR(quotes[0].bid_iv, 0.5, 0.0);
  ASSERT_NEAR(quotes[0].index_price, 104334.6, 1e-9);
}

static void bad_messages_are_counted_by_reason(void)
{
  reset();
  CU_ASSERT_EQUAL(parse_fixture(NULL, "open_interest_combined_crafted.json"), 0);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_UNKNOWN], 1);
  parse_fixture(NULL, "bad_truncated.json");
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_JSON);
  const char *odd = "{\"stream\":\"btcusdt@optionMarkPrice\",\"data\":\"nope\"}";
  binance_parse(NULL, odd, strlen(odd), LOCAL_TS, &batch, &stats);
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_SHAPE);
  const char *ticker = "{\"e\":\"24hrTicker\",\"s\":\"BTC-251120-126000-C\"}";
  binance_parse(NULL, ticker, strlen(ticker), LOCAL_TS, &batch, &stats);
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_UNKNOWN);
  size_t len = FEEDS_MSG_MAX + 1;
  char *big = calloc(len, 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(big);
  binance_parse(NULL, big, len, LOCAL_TS, &batch, &stats);
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_TOO_BIG);
  free(big);
  CU_ASSERT_EQUAL(stats.n_quotes, 0);
  CU_ASSERT_EQUAL(stats.n_messages, 5);
}

/* The suite's parser as feeds_testutil's fuzz drivers call it. */
static int parse_msg(const char *msg, size_t len)
{
  return binance_parse(NULL, msg, len, LOCAL_TS, &batch, &stats);
}

static void every_prefix_of_a_mark_event_is_handled_without_a_crash(void)
{
  reset();
  feeds_fuzz_prefixes("mark_ws_official.json", parse_msg);
  CU_ASSERT(stats.n_quotes >= 1);
}

static void every_one_byte_change_of_a_mark_event_is_handled_without_a_crash(void)
{
  reset();
  feeds_fuzz_one_byte("mark_ws_official.json", parse_msg);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(mark_event_reads_minus_one_iv_and_zero_bid_as_nan),
      TEST_CASE(mark_event_has_an_index_but_no_forward),
      TEST_CASE(combined_stream_xrp_capture_has_decimal_strike_and_listing_expiry),
      TEST_CASE(exchange_info_keeps_the_stated_expiry_and_counts_non_0800),
      TEST_CASE(rest_mark_gives_fraction_ivs_and_no_prices),
      TEST_CASE(subscribe_ack_and_errors_are_classified),
      TEST_CASE(bad_rows_are_counted_and_good_rows_kept),
      TEST_CASE(bad_messages_are_counted_by_reason),
      TEST_CASE(every_prefix_of_a_mark_event_is_handled_without_a_crash),
      TEST_CASE(every_one_byte_change_of_a_mark_event_is_handled_without_a_crash),
  };
  return test_run("feeds_binance", cases, TEST_COUNT(cases));
}

#else /* built without cJSON: feeds/ (volsurf_feeds) is skipped, so is this suite */
#include "testutil.h"

int main(void)
{
  return TEST_SKIP;
}
#endif
