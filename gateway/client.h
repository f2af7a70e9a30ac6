/* client: one websocket client's state in the gateway, as plain functions
 * (no sockets): its bounded send queue of shared, refcounted messages, its
 * subscriptions, conflation to a fresh snapshot when the queue is full, and
 * the slow-consumer rules (docs/protocol.md "Liveness, slow clients").
 * gateway/server.c calls these from the lws callback.
 *
 * A message (gw_msg) is encoded once and shared by every client queue that
 * holds it; it carries LWS_PRE bytes of headroom so that lws_write can send
 * it in place.  Single-threaded: the I/O thread only. */
#ifndef VOLSURF_GW_CLIENT_H
#define VOLSURF_GW_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

#define GW_MSG_PRE 16 /* >= LWS_PRE (checked in server.c) */

enum gw_msg_kind { GW_MSG_OTHER = 0, GW_MSG_SNAPSHOT = 1, GW_MSG_PATCH = 2 };

struct gw_msg {
  int refs;
  int surf; /* surface index for snapshot/patch; -1 otherwise */
  int kind; /* enum gw_msg_kind */
  size_t len;
  unsigned char *buf; /* GW_MSG_PRE headroom, then len bytes of text, then NUL */
};

/* Copies len bytes of text into a new message with one reference.  NULL
 * when out of memory. */
struct gw_msg *gw_msg_new(const char *text, size_t len, int surf, int kind);
/* The text (after the headroom). */
unsigned char *gw_msg_text(const struct gw_msg *m);
struct gw_msg *gw_msg_ref(struct gw_msg *m);
/* Drops one reference; frees on the last.  NULL-safe. */
void gw_msg_unref(struct gw_msg *m);

#define GW_CONFLATE_LIMIT 8         /* more than this many conflations ... */
#define GW_CONFLATE_WINDOW_MS 10000 /* ... within this window: close 4000 */
#define GW_STUCK_MS 30000           /* queue not drained for this long: close 4000 */

struct gw_sub {
  int surf;
  int want_snapshot; /* a snapshot is owed: no patch of surf is queued meanwhile */
};

struct gw_client {
  struct gw_msg **ring;
  int cap_msgs, head, n;
  size_t bytes, cap_bytes;
  struct gw_sub subs[PROTO_MAX_SUBS];
  int n_subs;
  int64_t conflate_ms[GW_CONFLATE_LIMIT + 1]; /* ring of the latest conflation times */
  int n_conflations;                          /* in all */
  int64_t busy_since_ms; /* when the queue last went from drained to not; 0 when drained */
  int close_code;        /* != 0: close with this code at the next writable */
  int n_errors;          /* protocol errors answered */
};

/* Prepares c with a queue of cap_msgs messages and cap_bytes bytes.
 * Returns 0, ERR_INPUT or ERR_NOMEM. */
int gwc_init(struct gw_client *c, int cap_msgs, size_t cap_bytes);
/* Drops every queued message.  NULL-safe; c may be re-initialised. */
void gwc_fini(struct gw_client *c);

/* The subscription to surf, or NULL. */
struct gw_sub *gwc_sub(struct gw_client *c, int surf);
/* Subscribes (or re-subscribes) to surf and owes it a snapshot.  Returns 0,
 * or ERR_FULL past PROTO_MAX_SUBS. */
int gwc_subscribe(struct gw_client *c, int surf, int64_t now_ms);
/* Owes surf a fresh snapshot (resync): drops its queued messages.  Returns
 * 0, or ERR_BADSTATE when not subscribed. */
int gwc_resync(struct gw_client *c, int surf, int64_t now_ms);
/* Unsubscribes and drops surf's queued messages.  No-op when absent. */
void gwc_unsubscribe(struct gw_client *c, int surf, int64_t now_ms);

enum gwc_push_result {
  GWC_QUEUED = 0,    /* m is queued (one reference taken) */
  GWC_SKIPPED = 1,   /* not subscribed, or a snapshot is owed that will carry it */
  GWC_CONFLATED = 2, /* did not fit: surf's queued messages dropped, snapshot owed */
  GWC_DROPPED = 3,   /* a non-surface message did not fit: dropped */
  GWC_CLOSE = 4      /* conflated too often: close_code set to 4000 */
};
/* Offers m to the queue.  A message fits when the queue is empty or both
 * caps hold after it.  Returns enum gwc_push_result. */
int gwc_push(struct gw_client *c, struct gw_msg *m, int64_t now_ms);

/* A surface owed a snapshot (its flag cleared), or -1.  Snapshots go before
 * queued messages: they carry the newest state. */
int gwc_take_snapshot_due(struct gw_client *c, int64_t now_ms);
/* Removes and returns the oldest queued message (the caller owns that
 * reference), or NULL. */
struct gw_msg *gwc_pop(struct gw_client *c, int64_t now_ms);
/* 1 when something is queued or a snapshot is owed. */
int gwc_has_work(const struct gw_client *c);
/* 1 when the queue has not drained for GW_STUCK_MS (close_code set). */
int gwc_check_stuck(struct gw_client *c, int64_t now_ms);

#endif
