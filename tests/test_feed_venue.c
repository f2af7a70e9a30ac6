/* test_feed_venue: the connectors' per-venue adapter without sockets:
 * subscribe/unsubscribe requests spelled and batched per venue within the
 * batch size and byte cap, pings and heartbeat answers, listing keys and
 * URLs from the asset list, topics from real listings (expired, inactive
 * and unwanted instruments left out, OKX family channels added), and the
 * capped, jittered, seeded backoff. */
#if defined(VOLSURF_HAVE_LIVE_FEEDS) && defined(VOLSURF_HAVE_CJSON)

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "feeds_testutil.h"
#include "listing.h"
#include "testutil.h"
#include "venue.h"

static char buf[65536];

static void venue_names_map_to_their_rules(void)
{
  CU_ASSERT_EQUAL(venue_from_name("deribit"), VENUE_DERIBIT);
  CU_ASSERT_EQUAL(venue_from_name("okx"), VENUE_OKX);
  CU_ASSERT_EQUAL(venue_from_name("bybit"), VENUE_BYBIT);
  CU_ASSERT_EQUAL(venue_from_name("binance"), VENUE_BINANCE);
  CU_ASSERT_EQUAL(venue_from_name("kraken"), ERR_INPUT);
  CU_ASSERT_EQUAL(venue_from_name(NULL), ERR_INPUT);
  CU_ASSERT_STRING_EQUAL(venue_rules(VENUE_BYBIT)->name, "bybit");
  CU_ASSERT_EQUAL(venue_rules(VENUE_BYBIT)->max_topics, 2000);
  CU_ASSERT_PTR_NULL(venue_rules(VENUE_DERIBIT)->rest_url); /* listing over the socket */
  CU_ASSERT_PTR_NULL(venue_rules(VENUE_N));
}

static void deribit_subscribe_puts_channels_in_one_request(void)
{
  const char *t[] = {"ticker.BTC-5JUN20-9250-C.100ms", "ticker.ETH-5JUN20-200-P.100ms"};
  int used = 0;
  int n = venue_subscribe(VENUE_DERIBIT, 0, t, 2, 7, buf, sizeof buf, &used);
  CU_ASSERT_EQUAL(used, 2);
  CU_ASSERT_EQUAL(n, (int)strlen(buf));
  CU_ASSERT_STRING_EQUAL(buf, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"public/subscribe\","
                              "\"params\":{\"channels\":[\"ticker.BTC-5JUN20-9250-C.100ms\","
                              "\"ticker.ETH-5JUN20-200-P.100ms\"]}}");
  venue_subscribe(VENUE_DERIBIT, 1, t, 1, 8, buf, sizeof buf, &used);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"method\":\"public/unsubscribe\""));
}

static void okx_subscribe_spells_family_and_instrument_args(void)
{
  const char *t[] = {"index-tickers:BTC-USD", "opt-summary:BTC-USD",
                     "tickers:BTC-USD-241013-70000-P"};
  int used = 0;
  venue_subscribe(VENUE_OKX, 0, t, 3, 12, buf, sizeof buf, &used);
  CU_ASSERT_EQUAL(used, 3);
  CU_ASSERT_STRING_EQUAL(buf, "{\"id\":\"12\",\"op\":\"subscribe\",\"args\":["
                              "{\"channel\":\"index-tickers\",\"instId\":\"BTC-USD\"},"
                              "{\"channel\":\"opt-summary\",\"instFamily\":\"BTC-USD\"},"
                              "{\"channel\":\"tickers\",\"instId\":\"BTC-USD-241013-70000-P\"}]}");
  const char *bad[] = {"tickers-without-colon"};
  CU_ASSERT_EQUAL(venue_subscribe(VENUE_OKX, 0, bad, 1, 1, buf, sizeof buf, &used), ERR_INPUT);
}

static void bybit_subscribe_takes_at_most_ten_topics(void)
{
  const char *t[25];
  for (int i = 0; i < 25; i++)
    t[i] = "tickers.BTC-6JAN23-17500-C";
  int used = 0;
  venue_subscribe(VENUE_BYBIT, 0, t, 25, 3, buf, sizeof buf, &used);
  CU_ASSERT_EQUAL(used, 10);
  CU_ASSERT_EQUAL(strncmp(buf, "{\"req_id\":\"3\",\"op\":\"subscribe\",\"args\":[\"tickers.", 48),
                  0);
}

