/* test_feeds_okx: the OKX normalizer on tests/fixtures/okx/ (provenance in
 * tests/fixtures/README.md): string numbers and "0"/"" sentinels, the
 * opt-summary + tickers + index join per instrument, fwdPx as forward apart
 * from idxPx, coin-margined vs _UM premiums, expiry from expTime or the
 * symbol, pong/ack/error/notice classification and bad input counted. */
#ifdef VOLSURF_HAVE_CJSON

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "listing.h"
#include "norm.h"
#include "okx.h"
#define FEEDS_TEST_VENUE "okx"
#include "feeds_testutil.h"
#include "testutil.h"

#define LOCAL_TS 1700000000000000LL

static struct okx *okx;
static struct listing *listing;

static void reset(void)
{
  feeds_test_reset();
  okx_free(okx);
  okx = okx_new(64);
  listing_free(listing);
  listing = NULL;
}

static int parse_text(const char *msg)
{
  return okx_parse(okx, listing, msg, strlen(msg), LOCAL_TS, &batch, &stats);
}

static int parse_fixture(const char *name)
{
  size_t len;
  char *msg = fixture(name, &len);
  int n = okx_parse(okx, listing, msg, len, LOCAL_TS, &batch, &stats);
  free(msg);
  return n;
}

static void load_instruments(void)
{
  size_t len;
  char *body = fixture("instruments_reconstructed.json", &len);
  listing = listing_new(64);
  CU_ASSERT_EQUAL(listing_add_okx(listing, body, len, &stats), 4);
  free(body);
}

static void official_summary_row_becomes_a_coin_quote_with_forward_and_fraction_ivs(void)
{
  reset();
  load_instruments();
  CU_ASSERT_EQUAL(parse_fixture("opt_summary_official.json"), 1);
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_DATA);
  const struct quote *q = &quotes[0];
  CU_ASSERT_STRING_EQUAL(q->venue, "okx");
  CU_ASSERT_STRING_EQUAL(q->asset, "BTC");
  CU_ASSERT_STRING_EQUAL(q->symbol, "BTC-USD-241013-70000-P");
  CU_ASSERT_EQUAL(q->kind, QUOTE_PUT);
  CU_ASSERT_EQUAL(q->premium_in_coin, 1);
  ASSERT_NEAR(q->strike, 70000.0, 0.0);
  CU_ASSERT_EQUAL(q->expiry_us, 1728806400000000LL); /* expTime, 2024-10-13 08:00 UTC */
  CU_ASSERT_EQUAL(qflags[0], 0);
  CU_ASSERT_EQUAL(q->ts_us, 1728703155650000LL);
  CU_ASSERT(isnan(q->bid_iv)); /* bidVol "0" */
  ASSERT_NEAR(q->ask_iv, 1.1669998535, 1e-12);
  ASSERT_NEAR(q->mark_iv, 0.3675503331, 1e-12);
  ASSERT_NEAR(q->delta, -0.9999672034, 1e-12); /* deltaBS, not the coin delta */
  ASSERT_NEAR(q->underlying_price, 62604.6993093463, 1e-9);
  CU_ASSERT(isnan(q->index_price)); /* no index-tickers seen yet */
  CU_ASSERT_STRING_EQUAL(q->underlying_index, "BTC-USD");
  CU_ASSERT(isnan(q->bid_price) && isnan(q->ask_price)); /* no tickers seen yet */
}

