/* feed: the live connectors (contract in feed.h).  One client vhost on the
 * caller's lws_context; one websocket per connector; a 20 ms timer (sul)
 * drives everything time-based (connect after backoff, silence, pings,
 * listing refresh, expiries, paced requests); the lws callback only routes
 * events to plain conn_* functions.  Venue specifics live in venue.c.
 *
 * Per connector:
 *   listing (REST on rest.c, or Deribit get_instruments over the socket)
 *     -> topic set (topics.c: unsent / sent / remove)
 *     -> subscribe and unsubscribe requests built at write time, paced by
 *        a token bucket (venue_rules.requests_per_s, request_burst)
 *   frames -> capped assembly buffer -> venue_parse -> qq_push_quotes
 * Invariants: at most one wsi per connector, and a new connection is only
 * started after the old one's close callback; every inbound byte goes
 * through a capped buffer; outgoing small messages (pings, heartbeat
 * answers, listing requests) sit in fixed rings. */
#include "feed.h"

#include <curl/curl.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "now.h"
#include "rest.h"
#include "topics.h"
#include "venue.h"

#define FEEDS_MAX 8
#define FEED_TICK_US 20000
#define FEED_TX_MAX 65536
#define FEED_SMALL_MAX 512
#define FEED_SMALL_SLOTS 8
#define FEED_LISTING_MAX 16384
#define FEED_TOPICS_MAX 8192
#define FEED_MAX_PAGES 64
#define FEED_LISTING_RETRY_MS 5000
#define FEED_STABLE_US 60000000 /* a connection up this long resets the backoff */
#define FEED_REST_TIMEOUT_MS 15000
#define FEED_PROTOCOL "volsurf-feed"

enum conn_state { CONN_IDLE = 0, CONN_CONNECTING, CONN_OPEN };

struct small_ring {
  char msg[FEED_SMALL_SLOTS][FEED_SMALL_MAX];
  int len[FEED_SMALL_SLOTS];
  int head, n;
};

struct feed_conn {
  struct feeds *f;
  int index, v;
  const struct venue_rules *rules;
  struct feed_config cfg; /* strings point to the owned copies below */
  char *ws_url, *rest_url, *assets;
  char host[256], path[512];
  int port, ssl;

  struct lws *wsi;
  int state;
  int attempt;
  int64_t next_connect_us, open_since_us, last_rx_us, last_ping_us, last_scan_us;
  int want_ping_frame;
  int killing; /* close requested, waiting for the close callback */
  uint64_t rng;

  char *rx;
  size_t rx_len, rx_alloc;
  int rx_over;
  unsigned char *tx; /* LWS_PRE + FEED_TX_MAX */
  struct small_ring urgent, paced;
  double tokens;
  int64_t tokens_us;
  long long next_id;

  struct listing *listing, *pending;
  uint64_t listing_gen;
  int listing_busy, listing_ok_keys;
  int64_t next_listing_us;
  char keys[VENUE_MAX_KEYS][VENUE_KEY_LEN];
  int n_keys, key_i, pages;
  char cursor[256];
  long long listing_ids[VENUE_MAX_KEYS];
  int n_listing_ids;

  struct topics topics;
  int cap_topics; /* wanted topics at most (venue limit, FEED_TOPICS_MAX) */
  struct venue_topic *scratch;
  int link_up;

  struct okx *okx;
  struct quote *quotes;
  unsigned *qflags;
  struct feeds_batch batch;
  struct feed_status st;
  uint64_t rej_seen[FEEDS_REJ_N];
  char labels[48];
};

struct feeds {
  struct lws_context *ctx;
  struct lws_vhost *vh;
  struct feeds **vh_slot; /* lws-owned per-vhost pointer back to us; NULL after free */
  struct qqueue *out;
  struct metrics *metrics;
  struct rest *rest;
  struct feed_conn *conn[FEEDS_MAX];
  int n;
  int closing;
  uint64_t next_trace;
  lws_sorted_usec_list_t sul;
};

void feed_config_default(struct feed_config *c, const char *venue)
{
  memset(c, 0, sizeof *c);
  c->venue = venue;
  c->backoff_min_ms = 250;
  c->backoff_max_ms = 30000;
  c->silence_ms = 15000;
  c->listing_refresh_ms = 600000;
  c->msg_max = FEEDS_MSG_MAX;
}

/* ---- metrics ------------------------------------------------------------ */

static void conn_metric_add(struct feed_conn *c, const char *name, double v)
{
  if (c->f->metrics)
    metrics_add(c->f->metrics, name, c->labels, v);
}

static void conn_metric_set(struct feed_conn *c, const char *name, double v)
{
  if (c->f->metrics)
    metrics_set(c->f->metrics, name, c->labels, v);
}

