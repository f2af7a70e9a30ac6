/* server: the gateway's libwebsockets vhost (gateway.h).  The lws callback
 * only dispatches: per-client logic is in client.c, encoding in protocol.c,
 * HTTP endpoints in http.c.
 *
 *   mailbox --EVENT_WAIT_CANCELLED--> publish(): render, diff, encode once
 *     --> gwc_push to every subscriber (one walk over the peers per drain)
 *     --> SERVER_WRITEABLE: the queued frames, in one corked burst
 *
 * Lifetime: lws keeps pointers to the mounts and calls the protocol after
 * gw_free (until the context goes), so the vhost's user data is a small
 * handle that outlives the gateway: its 'gw' is NULL once the gateway is
 * freed and the handle is freed at LWS_CALLBACK_PROTOCOL_DESTROY. */
#define _POSIX_C_SOURCE 200809L /* gmtime_r, strdup */
#include "server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "latency.h"
#include "now.h"

_Static_assert(GW_MSG_PRE >= LWS_PRE, "gw_msg headroom must cover LWS_PRE");

int64_t gw_now_ms(void)
{
  return now_wall_us() / 1000;
}

void gw_config_default(struct gw_config *c)
{
  memset(c, 0, sizeof(*c));
  c->port = 8080;
  c->max_clients = 20000;
  c->heartbeat_ms = 1000;
  c->client_queue_msgs = 256;
  c->client_queue_bytes = 4u << 20;
  c->max_inbound = PROTO_MAX_MESSAGE;
}

/* ---- counters (flushed to metrics once per heartbeat: a metrics update
 * takes a mutex and a lookup, too much for every queued message) ---- */

static const char *const drop_reason[GW_N_DROP] = {"conflated",   "queue_full", "too_big_frame",
                                                   "server_full", "bad_origin", "publish"};
static const char *const msg_type[GW_N_MSG] = {"hello",     "surfaces", "snapshot", "patch",
                                               "heartbeat", "ack",      "error"};

void gw_flush_metrics(struct gateway *gw)
{
  struct metrics *m = gw->cfg.metrics;
  struct gw_counters *k = &gw->k;
  char lab[64];
  if (!m)
    goto reset;
  metrics_set(m, "volsurf_ws_connections", NULL, gw->n_peers);
  if (k->conflated)
    metrics_add(m, "volsurf_ws_conflated_total", NULL, (double)k->conflated);
  for (int i = 0; i < GW_N_DROP; i++) {
    if (!k->dropped[i])
      continue;
    snprintf(lab, sizeof(lab), "reason=\"%s\"", drop_reason[i]);
    metrics_add(m, "volsurf_ws_dropped_total", lab, (double)k->dropped[i]);
  }
  for (int i = 0; i < GW_N_MSG; i++) {
    if (!k->sent[i])
      continue;
    snprintf(lab, sizeof(lab), "type=\"%s\"", msg_type[i]);
    metrics_add(m, "volsurf_ws_messages_total", lab, (double)k->sent[i]);
  }
  for (int i = 1; i < PROTO_N_ERR; i++) {
    if (!k->errors[i])
      continue;
    snprintf(lab, sizeof(lab), "code=\"%s\"", proto_err_code(i));
    metrics_add(m, "volsurf_ws_client_errors_total", lab, (double)k->errors[i]);
  }
  for (int i = 0; i < GW_N_CLOSE; i++) {
    if (!k->closed[i])
      continue;
    static const int codes[GW_N_CLOSE] = {4000, 4001, 1009, 1013, 1001};
    snprintf(lab, sizeof(lab), "code=\"%d\"", codes[i]);
    metrics_add(m, "volsurf_ws_closed_total", lab, (double)k->closed[i]);
  }
reset:
  memset(k, 0, sizeof(*k));
}

/* ---- surfaces ---- */

int gw_find_surface(const struct gateway *gw, const char *id)
{
  for (int i = 0; i < gw->n_surf; i++)
    if (strcmp(gw->surf[i].id, id) == 0)
      return i;
  return -1;
}

/* Rebuilds the cached "surfaces" message after the set changed. */
static int rebuild_surfaces_msg(struct gateway *gw)
{
  struct proto_surface_info info[GW_MAX_SURFACES];
  for (int i = 0; i < gw->n_surf; i++) {
    struct gw_surf *s = &gw->surf[i];
    info[i] =
        (struct proto_surface_info){s->id, s->venue, s->asset, s->n_expiries, s->seq, s->stale};
  }
  size_t len = 0;
  char *txt = proto_encode_surfaces("surfaces", info, gw->n_surf, 0, 0, gw_now_ms(), &len);
  struct gw_msg *m = txt ? gw_msg_new(txt, len, -1, GW_MSG_OTHER) : NULL;
  free(txt);
  if (!m)
    return ERR_NOMEM;
  gw_msg_unref(gw->surfaces_msg);
  gw->surfaces_msg = m;
  return 0;
}