static void tickers_and_summary_merge_into_one_quote_with_the_index(void)
{
  reset();
  load_instruments();
  CU_ASSERT_EQUAL(parse_fixture("index_tickers_btc_usd_crafted.json"), 0);
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_DATA);
  CU_ASSERT_EQUAL(parse_fixture("tickers_crafted.json"), 1);
  const struct quote *q = &quotes[0];
  ASSERT_NEAR(q->bid_price, 0.1125, 1e-15);
  ASSERT_NEAR(q->ask_price, 0.1185, 1e-15);
  ASSERT_NEAR(q->bid_amount, 30.0, 0.0);
  ASSERT_NEAR(q->ask_amount, 25.0, 0.0);
  ASSERT_NEAR(q->last_price, 0.112, 1e-15);
  CU_ASSERT(isnan(q->mark_iv));
  ASSERT_NEAR(q->index_price, 62590.5, 1e-9);
  CU_ASSERT_EQUAL(parse_fixture("opt_summary_official.json"), 1);
  ASSERT_NEAR(q->bid_price, 0.1125, 1e-15);
  ASSERT_NEAR(q->mark_iv, 0.3675503331, 1e-12);
  ASSERT_NEAR(q->underlying_price, 62604.6993093463, 1e-9);
  ASSERT_NEAR(q->index_price, 62590.5, 1e-9);
  CU_ASSERT_EQUAL(q->ts_us, 1728703156000000LL); /* the newer of the two parts */
}

static void usdt_index_of_another_family_does_not_leak_into_btc_usd(void)
{
  reset();
  parse_fixture("index_tickers_official.json");
  CU_ASSERT_EQUAL(parse_fixture("opt_summary_official.json"), 1);
  CU_ASSERT(isnan(quotes[0].index_price));
}

static void eth_2021_capture_reads_empty_bid_vol_as_nan_and_counts_the_row_without_ts(void)
{
  reset();
  CU_ASSERT_EQUAL(parse_fixture("opt_summary_eth_2021_reconstructed.json"), 1);
  const struct quote *q = &quotes[0];
  CU_ASSERT_STRING_EQUAL(q->symbol, "ETH-USD-211222-4000-C");
  CU_ASSERT_STRING_EQUAL(q->asset, "ETH");
  CU_ASSERT_EQUAL(q->kind, QUOTE_CALL);
  ASSERT_NEAR(q->strike, 4000.0, 0.0);
  CU_ASSERT_EQUAL(q->expiry_us, 1640160000000000LL); /* from the symbol, 08:00 UTC */
  CU_ASSERT_EQUAL(qflags[0], FEEDS_QF_EXPIRY_FROM_SYMBOL);
  ASSERT_NEAR(q->bid_iv, 0.7421960156, 1e-12);
  ASSERT_NEAR(q->ask_iv, 0.8203208593, 1e-12);
  ASSERT_NEAR(q->mark_iv, 0.7794507758, 1e-12);
  CU_ASSERT(isnan(q->underlying_price)); /* 2021 pushes had no fwdPx */
  CU_ASSERT_EQUAL(batch.n_rows_bad, 1);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_FIELD], 1);
}

static void listing_reads_exp_time_settlement_and_state(void)
{
  reset();
  load_instruments(); /* 4 of 5 rows; the bad optType row is counted */
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_FIELD], 1);
  const struct listing_entry *e = listing_find(listing, "BTC-USD-241217-92000-C");
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->expiry_us, 1734422400000000LL);
  CU_ASSERT_EQUAL(e->premium_in_coin, 1);
  CU_ASSERT_EQUAL(e->kind, QUOTE_CALL);
  ASSERT_NEAR(e->strike, 92000.0, 0.0);
  e = listing_find(listing, "BTC-USD_UM-260626-61000-C");
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_STRING_EQUAL(e->asset, "BTC_UM");
  CU_ASSERT_EQUAL(e->premium_in_coin, 0);
  e = listing_find(listing, "BTC-USD-241013-71000-P");
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->active, 0);
}

static void suspended_instrument_is_skipped_and_counted(void)
{
  reset();
  load_instruments();
  parse_text("{\"arg\":{\"channel\":\"opt-summary\",\"instFamily\":\"BTC-USD\"},\"data\":[{"
             "\"instType\":\"OPTION\",\"instId\":\"BTC-USD-241013-71000-P\",\"markVol\":\"0.4\","
             "\"ts\":\"1728703155650\"}]}");
  CU_ASSERT_EQUAL(batch.n, 0);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_CLOSED], 1);
}

