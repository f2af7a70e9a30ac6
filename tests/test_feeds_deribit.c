/* test_feeds_deribit: the Deribit normalizer and listing on the recorded
 * and documented payloads in tests/fixtures/deribit/ (provenance in
 * tests/fixtures/README.md): percent IVs to fractions, the 0 / 500 / null
 * sentinels, inverse vs USDC premiums, decimal strikes, expiry from the
 * listing or the symbol, heartbeat and response classification, bad input
 * counted by reason, and the per-thread parse arena (norm.h). */
#ifdef VOLSURF_HAVE_CJSON

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "deribit.h"
#include "err.h"
#include "listing.h"
#include "norm.h"
#define FEEDS_TEST_VENUE "deribit"
#include "feeds_testutil.h"
#include "testutil.h"

#define LOCAL_TS 1700000000000000LL

/* Parses one fixture as a websocket message into the shared batch. */
static int parse_fixture(const struct listing *l, const char *name)
{
  size_t len;
  char *msg = fixture(name, &len);
  int n = deribit_parse(l, msg, len, LOCAL_TS, &batch, &stats);
  free(msg);
  return n;
}

static int load_listing(struct listing *l, const char *name)
{
  size_t len;
  char *body = fixture(name, &len);
  int n = listing_add_deribit(l, body, len, &stats);
  free(body);
  return n;
}

static void reset(void)
{
  feeds_test_reset();
}

static void btc_ticker_becomes_one_coin_quote_with_fractional_ivs(void)
{
  reset();
  CU_ASSERT_EQUAL(parse_fixture(NULL, "ticker_btc_5jun20_9250_c.json"), 1);
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_DATA);
  const struct quote *q = &quotes[0];
  CU_ASSERT_STRING_EQUAL(q->venue, "deribit");
  CU_ASSERT_STRING_EQUAL(q->asset, "BTC");
  CU_ASSERT_STRING_EQUAL(q->symbol, "BTC-5JUN20-9250-C");
  CU_ASSERT_EQUAL(q->kind, QUOTE_CALL);
  CU_ASSERT_EQUAL(q->premium_in_coin, 1);
  ASSERT_NEAR(q->strike, 9250.0, 0.0);
  CU_ASSERT_EQUAL(q->ts_us, 1590969652595000LL);
  CU_ASSERT_EQUAL(q->local_ts_us, LOCAL_TS);
  ASSERT_NEAR(q->bid_price, 0.0365, 1e-15);
  ASSERT_NEAR(q->ask_price, 0.04, 1e-15);
  ASSERT_NEAR(q->bid_amount, 15.4, 1e-12);
  ASSERT_NEAR(q->ask_amount, 4.8, 1e-12);
  ASSERT_NEAR(q->mark_price, 0.03847784, 1e-15);
  ASSERT_NEAR(q->last_price, 0.038, 1e-15);
  ASSERT_NEAR(q->bid_iv, 0.5839, 1e-12);
  ASSERT_NEAR(q->ask_iv, 0.669, 1e-12);
  ASSERT_NEAR(q->mark_iv, 0.6321, 1e-12);
  ASSERT_NEAR(q->open_interest, 533.2, 1e-12);
  ASSERT_NEAR(q->delta, 0.62959, 1e-12);
  CU_ASSERT_STRING_EQUAL(q->underlying_index, "SYN.BTC-5JUN20");
}

static void btc_ticker_keeps_the_synthetic_forward_apart_from_the_index(void)
{
  reset();
  parse_fixture(NULL, "ticker_btc_5jun20_9250_c.json");
  ASSERT_NEAR(quotes[0].underlying_price, 9440.73, 1e-9);
  ASSERT_NEAR(quotes[0].index_price, 9434.36, 1e-9);
}

static void unlisted_instrument_takes_0800_utc_from_the_symbol_and_is_flagged(void)
{
  reset();
  parse_fixture(NULL, "ticker_btc_5jun20_9250_c.json");
  CU_ASSERT_EQUAL(quotes[0].expiry_us, 1591344000000000LL); /* 2020-06-05 08:00 UTC */
  CU_ASSERT_EQUAL(qflags[0], FEEDS_QF_EXPIRY_FROM_SYMBOL);
  CU_ASSERT_EQUAL(stats.n_expiry_from_symbol, 1);
}

