/* bybit: normalizer for Bybit v5 option market data: the websocket
 * tickers.{symbol} push (wss://stream.bybit.com/v5/public/option) and the
 * REST /v5/market/tickers?category=option body.
 *
 * Data flow: Bybit connector -> bybit_parse / bybit_parse_rest_tickers ->
 * quotes in a feeds_batch.
 *
 * Venue rules (reference/exchanges.md §3, §7):
 *  - REST and WS name the same fields differently (bid1Iv vs bidIv, markIv
 *    vs markPriceIv); one table per transport maps both to the quote.
 *  - numbers are strings; "0" means none for prices, sizes and IVs;
 *    ask IV "5" (500%) is a cap -> NaN.
 *  - IVs are fractions; prices in USDC/USDT (premium_in_coin = 0).
 *  - underlyingPrice is the forward (quote.underlying_price), indexPrice the
 *    index; underlying_index is "" (Bybit does not name the underlying).
 *  - USDT options carry a "-USDT" suffix (BTC-27MAR26-70000-P-USDT): asset
 *    "BTC_USDT"; the older USDC ones have asset "BTC".
 *  - the option endpoint answers {"op":"ping"} with {"op":"pong",...} and
 *    subscriptions with {"type":"COMMAND_RESP","success":..}.
 * Stateless apart from the borrowed listing. */
#ifndef VOLSURF_FEEDS_BYBIT_H
#define VOLSURF_FEEDS_BYBIT_H

#include <stddef.h>
#include <stdint.h>

#include "listing.h"
#include "norm.h"

/* Parses "BTC-30DEC22-18000-C" / "BTC-27MAR26-70000-P-USDT" into an entry
 * (expiry 08:00 UTC from the date).  Returns 0 or ERR_PARSE. */
int bybit_symbol_parse(const char *symbol, struct listing_entry *out);

/* Parses one websocket text message.  'listing' is borrowed, may be NULL.
 *  - {"op":"pong"} (and the linear-style {"op":"ping","ret_msg":"pong"})
 *    -> FEEDS_MSG_HEARTBEAT;
 *  - {"type":"COMMAND_RESP"} or {"op":"subscribe"} -> FEEDS_MSG_ACK when
 *    success is true and no topic failed, else FEEDS_MSG_ERROR;
 *  - {"topic":"tickers.<symbol>","ts":..,"data":{..}} -> FEEDS_MSG_DATA, one
 *    quote; other topics -> FEEDS_REJ_UNKNOWN.
 * Returns b->n. */
int bybit_parse(const struct listing *listing, const char *msg, size_t len, int64_t local_ts_us,
                struct feeds_batch *b, struct feeds_stats *st);

/* Parses a REST tickers body {"retCode":0,"result":{"list":[..]},"time":..}:
 * one quote per row, stamped with "time".  retCode != 0 -> FEEDS_MSG_ERROR
 * with b->error_code = retCode.  Returns b->n. */
int bybit_parse_rest_tickers(const struct listing *listing, const char *msg, size_t len,
                             int64_t local_ts_us, struct feeds_batch *b, struct feeds_stats *st);

#endif