static void usd_margined_family_is_its_own_asset_priced_in_usd(void)
{
  reset();
  CU_ASSERT_EQUAL(parse_text("{\"arg\":{\"channel\":\"opt-summary\",\"instFamily\":\"BTC-USD_UM\"},"
                             "\"data\":[{\"instType\":\"OPTION\",\"instId\":\"BTC-USD_UM-260626-"
                             "61000-C\",\"markVol\":\"0.5\",\"fwdPx\":\"70000\",\"ts\":"
                             "\"1770000000000\"}]}"),
                  1);
  CU_ASSERT_STRING_EQUAL(quotes[0].asset, "BTC_UM");
  CU_ASSERT_EQUAL(quotes[0].premium_in_coin, 0);
  ASSERT_NEAR(quotes[0].strike, 61000.0, 0.0);
  CU_ASSERT_EQUAL(quotes[0].expiry_us, 1782460800000000LL);
  CU_ASSERT_STRING_EQUAL(quotes[0].underlying_index, "BTC-USD");
}

static void rest_summary_reads_ask_vol_at_the_cap_as_nan(void)
{
  reset();
  size_t len;
  char *body = fixture("rest_opt_summary_crafted.json", &len);
  CU_ASSERT_EQUAL(okx_parse_rest(okx, NULL, "opt-summary", body, len, LOCAL_TS, &batch, &stats), 1);
  free(body);
  CU_ASSERT(isnan(quotes[0].ask_iv)); /* askVol "5" = 500% cap */
  ASSERT_NEAR(quotes[0].bid_iv, 0.54, 1e-15);
  ASSERT_NEAR(quotes[0].underlying_price, 101000.5, 1e-9);
  const char *err = "{\"code\":\"51001\",\"msg\":\"x\",\"data\":[]}";
  okx_parse_rest(okx, NULL, "opt-summary", err, strlen(err), LOCAL_TS, &batch, &stats);
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_ERROR);
  CU_ASSERT_EQUAL(batch.error_code, 51001);
}

static void open_interest_push_updates_the_instrument(void)
{
  reset();
  CU_ASSERT_EQUAL(parse_fixture("open_interest_real.json"), 1);
  ASSERT_NEAR(quotes[0].open_interest, 4229.0, 0.0);
  CU_ASSERT_EQUAL(quotes[0].expiry_us, 1706256000000000LL);
  ASSERT_NEAR(quotes[0].strike, 1900.0, 0.0);
  CU_ASSERT_EQUAL(quotes[0].ts_us, 1701388801195000LL);
}

static void pong_acks_errors_and_notices_are_classified(void)
{
  reset();
  size_t len;
  char *pong = fixture("pong.txt", &len);
  okx_parse(okx, NULL, pong, len, LOCAL_TS, &batch, &stats);
  free(pong);
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_HEARTBEAT);
  parse_fixture("subscribe_ack.json");
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_ACK);
  CU_ASSERT_EQUAL(batch.id, 1512);
  parse_fixture("error_60012_crafted.json");
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_ERROR);
  CU_ASSERT_EQUAL(batch.error_code, 60012);
  parse_fixture("notice_64008_crafted.json");
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_NOTICE);
  CU_ASSERT_EQUAL(batch.error_code, 64008);
  CU_ASSERT_EQUAL(stats.n_heartbeats, 1);
  CU_ASSERT_EQUAL(stats.n_acks, 1);
  CU_ASSERT_EQUAL(stats.n_venue_errors, 1);
  CU_ASSERT_EQUAL(stats.n_messages, 4);
}

