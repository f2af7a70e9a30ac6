/* lws: the gateway's libwebsockets glue: vhost creation (gw_new), the one
 * protocol callback (thin: it dispatches to server.c and http.c), the
 * heartbeat timer, and teardown.
 *
 * The single protocol "volsurf.v1" is protocols[0], so a websocket client
 * that offers no subprotocol binds to it too, and it also receives the
 * vhost's HTTP callbacks (/healthz and /metrics are callback mounts; the
 * static files are an lws file mount, which lws serves itself and which
 * refuses paths outside static_dir). */
#define _POSIX_C_SOURCE 200809L /* gmtime_r, clock_gettime, strdup */
#include "server.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gw_pss {
  struct gw_peer *peer;
  int closing;         /* gw_free: close with 1001 at the next writable */
  unsigned char *body; /* HTTP response body (LWS_PRE headroom) */
  size_t body_len, body_off;
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len);

/* rx_buffer_size 1024 keeps an idle client small (inbound messages are
 * tiny); tx_packet_size must be set apart, or lws caps every send() at the
 * rx size and a 3 kB patch leaves in three sends, the rest copied aside and
 * each piece waiting for another poll() over every socket. */
static const struct lws_protocols gw_protocols[] = {
    {"volsurf.v1", callback, sizeof(struct gw_pss), 1024, 0, NULL, GW_WRITE_BATCH_BYTES},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

static struct gw_handle *handle_of(struct lws *wsi)
{
  struct lws_vhost *vh = lws_get_vhost(wsi);
  return vh ? lws_vhost_user(vh) : NULL;
}

/* Starts an HTTP response: headers now, body at HTTP_WRITEABLE. */
static int http_begin(struct lws *wsi, struct gw_pss *pss, int status, const char *ctype,
                      unsigned char *body, size_t len)
{
  unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr);
  pss->body = body;
  pss->body_len = len;
  pss->body_off = 0;
  if (lws_add_http_common_headers(wsi, (unsigned)status, ctype, len, &p, end) ||
      lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                  (const unsigned char *)"no-store", 8, &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return -1;
  lws_callback_on_writable(wsi);
  return 0;
}

static int http_request(struct lws *wsi, struct gateway *gw, struct gw_pss *pss)
{
  char uri[128] = "";
  unsigned char *body = NULL;
  size_t blen = 0;
  int status = 404;
  const char *ctype = "application/json";
  if (gw && lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) > 0) {
    if (strcmp(uri, "/healthz") == 0) {
      body = gw_http_healthz(gw, &blen, &status);
    } else if (strcmp(uri, "/metrics") == 0) {
      body = gw_http_metrics(gw, &blen, &status);
      ctype = "text/plain; version=0.0.4";
    }
  }
  if (!body) {
    if (lws_return_http_status(wsi, status == 404 ? HTTP_STATUS_NOT_FOUND : 500, NULL))
      return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  }
  return http_begin(wsi, pss, status, ctype, body, blen);
}

static int http_writable(struct lws *wsi, struct gw_pss *pss)
{
  if (!pss->body)
    return 0;
  size_t left = pss->body_len - pss->body_off, chunk = left > 16384 ? 16384 : left;
  int final = chunk == left;
  /* bytes before body_off were sent already, so lws may use them as headroom */
  if (lws_write(wsi, pss->body + LWS_PRE + pss->body_off, chunk,
                final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < 0)
    return -1;
  pss->body_off += chunk;
  if (!final) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  free(pss->body);
  pss->body = NULL;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Refuses upgrades off /ws and from origins not on the allow-list. */
static int confirm_upgrade(struct lws *wsi, struct gateway *gw)
{
  char buf[256];
  if (!gw)
    return 1;
  if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_GET_URI) <= 0 || strcmp(buf, "/ws") != 0) {
    lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
    return 1;
  }
  int has_origin = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0;
  int n = has_origin ? lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_ORIGIN) : 0;
  if (has_origin && n <= 0)
    buf[0] = '\0'; /* too long to be on any list */
  if (!gw_origin_allowed(gw, has_origin ? buf : NULL)) {
    gw->k.dropped[GW_DROP_BAD_ORIGIN]++;
    lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, NULL);
    return 1;
  }
  return 0;
}

