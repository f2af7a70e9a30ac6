/* test_quote: defaults, USD conversion, IV filling on a recorded Deribit
 * ticker (exchanges.md) and the venues' expiry tokens against epoch values
 * computed independently (Python datetime, UTC). */
#include "black.h"
#include "err.h"
#include "quote.h"
#include "testutil.h"

/* 2020-06-05 08:00 UTC and 2024-12-27 08:00 UTC, 2024-12-17 08:00 UTC. */
#define JUN5_2020_US 1591344000000000LL
#define DEC27_2024_US 1735286400000000LL
#define DEC17_2024_US 1734422400000000LL

/* BTC-5JUN20-9250-C at 1590969652595 ms: bid 0.0365 (bid_iv 58.39), ask 0.04
 * (ask_iv 66.9), mark 0.03847784 (mark_iv 63.21), underlying 9440.73. */
static void deribit_ticker(struct quote *q)
{
  quote_init(q);
  strcpy(q->venue, "deribit");
  strcpy(q->symbol, "BTC-5JUN20-9250-C");
  q->kind = QUOTE_CALL;
  q->premium_in_coin = 1;
  q->strike = 9250;
  q->expiry_us = JUN5_2020_US;
  q->ts_us = 1590969652595000LL;
  q->bid_price = 0.0365;
  q->ask_price = 0.04;
  q->mark_price = 0.03847784;
  q->underlying_price = 9440.73;
}

static void init_sets_numbers_to_nan_and_strings_empty(void)
{
  struct quote q;
  memset(&q, 0x5a, sizeof q);
  quote_init(&q);
  CU_ASSERT(isnan(q.strike) && isnan(q.bid_price) && isnan(q.ask_price) && isnan(q.mark_price));
  CU_ASSERT(isnan(q.last_price) && isnan(q.bid_amount) && isnan(q.ask_amount));
  CU_ASSERT(isnan(q.bid_iv) && isnan(q.ask_iv) && isnan(q.mark_iv));
  CU_ASSERT(isnan(q.underlying_price) && isnan(q.index_price) && isnan(q.open_interest));
  CU_ASSERT(isnan(q.delta));
  CU_ASSERT(q.venue[0] == 0 && q.asset[0] == 0 && q.symbol[0] == 0 && q.underlying_index[0] == 0);
  CU_ASSERT(q.expiry_us == 0 && q.ts_us == 0 && q.local_ts_us == 0);
}

static void coin_prices_convert_to_usd_and_usd_prices_stay(void)
{
  struct quote q;
  deribit_ticker(&q);
  ASSERT_REL(quote_price_usd(&q, 0.03847784), 0.03847784 * 9440.73, 1e-15);
  CU_ASSERT(isnan(quote_price_usd(&q, NAN)));
  q.premium_in_coin = 0;
  ASSERT_NEAR(quote_price_usd(&q, 363.25), 363.25, 0);
}

static void fill_iv_recovers_the_venue_ivs_from_coin_prices(void)
{
  struct quote q;
  deribit_ticker(&q);
  CU_ASSERT_EQUAL(quote_fill_iv(&q), 3);
  /* Venue IVs are shown to 0.01% and computed on Deribit's own clock; the
   * bid/ask prices are tick-rounded, so 5e-4 there, 5e-5 for the mark. */
  ASSERT_NEAR(q.mark_iv, 0.6321, 5e-5);
  ASSERT_NEAR(q.bid_iv, 0.5839, 5e-4);
  ASSERT_NEAR(q.ask_iv, 0.669, 5e-4);
}

static void fill_iv_leaves_present_ivs_alone(void)
{
  struct quote q;
  deribit_ticker(&q);
  q.mark_iv = 0.7;
  q.ask_price = NAN; /* no ask: stays NaN, not 0 */
  CU_ASSERT_EQUAL(quote_fill_iv(&q), 1);
  ASSERT_NEAR(q.mark_iv, 0.7, 0);
  CU_ASSERT(isnan(q.ask_iv));
  CU_ASSERT(isfinite(q.bid_iv));
  CU_ASSERT_EQUAL(quote_fill_iv(&q), 0);
}

static void fill_iv_uses_act365_time_and_usd_prices(void)
{
  struct quote q;
  quote_init(&q);
  q.kind = QUOTE_PUT;
  q.strike = 60000;
  q.underlying_price = 65000;
  q.ts_us = DEC17_2024_US;
  q.expiry_us = DEC27_2024_US; /* 10 days */
  double T = 10.0 / 365.0;
  q.mark_price = black_price(65000, 60000, 0.55, T, BLACK_PUT);
  CU_ASSERT_EQUAL(quote_fill_iv(&q), 1);
  ASSERT_REL(q.mark_iv, 0.55, 1e-12);
}

