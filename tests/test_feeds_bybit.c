/* test_feeds_bybit: the Bybit v5 option normalizer on tests/fixtures/bybit/
 * (provenance in tests/fixtures/README.md): REST vs WS field names, "0"
 * sentinels and the "5" IV cap, underlyingPrice as forward apart from
 * indexPrice, USDC vs -USDT symbols, deliveryTime from the listing, pong and
 * COMMAND_RESP classification, bad input counted. */
#ifdef VOLSURF_HAVE_CJSON

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bybit.h"
#include "err.h"
#include "listing.h"
#include "norm.h"
#define FEEDS_TEST_VENUE "bybit"
#include "feeds_testutil.h"
#include "testutil.h"

#define LOCAL_TS 1700000000000000LL

static int parse_fixture(const struct listing *l, const char *name)
{
  size_t len;
  char *msg = fixture(name, &len);
  int n = bybit_parse(l, msg, len, LOCAL_TS, &batch, &stats);
  free(msg);
  return n;
}

static int parse_text(const char *msg)
{
  return bybit_parse(NULL, msg, strlen(msg), LOCAL_TS, &batch, &stats);
}

static void reset(void)
{
  feeds_test_reset();
}

static void ws_ticker_uses_ws_field_names_and_reads_zero_bid_as_nan(void)
{
  reset();
  CU_ASSERT_EQUAL(parse_fixture(NULL, "ticker_ws_official.json"), 1);
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_DATA);
  const struct quote *q = &quotes[0];
  CU_ASSERT_STRING_EQUAL(q->venue, "bybit");
  CU_ASSERT_STRING_EQUAL(q->asset, "BTC");
  CU_ASSERT_STRING_EQUAL(q->symbol, "BTC-6JAN23-17500-C");
  CU_ASSERT_EQUAL(q->kind, QUOTE_CALL);
  CU_ASSERT_EQUAL(q->premium_in_coin, 0);
  ASSERT_NEAR(q->strike, 17500.0, 0.0);
  CU_ASSERT_EQUAL(q->expiry_us, 1672992000000000LL); /* 2023-01-06 08:00 UTC, from the symbol */
  CU_ASSERT_EQUAL(qflags[0], FEEDS_QF_EXPIRY_FROM_SYMBOL);
  CU_ASSERT_EQUAL(q->ts_us, 1672917511074000LL);
  CU_ASSERT(isnan(q->bid_price) && isnan(q->bid_amount) && isnan(q->bid_iv));
  ASSERT_NEAR(q->ask_price, 10.0, 0.0);
  ASSERT_NEAR(q->ask_amount, 5.1, 1e-12);
  ASSERT_NEAR(q->ask_iv, 0.514, 1e-12);
  ASSERT_NEAR(q->mark_iv, 0.4896, 1e-12);
  ASSERT_NEAR(q->mark_price, 7.86976724, 1e-12);
  ASSERT_NEAR(q->last_price, 10.0, 0.0);
  ASSERT_NEAR(q->open_interest, 49.85, 1e-12);
  ASSERT_NEAR(q->delta, 0.047831, 1e-12);
  CU_ASSERT_STRING_EQUAL(q->underlying_index, "");
}

static void ws_ticker_keeps_underlying_price_apart_from_the_index(void)
{
  reset();
  parse_fixture(NULL, "ticker_ws_official.json");
  ASSERT_NEAR(quotes[0].underlying_price, 16815.1, 1e-9);
  ASSERT_NEAR(quotes[0].index_price, 16823.73, 1e-9);
}

static void rest_ticker_uses_rest_field_names_and_drops_the_capped_ask_iv(void)
{
  reset();
  size_t len;
  char *body = fixture("tickers_rest_official.json", &len);
  CU_ASSERT_EQUAL(bybit_parse_rest_tickers(NULL, body, len, LOCAL_TS, &batch, &stats), 1);
  free(body);
  const struct quote *q = &quotes[0];
  CU_ASSERT_EQUAL(q->expiry_us, 1672387200000000LL); /* 2022-12-30 08:00 UTC */
  CU_ASSERT_EQUAL(q->ts_us, 1672376592395000LL);     /* envelope "time" */
  CU_ASSERT(isnan(q->bid_price) && isnan(q->bid_iv));
  ASSERT_NEAR(q->ask_price, 435.0, 0.0);
  ASSERT_NEAR(q->ask_amount, 0.66, 1e-12);
  CU_ASSERT(isnan(q->ask_iv)); /* ask1Iv "5" = 500% cap; the price stays */
  ASSERT_NEAR(q->mark_iv, 0.7567, 1e-12);
  ASSERT_NEAR(q->mark_price, 0.00000009, 1e-20);
  ASSERT_NEAR(q->underlying_price, 16590.42, 1e-9);
  ASSERT_NEAR(q->index_price, 16600.55, 1e-9);
  ASSERT_NEAR(q->open_interest, 6.3, 1e-12);
}