static void bad_messages_are_counted_by_reason(void)
{
  reset();
  parse_fixture("bad_data_not_array.json");
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_SHAPE);
  CU_ASSERT_EQUAL(parse_fixture("bad_wrong_types.json"), 0);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_FIELD], 1);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_SYMBOL], 1);
  parse_fixture("bad_truncated.json");
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_JSON);
  parse_text("{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USD-241013-70000-P\"},\"data\":[]}");
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_UNKNOWN);
  parse_text("ping");
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_JSON);
  CU_ASSERT_EQUAL(stats.n_quotes, 0);
}

static void message_over_one_mib_is_rejected_unparsed(void)
{
  reset();
  size_t len = FEEDS_MSG_MAX + 1;
  char *big = malloc(len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(big);
  memset(big, '[', len);
  CU_ASSERT_EQUAL(okx_parse(okx, NULL, big, len, LOCAL_TS, &batch, &stats), 0);
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_TOO_BIG);
  /* Just under the cap: parsed (and rejected as JSON), never a deep-recursion crash. */
  okx_parse(okx, NULL, big, len - 1, LOCAL_TS, &batch, &stats);
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_JSON);
  free(big);
}

static void full_instrument_cache_counts_the_new_instrument(void)
{
  reset();
  okx_free(okx);
  okx = okx_new(1);
  CU_ASSERT_EQUAL(parse_fixture("opt_summary_official.json"), 1);
  CU_ASSERT_EQUAL(parse_fixture("open_interest_real.json"), 0);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_FULL], 1);
  CU_ASSERT_EQUAL(parse_fixture("opt_summary_official.json"), 1); /* known one still updates */
}

/* The suite's parser as feeds_testutil's fuzz drivers call it. */
static int parse_msg(const char *msg, size_t len)
{
  return okx_parse(okx, NULL, msg, len, LOCAL_TS, &batch, &stats);
}

static void every_prefix_of_a_summary_is_handled_without_a_crash(void)
{
  reset();
  feeds_fuzz_prefixes("opt_summary_official.json", parse_msg);
  CU_ASSERT(stats.n_quotes >= 1);
}

static void every_one_byte_change_of_a_summary_is_handled_without_a_crash(void)
{
  reset();
  feeds_fuzz_one_byte("opt_summary_official.json", parse_msg);
}

static void cleanup(void)
{
  okx_free(okx);
  okx = NULL;
  listing_free(listing);
  listing = NULL;
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(official_summary_row_becomes_a_coin_quote_with_forward_and_fraction_ivs),
      TEST_CASE(tickers_and_summary_merge_into_one_quote_with_the_index),
      TEST_CASE(usdt_index_of_another_family_does_not_leak_into_btc_usd),
      TEST_CASE(eth_2021_capture_reads_empty_bid_vol_as_nan_and_counts_the_row_without_ts),
      TEST_CASE(listing_reads_exp_time_settlement_and_state),
      TEST_CASE(suspended_instrument_is_skipped_and_counted),
      TEST_CASE(usd_margined_family_is_its_own_asset_priced_in_usd),
      TEST_CASE(rest_summary_reads_ask_vol_at_the_cap_as_nan),
      TEST_CASE(open_interest_push_updates_the_instrument),
      TEST_CASE(pong_acks_errors_and_notices_are_classified),
      TEST_CASE(bad_messages_are_counted_by_reason),
      TEST_CASE(message_over_one_mib_is_rejected_unparsed),
      TEST_CASE(full_instrument_cache_counts_the_new_instrument),
      TEST_CASE(every_prefix_of_a_summary_is_handled_without_a_crash),
      TEST_CASE(every_one_byte_change_of_a_summary_is_handled_without_a_crash),
  };
  int rc = test_run("feeds_okx", cases, TEST_COUNT(cases));
  cleanup();
  return rc;
}

#else /* built without cJSON: feeds/ (volsurf_feeds) is skipped, so is this suite */
#include "testutil.h"

int main(void)
{
  return TEST_SKIP;
}
#endif