static void subscribe_stops_at_the_byte_cap(void)
{
  const char *t[] = {"ticker.BTC-5JUN20-9250-C.100ms", "ticker.BTC-5JUN20-9500-C.100ms"};
  int used = 0;
  int n = venue_subscribe(VENUE_DERIBIT, 0, t, 2, 1, buf, 130, &used);
  CU_ASSERT_EQUAL(used, 1);
  CU_ASSERT(n > 0 && n < 130);
  CU_ASSERT_EQUAL(venue_subscribe(VENUE_DERIBIT, 0, t, 2, 1, buf, 60, &used), ERR_FULL);
  CU_ASSERT_EQUAL(used, 0);
  CU_ASSERT_EQUAL(venue_subscribe(VENUE_DERIBIT, 0, t, 0, 1, buf, sizeof buf, &used), ERR_INPUT);
}

static void binance_subscribes_underlying_streams(void)
{
  const char *t[] = {"btcusdt@optionMarkPrice"};
  int used = 0;
  venue_subscribe(VENUE_BINANCE, 0, t, 1, 4, buf, sizeof buf, &used);
  CU_ASSERT_STRING_EQUAL(
      buf, "{\"method\":\"SUBSCRIBE\",\"id\":4,\"params\":[\"btcusdt@optionMarkPrice\"]}");
  venue_subscribe(VENUE_BINANCE, 1, t, 1, 5, buf, sizeof buf, &used);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"UNSUBSCRIBE\""));
}

static void pings_and_heartbeat_answers_are_spelled_per_venue(void)
{
  CU_ASSERT_EQUAL(venue_ping(VENUE_OKX, 1, buf, sizeof buf), 4);
  CU_ASSERT_STRING_EQUAL(buf, "ping");
  venue_ping(VENUE_BYBIT, 9, buf, sizeof buf);
  CU_ASSERT_STRING_EQUAL(buf, "{\"req_id\":\"9\",\"op\":\"ping\"}");
  CU_ASSERT_EQUAL(venue_ping(VENUE_DERIBIT, 1, buf, sizeof buf), 0);
  CU_ASSERT_EQUAL(venue_ping(VENUE_BINANCE, 1, buf, sizeof buf), 0); /* a PING frame instead */
  CU_ASSERT(venue_rules(VENUE_BINANCE)->ping_frame);
  venue_heartbeat_answer(VENUE_DERIBIT, 5, buf, sizeof buf);
  CU_ASSERT_STRING_EQUAL(buf,
                         "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"public/test\",\"params\":{}}");
  CU_ASSERT_EQUAL(venue_heartbeat_answer(VENUE_OKX, 5, buf, sizeof buf), 0);
  venue_hello(VENUE_DERIBIT, 1, 3, buf, sizeof buf); /* below Deribit's minimum of 10 s */
  CU_ASSERT_PTR_NOT_NULL(
      strstr(buf, "\"method\":\"public/set_heartbeat\",\"params\":{\"interval\":10}"));
  CU_ASSERT_EQUAL(venue_ping(VENUE_BYBIT, 9, buf, 8), ERR_FULL);
}

static void listing_keys_follow_the_asset_list(void)
{
  char k[VENUE_MAX_KEYS][VENUE_KEY_LEN];
  CU_ASSERT_EQUAL(venue_listing_keys(VENUE_DERIBIT, NULL, k), 3);
  CU_ASSERT_STRING_EQUAL(k[2], "USDC");
  /* altcoin options list under USDC, not under their own coin */
  CU_ASSERT_EQUAL(venue_listing_keys(VENUE_DERIBIT, "BTC, SOL,XRP_USDC", k), 2);
  CU_ASSERT_STRING_EQUAL(k[0], "BTC");
  CU_ASSERT_STRING_EQUAL(k[1], "USDC");
  CU_ASSERT_EQUAL(venue_listing_keys(VENUE_OKX, "BTC,ETH_UM", k), 2);
  CU_ASSERT_STRING_EQUAL(k[0], "BTC-USD");
  CU_ASSERT_STRING_EQUAL(k[1], "ETH-USD_UM");
  CU_ASSERT_EQUAL(venue_listing_keys(VENUE_BYBIT, "BTC_USDT,BTC,ETH", k), 2);
  CU_ASSERT_STRING_EQUAL(k[1], "ETH");
  CU_ASSERT_EQUAL(venue_listing_keys(VENUE_BINANCE, "BTC", k), 1);
}