static void usdc_ticker_has_decimal_strike_usdc_premium_and_empty_book_as_nan(void)
{
  reset();
  CU_ASSERT_EQUAL(parse_fixture(NULL, "ticker_matic_usdc_9mar24_1d02_c.json"), 1);
  const struct quote *q = &quotes[0];
  CU_ASSERT_STRING_EQUAL(q->asset, "MATIC_USDC");
  ASSERT_NEAR(q->strike, 1.02, 1e-15);
  CU_ASSERT_EQUAL(q->premium_in_coin, 0);
  CU_ASSERT_EQUAL(q->expiry_us, 1709971200000000LL); /* 2024-03-09 08:00 UTC */
  CU_ASSERT(isnan(q->bid_price) && isnan(q->ask_price));
  CU_ASSERT(isnan(q->bid_amount) && isnan(q->ask_amount));
  CU_ASSERT(isnan(q->bid_iv) && isnan(q->ask_iv));
  CU_ASSERT(isnan(q->last_price)); /* last_price: null */
  ASSERT_NEAR(q->mark_iv, 2.0964, 1e-12);
  ASSERT_NEAR(q->mark_price, 0.139, 1e-15);
  ASSERT_NEAR(q->open_interest, 0.0, 0.0); /* a reported zero is a value */
  CU_ASSERT_STRING_EQUAL(q->underlying_index, "index_price");
  ASSERT_NEAR(q->underlying_price, 1.1367, 1e-15);
  ASSERT_NEAR(q->index_price, 1.1367, 1e-15);
}

static void closed_expired_ticker_is_skipped_and_counted(void)
{
  reset();
  CU_ASSERT_EQUAL(parse_fixture(NULL, "ticker_btc_8jun20_8750_p_closed_crafted.json"), 0);
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_DATA);
  CU_ASSERT_EQUAL(batch.n_rows_bad, 1);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_CLOSED], 1);
  CU_ASSERT_EQUAL(stats.n_quotes, 0);
}

static void expired_string_null_last_and_ask_iv_500_do_not_break_parsing(void)
{
  reset();
  CU_ASSERT_EQUAL(parse_fixture(NULL, "ticker_expired_string_ask_iv_500_crafted.json"), 1);
  const struct quote *q = &quotes[0];
  CU_ASSERT(isnan(q->ask_iv)); /* 500 = Deribit's "no ask" cap */
  CU_ASSERT(isnan(q->ask_price));
  CU_ASSERT(isnan(q->last_price));
  ASSERT_NEAR(q->bid_iv, 0.5839, 1e-12);
  ASSERT_NEAR(q->bid_price, 0.0365, 1e-15);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_FIELD], 0);
}

static void listing_loads_official_2026_and_usdc_instruments(void)
{
  reset();
  struct listing *l = listing_new(64);
  CU_ASSERT_EQUAL(load_listing(l, "get_instrument_official.json"), 1);
  CU_ASSERT_EQUAL(load_listing(l, "get_instruments_btc_2026.json"), 1);
  /* Two options kept, one future ignored, one non-numeric strike counted. */
  CU_ASSERT_EQUAL(load_listing(l, "get_instruments_usdc_crafted.json"), 2);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_FIELD], 1);
  CU_ASSERT_EQUAL(l->n, 4);
  CU_ASSERT_EQUAL(l->n_expiry_not_0800, 0);

  const struct listing_entry *e = listing_find(l, "BTC-23MAY26-68000-C");
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->expiry_us, 1779523200000000LL);
  CU_ASSERT_EQUAL(e->kind, QUOTE_CALL);
  CU_ASSERT_EQUAL(e->premium_in_coin, 1); /* instrument_type reversed */
  ASSERT_NEAR(e->strike, 68000.0, 0.0);
  e = listing_find(l, "BTC-13JAN23-16000-P");
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->expiry_us, 1673596800000000LL);
  CU_ASSERT_EQUAL(e->kind, QUOTE_PUT);
  CU_ASSERT_EQUAL(e->premium_in_coin, 1); /* no instrument_type: BTC quoted in BTC */
  e = listing_find(l, "MATIC_USDC-9MAR24-1d02-C");
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  ASSERT_NEAR(e->strike, 1.02, 1e-15);
  CU_ASSERT_EQUAL(e->premium_in_coin, 0);
  CU_ASSERT_STRING_EQUAL(e->asset, "MATIC_USDC");
  CU_ASSERT_PTR_NULL(listing_find(l, "SOL_USDC-10OCT25-PERP"));
  listing_free(l);
}

static void listed_instrument_takes_its_expiry_from_the_listing_unflagged(void)
{
  reset();
  struct listing *l = listing_new(64);
  load_listing(l, "get_instruments_usdc_crafted.json");
  CU_ASSERT_EQUAL(parse_fixture(l, "ticker_matic_usdc_9mar24_1d02_c.json"), 1);
  CU_ASSERT_EQUAL(quotes[0].expiry_us, 1709971200000000LL);
  CU_ASSERT_EQUAL(qflags[0], 0);
  CU_ASSERT_EQUAL(stats.n_expiry_from_symbol, 0);
  listing_free(l);
}