/* Reports rejections counted since the last call, per reason. */
static void conn_report_rejects(struct feed_conn *c)
{
  for (int r = 0; r < FEEDS_REJ_N; r++) {
    uint64_t now = c->st.stats.n_rejected[r];
    if (now == c->rej_seen[r])
      continue;
    if (c->f->metrics) {
      char labels[METRICS_LABELS_LEN];
      snprintf(labels, sizeof labels, "%s,reason=\"%s\"", c->labels, feeds_reject_name(r));
      metrics_add(c->f->metrics, "volsurf_feed_rejected_total", labels,
                  (double)(now - c->rej_seen[r]));
    }
    c->rej_seen[r] = now;
  }
}

/* ---- outgoing ----------------------------------------------------------- */

static int ring_push(struct small_ring *r, const char *msg, int len)
{
  if (len <= 0 || len >= FEED_SMALL_MAX || r->n == FEED_SMALL_SLOTS)
    return ERR_FULL;
  int i = (r->head + r->n) % FEED_SMALL_SLOTS;
  memcpy(r->msg[i], msg, (size_t)len);
  r->len[i] = len;
  r->n++;
  return 0;
}

/* Copies the oldest message into dst and removes it; returns its length. */
static int ring_pop(struct small_ring *r, unsigned char *dst)
{
  int len = r->len[r->head];
  memcpy(dst, r->msg[r->head], (size_t)len);
  r->head = (r->head + 1) % FEED_SMALL_SLOTS;
  r->n--;
  return len;
}

static void conn_refill(struct feed_conn *c, int64_t now)
{
  double dt = (double)(now - c->tokens_us) / 1e6;
  c->tokens += dt * c->rules->requests_per_s;
  if (c->tokens > c->rules->request_burst)
    c->tokens = c->rules->request_burst;
  c->tokens_us = now;
}

/* Does the connection have something it may send now? */
static int conn_has_output(struct feed_conn *c, int64_t now)
{
  if (c->urgent.n || c->want_ping_frame)
    return 1;
  conn_refill(c, now);
  if (c->tokens < 1.0)
    return 0;
  return c->paced.n || topics_count(&c->topics, TOPIC_UNSENT) ||
         topics_count(&c->topics, TOPIC_REMOVE);
}

/* Builds one subscribe (unsub = 0) or unsubscribe request into dst and
 * commits the topics it carries.  Returns the length, or 0 when there is
 * nothing to send. */
static int conn_build_sub(struct feed_conn *c, int unsub, unsigned char *dst)
{
  int state = unsub ? TOPIC_REMOVE : TOPIC_UNSENT;
  const char *names[256];
  int idx[256];
  int max = c->rules->topics_per_request < 256 ? c->rules->topics_per_request : 256;
  int n = topics_pick(&c->topics, state, names, idx, max);
  if (n == 0)
    return 0;
  size_t cap = c->rules->request_max < FEED_TX_MAX ? c->rules->request_max : FEED_TX_MAX;
  int used = 0;
  int len = venue_subscribe(c->v, unsub, names, n, c->next_id++, (char *)dst, cap, &used);
  if (len < 0) {
    /* Cannot happen with topics from venue_topics; do not retry forever. */
    lwsl_err("feed %s: cannot build a request (%s)\n", c->rules->name, err_str(len));
    topics_commit(&c->topics, state, idx, n);
    return 0;
  }
  topics_commit(&c->topics, state, idx, used);
  return len;
}

/* Sends what may go now, in order: urgent messages (heartbeat answers,
 * pings), a ping frame, then one paced request (listing request,
 * unsubscribe, subscribe).  Returns -1 to close the connection. */
static int conn_write(struct feed_conn *c, struct lws *wsi, int64_t now)
{
  unsigned char *p = c->tx + LWS_PRE;
  int len = 0;
  enum lws_write_protocol how = LWS_WRITE_TEXT;
  if (c->urgent.n) {
    len = ring_pop(&c->urgent, p);
  } else if (c->want_ping_frame) {
    c->want_ping_frame = 0;
    how = LWS_WRITE_PING;
  } else {
    conn_refill(c, now);
    if (c->tokens < 1.0)
      return 0;
    /* Subscriptions first: a listing refresh must not starve them. */
    len = conn_build_sub(c, 1, p);
    if (!len)
      len = conn_build_sub(c, 0, p);
    if (!len && c->paced.n)
      len = ring_pop(&c->paced, p);
    if (!len)
      return 0;
    c->tokens -= 1.0;
  }
  if (lws_write(wsi, p, (size_t)len, how) < len)
    return -1;
  c->st.n_subscribed = topics_count(&c->topics, TOPIC_SENT);
  if (conn_has_output(c, now))
    lws_callback_on_writable(wsi);
  return 0;
}

static void conn_queue(struct feed_conn *c, struct small_ring *r, const char *msg, int len)
{
  if (len > 0 && ring_push(r, msg, len) == 0 && c->wsi && c->state == CONN_OPEN)
    lws_callback_on_writable(c->wsi);
}

