/* okx: normalizer for OKX v5 public websocket pushes and the matching REST
 * bodies, for options.
 *
 * OKX splits one option's state over channels: opt-summary (per family:
 * bidVol/askVol/markVol, greeks, fwdPx), tickers (per instId: bidPx/askPx,
 * sizes, last), mark-price (markPx), open-interest (oi) and index-tickers
 * (idxPx per index).  struct okx caches the latest of each per instrument
 * and every row that updates an instrument emits one merged quote, so a
 * quote always carries the newest IVs next to the newest prices.
 *
 * Data flow: OKX connector -> okx_parse (one text frame) -> quotes in a
 * feeds_batch.
 *
 * Venue rules (reference/exchanges.md §2, §7):
 *  - numbers are strings; "" and "0" mean none (bidVol "0" or "").
 *  - IVs are fractions already; askVol "5" (500%) is a cap -> NaN.
 *  - fwdPx is the forward (quote.underlying_price), kept apart from the
 *    index (idxPx of index-tickers, quote.index_price; NaN until one came);
 *    underlying_index names the family ("BTC-USD").
 *  - BTC-USD family is coin-margined: premium_in_coin = 1, prices in BTC;
 *    *_UM families are USD-margined.  Asset: "BTC" / "BTC_UM".
 *  - the text "pong" (not JSON) answers our "ping".
 * Thread use: one struct okx per connection, on the I/O thread. */
#ifndef VOLSURF_FEEDS_OKX_H
#define VOLSURF_FEEDS_OKX_H

#include <stddef.h>
#include <stdint.h>

#include "listing.h"
#include "norm.h"

struct okx;

/* Allocates the per-instrument cache for at most max_instruments options.
 * Returns NULL on bad size or allocation failure; caller frees with
 * okx_free. */
struct okx *okx_new(int max_instruments);
void okx_free(struct okx *o);

/* Parses "BTC-USD-241217-92000-C" / "BTC-USD_UM-260626-61000-C" into an
 * entry (expiry 08:00 UTC from the date).  Returns 0 or ERR_PARSE. */
int okx_symbol_parse(const char *symbol, struct listing_entry *out);

/* Parses one websocket text message.  'listing' is borrowed, may be NULL.
 *  - "pong" -> FEEDS_MSG_HEARTBEAT;
 *  - {"event":"subscribe"|"unsubscribe"} -> FEEDS_MSG_ACK (b->id from "id");
 *  - {"event":"error","code":"60012"} -> FEEDS_MSG_ERROR, b->error_code;
 *  - {"event":"notice","code":"64008"} -> FEEDS_MSG_NOTICE (service
 *    upgrade: the connector should reconnect);
 *  - {"arg":{"channel":..},"data":[..]} for opt-summary, tickers,
 *    mark-price, open-interest -> FEEDS_MSG_DATA, one merged quote per
 *    option row; index-tickers -> FEEDS_MSG_DATA, no quotes (updates the
 *    index used by later quotes); other channels -> FEEDS_REJ_UNKNOWN.
 * Returns b->n. */
int okx_parse(struct okx *o, const struct listing *listing, const char *msg, size_t len,
              int64_t local_ts_us, struct feeds_batch *b, struct feeds_stats *st);

/* Parses a REST body {"code":"0","data":[..]} of GET /api/v5/public/opt-summary
 * (channel "opt-summary"), /api/v5/market/tickers ("tickers") or
 * /api/v5/market/index-tickers ("index-tickers") through the same row
 * handlers as the pushes.  code != "0" -> FEEDS_MSG_ERROR.  Returns b->n. */
int okx_parse_rest(struct okx *o, const struct listing *listing, const char *channel,
                   const char *msg, size_t len, int64_t local_ts_us, struct feeds_batch *b,
                   struct feeds_stats *st);

#endif