static void listing_reload_replaces_rather_than_duplicates(void)
{
  reset();
  struct listing *l = listing_new(4);
  load_listing(l, "get_instruments_usdc_crafted.json");
  load_listing(l, "get_instruments_usdc_crafted.json");
  load_listing(l, "get_instruments_usdc_crafted.json");
  CU_ASSERT_EQUAL(l->n, 2);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_FULL], 0);
  listing_free(l);
}

static void book_summary_row_has_null_bid_as_nan_and_index_as_underlying(void)
{
  reset();
  size_t len;
  char *msg = fixture("book_summary_btc_2026.json", &len);
  CU_ASSERT_EQUAL(deribit_parse_book_summary(NULL, msg, len, LOCAL_TS, &batch, &stats), 1);
  free(msg);
  const struct quote *q = &quotes[0];
  CU_ASSERT_EQUAL(q->kind, QUOTE_PUT);
  ASSERT_NEAR(q->strike, 69000.0, 0.0);
  CU_ASSERT_EQUAL(q->expiry_us, 1779523200000000LL);
  CU_ASSERT_EQUAL(q->premium_in_coin, 1);
  CU_ASSERT_EQUAL(q->ts_us, 1779460433267000LL);
  CU_ASSERT(isnan(q->bid_price));
  ASSERT_NEAR(q->ask_price, 0.0001, 1e-18);
  ASSERT_NEAR(q->mark_price, 1.3e-07, 1e-20);
  ASSERT_NEAR(q->last_price, 0.0005, 1e-18);
  ASSERT_NEAR(q->mark_iv, 0.586, 1e-12);
  CU_ASSERT(isnan(q->bid_iv) && isnan(q->ask_iv) && isnan(q->delta));
  ASSERT_NEAR(q->underlying_price, 76736.07, 1e-9);
  ASSERT_NEAR(q->index_price, 76736.07, 1e-9);
}

static void official_book_summary_quoted_in_usd_is_not_a_coin_premium(void)
{
  reset();
  size_t len;
  char *msg = fixture("book_summary_official.json", &len);
  CU_ASSERT_EQUAL(deribit_parse_book_summary(NULL, msg, len, LOCAL_TS, &batch, &stats), 1);
  free(msg);
  CU_ASSERT_EQUAL(quotes[0].premium_in_coin, 0);
  CU_ASSERT_EQUAL(quotes[0].expiry_us, 1550822400000000LL); /* 2019-02-22 08:00 */
  ASSERT_NEAR(quotes[0].bid_price, 0.1488, 1e-15);
  ASSERT_NEAR(quotes[0].mark_price, 80.0, 0.0);
  CU_ASSERT(isnan(quotes[0].mark_iv));
}

static void heartbeat_test_request_asks_the_connector_for_public_test(void)
{
  reset();
  parse_fixture(NULL, "heartbeat_test_request.json");
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_TEST_REQUEST);
  parse_fixture(NULL, "heartbeat_crafted.json");
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_HEARTBEAT);
  CU_ASSERT_EQUAL(stats.n_heartbeats, 2);
  CU_ASSERT_EQUAL(stats.n_quotes, 0);
}

static void subscribe_response_is_an_ack_with_its_id(void)
{
  reset();
  parse_fixture(NULL, "subscribe_response.json");
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_ACK);
  CU_ASSERT_EQUAL(batch.id, 42);
  CU_ASSERT_EQUAL(stats.n_acks, 1);
}

static void rate_limit_error_is_reported_with_its_code(void)
{
  reset();
  parse_fixture(NULL, "error_too_many_requests_crafted.json");
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_ERROR);
  CU_ASSERT_EQUAL(batch.error_code, 10028);
  CU_ASSERT_EQUAL(batch.id, 43);
  CU_ASSERT_EQUAL(stats.n_venue_errors, 1);
}