static void listing_urls_name_each_venues_endpoint(void)
{
  venue_listing_url(VENUE_OKX, "http://h:1", "BTC-USD_UM", NULL, buf, sizeof buf);
  CU_ASSERT_STRING_EQUAL(
      buf, "http://h:1/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD_UM");
  venue_listing_url(VENUE_BYBIT, "http://h:1", "BTC", "a=b&c", buf, sizeof buf);
  CU_ASSERT_STRING_EQUAL(buf, "http://h:1/v5/market/instruments-info?category=option&baseCoin=BTC"
                              "&limit=1000&cursor=a%3Db%26c");
  venue_listing_url(VENUE_BINANCE, "http://h:1", "", NULL, buf, sizeof buf);
  CU_ASSERT_STRING_EQUAL(buf, "http://h:1/eapi/v1/exchangeInfo");
  CU_ASSERT_EQUAL(venue_listing_url(VENUE_DERIBIT, "http://h:1", "BTC", NULL, buf, sizeof buf),
                  ERR_INPUT);
  CU_ASSERT_EQUAL(venue_listing_url(VENUE_BINANCE, "http://h:1", "", NULL, buf, 10), ERR_FULL);
}

static struct listing *load(int v, const char *venue, const char *name)
{
  size_t len = 0;
  struct feeds_stats st = {0};
  char *body = feeds_fixture_read(venue, name, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(body);
  struct listing *l = listing_new(64);
  CU_ASSERT(venue_listing_load(v, l, body, len, NULL, 0, &st) > 0);
  free(body);
  return l;
}

static void okx_topics_add_family_channels_once(void)
{
  struct listing *l = load(VENUE_OKX, "okx", "instruments_reconstructed.json");
  struct venue_topic t[32];
  int over = -1;
  int n = venue_topics(VENUE_OKX, l, NULL, 1700000000000000LL, t, 32, &over);
  CU_ASSERT_EQUAL(over, 0);
  int summary = 0, index = 0, tickers = 0;
  for (int i = 0; i < n; i++) {
    summary += strncmp(t[i].name, "opt-summary:", 12) == 0;
    index += strncmp(t[i].name, "index-tickers:", 14) == 0;
    tickers += strncmp(t[i].name, "tickers:", 8) == 0;
    if (i)
      CU_ASSERT(strcmp(t[i - 1].name, t[i].name) < 0); /* sorted, unique */
  }
  CU_ASSERT(tickers >= 3);
  CU_ASSERT_EQUAL(summary, 2); /* BTC-USD and BTC-USD_UM */
  CU_ASSERT_EQUAL(index, 1);   /* both use the BTC-USD index */
  /* a cap smaller than the set keeps what fits and says how many did not */
  CU_ASSERT_EQUAL(venue_topics(VENUE_OKX, l, NULL, 1700000000000000LL, t, 2, &over), 2);
  CU_ASSERT_EQUAL(over, n - 2);
  listing_free(l);
}

static void topics_leave_out_expired_and_unwanted_instruments(void)
{
  struct listing *l = load(VENUE_DERIBIT, "deribit", "get_instruments_usdc_crafted.json");
  struct venue_topic t[16];
  /* 2024-03-09 (MATIC) has expired at 2025-01-01; 2025-10-10 (SOL) has not */
  int n = venue_topics(VENUE_DERIBIT, l, NULL, 1735689600000000LL, t, 16, NULL);
  CU_ASSERT(n >= 1);
  for (int i = 0; i < n; i++)
    CU_ASSERT_PTR_NULL(strstr(t[i].name, "MATIC"));
  CU_ASSERT_STRING_EQUAL(t[0].name, "ticker.SOL_USDC-10OCT25-230-C.100ms");
  CU_ASSERT_EQUAL(t[0].expiry_us, 1760083200000000LL);
  CU_ASSERT_EQUAL(venue_topics(VENUE_DERIBIT, l, "XRP", 0, t, 16, NULL), 0);
  CU_ASSERT(venue_topics(VENUE_DERIBIT, l, "MATIC", 0, t, 16, NULL) >= 1);
  listing_free(l);
}

static void binance_topics_are_one_stream_per_underlying(void)
{
  struct listing *l = load(VENUE_BINANCE, "binance", "exchange_info_reconstructed.json");
  struct venue_topic t[8];
  int n = venue_topics(VENUE_BINANCE, l, NULL, 0, t, 8, NULL);
  CU_ASSERT(n >= 1);
  CU_ASSERT_STRING_EQUAL(t[0].name, "btcusdt@optionMarkPrice");
  CU_ASSERT_EQUAL(t[0].expiry_us, 0);
  listing_free(l);
}

static void asset_filter_matches_the_asset_or_its_root(void)
{
  CU_ASSERT(venue_asset_wanted(NULL, "BTC"));
  CU_ASSERT(venue_asset_wanted("", "BTC"));
  CU_ASSERT(venue_asset_wanted("ETH,SOL", "SOL_USDC"));
  CU_ASSERT(venue_asset_wanted("BTC_UM", "BTC_UM"));
  CU_ASSERT(!venue_asset_wanted("BTC_UM", "BTC"));
  CU_ASSERT(!venue_asset_wanted("BT", "BTC"));
}

static void backoff_is_capped_jittered_and_seeded(void)
{
  uint64_t a = 42, b = 42;
  for (int attempt = 0; attempt < 40; attempt++) {
    int64_t ceil = 250;
    for (int i = 0; i < attempt && ceil < 30000; i++)
      ceil *= 2;
    if (ceil > 30000)
      ceil = 30000;
    int64_t x = venue_backoff_ms(attempt, 250, 30000, &a);
    CU_ASSERT(x >= 0 && x <= ceil);
    CU_ASSERT_EQUAL(x, venue_backoff_ms(attempt, 250, 30000, &b));
  }
  /* full jitter: draws spread over the whole range, mean near half the cap */
  double sum = 0;
  int64_t lo = 30000, hi = 0;
  for (int i = 0; i < 2000; i++) {
    int64_t x = venue_backoff_ms(20, 250, 30000, &a);
    sum += (double)x;
    lo = x < lo ? x : lo;
    hi = x > hi ? x : hi;
  }
  ASSERT_NEAR(sum / 2000, 15000, 1500);
  CU_ASSERT(lo < 1500 && hi > 28500);
}

int main(void)
{
  const struct test_case cases[] = {
      TEST_CASE(venue_names_map_to_their_rules),
      TEST_CASE(deribit_subscribe_puts_channels_in_one_request),
      TEST_CASE(okx_subscribe_spells_family_and_instrument_args),
      TEST_CASE(bybit_subscribe_takes_at_most_ten_topics),
      TEST_CASE(subscribe_stops_at_the_byte_cap),
      TEST_CASE(binance_subscribes_underlying_streams),
      TEST_CASE(pings_and_heartbeat_answers_are_spelled_per_venue),
      TEST_CASE(listing_keys_follow_the_asset_list),
      TEST_CASE(listing_urls_name_each_venues_endpoint),
      TEST_CASE(okx_topics_add_family_channels_once),
      TEST_CASE(topics_leave_out_expired_and_unwanted_instruments),
      TEST_CASE(binance_topics_are_one_stream_per_underlying),
      TEST_CASE(asset_filter_matches_the_asset_or_its_root),
      TEST_CASE(backoff_is_capped_jittered_and_seeded),
  };
  return test_run("feed_venue", cases, TEST_COUNT(cases));
}

#else
int main(void)
{
  return 77; /* built without libwebsockets/libcurl or cJSON */
}
#endif