/* ---- listing ------------------------------------------------------------ */

/* Replaces the listing with the freshly loaded c->pending and merges the
 * topics it implies into the current set (topics_merge). */
static void conn_listing_commit(struct feed_conn *c, int64_t now)
{
  int over = 0;
  int n_new = venue_topics(c->v, c->pending, c->cfg.assets, now_wall_us(), c->scratch,
                           c->cap_topics, &over);
  over += topics_merge(&c->topics, c->scratch, n_new, c->state == CONN_OPEN);
  if (over)
    lwsl_warn("feed %s: %d topics over the cap of %d left out\n", c->rules->name, over,
              c->cap_topics);
  listing_free(c->listing);
  c->listing = c->pending;
  c->pending = NULL;
  c->listing_busy = 0;
  c->next_listing_us = now + c->cfg.listing_refresh_ms * 1000;
  if (c->wsi && c->state == CONN_OPEN && conn_has_output(c, now))
    lws_callback_on_writable(c->wsi);
}

static void conn_listing_failed(struct feed_conn *c, int64_t now, const char *why)
{
  lwsl_warn("feed %s: listing failed (%s), retrying\n", c->rules->name, why);
  listing_free(c->pending);
  c->pending = NULL;
  c->listing_busy = 0;
  c->n_listing_ids = 0;
  int64_t retry = c->cfg.listing_refresh_ms < FEED_LISTING_RETRY_MS ? c->cfg.listing_refresh_ms
                                                                    : FEED_LISTING_RETRY_MS;
  c->next_listing_us = now + retry * 1000;
}

/* A key's listing body arrived (REST or over the socket): merge it. */
static void conn_listing_body(struct feed_conn *c, const char *body, size_t len)
{
  int rc =
      venue_listing_load(c->v, c->pending, body, len, c->cursor, sizeof c->cursor, &c->st.stats);
  if (rc >= 0 || rc == ERR_FULL)
    c->listing_ok_keys++;
  else
    lwsl_warn("feed %s: listing body for key %d rejected (%s)\n", c->rules->name, c->key_i,
              err_str(rc));
  conn_report_rejects(c);
}

static int conn_listing_submit(struct feed_conn *c)
{
  char url[REST_URL_LEN];
  int n = venue_listing_url(c->v, c->cfg.rest_url, c->keys[c->key_i], c->cursor, url, sizeof url);
  if (n < 0)
    return n;
  return rest_submit(c->f->rest, c->index, c->listing_gen, url);
}

/* Starts a listing load: REST for OKX, Bybit and Binance, get_instruments
 * over the open socket for Deribit. */
static void conn_listing_start(struct feed_conn *c, int64_t now)
{
  c->pending = listing_new(FEED_LISTING_MAX);
  if (!c->pending) {
    conn_listing_failed(c, now, "out of memory");
    return;
  }
  c->listing_gen++;
  c->listing_busy = 1;
  c->listing_ok_keys = 0;
  c->key_i = 0;
  c->pages = 0;
  c->cursor[0] = '\0';
  if (c->v == VENUE_DERIBIT) {
    char msg[FEED_SMALL_MAX];
    c->n_listing_ids = 0;
    for (int k = 0; k < c->n_keys; k++) {
      long long id = c->next_id++;
      int len = venue_listing_request(id, c->keys[k], msg, sizeof msg);
      if (len > 0 && ring_push(&c->paced, msg, len) == 0)
        c->listing_ids[c->n_listing_ids++] = id;
    }
    if (c->n_listing_ids == 0)
      conn_listing_failed(c, now, "request queue full");
    else if (c->wsi)
      lws_callback_on_writable(c->wsi);
    return;
  }
  int rc = conn_listing_submit(c);
  if (rc < 0)
    conn_listing_failed(c, now, err_str(rc));
}

/* A REST listing result for this connector. */
static void conn_on_rest(struct feed_conn *c, struct rest_result *res, int64_t now)
{
  if (!c->listing_busy || res->gen != c->listing_gen)
    return; /* stale: a newer load started */
  if (res->err == 0) {
    conn_listing_body(c, res->body, res->len);
  } else {
    c->st.n_listing_errors++;
    conn_metric_add(c, "volsurf_feed_listing_errors_total", 1);
    lwsl_warn("feed %s: listing GET failed (%s, HTTP %ld%s%s)\n", c->rules->name, err_str(res->err),
              res->http_code, res->why[0] ? ": " : "", res->why);
    c->cursor[0] = '\0';
  }
  /* Bybit pages with nextPageCursor; everyone else is one page per key. */
  if (c->cursor[0] && ++c->pages < FEED_MAX_PAGES) {
    if (conn_listing_submit(c) < 0)
      conn_listing_failed(c, now, "submit");
    return;
  }
  c->cursor[0] = '\0';
  c->pages = 0;
  if (++c->key_i < c->n_keys) {
    if (conn_listing_submit(c) < 0)
      conn_listing_failed(c, now, "submit");
    return;
  }
  if (c->listing_ok_keys > 0)
    conn_listing_commit(c, now);
  else
    conn_listing_failed(c, now, "no key loaded");
}