struct gw_msg *gw_snapshot_msg(struct gateway *gw, int surf)
{
  struct gw_surf *s = &gw->surf[surf];
  if (!s->snap) {
    struct proto_head h = {s->id, gw->epoch, s->seq, s->seq - 1, s->checksum, gw_now_ms()};
    size_t len = 0;
    char *txt = proto_encode_surface_msg("snapshot", &h, s->doc, &len);
    s->snap = txt ? gw_msg_new(txt, len, surf, GW_MSG_SNAPSHOT) : NULL;
    free(txt);
  }
  return s->snap;
}

static int count_expiries(const cJSON *doc)
{
  return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "expiries"));
}

/* Offers the pending messages, in order, to every peer in one walk over
 * the peers (a walk per message costs a cache miss per peer each time);
 * wakes those that got something to send. */
static void flush_pending(struct gateway *gw, int64_t now)
{
  if (gw->n_pend == 0)
    return;
  for (struct gw_peer *p = gw->peers; p; p = p->next) {
    int woke = 0;
    for (int j = 0; j < gw->n_pend && !p->q.close_code; j++) {
      int r = gwc_push(&p->q, gw->pend[j], now);
      if (r == GWC_SKIPPED)
        continue;
      if (r == GWC_CONFLATED || r == GWC_CLOSE) {
        gw->k.conflated++;
        gw->k.dropped[GW_DROP_CONFLATED]++;
      }
      if (r == GWC_DROPPED)
        gw->k.dropped[GW_DROP_QUEUE_FULL]++;
      if (r == GWC_CLOSE)
        gw->k.closed[GW_CLOSE_SLOW]++;
      woke = 1;
    }
    if (woke)
      lws_callback_on_writable(p->wsi);
  }
  for (int j = 0; j < gw->n_pend; j++)
    gw_msg_unref(gw->pend[j]);
  gw->n_pend = 0;
}

/* Queues m (one reference taken) for the next flush_pending. */
static void fan_out(struct gateway *gw, struct gw_msg *m, int64_t now)
{
  if (gw->n_pend == GW_MAX_PENDING)
    flush_pending(gw, now);
  gw->pend[gw->n_pend++] = gw_msg_ref(m);
}

/* Takes ownership of s: renders it, diffs it against the surface's previous
 * document and adds one shared patch to the pending messages. */
static void publish_one(struct gateway *gw, struct surface *s)
{
  int64_t drain_us = now_wall_us();
  int64_t now = gw_now_ms();
  cJSON *doc = proto_render(s);
  int i = gw_find_surface(gw, s->id);
  if (!doc || (i < 0 && gw->n_surf == GW_MAX_SURFACES))
    goto drop;
  if (i < 0) {
    i = gw->n_surf++;
    struct gw_surf *n = &gw->surf[i];
    memset(n, 0, sizeof(*n));
    snprintf(n->id, sizeof(n->id), "%s", s->id);
    snprintf(n->venue, sizeof(n->venue), "%s", s->venue);
    snprintf(n->asset, sizeof(n->asset), "%s", s->asset);
  }
  struct gw_surf *g = &gw->surf[i];
  char sum[PROTO_CHECKSUM_LEN];
  if (proto_checksum(doc, sum) != 0)
    goto drop;
  cJSON *patch = g->doc ? proto_diff(g->doc, doc) : NULL;
  if (g->doc && !patch)
    goto drop;
  int is_new = g->doc == NULL;
  cJSON_Delete(g->doc);
  g->doc = doc;
  doc = NULL;
  g->seq++;
  memcpy(g->checksum, sum, sizeof(sum));
  g->stale = s->stale != 0;
  int n_exp = count_expiries(g->doc);
  /* A new surface is listed at once; a changed expiry count (a roll-off,
   * a listing) waits for the heartbeats, so that an expiry that comes and
   * goes cannot send every client a list per version. */
  if (!is_new && n_exp != g->n_expiries)
    gw->surfaces_dirty = 1;
  g->n_expiries = n_exp;
  gw_msg_unref(g->snap);
  g->snap = NULL;
  if (patch) {
    struct proto_head h = {g->id, gw->epoch, g->seq, g->seq - 1, g->checksum, now};
    size_t len = 0;
    char *txt = proto_encode_surface_msg("patch", &h, patch, &len);
    struct gw_msg *m = txt ? gw_msg_new(txt, len, i, GW_MSG_PATCH) : NULL;
    free(txt);
    cJSON_Delete(patch);
    if (m) {
      fan_out(gw, m, now);
      gw_msg_unref(m);
      latency_observe(gw->cfg.metrics, s, drain_us, now_wall_us());
    } else {
      /* No patch: every subscriber needs a snapshot instead. */
      flush_pending(gw, now);
      for (struct gw_peer *p = gw->peers; p; p = p->next)
        if (gwc_resync(&p->q, i, now) == 0)
          lws_callback_on_writable(p->wsi);
    }
  }
  if (is_new && rebuild_surfaces_msg(gw) == 0) {
    fan_out(gw, gw->surfaces_msg, now);
    gw->surfaces_dirty = 0;
  }
  surface_free(s);
  return;
drop:
  gw->k.dropped[GW_DROP_PUBLISH]++;
  cJSON_Delete(doc);
  surface_free(s);
}

