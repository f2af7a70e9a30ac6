/* test_book: the (venue, symbol) table (replace, cap, expiry) and grouping
 * into slices sorted by venue, asset, expiry. */
#include <stdint.h>

#include "book.h"
#include "err.h"
#include "testutil.h"

#define AS_OF 1700000000000000LL
#define DAY_US 86400000000LL

static struct quote mk(const char *venue, const char *asset, int days, double K, int kind)
{
  struct quote q;
  quote_init(&q);
  snprintf(q.venue, sizeof(q.venue), "%s", venue);
  snprintf(q.asset, sizeof(q.asset), "%s", asset);
  snprintf(q.symbol, sizeof(q.symbol), "%s-%dD-%g-%c", asset, days, K,
           kind == QUOTE_CALL ? 'C' : 'P');
  q.kind = kind;
  q.strike = K;
  q.expiry_us = AS_OF + days * DAY_US;
  q.ts_us = AS_OF;
  q.underlying_price = 100.0;
  q.bid_iv = 0.49;
  q.ask_iv = 0.51;
  q.mark_iv = 0.5;
  return q;
}

static void put_replaces_the_quote_of_the_same_symbol(void)
{
  struct book *b = book_new(8);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  struct quote q = mk("deribit", "BTC", 30, 100, QUOTE_CALL);
  CU_ASSERT_EQUAL(book_put(b, &q), 0);
  q.bid_iv = 0.45;
  CU_ASSERT_EQUAL(book_put(b, &q), 0);
  CU_ASSERT_EQUAL(book_size(b), 1);
  /* Same symbol on another venue is another instrument. */
  struct quote o = q;
  strcpy(o.venue, "okx");
  CU_ASSERT_EQUAL(book_put(b, &o), 0);
  CU_ASSERT_EQUAL(book_size(b), 2);
  static struct slice s[4];
  CU_ASSERT_EQUAL(book_slices(b, AS_OF, NULL, s, 4, NULL), 2);
  CU_ASSERT(s[0].iv_bid[0] == 0.45);
  book_free(b);
}

static void puts_beyond_the_cap_are_refused_and_counted(void)
{
  struct book *b = book_new(3);
  for (int i = 0; i < 5; i++) {
    struct quote q = mk("deribit", "BTC", 30, 100 + i, QUOTE_CALL);
    CU_ASSERT_EQUAL(book_put(b, &q), i < 3 ? 0 : ERR_FULL);
  }
  CU_ASSERT_EQUAL(book_size(b), 3);
  CU_ASSERT_EQUAL(book_n_refused(b), 2);
  /* Replacing a known instrument still works at the cap. */
  struct quote q = mk("deribit", "BTC", 30, 101, QUOTE_CALL);
  CU_ASSERT_EQUAL(book_put(b, &q), 0);
  CU_ASSERT_EQUAL(book_n_refused(b), 2);
  struct quote empty = q;
  empty.symbol[0] = '\0';
  CU_ASSERT_EQUAL(book_put(b, &empty), ERR_INPUT);
  book_free(b);
  CU_ASSERT_PTR_NULL(book_new(0));
}

