/* server: the gateway's internal state and the plain functions the lws
 * callback (lws.c) dispatches to (server.c).  Not a public header: only
 * gateway/ and the gateway's tests include it.  I/O thread only. */
#ifndef VOLSURF_GW_SERVER_H
#define VOLSURF_GW_SERVER_H

#include <stdint.h>

#include <libwebsockets.h>

#include "err.h"

#include "client.h"
#include "gateway.h"
#include "protocol.h"

#define GW_MAX_SURFACES 256
#define GW_MAX_ERRORS 20                  /* protocol errors before close 4001 */
#define GW_HARD_FRAME_CAP (64 * 1024)     /* inbound message over this: close 1009 */
#define GW_WRITE_BATCH 16                 /* frames per writable callback, at most */
#define GW_WRITE_BATCH_BYTES (256 * 1024) /* ... and bytes (then the next callback) */
#define GW_MAX_PENDING 32                 /* messages offered to the peers in one walk */
#define GW_HB_CAP (PROTO_MAX_SUBS * (SURFACE_ID_LEN + 48) + 64)

enum gw_drop {
  GW_DROP_CONFLATED = 0,
  GW_DROP_QUEUE_FULL = 1,
  GW_DROP_TOO_BIG_FRAME = 2,
  GW_DROP_SERVER_FULL = 3,
  GW_DROP_BAD_ORIGIN = 4,
  GW_DROP_PUBLISH = 5, /* a surface version that could not be rendered */
  GW_N_DROP = 6
};

enum gw_msg_type {
  GW_MSGT_HELLO = 0,
  GW_MSGT_SURFACES = 1,
  GW_MSGT_SNAPSHOT = 2,
  GW_MSGT_PATCH = 3,
  GW_MSGT_HEARTBEAT = 4,
  GW_MSGT_ACK = 5,
  GW_MSGT_ERROR = 6,
  GW_N_MSG = 7
};

enum gw_close {
  GW_CLOSE_SLOW = 0,     /* 4000 */
  GW_CLOSE_ERRORS = 1,   /* 4001 */
  GW_CLOSE_TOO_BIG = 2,  /* 1009 */
  GW_CLOSE_FULL = 3,     /* 1013 */
  GW_CLOSE_SHUTDOWN = 4, /* 1001 */
  GW_N_CLOSE = 5
};

/* Counted since the last flush to metrics. */
struct gw_counters {
  long conflated;
  long dropped[GW_N_DROP];
  long sent[GW_N_MSG];
  long errors[PROTO_N_ERR];
  long closed[GW_N_CLOSE];
};

/* The latest version of one surface as the gateway serves it. */
struct gw_surf {
  char id[SURFACE_ID_LEN];
  char venue[QUOTE_VENUE_LEN];
  char asset[QUOTE_ASSET_LEN];
  cJSON *doc;   /* the document of version seq */
  uint64_t seq; /* 1 for the first version seen in this epoch */
  char checksum[PROTO_CHECKSUM_LEN];
  int n_expiries, stale;
  struct gw_msg *snap; /* encoded snapshot of seq, made on first demand */
};

struct gw_peer {
  struct gw_client q;
  struct lws *wsi;
  struct gw_peer *next, *prev;
  void *pss; /* the lws per-session slot pointing here (cleared on gw_free) */
  char *rx;  /* fragments of an inbound message, up to max_inbound */
  size_t rx_len, rx_total;
  int rx_over;
};

/* Outlives the gateway (see server.c). */
struct gw_handle {
  struct gateway *gw;
  int live; /* the vhost exists: lws frees this at PROTOCOL_DESTROY */
  char *static_dir;
  struct lws_http_mount mounts[3];
  struct lws_protocol_vhost_options mimes[8];
};

struct gateway {
  struct gw_config cfg;
  char *origins; /* own copy of cfg.allowed_origins */
  struct lws_context *ctx;
  struct lws_vhost *vh;
  struct gw_handle *h;
  int64_t epoch;
  struct gw_surf surf[GW_MAX_SURFACES];
  int n_surf;
  struct gw_msg *surfaces_msg; /* cached "surfaces" list */
  int surfaces_dirty;          /* an expiry count changed: list goes out with the heartbeats */
  struct gw_peer *peers;
  int n_peers;
  struct gw_msg *pend[GW_MAX_PENDING]; /* published, not yet offered to the peers */
  int n_pend;
  lws_sorted_usec_list_t sul;
  struct gw_counters k;
  struct proto_req req;
};

int64_t gw_now_ms(void);
/* Index of surface id, or -1. */
int gw_find_surface(const struct gateway *gw, const char *id);
/* Renders, diffs and fans out one new version; takes ownership of s. */
void gw_publish(struct gateway *gw, struct surface *s);
/* Publishes everything waiting in the mailbox. */
void gw_drain(struct gateway *gw);
/* The cached snapshot message of surf's current version (borrowed), made
 * on first use; NULL when out of memory. */
struct gw_msg *gw_snapshot_msg(struct gateway *gw, int surf);
/* A new client: queues hello and surfaces, or close 1013 past the cap.
 * NULL when out of memory. */
struct gw_peer *gw_peer_open(struct gateway *gw, struct lws *wsi);
void gw_peer_close(struct gateway *gw, struct gw_peer *p);
/* One complete client message. */
void gw_peer_request(struct gateway *gw, struct gw_peer *p, const char *buf, size_t len);
int gw_peer_receive(struct gateway *gw, struct gw_peer *p, const char *in, size_t len, int final);
/* Writable: sends queued frames while the socket takes them (a bounded
 * batch).  Returns 0, or -1 to close (close code set). */
int gw_peer_writable(struct gateway *gw, struct gw_peer *p);
int gw_msg_type_of(const struct gw_msg *m);
void gw_tick(struct gateway *gw);
void gw_flush_metrics(struct gateway *gw);

/* http.c: /healthz and /metrics bodies.  Each returns a malloc'd body with
 * LWS_PRE headroom (text at +LWS_PRE), its length and HTTP status. */
unsigned char *gw_http_healthz(struct gateway *gw, size_t *len, int *status);
unsigned char *gw_http_metrics(struct gateway *gw, size_t *len, int *status);
/* 1 when origin (may be NULL: not a browser) is allowed. */
int gw_origin_allowed(const struct gateway *gw, const char *origin);

#endif