void gw_publish(struct gateway *gw, struct surface *s)
{
  publish_one(gw, s);
  flush_pending(gw, gw_now_ms());
}

void gw_drain(struct gateway *gw)
{
  struct surface *batch[16];
  int n;
  if (!gw->cfg.in)
    return;
  while ((n = surface_mailbox_take(gw->cfg.in, batch, 16)) > 0) {
    for (int i = 0; i < n; i++)
      publish_one(gw, batch[i]);
    flush_pending(gw, gw_now_ms());
  }
}

/* ---- peers ---- */

/* Queues a message for one client (a drop is counted) and asks to write. */
static void push_msg(struct gateway *gw, struct gw_peer *p, struct gw_msg *m)
{
  if (gwc_push(&p->q, m, gw_now_ms()) == GWC_DROPPED)
    gw->k.dropped[GW_DROP_QUEUE_FULL]++;
  lws_callback_on_writable(p->wsi);
}

/* Queues a per-client message (hello, error, ack, heartbeat). */
static void push_text(struct gateway *gw, struct gw_peer *p, const char *txt, size_t len)
{
  struct gw_msg *m = txt ? gw_msg_new(txt, len, -1, GW_MSG_OTHER) : NULL;
  if (m) {
    push_msg(gw, p, m);
    gw_msg_unref(m);
  }
}

struct gw_peer *gw_peer_open(struct gateway *gw, struct lws *wsi)
{
  struct gw_peer *p = calloc(1, sizeof(*p));
  if (!p)
    return NULL;
  if (gwc_init(&p->q, gw->cfg.client_queue_msgs, gw->cfg.client_queue_bytes) != 0) {
    free(p);
    return NULL;
  }
  p->wsi = wsi;
  p->next = gw->peers;
  if (gw->peers)
    gw->peers->prev = p;
  gw->peers = p;
  gw->n_peers++;
  if (gw->n_peers > gw->cfg.max_clients) {
    p->q.close_code = 1013;
    gw->k.dropped[GW_DROP_SERVER_FULL]++;
    gw->k.closed[GW_CLOSE_FULL]++;
    lws_callback_on_writable(wsi);
    return p;
  }
  size_t len = 0;
  char *txt = proto_encode_hello("volsurf", gw->epoch, gw->cfg.heartbeat_ms, gw->cfg.max_inbound,
                                 gw_now_ms(), &len);
  push_text(gw, p, txt, len);
  free(txt);
  if (!gw->surfaces_msg)
    rebuild_surfaces_msg(gw);
  if (gw->surfaces_msg)
    push_msg(gw, p, gw->surfaces_msg);
  return p;
}

void gw_peer_close(struct gateway *gw, struct gw_peer *p)
{
  if (p->prev)
    p->prev->next = p->next;
  else
    gw->peers = p->next;
  if (p->next)
    p->next->prev = p->prev;
  gw->n_peers--;
  gwc_fini(&p->q);
  free(p->rx);
  free(p);
}

/* Answers a refused request; past GW_MAX_ERRORS the client is closed. */
static void reply_error(struct gateway *gw, struct gw_peer *p, int err, const struct proto_req *r)
{
  size_t len = 0;
  char *txt = proto_encode_error(err, r->has_id, r->id, gw_now_ms(), &len);
  push_text(gw, p, txt, len);
  free(txt);
  gw->k.errors[err]++;
  if (++p->q.n_errors >= GW_MAX_ERRORS && !p->q.close_code) {
    p->q.close_code = 4001;
    gw->k.closed[GW_CLOSE_ERRORS]++;
  }
}