static const char *close_text(int code)
{
  switch (code) {
  case 4000:
    return "slow consumer";
  case 4001:
    return "too many protocol errors";
  case 1013:
    return "server full";
  default:
    return "closing";
  }
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
  struct gw_pss *pss = user;
  struct gw_handle *h = handle_of(wsi);
  struct gateway *gw = h ? h->gw : NULL;
  switch (reason) {
  case LWS_CALLBACK_PROTOCOL_DESTROY:
    if (h && h->live) {
      if (h->gw)
        h->gw->h = NULL;
      free(h->static_dir);
      free(h);
    }
    return 0;
  case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
    if (gw)
      gw_drain(gw);
    return 0;
  case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
    return confirm_upgrade(wsi, gw);
  case LWS_CALLBACK_ESTABLISHED:
    if (!gw)
      return -1;
    pss->peer = gw_peer_open(gw, wsi);
    if (!pss->peer)
      return -1;
    pss->peer->pss = pss;
    return 0;
  case LWS_CALLBACK_RECEIVE:
    if (!gw || !pss->peer)
      return -1;
    if (gw_peer_receive(gw, pss->peer, in, len,
                        lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) < 0) {
      lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)"too big", 7);
      return -1;
    }
    return 0;
  case LWS_CALLBACK_SERVER_WRITEABLE:
    if (pss->closing) {
      lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY, (unsigned char *)"shutdown", 8);
      return -1;
    }
    if (!gw || !pss->peer)
      return 0;
    if (gw_peer_writable(gw, pss->peer) < 0) {
      int code = pss->peer->q.close_code;
      if (code) {
        const char *t = close_text(code);
        lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)t, strlen(t));
      }
      return -1;
    }
    return 0;
  case LWS_CALLBACK_CLOSED:
    if (gw && pss->peer)
      gw_peer_close(gw, pss->peer);
    pss->peer = NULL;
    return 0;
  case LWS_CALLBACK_HTTP:
    return http_request(wsi, gw, pss);
  case LWS_CALLBACK_HTTP_WRITEABLE:
    if (pss->body)
      return http_writable(wsi, pss);
    break;
  case LWS_CALLBACK_CLOSED_HTTP:
    free(pss->body);
    pss->body = NULL;
    break;
  default:
    break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
  struct gateway *gw = lws_container_of(sul, struct gateway, sul);
  gw_tick(gw);
  lws_sul_schedule(gw->ctx, 0, &gw->sul, tick_cb, (lws_usec_t)gw->cfg.heartbeat_ms * 1000);
}

static void setup_mounts(struct gw_handle *h)
{
  static const char *const mime[][2] = {{".js", "text/javascript"},    {".mjs", "text/javascript"},
                                        {".json", "application/json"}, {".svg", "image/svg+xml"},
                                        {".wasm", "application/wasm"}, {".woff2", "font/woff2"},
                                        {".map", "application/json"},  {".txt", "text/plain"}};
  for (int i = 0; i < 8; i++) {
    h->mimes[i].name = mime[i][0];
    h->mimes[i].value = mime[i][1];
    h->mimes[i].next = i + 1 < 8 ? &h->mimes[i + 1] : NULL;
  }
  static const char *const cb_paths[2] = {"/healthz", "/metrics"};
  for (int i = 0; i < 2; i++) {
    struct lws_http_mount *m = &h->mounts[i];
    m->mountpoint = cb_paths[i];
    m->mountpoint_len = (unsigned char)strlen(cb_paths[i]);
    m->origin = "volsurf.v1";
    m->origin_protocol = LWSMPRO_CALLBACK;
    m->mount_next = &h->mounts[i + 1];
  }
  h->mounts[1].mount_next = NULL;
  if (h->static_dir) {
    struct lws_http_mount *m = &h->mounts[2];
    h->mounts[1].mount_next = m;
    m->mountpoint = "/";
    m->mountpoint_len = 1;
    m->origin = h->static_dir;
    m->def = "index.html";
    m->origin_protocol = LWSMPRO_FILE;
    m->extra_mimetypes = h->mimes;
  }
}