static void fill_iv_skips_expired_quotes_and_prices_below_intrinsic(void)
{
  struct quote q;
  deribit_ticker(&q);
  q.ts_us = q.expiry_us; /* T = 0 */
  CU_ASSERT_EQUAL(quote_fill_iv(&q), 0);
  deribit_ticker(&q);
  q.bid_price = 0.01; /* intrinsic is (9440.73 - 9250)/9440.73 = 0.0202 */
  CU_ASSERT_EQUAL(quote_fill_iv(&q), 2);
  CU_ASSERT(isnan(q.bid_iv));
}

static void asset_is_the_text_before_the_first_dash(void)
{
  char a[QUOTE_ASSET_LEN];
  quote_asset_from_symbol("BTC-5JUN20-9250-C", a, sizeof a);
  CU_ASSERT_STRING_EQUAL(a, "BTC");
  quote_asset_from_symbol("SOL_USDC-10OCT25-230-C", a, sizeof a);
  CU_ASSERT_STRING_EQUAL(a, "SOL_USDC");
  quote_asset_from_symbol("NODASH", a, sizeof a);
  CU_ASSERT_STRING_EQUAL(a, "NODASH");
  quote_asset_from_symbol("VERYLONGASSETNAME-1", a, 5); /* truncated to cap - 1 */
  CU_ASSERT_STRING_EQUAL(a, "VERY");
  quote_asset_from_symbol(NULL, a, sizeof a);
  CU_ASSERT_STRING_EQUAL(a, "");
}

static void expiry_tokens_of_all_four_venues_parse_to_0800_utc(void)
{
  int64_t us = 0;
  CU_ASSERT_EQUAL(quote_parse_expiry("5JUN20", 6, &us), 0);
  CU_ASSERT_EQUAL(us, JUN5_2020_US);
  CU_ASSERT_EQUAL(quote_parse_expiry("27DEC24", 7, &us), 0);
  CU_ASSERT_EQUAL(us, DEC27_2024_US);
  CU_ASSERT_EQUAL(quote_parse_expiry("200605", 6, &us), 0);
  CU_ASSERT_EQUAL(us, JUN5_2020_US);
  CU_ASSERT_EQUAL(quote_parse_expiry("241217", 6, &us), 0);
  CU_ASSERT_EQUAL(us, DEC17_2024_US);
  /* The token is length-delimited inside a symbol. */
  CU_ASSERT_EQUAL(quote_parse_expiry("27DEC24-100000-C", 7, &us), 0);
  CU_ASSERT_EQUAL(us, DEC27_2024_US);
  /* 29 Feb 2024 08:00 UTC = 1709193600 s. */
  CU_ASSERT_EQUAL(quote_parse_expiry("29FEB24", 7, &us), 0);
  CU_ASSERT_EQUAL(us, 1709193600000000LL);
}

static void malformed_expiry_tokens_are_rejected(void)
{
  int64_t us = 42;
  CU_ASSERT_EQUAL(quote_parse_expiry("5JUX20", 6, &us), ERR_PARSE);
  CU_ASSERT_EQUAL(quote_parse_expiry("31JUN20", 7, &us), ERR_PARSE);
  CU_ASSERT_EQUAL(quote_parse_expiry("29FEB23", 7, &us), ERR_PARSE);
  CU_ASSERT_EQUAL(quote_parse_expiry("201305", 6, &us), ERR_PARSE);
  CU_ASSERT_EQUAL(quote_parse_expiry("200600", 6, &us), ERR_PARSE);
  CU_ASSERT_EQUAL(quote_parse_expiry("JUN20", 5, &us), ERR_PARSE);
  CU_ASSERT_EQUAL(quote_parse_expiry("", 0, &us), ERR_PARSE);
  CU_ASSERT_EQUAL(quote_parse_expiry(NULL, 6, &us), ERR_PARSE);
  CU_ASSERT_EQUAL(us, 42);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(init_sets_numbers_to_nan_and_strings_empty),
      TEST_CASE(coin_prices_convert_to_usd_and_usd_prices_stay),
      TEST_CASE(fill_iv_recovers_the_venue_ivs_from_coin_prices),
      TEST_CASE(fill_iv_leaves_present_ivs_alone),
      TEST_CASE(fill_iv_uses_act365_time_and_usd_prices),
      TEST_CASE(fill_iv_skips_expired_quotes_and_prices_below_intrinsic),
      TEST_CASE(asset_is_the_text_before_the_first_dash),
      TEST_CASE(expiry_tokens_of_all_four_venues_parse_to_0800_utc),
      TEST_CASE(malformed_expiry_tokens_are_rejected),
  };
  return test_run("quote", cases, TEST_COUNT(cases));
}
