/* listing: the instruments a venue lists, loaded from its REST listing
 * (Deribit public/get_instruments, OKX /api/v5/public/instruments, Bybit
 * /v5/market/instruments-info, Binance /eapi/v1/exchangeInfo), so that the
 * normalizers take strike, call/put, premium currency and above all the
 * expiry from the venue rather than from the symbol.
 *
 * Data flow: connector fetches the listing at startup (and on instrument
 * creation/state events) -> listing_add_<venue> -> <venue>_parse looks
 * symbols up with listing_find.
 *
 * Invariants: entries are sorted by symbol and unique (a later load of the
 * same symbol replaces the earlier one); at most the 'max_entries' given to
 * listing_new; a body over LISTING_BODY_MAX is rejected unparsed.  One
 * listing belongs to one thread; listing_find is read-only. */
#ifndef VOLSURF_FEEDS_LISTING_H
#define VOLSURF_FEEDS_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include "norm.h"
#include "quote.h"

/* REST listings are bigger than pushes: Deribit currency=USDC lists every
 * altcoin option (~700 bytes each). */
#define LISTING_BODY_MAX (8u << 20)

struct listing_entry {
  char symbol[QUOTE_SYMBOL_LEN];
  char asset[QUOTE_ASSET_LEN]; /* same rule as the venue's quotes (see <venue>.h) */
  int kind;                    /* enum quote_kind */
  int premium_in_coin; /* 1: prices in the base coin (Deribit reversed, OKX coin-margined) */
  int active;          /* 0: closed/expired/suspended/delisted */
  double strike;
  int64_t expiry_us; /* as the venue states it */
  uint64_t seq;      /* load order, keeps the newest of duplicates */
};

struct listing {
  struct listing_entry *e;
  int n, cap;
  uint64_t next_seq;
  uint64_t n_expiry_not_0800; /* entries whose expiry is not 08:00 UTC (Binance doc example) */
};

/* Allocates an empty listing for at most max_entries instruments.  Returns
 * NULL on bad size or allocation failure.  Caller frees with listing_free. */
struct listing *listing_new(int max_entries);
void listing_free(struct listing *l);

/* Looks a symbol up; the entry is borrowed until the next listing_add_*.
 * Returns NULL when absent (or l is NULL). */
const struct listing_entry *listing_find(const struct listing *l, const char *symbol);

/* Copies an entry's instrument terms (symbol, asset, kind, strike, expiry,
 * premium_in_coin) into a quote; leaves the market fields alone. */
void listing_fill_quote(const struct listing_entry *e, struct quote *q);

/* A venue's symbol grammar (<venue>_symbol_parse): 0 or ERR_PARSE. */
typedef int (*listing_symbol_parse_fn)(const char *symbol, struct listing_entry *out);

/* The terms of instrument 'sym' for a quote row: its listing entry, or, when
 * it is not listed (l may be NULL), what 'parse' reads from the symbol into
 * *scratch, with FEEDS_QF_EXPIRY_FROM_SYMBOL set in *flags (cleared
 * otherwise).  Returns NULL after counting the row in b/st: FEEDS_REJ_SYMBOL
 * when the symbol does not parse, FEEDS_REJ_CLOSED when it is listed
 * inactive.  The result points into l or at scratch. */
const struct listing_entry *listing_resolve(const struct listing *l, const char *sym,
                                            listing_symbol_parse_fn parse,
                                            struct listing_entry *scratch, unsigned *flags,
                                            struct feeds_batch *b, struct feeds_stats *st);

/* Each loader parses one REST body (the whole HTTP response text) and merges
 * its options into the listing.  Non-option rows are ignored.  Rows that
 * lack a required field are counted FEEDS_REJ_FIELD in 'st' and skipped.
 * Returns the number of options merged (>= 0), or ERR_PARSE (body too big,
 * not JSON, wrong envelope: counted), or ERR_FULL (listing full: rows past
 * the cap counted FEEDS_REJ_FULL, the rest kept).  'st' must not be NULL. */

/* Deribit get_instruments: {"result":[...]} (or {"result":{...}} for
 * get_instrument).  Uses instrument_name, option_type, strike,
 * expiration_timestamp, instrument_type/quote_currency, state/is_active.
 * Asset: the symbol root ("BTC", "SOL_USDC"). */
int listing_add_deribit(struct listing *l, const char *body, size_t len, struct feeds_stats *st);

/* OKX instruments: {"code":"0","data":[...]}.  Uses instId, instFamily/uly,
 * optType, stk, expTime, settleCcy, state.  Asset: "BTC" for the coin-margined
 * family BTC-USD, "BTC_UM" for BTC-USD_UM. */
int listing_add_okx(struct listing *l, const char *body, size_t len, struct feeds_stats *st);

/* Bybit instruments-info: {"retCode":0,"result":{"list":[...],
 * "nextPageCursor":".."}}.  Copies nextPageCursor into cursor (may be NULL)
 * so that the connector can fetch the next page.  Asset: "BTC" for USDC
 * options, "BTC_USDT" for the -USDT ones. */
int listing_add_bybit(struct listing *l, const char *body, size_t len, char *cursor,
                      size_t cursor_cap, struct feeds_stats *st);

/* Binance exchangeInfo: {"optionSymbols":[...]}.  Uses symbol, side,
 * strikePrice, expiryDate, status (absent = active).  Asset: symbol root. */
int listing_add_binance(struct listing *l, const char *body, size_t len, struct feeds_stats *st);

#endif
