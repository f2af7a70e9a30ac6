/* binance: normalizer for Binance European Options (eapi) market data: the
 * <underlying>@optionMarkPrice stream (raw or wrapped by a combined stream)
 * and the REST GET /eapi/v1/mark body.
 *
 * Data flow: Binance connector -> binance_parse / binance_parse_rest_mark ->
 * quotes in a feeds_batch.
 *
 * Venue rules (reference/exchanges.md §4, §7):
 *  - combined streams wrap every event as {"stream":"..","data":<payload>};
 *    raw streams send the payload alone.  Both are accepted.
 *  - numbers are strings; IVs (b, a, vo; REST bidIV/askIV/markIV) are
 *    fractions and "-1.0" means none; prices "0.000" mean none.
 *  - no forward is published: quote.underlying_price is NaN (the slice
 *    builder derives one); i is the index (quote.index_price).
 *    underlying_index is "".
 *  - USDT-settled: premium_in_coin = 0.  Asset = symbol root ("BTC", "XRP").
 *  - decimal strikes use '.' (XRP-251219-2.05-P).
 *  - the server's ping frames are answered by libwebsockets, not here.
 * Stateless apart from the borrowed listing. */
#ifndef VOLSURF_FEEDS_BINANCE_H
#define VOLSURF_FEEDS_BINANCE_H

#include <stddef.h>
#include <stdint.h>

#include "listing.h"
#include "norm.h"

/* Parses "BTC-220815-50000-C" / "XRP-251219-2.05-P" into an entry (expiry
 * 08:00 UTC from the date).  Returns 0 or ERR_PARSE. */
int binance_symbol_parse(const char *symbol, struct listing_entry *out);

/* Parses one websocket text message.  'listing' is borrowed, may be NULL.
 *  - {"result":null,"id":1} -> FEEDS_MSG_ACK (b->id);
 *  - {"error":{..},"id":..} or {"code":..,"msg":..} -> FEEDS_MSG_ERROR;
 *  - optionMarkPrice events (an array, or one object with "e":"markPrice"),
 *    raw or inside {"stream","data"} -> FEEDS_MSG_DATA, one quote per
 *    event; events of other types are counted FEEDS_REJ_UNKNOWN.
 * Returns b->n. */
int binance_parse(const struct listing *listing, const char *msg, size_t len, int64_t local_ts_us,
                  struct feeds_batch *b, struct feeds_stats *st);

/* Parses a REST /eapi/v1/mark body (an array of {symbol, markPrice, bidIV,
 * askIV, markIV, delta, ..}): one quote per row with IVs and mark only (no
 * bid/ask prices, no index).  The body has no time: ts_us = local_ts_us.
 * {"code":..,"msg":..} -> FEEDS_MSG_ERROR.  Returns b->n. */
int binance_parse_rest_mark(const struct listing *listing, const char *msg, size_t len,
                            int64_t local_ts_us, struct feeds_batch *b, struct feeds_stats *st);

#endif