static void bad_messages_are_counted_by_reason(void)
{
  reset();
  CU_ASSERT_EQUAL(parse_fixture(NULL, "bad_truncated.json"), 0);
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_JSON);
  CU_ASSERT_EQUAL(parse_fixture(NULL, "bad_wrong_types.json"), 0);
  CU_ASSERT_EQUAL(parse_fixture(NULL, "bad_missing_instrument.json"), 0);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_FIELD], 2);
  CU_ASSERT_EQUAL(parse_fixture(NULL, "bad_symbol.json"), 0);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_SYMBOL], 1);
  CU_ASSERT_EQUAL(parse_fixture(NULL, "price_index_crafted.json"), 0);
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_UNKNOWN);
  const char *huge_id = "{\"jsonrpc\":\"2.0\",\"id\":1e300,\"error\":{\"code\":-1e300}}";
  deribit_parse(NULL, huge_id, strlen(huge_id), LOCAL_TS, &batch, &stats);
  CU_ASSERT_EQUAL(batch.msg, FEEDS_MSG_ERROR); /* a venue error, with no usable id/code */
  CU_ASSERT_EQUAL(batch.id, -1);
  CU_ASSERT_EQUAL(batch.error_code, 0);
  deribit_parse(NULL, "[]", 2, LOCAL_TS, &batch, &stats);
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_SHAPE);
  deribit_parse(NULL, "", 0, LOCAL_TS, &batch, &stats);
  deribit_parse(NULL, NULL, 0, LOCAL_TS, &batch, &stats);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_JSON], 3);
  CU_ASSERT_EQUAL(stats.n_messages, 9);
  CU_ASSERT_EQUAL(stats.n_quotes, 0);
  CU_ASSERT_STRING_EQUAL(feeds_reject_name(FEEDS_REJ_SYMBOL), "symbol");
}

static void message_over_one_mib_is_rejected_unparsed(void)
{
  reset();
  size_t len = FEEDS_MSG_MAX + 1;
  char *big = malloc(len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(big);
  memset(big, ' ', len);
  big[0] = '{';
  big[len - 1] = '}';
  CU_ASSERT_EQUAL(deribit_parse(NULL, big, len, LOCAL_TS, &batch, &stats), 0);
  CU_ASSERT_EQUAL(batch.reject, FEEDS_REJ_TOO_BIG);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_TOO_BIG], 1);
  free(big);
  len = LISTING_BODY_MAX + 1;
  big = malloc(len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(big);
  memset(big, ' ', len);
  struct listing *l = listing_new(4);
  CU_ASSERT_EQUAL(listing_add_deribit(l, big, len, &stats), ERR_PARSE);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_TOO_BIG], 2);
  listing_free(l);
  free(big);
}

static void full_batch_drops_the_row_and_counts_it(void)
{
  reset();
  feeds_batch_init(&batch, quotes, NULL, 0);
  CU_ASSERT_EQUAL(parse_fixture(NULL, "ticker_btc_5jun20_9250_c.json"), 0);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_FULL], 1);
}

/* The suite's parser as feeds_testutil's fuzz drivers call it. */
static int parse_msg(const char *msg, size_t len)
{
  return deribit_parse(NULL, msg, len, LOCAL_TS, &batch, &stats);
}

static void every_prefix_of_a_ticker_is_handled_without_a_crash(void)
{
  reset();
  /* the complete message (and only trailing-space cuts) parse */
  CU_ASSERT(feeds_fuzz_prefixes("ticker_btc_5jun20_9250_c.json", parse_msg) >= 1);
}

static void every_one_byte_change_of_a_ticker_is_handled_without_a_crash(void)
{
  reset();
  feeds_fuzz_one_byte("ticker_btc_5jun20_9250_c.json", parse_msg);
}

/* The book summary fixture with its one row repeated n times. */
static char *book_summary_rows(int n, size_t *len)
{
  size_t flen;
  char *f = fixture("book_summary_btc_2026.json", &flen);
  char *a = strchr(f, '['), *z = strrchr(f, ']');
  size_t row = (size_t)(z - a - 1), head = (size_t)(a - f + 1);
  char *out = malloc(head + (size_t)n * (row + 1) + 8);
  memcpy(out, f, head);
  size_t k = head;
  for (int i = 0; i < n; i++) {
    if (i)
      out[k++] = ',';
    memcpy(out + k, a + 1, row);
    k += row;
  }
  k += (size_t)sprintf(out + k, "]}");
  free(f);
  *len = k;
  return out;
}

#define ARENA_ROUNDS 2000

struct arena_run {
  const char *msg;
  size_t len;
  struct quote want;
  int bad;
};

static void *parse_rounds(void *arg)
{
  struct arena_run *r = arg;
  struct quote q[2];
  unsigned fl[2];
  struct feeds_batch b;
  struct feeds_stats st;
  memset(&st, 0, sizeof(st));
  feeds_batch_init(&b, q, fl, 2);
  for (int i = 0; i < ARENA_ROUNDS; i++)
    r->bad += deribit_parse(NULL, r->msg, r->len, LOCAL_TS, &b, &st) != 1 ||
              memcmp(&q[0], &r->want, sizeof(q[0])) != 0;
  return NULL;
}

