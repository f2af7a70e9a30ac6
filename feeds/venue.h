/* venue: the per-venue protocol adapter of the live connectors (feed.c):
 * what to subscribe for a listing, how a subscribe/unsubscribe request,
 * a ping and a heartbeat answer are spelled, where the listing comes from,
 * and which normalizer reads a frame.  Pure functions on strings and
 * listings: no sockets, no clock, no allocation (except okx state and the
 * normalizers' cJSON trees), so that every rule is unit-tested.
 *
 *   feed.c (lws I/O) --text--> venue_parse --quotes--> feed.c --> qqueue
 *   feed.c <--request text-- venue_subscribe / venue_ping / venue_hello
 *
 * A "topic" is one subscription in the venue's own terms:
 *   deribit  "ticker.<instrument>.100ms"
 *   okx      "opt-summary:<instFamily>", "index-tickers:<index>",
 *            "tickers:<instId>"   (channel:argument, args built from it)
 *   bybit    "tickers.<symbol>"
 *   binance  "<underlying>@optionMarkPrice" (lower case, e.g. btcusdt)
 * Venue facts: /work/shared/reference/exchanges.md; summary in docs/feeds.md. */
#ifndef VOLSURF_FEEDS_VENUE_H
#define VOLSURF_FEEDS_VENUE_H

#include <stddef.h>
#include <stdint.h>

#include "listing.h"
#include "norm.h"
#include "okx.h"

enum venue_id { VENUE_DERIBIT = 0, VENUE_OKX, VENUE_BYBIT, VENUE_BINANCE, VENUE_N };

#define VENUE_TOPIC_LEN 96
#define VENUE_KEY_LEN 24 /* a listing key: currency, instFamily or baseCoin */
#define VENUE_MAX_KEYS 16

/* The constants of one venue's protocol (reference/exchanges.md). */
struct venue_rules {
  const char *name;
  const char *ws_url;         /* production websocket endpoint */
  const char *rest_url;       /* production REST base; NULL: listing over the websocket */
  const char *default_assets; /* listing keys asked for when feed_config.assets is NULL */
  int topics_per_request;     /* subscribe batch size */
  size_t request_max;         /* bytes of one subscribe request */
  double requests_per_s;      /* sustained rate of paced requests (subscribe, listing) */
  int request_burst;          /* paced requests allowed back to back */
  int max_topics;             /* per connection (Bybit: 2000 args) */
  int64_t ping_ms;            /* client ping period, 0: none */
  int ping_when_idle;         /* 1: ping only after ping_ms without a frame (OKX) */
  int ping_frame;             /* 1: a websocket PING frame, not a text message */
};

/* VENUE_* for "deribit", "okx", "bybit", "binance", or ERR_INPUT. */
int venue_from_name(const char *name);
/* Static rules of venue v (0 <= v < VENUE_N). */
const struct venue_rules *venue_rules(int v);

/* Does listing asset 'asset' ("BTC", "SOL_USDC", "BTC_UM") pass the filter
 * 'assets' (comma list; NULL or "" passes all)?  A filter token matches the
 * asset itself or its root before '_' ("SOL" matches "SOL_USDC"). */
int venue_asset_wanted(const char *assets, const char *asset);

/* The listing keys to ask for: Deribit currencies (BTC, ETH, USDC: the
 * altcoin options are listed under USDC), OKX instFamilies ("BTC-USD",
 * "BTC-USD_UM"), Bybit baseCoins, Binance one empty key (exchangeInfo lists
 * everything).  Derived from 'assets' (NULL: the venue's default_assets).
 * Writes up to VENUE_MAX_KEYS distinct keys; returns their number. */
int venue_listing_keys(int v, const char *assets, char keys[][VENUE_KEY_LEN]);

/* REST listing URL for one key under 'rest_base' (no trailing '/'), with
 * Bybit's page cursor ("" or NULL for the first page).  Returns the length,
 * or ERR_INPUT (Deribit lists over the websocket) / ERR_FULL (cap). */
int venue_listing_url(int v, const char *rest_base, const char *key, const char *cursor, char *buf,
                      size_t cap);

/* Deribit public/get_instruments request for one currency, over the
 * websocket.  Returns the length or ERR_FULL. */
int venue_listing_request(long long id, const char *currency, char *buf, size_t cap);

/* Merges one listing body into l with the venue's loader (listing_add_*);
 * Bybit's next page cursor goes to 'cursor' (else it is set to "").
 * Returns what the loader returns. */
int venue_listing_load(int v, struct listing *l, const char *body, size_t len, char *cursor,
                       size_t cursor_cap, struct feeds_stats *st);

struct venue_topic {
  char name[VENUE_TOPIC_LEN];
  int64_t expiry_us; /* 0: a family topic that never expires */
};

/* The topics to hold for listing l: active options of the wanted assets
 * whose expiry is after now_us, plus OKX's per-family opt-summary and
 * index-tickers and Binance's per-underlying stream.  Sorted by name,
 * unique.  Returns the count written; topics past cap are left out and
 * their number stored in *n_over (may be NULL). */
int venue_topics(int v, const struct listing *l, const char *assets, int64_t now_us,
                 struct venue_topic *out, int cap, int *n_over);

/* One subscribe (unsub = 0) or unsubscribe request for topics[0..n): takes
 * as many as fit in cap bytes and rules.topics_per_request, sets *n_used.
 * Returns the length, or ERR_FULL when not even one topic fits, or
 * ERR_INPUT (n <= 0, a topic that is not the venue's). */
int venue_subscribe(int v, int unsub, const char *const *topics, int n, long long id, char *buf,
                    size_t cap, int *n_used);

/* The client ping as text (OKX "ping", Bybit {"op":"ping"}).  Returns the
 * length, 0 when the venue's ping is a frame or absent, or ERR_FULL. */
int venue_ping(int v, long long id, char *buf, size_t cap);

/* The first request on a new connection: Deribit public/set_heartbeat with
 * interval_s (clamped to >= 10, Deribit's minimum).  Returns the length, 0
 * for venues without one, or ERR_FULL. */
int venue_hello(int v, long long id, int interval_s, char *buf, size_t cap);

/* The answer to a heartbeat test_request (Deribit public/test); Deribit
 * closes the connection when it does not come at once.  Returns the length,
 * 0 for other venues, or ERR_FULL. */
int venue_heartbeat_answer(int v, long long id, char *buf, size_t cap);

/* Normalizes one frame with the venue's parser ('okx' is the OKX join
 * cache, ignored elsewhere).  Returns b->n; b->msg classifies the frame. */
int venue_parse(int v, struct okx *okx, const struct listing *l, const char *msg, size_t len,
                int64_t local_ts_us, struct feeds_batch *b, struct feeds_stats *st);

/* Reconnect delay after 'attempt' failures (0 for the first retry): full
 * jitter, uniform in [0, min(max_ms, min_ms * 2^attempt)] (AWS
 * architecture blog "Exponential Backoff and Jitter"), drawn from *rng
 * (splitmix64 state, advanced). */
int64_t venue_backoff_ms(int attempt, int64_t min_ms, int64_t max_ms, uint64_t *rng);

#endif