static void reply_surfaces(struct gateway *gw, struct gw_peer *p, const char *type,
                           const struct proto_req *r, int only_subs)
{
  struct proto_surface_info info[GW_MAX_SURFACES];
  int n = 0;
  for (int i = 0; i < gw->n_surf; i++) {
    struct gw_surf *s = &gw->surf[i];
    if (only_subs && !gwc_sub(&p->q, i))
      continue;
    info[n++] =
        (struct proto_surface_info){s->id, s->venue, s->asset, s->n_expiries, s->seq, s->stale};
  }
  size_t len = 0;
  char *txt = proto_encode_surfaces(type, info, n, r->has_id, r->id, gw_now_ms(), &len);
  push_text(gw, p, txt, len);
  free(txt);
}

void gw_peer_request(struct gateway *gw, struct gw_peer *p, const char *buf, size_t len)
{
  struct proto_req *r = &gw->req; /* big: one shared scratch request */
  int64_t now = gw_now_ms();
  int err = proto_parse_request(buf, len, gw->cfg.max_inbound, r);
  if (err != PROTO_OK) {
    reply_error(gw, p, err, r);
    return;
  }
  switch (r->type) {
  case PROTO_REQ_LIST:
    reply_surfaces(gw, p, "surfaces", r, 0);
    break;
  case PROTO_REQ_SUBSCRIBE:
  case PROTO_REQ_RESYNC:
    for (int i = 0; i < r->n_surfaces; i++) {
      int s = gw_find_surface(gw, r->surfaces[i]);
      if (s < 0) {
        reply_error(gw, p, PROTO_UNKNOWN_SURFACE, r);
        continue;
      }
      /* resync of a surface not subscribed to subscribes it */
      if (gwc_subscribe(&p->q, s, now) != 0)
        reply_error(gw, p, PROTO_TOO_MANY, r);
    }
    lws_callback_on_writable(p->wsi);
    break;
  case PROTO_REQ_UNSUBSCRIBE:
    for (int i = 0; i < r->n_surfaces; i++) {
      int s = gw_find_surface(gw, r->surfaces[i]);
      if (s >= 0)
        gwc_unsubscribe(&p->q, s, now);
    }
    reply_surfaces(gw, p, "ack", r, 1);
    break;
  }
}

/* Collects one websocket message that may arrive in fragments.  Returns 0,
 * or -1 when the connection must close (1009: over GW_HARD_FRAME_CAP). */
int gw_peer_receive(struct gateway *gw, struct gw_peer *p, const char *in, size_t len, int final)
{
  p->rx_total += len;
  if (p->rx_total > GW_HARD_FRAME_CAP) {
    gw->k.dropped[GW_DROP_TOO_BIG_FRAME]++;
    gw->k.closed[GW_CLOSE_TOO_BIG]++;
    return -1;
  }
  if (final && p->rx_len == 0 && !p->rx_over) {
    gw_peer_request(gw, p, in, len); /* the common case: one piece, no copy */
    p->rx_total = 0;
    return 0;
  }
  if (!p->rx_over && p->rx_len + len <= gw->cfg.max_inbound) {
    if (!p->rx)
      p->rx = malloc(gw->cfg.max_inbound + 1);
    if (!p->rx)
      return -1;
    memcpy(p->rx + p->rx_len, in, len);
    p->rx_len += len;
  } else {
    p->rx_over = 1;
  }
  if (!final)
    return 0;
  if (p->rx_over) {
    struct proto_req none;
    memset(&none, 0, sizeof(none));
    reply_error(gw, p, PROTO_TOO_BIG, &none);
  } else {
    gw_peer_request(gw, p, p->rx, p->rx_len);
  }
  free(p->rx);
  p->rx = NULL;
  p->rx_len = 0;
  p->rx_over = 0;
  p->rx_total = 0;
  return 0;
}

/* Sends the next frame, if any.  Returns 1 sent, 0 nothing to send, -1 to
 * close. */