/* Removes 'id' from the outstanding Deribit listing requests; returns 1 if
 * it was one (id < 0: the oldest). */
static int conn_take_listing_id(struct feed_conn *c, long long id)
{
  for (int k = 0; k < c->n_listing_ids; k++) {
    if (id < 0 || c->listing_ids[k] == id) {
      memmove(&c->listing_ids[k], &c->listing_ids[k + 1],
              (size_t)(c->n_listing_ids - k - 1) * sizeof c->listing_ids[0]);
      c->n_listing_ids--;
      return 1;
    }
  }
  return 0;
}

static void conn_deribit_listing_done(struct feed_conn *c, int64_t now)
{
  if (c->n_listing_ids > 0)
    return;
  if (c->listing_ok_keys > 0)
    conn_listing_commit(c, now);
  else
    conn_listing_failed(c, now, "no currency loaded");
}

/* ---- connection lifecycle ----------------------------------------------- */

static void conn_push_link(struct feed_conn *c, int kind)
{
  qq_push_link(c->f->out, c->rules->name, kind, now_wall_us());
}

static void conn_on_open(struct feed_conn *c, struct lws *wsi, int64_t now)
{
  c->wsi = wsi;
  c->state = CONN_OPEN;
  c->st.n_connects++;
  if (c->st.n_connects > 1)
    conn_metric_add(c, "volsurf_feed_reconnects_total", 1);
  c->open_since_us = now;
  c->last_rx_us = now;
  c->last_ping_us = now;
  c->want_ping_frame = 0;
  c->rx_len = 0;
  c->rx_over = 0;
  c->urgent.n = 0;
  c->paced.n = 0;
  c->tokens = c->rules->request_burst;
  c->tokens_us = now;
  c->link_up = 0;
  topics_reset(&c->topics);
  c->st.n_subscribed = 0;
  if (c->v == VENUE_DERIBIT) {
    /* Heartbeats at half the silence budget keep a quiet link from
     * being mistaken for a dead one. */
    char msg[FEED_SMALL_MAX];
    int len = venue_hello(c->v, c->next_id++, (int)(c->cfg.silence_ms / 2000), msg, sizeof msg);
    conn_queue(c, &c->urgent, msg, len);
    if (!c->listing || now >= c->next_listing_us || c->listing_busy) {
      listing_free(c->pending);
      c->pending = NULL;
      conn_listing_start(c, now);
    }
  }
  lwsl_user("feed %s: connected (%ld)\n", c->rules->name, c->st.n_connects);
  lws_callback_on_writable(wsi);
}

/* The socket closed or never opened: schedule the next attempt. */
static void conn_on_closed(struct feed_conn *c, int64_t now, const char *why)
{
  int was_open = c->state == CONN_OPEN;
  if (!was_open && !c->f->closing) {
    c->st.n_connect_errors++;
    conn_metric_add(c, "volsurf_feed_connect_errors_total", 1);
  }
  c->state = CONN_IDLE;
  c->killing = 0;
  c->wsi = NULL;
  if (was_open) {
    if (now - c->open_since_us >= FEED_STABLE_US)
      c->attempt = 0;
    topics_reset(&c->topics);
    c->st.n_subscribed = 0;
    if (c->v == VENUE_DERIBIT && c->listing_busy) {
      listing_free(c->pending); /* its answers died with the socket */
      c->pending = NULL;
      c->listing_busy = 0;
      c->n_listing_ids = 0;
    }
    c->st.connected = 0;
    conn_metric_set(c, "volsurf_feed_connected", 0);
    conn_push_link(c, QQ_LINK_DOWN);
  }
  c->link_up = 0;
  int64_t delay =
      venue_backoff_ms(c->attempt, c->cfg.backoff_min_ms, c->cfg.backoff_max_ms, &c->rng);
  if (c->attempt < 30)
    c->attempt++;
  c->next_connect_us = now + delay * 1000;
  if (!c->f->closing)
    lwsl_user("feed %s: %s, reconnecting in %lld ms\n", c->rules->name, why, (long long)delay);
}

static void conn_connect(struct feed_conn *c, int64_t now)
{
  struct lws_client_connect_info i;
  memset(&i, 0, sizeof i);
  i.context = c->f->ctx;
  i.vhost = c->f->vh;
  i.address = c->host;
  i.port = c->port;
  i.path = c->path;
  i.host = c->host;
  i.origin = c->host;
  i.ssl_connection = c->ssl ? LCCSCF_USE_SSL : 0;
  i.local_protocol_name = FEED_PROTOCOL;
  i.opaque_user_data = c;
  c->state = CONN_CONNECTING;
  c->killing = 0;
  struct lws *w = lws_client_connect_via_info(&i);
  if (!w && c->state == CONN_CONNECTING)
    conn_on_closed(c, now, "connect failed");
  else if (w && c->state == CONN_CONNECTING)
    c->wsi = w;
}

