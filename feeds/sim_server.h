/* sim_server: serves a sim_market on Deribit's API v2 wire protocol on
 * loopback, so that the real Deribit connector is what the embedded default
 * run (and its tests) exercise.
 *
 *   sim_market --tickers--> sim_server (own lws_context + thread)
 *     --ws://ADDR/ws/api/v2 (JSON-RPC 2.0)--> Deribit connector
 *     --http://ADDR/api/v2/public/<method>?<params>--> REST listing fetch
 *
 * Methods (WS and HTTP GET alike): public/get_instruments {currency
 * BTC|ETH|USDC|any, kind option, expired false}, public/subscribe and
 * public/unsubscribe {channels: ["ticker.<instrument>.100ms", ...]} (the
 * result lists the channels now subscribed by that call; unknown
 * instruments are left out, as Deribit does), public/set_heartbeat
 * {interval >= heartbeat_min_s}, public/test, public/get_time.  Unknown
 * methods get Deribit's JSON-RPC error -32601 "Method not found"; bad params
 * -32602; unparsable text -32700.  Every tick_ms of wall time the market
 * advances by tick_ms x speed and each connection gets one ticker
 * notification per subscribed, still-listed instrument, in Deribit's exact
 * ticker format.  After set_heartbeat the server sends
 * {"method":"heartbeat","params":{"type":"test_request"}} every interval
 * and closes a connection that has not answered the previous one with
 * public/test, as Deribit does.
 *
 * Caps: inbound frames over frame_max close the connection (1009) and are
 * counted; at most max_subs subscriptions and max_clients connections;
 * outbound bytes queued per connection bounded by send_max (tickers beyond
 * it are dropped and counted; a response that would exceed twice send_max
 * closes the slow connection).
 *
 * Threads: sim_server_start creates the context and starts the service
 * thread; every other function may be called from any thread. */
#ifndef VOLSURF_FEEDS_SIM_SERVER_H
#define VOLSURF_FEEDS_SIM_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "sim_market.h"

struct sim_server_config {
  const char *listen;       /* "127.0.0.1:9901"; port 0 picks a free port (sim_server_port) */
  struct sim_config market; /* market.start_us 0: the wall clock at start */
  double speed;             /* market seconds per wall second; default 1 */
  int tick_ms;              /* push cadence in wall time; default 100 (Deribit's .100ms) */
  size_t frame_max;         /* inbound frame cap; default 64 KiB */
  int max_subs;             /* subscriptions per connection; default 8192 */
  size_t send_max;          /* queued outbound bytes per connection; default 16 MiB */
  int max_clients;          /* default 32 (Deribit: 32 connections per IP) */
  int heartbeat_min_s;      /* smallest set_heartbeat interval; default 10 (Deribit) */
};

/* Counters since start; a consistent-enough snapshot (each is atomic). */
struct sim_server_stats {
  long n_connects;     /* websocket connections accepted */
  long n_clients;      /* open now */
  long n_requests;     /* JSON-RPC requests handled (WS and HTTP) */
  long n_errors;       /* error responses sent */
  long n_tickers;      /* ticker notifications queued */
  long n_dropped;      /* tickers dropped at send_max */
  long n_oversize;     /* inbound frames over frame_max */
  long n_hb_timeouts;  /* connections closed for an unanswered test_request */
  long n_test_answers; /* public/test received */
  long n_refused;      /* connections refused (max_clients, wrong path) */
};

void sim_server_config_default(struct sim_server_config *c);

struct sim_server;

/* Binds, builds the market and starts the service thread.  Copies c (the
 * strings it points to are copied too).  Returns NULL (message on stderr
 * and in 'err' when not NULL, cap 256) on a bad address, a port in use, an
 * unknown asset or allocation failure. */
struct sim_server *sim_server_start(const struct sim_server_config *c, char *err, size_t err_cap);

/* The port actually bound (useful with port 0). */
int sim_server_port(const struct sim_server *s);

/* Closes every connection, stops the thread and frees.  NULL-safe. */
void sim_server_stop(struct sim_server *s);

void sim_server_stats(struct sim_server *s, struct sim_server_stats *out);

/* Market time of the last tick (microseconds since the epoch). */
int64_t sim_server_market_time(struct sim_server *s);

/* Fault injection for the connector's tests; each takes effect on the
 * service thread at once (lws_cancel_service) and is counted nowhere else.
 *  - kick_all: close every connection (1001 going away);
 *  - send_garbage: send every connection one text frame that is not JSON;
 *  - set_silent(1): stop answering requests, pushing tickers and sending
 *    heartbeats (connections stay open); set_silent(0) resumes. */
void sim_server_kick_all(struct sim_server *s);
void sim_server_send_garbage(struct sim_server *s);
void sim_server_set_silent(struct sim_server *s, int silent);

/* Wire encoders, pure (exposed for tests).  Each writes one NUL-terminated
 * JSON text into buf and returns its length, or ERR_FULL when cap is too
 * small. */

/* The subscription notification of one ticker:
 * {"jsonrpc":"2.0","method":"subscription","params":{"channel":
 *  "ticker.<name>.100ms","data":{...}}}. */
int sim_wire_ticker(const struct sim_instrument *in, const struct sim_ticker *t, char *buf,
                    size_t cap);

/* One public/get_instruments row (Deribit's instrument object). */
int sim_wire_instrument(const struct sim_instrument *in, char *buf, size_t cap);

#endif
