/* gateway: the websocket/HTTP server of `volsurf serve` (libwebsockets):
 * protocol v1 surface stream (docs/protocol.md) on /ws, the dashboard's
 * static files, /healthz and /metrics, all on one port.
 *
 *   surface_mailbox --(wake: lws_cancel_service)--> gateway --> clients
 *
 * It owns the latest version of every surface, renders each new version once
 * (snapshot document, merge patch against the previous version, checksum),
 * and queues the same encoded bytes to every subscriber.  Per-client send
 * queues are bounded; a slow client is conflated to a fresh snapshot and
 * past a bound closed (close code 4000); no client delays another.  Inbound
 * frames are size-capped and validated; errors are answered and counted.
 *
 * Threads: everything here runs on the thread servicing the lws_context,
 * except gw_wake, which any thread may call. */
#ifndef VOLSURF_GATEWAY_H
#define VOLSURF_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "surface.h"

struct lws_context;

/* Health callback for /healthz: returns 1 when healthy; writes a short
 * reason (public text, no internals) when not. */
typedef int (*gw_health_fn)(void *ctx, char *reason, size_t cap);

struct gw_config {
  const char *iface;           /* NULL: all interfaces; "127.0.0.1" for tests */
  int port;                    /* default 8080; 0: an ephemeral port (gw_port) */
  const char *static_dir;      /* built dashboard (web/dist); NULL: none (404) */
  const char *allowed_origins; /* comma list of Origin values; NULL: any */
  int max_clients;             /* default 20000 */
  int heartbeat_ms;            /* default 1000 */
  int client_queue_msgs;       /* default 256 */
  size_t client_queue_bytes;   /* default 4 MiB */
  size_t max_inbound;          /* default 4096 */
  struct surface_mailbox *in;  /* borrowed: new surface versions */
  struct metrics *metrics;     /* borrowed, may be NULL */
  gw_health_fn health;         /* may be NULL: always healthy */
  void *health_ctx;
  int64_t epoch; /* 0: server start time in ms */
};

void gw_config_default(struct gw_config *c);

struct gateway;
/* Adds a listening vhost to ctx (created with
 * LWS_SERVER_OPTION_EXPLICIT_VHOSTS).  Returns 0, ERR_IO (cannot listen;
 * err says why) or ERR_NOMEM. */
int gw_new(struct lws_context *ctx, const struct gw_config *c, struct gateway **out, char *err,
           size_t errlen);
/* The port actually listened on. */
int gw_port(const struct gateway *gw);
/* Any thread: wake the I/O loop to drain the mailbox (lws_cancel_service). */
void gw_wake(struct gateway *gw);
/* Closes every client with 1001 and frees (on the I/O thread, outside any
 * lws callback, before the context is destroyed: it services the context
 * for up to ~50 ms so that the close frames go out).  NULL-safe. */
void gw_free(struct gateway *gw);
int gw_n_clients(const struct gateway *gw);

#endif