/* Asks lws to close the socket; conn_on_closed follows from the callback. */
static void conn_kill(struct feed_conn *c, const char *why)
{
  if (c->wsi && c->state != CONN_IDLE && !c->killing) {
    c->killing = 1;
    lwsl_user("feed %s: closing: %s\n", c->rules->name, why);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  }
}

/* ---- incoming ----------------------------------------------------------- */

static void conn_alive(struct feed_conn *c)
{
  conn_push_link(c, QQ_LINK_ALIVE);
}

/* One complete text message from the venue. */
static void conn_on_message(struct feed_conn *c, const char *msg, size_t len, int64_t now)
{
  int64_t wall = now_wall_us();
  c->st.last_msg_us = wall;
  if (c->v == VENUE_DERIBIT && len > c->cfg.msg_max) {
    /* Only a get_instruments answer may be this big (the assembly cap is
     * raised while one is outstanding); it is too big for deribit_parse. */
    if (conn_take_listing_id(c, -1)) {
      conn_listing_body(c, msg, len);
      conn_deribit_listing_done(c, now);
    } else {
      c->st.n_oversize++; /* the listing finished while this frame arrived */
      c->st.stats.n_rejected[FEEDS_REJ_TOO_BIG]++;
      conn_report_rejects(c);
    }
    return;
  }
  struct feeds_batch *b = &c->batch;
  int n = venue_parse(c->v, c->okx, c->listing, msg, len, wall, b, &c->st.stats);
  conn_report_rejects(c);
  char answer[FEED_SMALL_MAX];
  switch (b->msg) {
  case FEEDS_MSG_DATA:
    if (n > 0) {
      uint64_t trace = ++c->f->next_trace;
      int taken = qq_push_quotes(c->f->out, b->quotes, n, trace);
      c->st.n_dropped_queue += n - taken;
      c->st.last_quote_us = wall;
      conn_metric_add(c, "volsurf_feed_quotes_total", n);
    }
    break;
  case FEEDS_MSG_TEST_REQUEST:
    conn_queue(c, &c->urgent, answer,
               venue_heartbeat_answer(c->v, c->next_id++, answer, sizeof answer));
    conn_alive(c);
    break;
  case FEEDS_MSG_HEARTBEAT:
    conn_alive(c);
    break;
  case FEEDS_MSG_ACK:
    if (c->v == VENUE_DERIBIT && c->listing_busy && conn_take_listing_id(c, b->id)) {
      conn_listing_body(c, msg, len);
      conn_deribit_listing_done(c, now);
    }
    break;
  case FEEDS_MSG_ERROR:
    lwsl_warn("feed %s: venue error %lld (id %lld)\n", c->rules->name, b->error_code, b->id);
    if (c->v == VENUE_DERIBIT && c->listing_busy && conn_take_listing_id(c, b->id))
      conn_deribit_listing_done(c, now);
    break;
  case FEEDS_MSG_NOTICE:
    conn_kill(c, "venue notice (service upgrade)");
    break;
  default:
    break;
  }
}

/* Largest message accepted now: msg_max, or a whole listing while a
 * Deribit get_instruments answer is outstanding. */
static size_t conn_rx_cap(const struct feed_conn *c)
{
  if (c->v == VENUE_DERIBIT && c->n_listing_ids > 0 && c->cfg.msg_max < LISTING_BODY_MAX)
    return LISTING_BODY_MAX;
  return c->cfg.msg_max;
}

/* One piece of a frame: assembles fragments into the capped buffer and
 * hands each complete message on; oversize messages are dropped and
 * counted. */
static void conn_on_rx(struct feed_conn *c, const void *in, size_t len, int done, int64_t now)
{
  c->last_rx_us = now;
  if (!c->rx_over) {
    if (c->rx_len + len > conn_rx_cap(c)) {
      c->rx_over = 1;
    } else if (c->rx_len + len + 1 > c->rx_alloc) {
      size_t want = c->rx_alloc ? c->rx_alloc : 65536;
      while (want < c->rx_len + len + 1)
        want *= 2;
      char *p = realloc(c->rx, want);
      if (!p) {
        c->rx_over = 1;
      } else {
        c->rx = p;
        c->rx_alloc = want;
      }
    }
    if (!c->rx_over) {
      memcpy(c->rx + c->rx_len, in, len);
      c->rx_len += len;
    }
  }
  if (!done)
    return;
  if (c->rx_over) {
    c->st.n_oversize++;
    c->st.stats.n_messages++;
    c->st.stats.n_rejected[FEEDS_REJ_TOO_BIG]++;
    conn_report_rejects(c);
  } else {
    c->rx[c->rx_len] = '\0';
    conn_on_message(c, c->rx, c->rx_len, now);
  }
  c->rx_len = 0;
  c->rx_over = 0;
}