/* Fills zero members of a config with the defaults. */
static void complete_config(struct gw_config *c)
{
  struct gw_config d;
  gw_config_default(&d);
  if (c->max_clients <= 0)
    c->max_clients = d.max_clients;
  if (c->heartbeat_ms <= 0)
    c->heartbeat_ms = d.heartbeat_ms;
  if (c->client_queue_msgs <= 0)
    c->client_queue_msgs = d.client_queue_msgs;
  if (c->client_queue_bytes == 0)
    c->client_queue_bytes = d.client_queue_bytes;
  if (c->max_inbound == 0 || c->max_inbound > GW_HARD_FRAME_CAP)
    c->max_inbound = d.max_inbound;
}

int gw_new(struct lws_context *ctx, const struct gw_config *c, struct gateway **out, char *err,
           size_t errlen)
{
  *out = NULL;
  struct gateway *gw = calloc(1, sizeof(*gw));
  struct gw_handle *h = calloc(1, sizeof(*h));
  if (!gw || !h)
    goto nomem;
  gw->cfg = *c;
  complete_config(&gw->cfg);
  gw->ctx = ctx;
  gw->h = h;
  h->gw = gw;
  if (c->allowed_origins && !(gw->origins = strdup(c->allowed_origins)))
    goto nomem;
  if (c->static_dir && !(h->static_dir = strdup(c->static_dir)))
    goto nomem;
  gw->epoch = c->epoch ? c->epoch : gw_now_ms();
  setup_mounts(h);

  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.port = c->port;
  info.iface = c->iface;
  info.protocols = gw_protocols;
  info.mounts = h->mounts;
  info.user = h;
  info.vhost_name = "volsurf-gateway";
  info.keepalive_timeout = 5;
  gw->vh = lws_create_vhost(ctx, &info);
  if (!gw->vh) {
    snprintf(err, errlen, "cannot listen on %s:%d", c->iface ? c->iface : "*", c->port);
    free(h->static_dir);
    free(h);
    free(gw->origins);
    free(gw);
    return ERR_IO;
  }
  h->live = 1; /* from now on lws frees h at PROTOCOL_DESTROY */
  lws_sul_schedule(ctx, 0, &gw->sul, tick_cb, (lws_usec_t)gw->cfg.heartbeat_ms * 1000);
  *out = gw;
  return 0;
nomem:
  snprintf(err, errlen, "out of memory");
  if (h)
    free(h->static_dir);
  free(h);
  if (gw)
    free(gw->origins);
  free(gw);
  return ERR_NOMEM;
}

int gw_port(const struct gateway *gw)
{
  return lws_get_vhost_listen_port(gw->vh);
}

void gw_wake(struct gateway *gw)
{
  lws_cancel_service(gw->ctx);
}

int gw_n_clients(const struct gateway *gw)
{
  return gw->n_peers;
}

void gw_free(struct gateway *gw)
{
  if (!gw)
    return;
  lws_sul_cancel(&gw->sul);
  if (gw->h)
    gw->h->gw = NULL; /* from here on the callback ignores this gateway */
  int n = 0;
  while (gw->peers) {
    struct gw_peer *p = gw->peers;
    struct gw_pss *pss = p->pss;
    if (pss) {
      pss->peer = NULL;
      pss->closing = 1; /* the next writable sends close 1001 */
    }
    lws_callback_on_writable(p->wsi);
    gw->k.closed[GW_CLOSE_SHUTDOWN]++;
    gw_peer_close(gw, p);
    n++;
  }
  /* The context is usually destroyed next, which closes sockets without a
   * close frame: give lws a few passes (bounded, ~50 ms) to send them. */
  for (int i = 0; n > 0 && i < 25; i++) {
    lws_service(gw->ctx, -1);
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  gw_flush_metrics(gw);
  for (int i = 0; i < gw->n_surf; i++) {
    cJSON_Delete(gw->surf[i].doc);
    gw_msg_unref(gw->surf[i].snap);
  }
  gw_msg_unref(gw->surfaces_msg);
  free(gw->origins);
  free(gw);
}