static void usdt_listing_gives_delivery_time_and_its_own_asset(void)
{
  reset();
  struct listing *l = listing_new(16);
  size_t len;
  char cursor[64] = "x";
  char *body = fixture("instruments_info_official.json", &len);
  CU_ASSERT_EQUAL(listing_add_bybit(l, body, len, cursor, sizeof cursor, &stats), 1);
  free(body);
  CU_ASSERT_STRING_EQUAL(cursor, "");
  const struct listing_entry *e = listing_find(l, "BTC-27MAR26-70000-P-USDT");
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->expiry_us, 1774598400000000LL);
  CU_ASSERT_EQUAL(e->kind, QUOTE_PUT);
  ASSERT_NEAR(e->strike, 70000.0, 0.0);
  CU_ASSERT_STRING_EQUAL(e->asset, "BTC_USDT");
  CU_ASSERT_EQUAL(e->premium_in_coin, 0);
  CU_ASSERT_EQUAL(e->active, 1);
  /* The symbol grammar agrees with the listing. */
  struct listing_entry p;
  CU_ASSERT_EQUAL(bybit_symbol_parse("BTC-27MAR26-70000-P-USDT", &p), 0);
  CU_ASSERT_EQUAL(p.expiry_us, e->expiry_us);
  CU_ASSERT_STRING_EQUAL(p.asset, "BTC_USDT");
  ASSERT_NEAR(p.strike, 70000.0, 0.0);

  const char *msg =
      "{\"topic\":\"tickers.BTC-27MAR26-70000-P-USDT\",\"ts\":1770000000000,\"data\":{"
      "\"symbol\":\"BTC-27MAR26-70000-P-USDT\",\"bidPrice\":\"1200\",\"bidIv\":\"0.5\"}}";
  bybit_parse(l, msg, strlen(msg), LOCAL_TS, &batch, &stats);
  CU_ASSERT_EQUAL(batch.n, 1);
  CU_ASSERT_EQUAL(qflags[0], 0);
  CU_ASSERT_STRING_EQUAL(quotes[0].asset, "BTC_USDT");
  listing_free(l);
}

static void sol_capture_reads_ivs_and_underlying(void)
{
  reset();
  CU_ASSERT_EQUAL(parse_fixture(NULL, "ticker_ws_sol_2023_reconstructed.json"), 1);
  const struct quote *q = &quotes[0];
  CU_ASSERT_STRING_EQUAL(q->asset, "SOL");
  ASSERT_NEAR(q->strike, 24.0, 0.0);
  CU_ASSERT_EQUAL(q->expiry_us, 1682668800000000LL); /* 2023-04-28 08:00 UTC */
  ASSERT_NEAR(q->bid_iv, 0.6004, 1e-12);
  ASSERT_NEAR(q->ask_iv, 2.0007, 1e-12);
  ASSERT_NEAR(q->mark_iv, 1.4674, 1e-12);
  ASSERT_NEAR(q->underlying_price, 20.93, 1e-12);
  ASSERT_NEAR(q->index_price, 20.93, 1e-12);
  ASSERT_NEAR(q->open_interest, 20.0, 0.0);
  CU_ASSERT(isnan(q->bid_price) && isnan(q->ask_price)); /* absent, not zero */
  CU_ASSERT_EQUAL(q->ts_us, 1680652810254000LL);
}

