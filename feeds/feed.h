/* feed: live connectors to the venues (Deribit JSON-RPC websocket, OKX,
 * Bybit v5, Binance eapi), on libwebsockets (client) and libcurl (REST
 * listings).  Each connector keeps its listing, subscribes, answers
 * heartbeats, normalizes every frame with <venue>_parse and pushes quotes
 * and link events into the quote queue.
 *
 *   venue --ws--> feed (I/O thread) --qq_push_quotes / qq_push_link--> qqueue
 *
 * Resilience: reconnect with capped exponential backoff and full jitter
 * (backoff_min_ms .. backoff_max_ms, reset after a connection that stayed up
 * for a minute); resubscribe everything on reconnect; reconnect when nothing
 * arrived for silence_ms; listing refresh every listing_refresh_ms and on
 * the venue's instrument events (expiries roll off, new ones list); frames
 * over msg_max are dropped and counted; outgoing requests respect each
 * venue's rate limit (reference/exchanges.md).  Credentials are never needed
 * for public market data and never logged.  Per venue: what is subscribed,
 * heartbeat rules, batch sizes, rates and caps are in docs/feeds.md.
 *
 * Threads: every function here runs on the thread that services the
 * lws_context (the I/O loop); REST fetches run on a helper thread and hand
 * their bodies back through lws_cancel_service. */
#ifndef VOLSURF_FEEDS_FEED_H
#define VOLSURF_FEEDS_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "norm.h"
#include "qqueue.h"

struct lws_context;

struct feed_config {
  const char *venue;      /* "deribit", "okx", "bybit", "binance" */
  const char *ws_url;     /* NULL: the venue's production endpoint; the simulator:
                             "ws://127.0.0.1:9901/ws/api/v2" */
  const char *rest_url;   /* NULL: the venue's production REST base (listings) */
  const char *assets;     /* comma list ("BTC,ETH"); NULL: the venue's defaults (docs/feeds.md) */
  int64_t backoff_min_ms; /* default 250 */
  int64_t backoff_max_ms; /* default 30000 */
  int64_t silence_ms;     /* default 15000 */
  int64_t listing_refresh_ms; /* default 600000 */
  size_t msg_max;             /* default FEEDS_MSG_MAX */
  uint64_t seed;              /* backoff jitter */
  int64_t ping_ms;            /* 0: the venue's rule (docs/feeds.md); tests set it short */
};

/* Status of one connector, for /healthz, /metrics and tests. */
struct feed_status {
  char venue[QUOTE_VENUE_LEN];
  int connected;     /* websocket up and subscribed */
  long n_connects;   /* successful connections (1 + reconnects) */
  long n_subscribed; /* instruments currently subscribed */
  int64_t last_msg_us;
  int64_t last_quote_us;
  struct feeds_stats stats; /* normalizer counters */
  long n_dropped_queue;     /* quotes the queue refused */
  long n_oversize;          /* frames over msg_max */
  long n_connect_errors;    /* attempts that never opened: refused, TLS handshake, certificate */
  long n_listing_errors;    /* REST listing GETs that failed: transport, TLS, HTTP status */
};

/* Fills c with the defaults above for 'venue' (borrowed; NULL URLs mean the
 * venue's production endpoints). */
void feed_config_default(struct feed_config *c, const char *venue);

struct feeds;
/* A set of connectors on an existing lws_context (created with
 * LWS_SERVER_OPTION_EXPLICIT_VHOSTS; feeds_new adds its own client vhost).
 * Borrows ctx, out and metrics (may be NULL).  TLS peers (wss://, https://)
 * are verified against the system CA store, host name included.  Returns
 * NULL on failure. */
struct feeds *feeds_new(struct lws_context *ctx, struct qqueue *out, struct metrics *metrics);
/* feeds_new, but TLS peers are verified against the PEM bundle at ca_file
 * (NULL: the system store) instead of the system store, for every
 * connector of the set: the lws client vhost (wss://) and libcurl
 * (CURLOPT_CAINFO, https://).  Verification and host name checks stay on;
 * the bundle only changes whom to trust (a private CA in tests, a proxy's
 * CA).  The file is read when the vhost is created (the lws side) and on
 * every listing GET (the curl side).  Returns NULL on failure, including a
 * ca_file that cannot be read or holds no certificate. */
struct feeds *feeds_new_ca(struct lws_context *ctx, struct qqueue *out, struct metrics *metrics,
                           const char *ca_file);
/* Starts one connector (copies c).  Returns 0, ERR_INPUT (unknown venue,
 * bad URL) or ERR_NOMEM. */
int feeds_add(struct feeds *f, const struct feed_config *c);
/* Number of connectors added. */
int feeds_count(const struct feeds *f);
/* Status of connector i (0 <= i < feeds_count). */
void feeds_status(const struct feeds *f, int i, struct feed_status *out);
/* Closes every connection (QQ_LINK_DOWN pushed for each) and frees. */
void feeds_free(struct feeds *f);

#endif