static int write_one(struct gateway *gw, struct gw_peer *p, int64_t now, size_t *bytes)
{
  struct gw_msg *m = NULL;
  int s = gwc_take_snapshot_due(&p->q, now);
  if (s >= 0) {
    m = gw_snapshot_msg(gw, s);
    if (!m) { /* out of memory: owe it again later */
      gwc_resync(&p->q, s, now);
      return 0;
    }
    gw_msg_ref(m);
  } else {
    m = gwc_pop(&p->q, now);
  }
  if (!m)
    return 0;
  int n = lws_write(p->wsi, gw_msg_text(m), m->len, LWS_WRITE_TEXT);
  int type = gw_msg_type_of(m);
  *bytes += m->len;
  gw_msg_unref(m);
  if (n < 0)
    return -1;
  gw->k.sent[type]++;
  return 1;
}

/* Sets or clears TCP_CORK: while set, the kernel holds small writes and
 * sends them as full segments when it is cleared. */
static void cork(struct lws *wsi, int on)
{
#ifdef TCP_CORK /* Linux; elsewhere the frames go out one send each */
  int fd = lws_get_socket_fd(wsi);
  if (fd >= 0)
    setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
#else
  (void)wsi;
  (void)on;
#endif
}

/* Sends queued frames while the socket takes them, up to GW_WRITE_BATCH
 * frames or GW_WRITE_BATCH_BYTES: a client that fell behind catches up in
 * one pass, and its frames leave in one corked burst (one TCP push, one
 * wakeup of the reader) instead of one send each.  Returns 0, or -1 to
 * close (close code set). */
int gw_peer_writable(struct gateway *gw, struct gw_peer *p)
{
  if (p->q.close_code)
    return -1;
  int64_t now = gw_now_ms();
  size_t bytes = 0;
  int corked = 0, rc = 0;
  for (int i = 0; i < GW_WRITE_BATCH && bytes < GW_WRITE_BATCH_BYTES; i++) {
    if (i > 0 && (!gwc_has_work(&p->q) || lws_send_pipe_choked(p->wsi)))
      break;
    if (i == 1) {
      cork(p->wsi, 1);
      corked = 1;
    }
    int r = write_one(gw, p, now, &bytes);
    if (r <= 0) {
      rc = r;
      break;
    }
  }
  if (corked)
    cork(p->wsi, 0);
  if (rc < 0)
    return -1;
  if (gwc_has_work(&p->q))
    lws_callback_on_writable(p->wsi);
  return 0;
}

/* Classifies a message for the messages counter from its kind or text. */
int gw_msg_type_of(const struct gw_msg *m)
{
  if (m->kind == GW_MSG_SNAPSHOT)
    return GW_MSGT_SNAPSHOT;
  if (m->kind == GW_MSG_PATCH)
    return GW_MSGT_PATCH;
  /* other messages start {"type":"<t>" (the encoders put type first) */
  const char *t = (const char *)gw_msg_text(m) + 9;
  if (strncmp(t, "hello", 5) == 0)
    return GW_MSGT_HELLO;
  if (strncmp(t, "surfaces", 8) == 0)
    return GW_MSGT_SURFACES;
  if (strncmp(t, "heartbeat", 9) == 0)
    return GW_MSGT_HEARTBEAT;
  if (strncmp(t, "ack", 3) == 0)
    return GW_MSGT_ACK;
  return GW_MSGT_ERROR;
}

/* Once per heartbeat_ms: closes stuck clients, sends the surfaces list if
 * an expiry count changed, sends heartbeats, flushes the counters. */
void gw_tick(struct gateway *gw)
{
  int64_t now = gw_now_ms();
  char buf[GW_HB_CAP];
  struct proto_hb hb[PROTO_MAX_SUBS];
  struct gw_msg *list = NULL;
  if (gw->surfaces_dirty && rebuild_surfaces_msg(gw) == 0) {
    list = gw->surfaces_msg;
    gw->surfaces_dirty = 0;
  }
  for (struct gw_peer *p = gw->peers; p; p = p->next) {
    if (p->q.close_code)
      continue;
    if (gwc_check_stuck(&p->q, now)) {
      gw->k.closed[GW_CLOSE_SLOW]++;
      lws_callback_on_writable(p->wsi);
      continue;
    }
    if (list)
      push_msg(gw, p, list);
    for (int i = 0; i < p->q.n_subs; i++) {
      struct gw_surf *s = &gw->surf[p->q.subs[i].surf];
      hb[i] = (struct proto_hb){s->id, s->seq, s->stale};
    }
    size_t len = proto_encode_heartbeat(hb, p->q.n_subs, now, buf, sizeof(buf));
    if (len < sizeof(buf))
      push_text(gw, p, buf, len);
  }
  gw_flush_metrics(gw);
}
