/* deribit: normalizer for Deribit API v2 (JSON-RPC 2.0) messages: ticker
 * notifications, heartbeats, responses, and the REST/WS book summary.
 *
 * Data flow: Deribit connector -> deribit_parse (one websocket text frame)
 * -> quotes in a feeds_batch; message class in batch.msg tells the
 * connector to answer a heartbeat test_request with public/test.
 *
 * Venue rules applied here (reference/exchanges.md §1, §7):
 *  - bid_iv/ask_iv/mark_iv are percent -> fractions (x 0.01).
 *  - "no quote": best_bid_price 0 / bid_price null, bid_iv 0, ask_iv 500
 *    (the cap) -> NaN.  A size is NaN when its price is.
 *  - BTC/ETH options are inverse (premium_in_coin = 1, prices in coin);
 *    *_USDC options are linear (prices in USDC).  Asset = symbol root
 *    ("BTC", "MATIC_USDC").
 *  - underlying_price is the forward (kept in quote.underlying_price with
 *    underlying_index naming it: a future, "SYN.BTC-5JUN20", or
 *    "index_price"); index_price is the index.  When a row has no
 *    index_price and underlying_index is "index_price", the underlying is
 *    the index and is copied there.
 *  - estimated_delivery_price "expired" and last_price null are read as
 *    missing, never as malformed.
 *  - state "closed" -> row skipped, counted FEEDS_REJ_CLOSED.
 *  - strikes use 'd' as the decimal point: "1d02" = 1.02.
 * Stateless apart from the borrowed listing; thread use as feeds_stats. */
#ifndef VOLSURF_FEEDS_DERIBIT_H
#define VOLSURF_FEEDS_DERIBIT_H

#include <stddef.h>
#include <stdint.h>

#include "listing.h"
#include "norm.h"

/* ask_iv value Deribit sends when there is no ask (percent). */
#define DERIBIT_IV_CAP 500.0

/* Parses "BTC-5JUN20-9250-C" / "MATIC_USDC-9MAR24-1d02-C" into an entry
 * (expiry 08:00 UTC from the date token, active = 1).  Returns 0 or
 * ERR_PARSE. */
int deribit_symbol_parse(const char *symbol, struct listing_entry *out);

/* Parses one websocket text message.  'listing' is borrowed and may be NULL
 * (expiries then come from the symbol, flagged).  Classifies it into
 * b->msg:
 *  - "method":"subscription" on ticker.* -> FEEDS_MSG_DATA, one quote (or
 *    none when closed); other channels -> rejected FEEDS_REJ_UNKNOWN;
 *  - "method":"heartbeat" type test_request -> FEEDS_MSG_TEST_REQUEST (the
 *    connector must send public/test at once or Deribit closes the
 *    socket); type heartbeat -> FEEDS_MSG_HEARTBEAT;
 *  - a response with "result" -> FEEDS_MSG_ACK, b->id set (the connector
 *    routes results of its own requests, e.g. to deribit_parse_book_summary);
 *  - a response with "error" -> FEEDS_MSG_ERROR, b->error_code (10028 =
 *    too_many_requests, after which Deribit ends the session).
 * Returns b->n (>= 0); never fails otherwise: problems are counted in 'st'. */
int deribit_parse(const struct listing *listing, const char *msg, size_t len, int64_t local_ts_us,
                  struct feeds_batch *b, struct feeds_stats *st);

/* Parses a public/get_book_summary_by_currency response (REST body or WS
 * response): one quote per row.  Rows carry no bid/ask IV and no greeks
 * (NaN); their time is creation_timestamp.  Returns b->n. */
int deribit_parse_book_summary(const struct listing *listing, const char *msg, size_t len,
                               int64_t local_ts_us, struct feeds_batch *b, struct feeds_stats *st);

#endif