static void the_parse_arena_spills_past_its_size_and_is_one_per_thread(void)
{
  reset();
  size_t tlen;
  char *ticker = fixture("ticker_btc_5jun20_9250_c.json", &tlen);
  CU_ASSERT_EQUAL_FATAL(deribit_parse(NULL, ticker, tlen, LOCAL_TS, &batch, &stats), 1);
  struct quote first = quotes[0];
  /* ~700 kB of rows: a tree several times the arena, the rest from malloc
   * (freed with free(); ASan and LSan watch this in the asan build). */
  size_t blen;
  char *big = book_summary_rows(1000, &blen);
  CU_ASSERT(blen < FEEDS_MSG_MAX);
  reset();
  CU_ASSERT_EQUAL(deribit_parse_book_summary(NULL, big, blen, LOCAL_TS, &batch, &stats), 8);
  CU_ASSERT_EQUAL(stats.n_rejected[FEEDS_REJ_FULL], 992);
  free(big);
  /* The arena is reused from its start: the same quote again. */
  reset();
  CU_ASSERT_EQUAL(deribit_parse(NULL, ticker, tlen, LOCAL_TS, &batch, &stats), 1);
  CU_ASSERT_EQUAL(memcmp(&quotes[0], &first, sizeof(first)), 0);
  /* A tree parsed while another is alive leaves the first one intact. */
  struct feeds_batch b2;
  struct quote q2[1];
  unsigned f2[1];
  feeds_batch_init(&b2, q2, f2, 1);
  cJSON *outer = norm_json_parse(ticker, tlen, FEEDS_MSG_MAX, &b2, &stats);
  CU_ASSERT_PTR_NOT_NULL_FATAL(outer);
  char *before = cJSON_PrintUnformatted(outer);
  reset();
  CU_ASSERT_EQUAL(deribit_parse(NULL, ticker, tlen, LOCAL_TS, &batch, &stats), 1);
  char *after = cJSON_PrintUnformatted(outer);
  CU_ASSERT_STRING_EQUAL(after, before);
  free(before);
  free(after);
  norm_json_free(outer);
  /* cJSON used outside a parse takes malloc and gives back with free. */
  cJSON *o = cJSON_Parse("{\"a\":[1,2,3],\"b\":\"text\"}");
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "a")), 3);
  cJSON_Delete(o);
  /* Two threads parsing at once, each in its own arena. */
  struct arena_run r[2] = {{ticker, tlen, first, 0}, {ticker, tlen, first, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, parse_rounds, &r[i]);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  CU_ASSERT_EQUAL(r[0].bad + r[1].bad, 0);
  free(ticker);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(btc_ticker_becomes_one_coin_quote_with_fractional_ivs),
      TEST_CASE(btc_ticker_keeps_the_synthetic_forward_apart_from_the_index),
      TEST_CASE(unlisted_instrument_takes_0800_utc_from_the_symbol_and_is_flagged),
      TEST_CASE(usdc_ticker_has_decimal_strike_usdc_premium_and_empty_book_as_nan),
      TEST_CASE(closed_expired_ticker_is_skipped_and_counted),
      TEST_CASE(expired_string_null_last_and_ask_iv_500_do_not_break_parsing),
      TEST_CASE(listing_loads_official_2026_and_usdc_instruments),
      TEST_CASE(listed_instrument_takes_its_expiry_from_the_listing_unflagged),
      TEST_CASE(listing_reload_replaces_rather_than_duplicates),
      TEST_CASE(book_summary_row_has_null_bid_as_nan_and_index_as_underlying),
      TEST_CASE(official_book_summary_quoted_in_usd_is_not_a_coin_premium),
      TEST_CASE(heartbeat_test_request_asks_the_connector_for_public_test),
      TEST_CASE(subscribe_response_is_an_ack_with_its_id),
      TEST_CASE(rate_limit_error_is_reported_with_its_code),
      TEST_CASE(bad_messages_are_counted_by_reason),
      TEST_CASE(message_over_one_mib_is_rejected_unparsed),
      TEST_CASE(full_batch_drops_the_row_and_counts_it),
      TEST_CASE(every_prefix_of_a_ticker_is_handled_without_a_crash),
      TEST_CASE(every_one_byte_change_of_a_ticker_is_handled_without_a_crash),
      TEST_CASE(the_parse_arena_spills_past_its_size_and_is_one_per_thread),
  };
  return test_run("feeds_deribit", cases, TEST_COUNT(cases));
}

#else /* built without cJSON: feeds/ (volsurf_feeds) is skipped, so is this suite */
#include "testutil.h"

int main(void)
{
  return TEST_SKIP;
}
#endif