/* ---- timer -------------------------------------------------------------- */

static int64_t conn_ping_ms(const struct feed_conn *c)
{
  if (c->cfg.ping_ms > 0)
    return c->cfg.ping_ms;
  int64_t p = c->rules->ping_ms;
  if (p > 0 && c->cfg.silence_ms / 2 < p)
    p = c->cfg.silence_ms / 2;
  return p;
}

static void conn_tick(struct feed_conn *c, int64_t now)
{
  struct feeds *f = c->f;
  if (c->state == CONN_IDLE && !f->closing && now >= c->next_connect_us)
    conn_connect(c, now);
  if (c->v != VENUE_DERIBIT && !c->listing_busy && (!c->listing || now >= c->next_listing_us))
    conn_listing_start(c, now);
  if (now - c->last_scan_us >= 1000000) {
    c->last_scan_us = now;
    topics_expire(&c->topics, now_wall_us(), c->state == CONN_OPEN);
    if (c->st.last_msg_us)
      conn_metric_set(c, "volsurf_feed_age_ms",
                      (double)(now_wall_us() - c->st.last_msg_us) / 1000.0);
  }
  if (c->state != CONN_OPEN)
    return;
  if (now - c->last_rx_us > c->cfg.silence_ms * 1000) {
    conn_kill(c, "silent");
    return;
  }
  int64_t ping = conn_ping_ms(c);
  if (ping > 0) {
    int64_t since = c->rules->ping_when_idle && c->last_rx_us > c->last_ping_us ? c->last_rx_us
                                                                                : c->last_ping_us;
    if (now - since >= ping * 1000) {
      c->last_ping_us = now;
      char msg[FEED_SMALL_MAX];
      if (c->rules->ping_frame)
        c->want_ping_frame = 1;
      else
        ring_push(&c->urgent, msg, venue_ping(c->v, c->next_id++, msg, sizeof msg));
    }
  }
  if (c->v == VENUE_DERIBIT && !c->listing_busy && now >= c->next_listing_us)
    conn_listing_start(c, now);
  if (!c->link_up && c->topics.n > 0 && topics_count(&c->topics, TOPIC_UNSENT) == 0) {
    c->link_up = 1;
    c->st.connected = 1;
    conn_metric_set(c, "volsurf_feed_connected", 1);
    conn_push_link(c, QQ_LINK_UP);
  }
  if (c->wsi && conn_has_output(c, now))
    lws_callback_on_writable(c->wsi);
}

static void feeds_poll_rest(struct feeds *f, int64_t now)
{
  struct rest_result res;
  while (f->rest && rest_take(f->rest, &res)) {
    if (res.tag >= 0 && res.tag < f->n)
      conn_on_rest(f->conn[res.tag], &res, now);
    free(res.body);
  }
}

static void feeds_on_tick(lws_sorted_usec_list_t *sul)
{
  struct feeds *f = lws_container_of(sul, struct feeds, sul);
  int64_t now = now_mono_us();
  feeds_poll_rest(f, now);
  for (int i = 0; i < f->n; i++)
    conn_tick(f->conn[i], now);
  if (!f->closing)
    lws_sul_schedule(f->ctx, 0, &f->sul, feeds_on_tick, FEED_TICK_US);
}

/* ---- lws glue ----------------------------------------------------------- */

static struct feeds *vhost_feeds(struct lws *wsi)
{
  struct lws_vhost *vh = lws_get_vhost(wsi);
  const struct lws_protocols *p = lws_get_protocol(wsi);
  struct feeds **slot = vh && p ? lws_protocol_vh_priv_get(vh, p) : NULL;
  return slot ? *slot : NULL;
}

static int feed_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
  (void)user;
  struct feed_conn *c = NULL;
  switch (reason) {
  case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
    struct feeds *f = vhost_feeds(wsi);
    if (f)
      feeds_poll_rest(f, now_mono_us());
    return 0;
  }
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
  case LWS_CALLBACK_CLIENT_RECEIVE:
  case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
  case LWS_CALLBACK_CLIENT_WRITEABLE:
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
  case LWS_CALLBACK_CLIENT_CLOSED:
    c = lws_get_opaque_user_data(wsi);
    break;
  default:
    return 0;
  }
  if (!c)
    return 0;
  int64_t now = now_mono_us();
  switch (reason) {
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    conn_on_open(c, wsi, now);
    break;
  case LWS_CALLBACK_CLIENT_RECEIVE:
    conn_on_rx(c, in, len, lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi), now);
    break;
  case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
    c->last_rx_us = now;
    c->st.stats.n_heartbeats++;
    conn_alive(c);
    break;
  case LWS_CALLBACK_CLIENT_WRITEABLE:
    if (c->state != CONN_OPEN)
      return 0;
    return conn_write(c, wsi, now);
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    if (c->state != CONN_IDLE)
      conn_on_closed(c, now, in ? (const char *)in : "connection error");
    lws_set_opaque_user_data(wsi, NULL);
    break;
  case LWS_CALLBACK_CLIENT_CLOSED:
    if (c->state != CONN_IDLE)
      conn_on_closed(c, now, "closed");
    lws_set_opaque_user_data(wsi, NULL);
    break;
  default:
    break;
  }
  return 0;
}

