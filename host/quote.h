/* quote: one option at one instant, normalized (tardis options_chain
 * vocabulary).  Sits between feeds/ (which produce quotes) and host/book.
 *
 * Invariants: missing is NaN, never 0; IVs are fractions (0.55, not 55);
 * prices are in the quote currency (coin for Deribit BTC/ETH and OKX BTC-USD,
 * where premium_in_coin is 1; USD(C/T) otherwise); times are microseconds
 * since the epoch, UTC; underlying_price is the forward the venue used for its
 * IVs and is kept apart from index_price. */
#ifndef VOLSURF_QUOTE_H
#define VOLSURF_QUOTE_H

#include <stdint.h>

#define QUOTE_VENUE_LEN 16
#define QUOTE_ASSET_LEN 16
#define QUOTE_SYMBOL_LEN 64
#define QUOTE_INDEX_LEN 32

enum quote_kind { QUOTE_PUT = 0, QUOTE_CALL = 1 }; /* equal to BLACK_PUT / BLACK_CALL */

struct quote {
  char venue[QUOTE_VENUE_LEN];   /* "deribit", "okx", "bybit", "binance" */
  char asset[QUOTE_ASSET_LEN];   /* contract family root: "BTC", "ETH", "SOL_USDC" */
  char symbol[QUOTE_SYMBOL_LEN]; /* exchange instrument name */
  char underlying_index[QUOTE_INDEX_LEN];
  int kind;            /* enum quote_kind */
  int premium_in_coin; /* 1: prices in units of the base coin */
  double strike;
  int64_t expiry_us;   /* from the listing: 08:00 UTC on all four venues */
  int64_t ts_us;       /* exchange timestamp */
  int64_t local_ts_us; /* receive timestamp */
  double bid_price, ask_price, mark_price, last_price;
  double bid_amount, ask_amount;
  double bid_iv, ask_iv, mark_iv;
  double underlying_price;
  double index_price;
  double open_interest;
  double delta;
};

/* Sets every number to NaN, every string to "", times to 0. */
void quote_init(struct quote *q);

/* Price in USD of a price given in the quote currency (multiplies by the
 * underlying price for coin premiums).  NaN in, NaN out. */
double quote_price_usd(const struct quote *q, double price);

/* Fills NaN bid/ask/mark IVs from the corresponding prices (Black-76 on
 * underlying_price, T from ts_us to expiry_us); leaves present IVs alone.
 * Returns the number of IVs filled. */
int quote_fill_iv(struct quote *q);

/* Copies the root of a symbol (text before the first '-') into asset. */
void quote_asset_from_symbol(const char *symbol, char *asset, int cap);

/* Parses a Deribit/Bybit "5JUN20"-style or OKX/Binance "200605" expiry token
 * to 08:00 UTC in microseconds.  Returns 0 or ERR_PARSE. */
int quote_parse_expiry(const char *token, int len, int64_t *expiry_us);

#endif