static void pong_and_command_responses_are_classified(void)
{
  reset();
  parse_fixture(NULL, "pong_option.json");
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_HEARTBEAT);
  parse_fixture(NULL, "command_resp_ok.json");
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_ACK);
  parse_fixture(NULL, "command_resp_fail_crafted.json");
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_ERROR);
  parse_text("{\"success\":true,\"ret_msg\":\"pong\",\"conn_id\":\"c\",\"req_id\":\"100001\","
             "\"op\":\"ping\"}");
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_HEARTBEAT);
  CU_ASSERT_EQUAL(batch.id, -1);
  CU_ASSERT_EQUAL(stats.n_heartbeats, 2);
  CU_ASSERT_EQUAL(stats.n_acks, 1);
  CU_ASSERT_EQUAL(stats.n_venue_errors, 1);
}

static void rest_error_is_reported_with_its_ret_code(void)
{
  reset();
  size_t len;
  char *body = fixture("rest_error_crafted.json", &len);
  bybit_parse_rest_tickers(NULL, body, len, LOCAL_TS, &batch, &stats);
  free(body);
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_ERROR);
  CU_ASSERT_EQUAL(batch.error_code, 10001);
}

static void bad_messages_are_counted_by_reason(void)
{
  reset();
  parse_fixture(NULL, "bad_missing_ts.json");
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_FIELD);
  parse_fixture(NULL, "bad_data_wrong_type.json");
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_FIELD);
  parse_fixture(NULL, "bad_truncated.json");
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_JSON);
  parse_text("{\"topic\":\"orderbook.25.BTC-6JAN23-17500-C\",\"ts\":1,\"data\":{}}");
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_UNKNOWN);
  parse_text("{\"topic\":\"tickers.BTC-6JAN23-17500-C-USDC\",\"ts\":1,\"data\":{\"symbol\":"
             "\"BTC-6JAN23-17500-C-USDC\"}}");
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_SYMBOL], 1);
  parse_text("{\"topic\":\"tickers.BTC-31FEB23-17500-C\",\"ts\":1,\"data\":{\"symbol\":"
             "\"BTC-31FEB23-17500-C\"}}");
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_SYMBOL], 2); /* no 31 February */
  parse_text("42");
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_SHAPE);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_FIELD], 2);
  CU_ASSERT_EQUAL(stats.n_quotes, 0);
}

static void message_over_one_mib_is_rejected_unparsed(void)
{
  reset();
  size_t len = FEEDS_MSG_MAX + 1;
  char *big = calloc(len, 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(big);
  CU_ASSERT_EQUAL(bybit_parse(NULL, big, len, LOCAL_TS, &batch, &stats), 0);
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_TOO_BIG);
  CU_ASSERT_EQUAL(bybit_parse_rest_tickers(NULL, big, len, LOCAL_TS, &batch, &stats), 0);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_TOO_BIG], 2);
  free(big);
}

/* The suite's parser as feeds_testutil's fuzz drivers call it. */
static int parse_msg(const char *msg, size_t len)
{
  return bybit_parse(NULL, msg, len, LOCAL_TS, &batch, &stats);
}

static void every_prefix_of_a_ticker_is_handled_without_a_crash(void)
{
  reset();
  feeds_fuzz_prefixes("ticker_ws_official.json", parse_msg);
  CU_ASSERT(stats.n_quotes >= 1);
}

static void every_one_byte_change_of_a_ticker_is_handled_without_a_crash(void)
{
  reset();
  feeds_fuzz_one_byte("ticker_ws_official.json", parse_msg);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(ws_ticker_uses_ws_field_names_and_reads_zero_bid_as_nan),
      TEST_CASE(ws_ticker_keeps_underlying_price_apart_from_the_index),
      TEST_CASE(rest_ticker_uses_rest_field_names_and_drops_the_capped_ask_iv),
      TEST_CASE(usdt_listing_gives_delivery_time_and_its_own_asset),
      TEST_CASE(sol_capture_reads_ivs_and_underlying),
      TEST_CASE(pong_and_command_responses_are_classified),
      TEST_CASE(rest_error_is_reported_with_its_ret_code),
      TEST_CASE(bad_messages_are_counted_by_reason),
      TEST_CASE(message_over_one_mib_is_rejected_unparsed),
      TEST_CASE(every_prefix_of_a_ticker_is_handled_without_a_crash),
      TEST_CASE(every_one_byte_change_of_a_ticker_is_handled_without_a_crash),
  };
  return test_run("feeds_bybit", cases, TEST_COUNT(cases));
}

#else /* built without cJSON: feeds/ (volsurf_feeds) is skipped, so is this suite */
#include "testutil.h"

int main(void)
{
  return TEST_SKIP;
}
#endif