static void slices_are_grouped_and_sorted_by_venue_asset_expiry(void)
{
  struct book *b = book_new(64);
  /* Inserted out of order on purpose. */
  static const struct {
    const char *venue, *asset;
    int days;
  } g[] = {{"okx", "BTC", 7},     {"deribit", "ETH", 30}, {"deribit", "BTC", 30},
           {"deribit", "BTC", 7}, {"okx", "BTC", 1},      {"bybit", "SOL", 14}};
  for (int k = 0; k < 3; k++)
    for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
      struct quote q = mk(g[i].venue, g[i].asset, g[i].days, 95 + 5 * k, QUOTE_CALL);
      CU_ASSERT_EQUAL(book_put(b, &q), 0);
    }
  CU_ASSERT_EQUAL(book_size(b), 18);
  CU_ASSERT_EQUAL(book_n_groups(b, AS_OF), 6);
  static struct slice s[8];
  int failed = -1;
  CU_ASSERT_EQUAL_FATAL(book_slices(b, AS_OF, NULL, s, 8, &failed), 6);
  CU_ASSERT_EQUAL(failed, 0);
  static const char *venue[] = {"bybit", "deribit", "deribit", "deribit", "okx", "okx"};
  static const char *asset[] = {"SOL", "BTC", "BTC", "ETH", "BTC", "BTC"};
  static const int days[] = {14, 7, 30, 30, 1, 7};
  for (int i = 0; i < 6; i++) {
    CU_ASSERT_STRING_EQUAL(s[i].venue, venue[i]);
    CU_ASSERT_STRING_EQUAL(s[i].asset, asset[i]);
    CU_ASSERT_EQUAL(s[i].expiry_us, AS_OF + days[i] * DAY_US);
    CU_ASSERT_EQUAL(s[i].n_quotes, 3);
    CU_ASSERT_EQUAL(s[i].n, 3);
  }
  /* max_out caps the output; the lookup still works after the sort. */
  CU_ASSERT_EQUAL(book_slices(b, AS_OF, NULL, s, 2, NULL), 2);
  struct quote q = mk("okx", "BTC", 7, 100, QUOTE_CALL);
  CU_ASSERT_EQUAL(book_put(b, &q), 0);
  CU_ASSERT_EQUAL(book_size(b), 18);
  book_free(b);
}

static void groups_without_a_forward_are_counted_as_failed(void)
{
  struct book *b = book_new(8);
  struct quote q = mk("deribit", "BTC", 30, 100, QUOTE_CALL);
  CU_ASSERT_EQUAL(book_put(b, &q), 0);
  q = mk("deribit", "ETH", 30, 100, QUOTE_CALL);
  q.underlying_price = NAN;
  CU_ASSERT_EQUAL(book_put(b, &q), 0);
  static struct slice s[4];
  int failed = 0;
  CU_ASSERT_EQUAL(book_slices(b, AS_OF, NULL, s, 4, &failed), 1);
  CU_ASSERT_EQUAL(failed, 1);
  CU_ASSERT_STRING_EQUAL(s[0].asset, "BTC");
  book_free(b);
}

static void expire_drops_expired_instruments_and_keeps_the_rest(void)
{
  struct book *b = book_new(16);
  for (int i = 0; i < 4; i++) {
    struct quote q1 = mk("deribit", "BTC", 1, 100 + i, QUOTE_CALL);
    struct quote q7 = mk("deribit", "BTC", 7, 100 + i, QUOTE_CALL);
    book_put(b, &q1);
    book_put(b, &q7);
  }
  CU_ASSERT_EQUAL(book_n_groups(b, AS_OF), 2);
  /* Groups at or before as_of are not offered to slice_build. */
  CU_ASSERT_EQUAL(book_n_groups(b, AS_OF + DAY_US), 1);
  CU_ASSERT_EQUAL(book_expire(b, AS_OF + DAY_US), 4);
  CU_ASSERT_EQUAL(book_size(b), 4);
  CU_ASSERT_EQUAL(book_expire(b, AS_OF + DAY_US), 0);
  struct quote q = mk("deribit", "BTC", 7, 101, QUOTE_CALL);
  CU_ASSERT_EQUAL(book_put(b, &q), 0);
  CU_ASSERT_EQUAL(book_size(b), 4);
  static struct slice s[4];
  CU_ASSERT_EQUAL(book_slices(b, AS_OF + DAY_US, NULL, s, 4, NULL), 1);
  book_free(b);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(put_replaces_the_quote_of_the_same_symbol),
      TEST_CASE(puts_beyond_the_cap_are_refused_and_counted),
      TEST_CASE(slices_are_grouped_and_sorted_by_venue_asset_expiry),
      TEST_CASE(groups_without_a_forward_are_counted_as_failed),
      TEST_CASE(expire_drops_expired_instruments_and_keeps_the_rest),
  };
  return test_run("book", cases, TEST_COUNT(cases));
}