static const struct lws_protocols feed_protocols[] = {
    {FEED_PROTOCOL, feed_callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- public ------------------------------------------------------------- */

/* Is path a readable file with at least one PEM certificate?  Checked
 * before lws sees it: curl reads the bundle only at the first https GET,
 * and a typo there would otherwise surface as listing errors forever. */
static int feeds_ca_readable(const char *path)
{
  FILE *fp = fopen(path, "r");
  if (!fp)
    return 0;
  char line[256];
  int found = 0;
  while (!found && fgets(line, sizeof line, fp))
    found = strstr(line, "-----BEGIN CERTIFICATE-----") != NULL;
  fclose(fp);
  return found;
}

struct feeds *feeds_new(struct lws_context *ctx, struct qqueue *out, struct metrics *metrics)
{
  return feeds_new_ca(ctx, out, metrics, NULL);
}

struct feeds *feeds_new_ca(struct lws_context *ctx, struct qqueue *out, struct metrics *metrics,
                           const char *ca_file)
{
  static int curl_ready;
  norm_json_init(); /* before the REST thread parses with cJSON */
  if (!ctx || !out)
    return NULL;
  if (!curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      return NULL;
    curl_ready = 1;
  }
  struct feeds *f = calloc(1, sizeof *f);
  if (!f)
    return NULL;
  f->ctx = ctx;
  f->out = out;
  f->metrics = metrics;
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = feed_protocols;
  info.vhost_name = "volsurf-feeds";
  /* Gives the vhost a client TLS context for wss://: the system CA store,
   * or only the bundle at ca_file (lws loads it with
   * SSL_CTX_load_verify_locations and fails the vhost when it cannot). */
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.client_ssl_ca_filepath = ca_file;
  if (ca_file && !feeds_ca_readable(ca_file)) {
    lwsl_err("feeds: cannot read the CA bundle %s\n", ca_file);
    goto fail;
  }
  f->vh = lws_create_vhost(ctx, &info);
  if (!f->vh)
    goto fail;
  const struct lws_protocols *p = lws_vhost_name_to_protocol(f->vh, FEED_PROTOCOL);
  f->vh_slot = p ? lws_protocol_vh_priv_zalloc(f->vh, p, sizeof(struct feeds *)) : NULL;
  if (!f->vh_slot)
    goto fail;
  *f->vh_slot = f;
  f->rest = rest_new(ctx, LISTING_BODY_MAX, FEED_REST_TIMEOUT_MS, ca_file);
  if (!f->rest)
    goto fail;
  lws_sul_schedule(ctx, 0, &f->sul, feeds_on_tick, FEED_TICK_US);
  return f;
fail:
  feeds_free(f);
  return NULL;
}

static void conn_free(struct feed_conn *c)
{
  if (!c)
    return;
  free(c->ws_url);
  free(c->rest_url);
  free(c->assets);
  free(c->rx);
  free(c->tx);
  listing_free(c->listing);
  listing_free(c->pending);
  topics_fini(&c->topics);
  free(c->scratch);
  okx_free(c->okx);
  free(c->quotes);
  free(c->qflags);
  free(c);
}

static char *dup_or_null(const char *s)
{
  if (!s)
    return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

/* Splits ws_url into host, port, path and TLS flag. */
static int conn_parse_url(struct feed_conn *c)
{
  char buf[768];
  if (strlen(c->ws_url) >= sizeof buf)
    return ERR_INPUT;
  strcpy(buf, c->ws_url);
  const char *prot, *ads, *path;
  int port;
  if (lws_parse_uri(buf, &prot, &ads, &port, &path))
    return ERR_INPUT;
  if (strcmp(prot, "wss") == 0)
    c->ssl = 1;
  else if (strcmp(prot, "ws") == 0)
    c->ssl = 0;
  else
    return ERR_INPUT;
  if (!*ads || strlen(ads) >= sizeof c->host || strlen(path) + 2 >= sizeof c->path)
    return ERR_INPUT;
  if (c->ssl && port == 80)
    port = 443; /* lws_parse_uri defaults to 80 unless told "https"/"wss" */
  strcpy(c->host, ads);
  snprintf(c->path, sizeof c->path, "/%s", path);
  c->port = port;
  return 0;
}

int feeds_add(struct feeds *f, const struct feed_config *cfg)
{
  if (!f || !cfg || f->n == FEEDS_MAX)
    return ERR_INPUT;
  int v = venue_from_name(cfg->venue);
  if (v < 0)
    return ERR_INPUT;
  struct feed_conn *c = calloc(1, sizeof *c);
  if (!c)
    return ERR_NOMEM;
  int rc = ERR_NOMEM;
  c->f = f;
  c->index = f->n;
  c->v = v;
  c->rules = venue_rules(v);
  c->cfg = *cfg;
  c->ws_url = dup_or_null(cfg->ws_url ? cfg->ws_url : c->rules->ws_url);
  c->rest_url = dup_or_null(cfg->rest_url ? cfg->rest_url : c->rules->rest_url);
  c->assets = dup_or_null(cfg->assets);
  if (!c->ws_url || (c->rules->rest_url && !c->rest_url) || (cfg->assets && !c->assets))
    goto fail;
  c->cfg.venue = c->rules->name;
  c->cfg.ws_url = c->ws_url;
  c->cfg.rest_url = c->rest_url;
  c->cfg.assets = c->assets;
  if (c->cfg.backoff_min_ms <= 0)
    c->cfg.backoff_min_ms = 250;
  if (c->cfg.backoff_max_ms < c->cfg.backoff_min_ms)
    c->cfg.backoff_max_ms = c->cfg.backoff_min_ms;
  if (c->cfg.silence_ms <= 0)
    c->cfg.silence_ms = 15000;
  if (c->cfg.listing_refresh_ms <= 0)
    c->cfg.listing_refresh_ms = 600000;
  if (c->cfg.msg_max == 0 || c->cfg.msg_max > FEEDS_MSG_MAX)
    c->cfg.msg_max = FEEDS_MSG_MAX;
  c->rng = cfg->seed ? cfg->seed : 0x5eedULL + (uint64_t)v;
  rc = ERR_INPUT;
  if (conn_parse_url(c) < 0)
    goto fail;
  c->n_keys = venue_listing_keys(v, c->cfg.assets, c->keys);
  if (c->n_keys <= 0)
    goto fail;
  rc = ERR_NOMEM;
  c->cap_topics = c->rules->max_topics < FEED_TOPICS_MAX ? c->rules->max_topics : FEED_TOPICS_MAX;
  if (topics_init(&c->topics, c->cap_topics) < 0)
    goto fail;
  c->scratch = calloc((size_t)c->cap_topics, sizeof *c->scratch);
  c->tx = malloc(LWS_PRE + FEED_TX_MAX);
  c->quotes = calloc(FEEDS_BATCH_MAX, sizeof *c->quotes);
  c->qflags = calloc(FEEDS_BATCH_MAX, sizeof *c->qflags);
  c->okx = v == VENUE_OKX ? okx_new(FEED_LISTING_MAX) : NULL;
  if (!c->scratch || !c->tx || !c->quotes || !c->qflags || (v == VENUE_OKX && !c->okx))
    goto fail;
  feeds_batch_init(&c->batch, c->quotes, c->qflags, FEEDS_BATCH_MAX);
  snprintf(c->st.venue, sizeof c->st.venue, "%s", c->rules->name);
  snprintf(c->labels, sizeof c->labels, "venue=\"%s\"", c->rules->name);
  c->next_id = 1;
  c->next_connect_us = now_mono_us();
  c->last_scan_us = now_mono_us();
  f->conn[f->n++] = c;
  conn_metric_set(c, "volsurf_feed_connected", 0);
  return 0;
fail:
  conn_free(c);
  return rc;
}

int feeds_count(const struct feeds *f)
{
  return f ? f->n : 0;
}

void feeds_status(const struct feeds *f, int i, struct feed_status *out)
{
  memset(out, 0, sizeof *out);
  if (!f || i < 0 || i >= f->n)
    return;
  *out = f->conn[i]->st;
}

void feeds_free(struct feeds *f)
{
  if (!f)
    return;
  f->closing = 1;
  lws_sul_cancel(&f->sul);
  for (int i = 0; i < f->n; i++) {
    struct feed_conn *c = f->conn[i];
    struct lws *w = c->wsi;
    if (c->state == CONN_OPEN) {
      conn_metric_set(c, "volsurf_feed_connected", 0);
      conn_push_link(c, QQ_LINK_DOWN);
    }
    c->state = CONN_IDLE;
    c->wsi = NULL;
    if (w) {
      /* Detach first: whatever lws calls back while closing finds no
       * connector. */
      lws_set_opaque_user_data(w, NULL);
      lws_set_timeout(w, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
    }
  }
  if (f->vh_slot)
    *f->vh_slot = NULL;
  if (f->vh)
    lws_vhost_destroy(f->vh);
  rest_free(f->rest);
  for (int i = 0; i < f->n; i++)
    conn_free(f->conn[i]);
  free(f);
}
