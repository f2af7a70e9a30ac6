/* sim_server: Deribit API v2 over libwebsockets (server side) for the
 * simulated market (contract in sim_server.h).  The lws callback only
 * dispatches; requests are handled by rpc_handle (plain functions on a
 * connection's state), pushes by server_tick on a timer.  Everything but the
 * fault flags and counters lives on the service thread. */
#include "now.h"
#include "sim_server.h"

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "norm.h"

#define SIM_TEXT_MAX 2048    /* one ticker or instrument row */
#define SIM_HTTP_CHUNK 16384 /* bytes per HTTP body write */
#define SIM_API_VERSION "1.2.26"

/* ---- growable, capped text buffer ---- */

struct sbuf {
  char *p;
  size_t n, cap, max;
  int full;
};

static int sbuf_reserve(struct sbuf *b, size_t extra)
{
  if (b->n + extra + 1 <= b->cap)
    return 0;
  if (b->n + extra + 1 > b->max) {
    b->full = 1;
    return ERR_FULL;
  }
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->n + extra + 1)
    cap *= 2;
  if (cap > b->max)
    cap = b->max;
  char *p = realloc(b->p, cap);
  if (!p) {
    b->full = 1;
    return ERR_NOMEM;
  }
  b->p = p;
  b->cap = cap;
  return 0;
}

static void sbuf_put(struct sbuf *b, const char *s, size_t len)
{
  if (sbuf_reserve(b, len) < 0)
    return;
  memcpy(b->p + b->n, s, len);
  b->n += len;
  b->p[b->n] = '\0';
}

static void sbuf_puts(struct sbuf *b, const char *s)
{
  sbuf_put(b, s, strlen(s));
}

/* ---- wire encoders (pure) ---- */

/* Appends a number as Deribit prints it, null for NaN. */
static int put_num(char *buf, size_t cap, size_t *n, const char *key, double x, int comma)
{
  int w = isfinite(x) ? snprintf(buf + *n, cap - *n, "%s\"%s\":%.15g", comma ? "," : "", key, x)
                      : snprintf(buf + *n, cap - *n, "%s\"%s\":null", comma ? "," : "", key);
  if (w < 0 || (size_t)w >= cap - *n)
    return ERR_FULL;
  *n += (size_t)w;
  return 0;
}

static int put_raw(char *buf, size_t cap, size_t *n, const char *s)
{
  size_t len = strlen(s);
  if (len + 1 > cap - *n)
    return ERR_FULL;
  memcpy(buf + *n, s, len + 1);
  *n += len;
  return 0;
}

int sim_wire_ticker(const struct sim_instrument *in, const struct sim_ticker *t, char *buf,
                    size_t cap)
{
  size_t n = 0;
  char head[256];
  /* Field order follows the real capture in tests/fixtures/deribit/
   * (ticker_btc_5jun20_9250_c.json). */
  snprintf(head, sizeof head,
           "{\"jsonrpc\":\"2.0\",\"method\":\"subscription\",\"params\":{\"channel\":"
           "\"ticker.%s.100ms\",\"data\":{",
           in->name);
  int rc = put_raw(buf, cap, &n, head);
  rc |= put_num(buf, cap, &n, "underlying_price", t->underlying_price, 0);
  char ui[96];
  snprintf(ui, sizeof ui, ",\"underlying_index\":\"%s\"", t->underlying_index);
  rc |= put_raw(buf, cap, &n, ui);
  char ts[48];
  snprintf(ts, sizeof ts, ",\"timestamp\":%lld", (long long)t->timestamp_ms);
  rc |= put_raw(buf, cap, &n, ts);
  rc |= put_raw(buf, cap, &n, ",\"stats\":{");
  rc |= put_num(buf, cap, &n, "volume_usd", t->volume_usd, 0);
  rc |= put_num(buf, cap, &n, "volume", t->volume, 1);
  rc |= put_raw(buf, cap, &n, ",\"price_change\":null,\"low\":null,\"high\":null}");
  rc |= put_raw(buf, cap, &n, ",\"state\":\"open\"");
  rc |= put_num(buf, cap, &n, "settlement_price", t->settlement_price, 1);
  rc |= put_num(buf, cap, &n, "open_interest", t->open_interest, 1);
  rc |= put_num(buf, cap, &n, "min_price", t->min_price, 1);
  rc |= put_num(buf, cap, &n, "max_price", t->max_price, 1);
  rc |= put_num(buf, cap, &n, "mark_price", t->mark_price, 1);
  rc |= put_num(buf, cap, &n, "mark_iv", t->mark_iv, 1);
  rc |= put_num(buf, cap, &n, "last_price", t->last_price, 1);
  rc |= put_num(buf, cap, &n, "interest_rate", t->interest_rate, 1);
  char name[96];
  snprintf(name, sizeof name, ",\"instrument_name\":\"%s\"", in->name);
  rc |= put_raw(buf, cap, &n, name);
  rc |= put_num(buf, cap, &n, "index_price", t->index_price, 1);
  rc |= put_raw(buf, cap, &n, ",\"greeks\":{");
  rc |= put_num(buf, cap, &n, "vega", t->vega, 0);
  rc |= put_num(buf, cap, &n, "theta", t->theta, 1);
  rc |= put_num(buf, cap, &n, "rho", t->rho, 1);
  rc |= put_num(buf, cap, &n, "gamma", t->gamma, 1);
  rc |= put_num(buf, cap, &n, "delta", t->delta, 1);
  rc |= put_raw(buf, cap, &n, "}");
  rc |= put_num(buf, cap, &n, "estimated_delivery_price", t->estimated_delivery_price, 1);
  rc |= put_num(buf, cap, &n, "bid_iv", t->bid_iv, 1);
  rc |= put_num(buf, cap, &n, "best_bid_price", t->best_bid_price, 1);
  rc |= put_num(buf, cap, &n, "best_bid_amount", t->best_bid_amount, 1);
  rc |= put_num(buf, cap, &n, "best_ask_price", t->best_ask_price, 1);
  rc |= put_num(buf, cap, &n, "best_ask_amount", t->best_ask_amount, 1);
  rc |= put_num(buf, cap, &n, "ask_iv", t->ask_iv, 1);
  rc |= put_raw(buf, cap, &n, "}}}");
  return rc ? ERR_FULL : (int)n;
}

static const char *period_name(int p)
{
  return p == SIM_PERIOD_MONTH ? "month" : p == SIM_PERIOD_WEEK ? "week" : "day";
}

int sim_wire_instrument(const struct sim_instrument *in, char *buf, size_t cap)
{
  char index[32];
  size_t i = 0;
  for (; in->base[i] && i + 1 < sizeof index; i++)
    index[i] =
        (char)(in->base[i] >= 'A' && in->base[i] <= 'Z' ? in->base[i] - 'A' + 'a' : in->base[i]);
  index[i] = '\0';
  const char *quote = in->coin ? in->base : "USDC";
  char steps[96] = "[]";
  if (in->tick_step_above > 0.0)
    snprintf(steps, sizeof steps, "[{\"above_price\":%.10g,\"tick_size\":%.10g}]",
             in->tick_step_above, in->tick_size_above);
  /* Keys as in the 2026 capture (tests/fixtures/deribit/get_instruments_btc_2026.json). */
  int w =
      snprintf(buf, cap,
               "{\"base_currency\":\"%s\",\"block_trade_commission\":0.0003,"
               "\"block_trade_min_trade_amount\":25,\"block_trade_tick_size\":0.0001,"
               "\"contract_size\":%.10g,\"counter_currency\":\"%s\",\"creation_timestamp\":%lld,"
               "\"expiration_timestamp\":%lld,\"instrument_id\":%ld,\"instrument_name\":\"%s\","
               "\"instrument_type\":\"%s\",\"is_active\":true,\"kind\":\"option\","
               "\"maker_commission\":0.0003,\"min_trade_amount\":%.10g,\"option_type\":\"%s\","
               "\"price_index\":\"%s_%s\",\"quote_currency\":\"%s\",\"settlement_currency\":\"%s\","
               "\"settlement_period\":\"%s\",\"state\":\"open\",\"strike\":%.10g,"
               "\"taker_commission\":0.0003,\"tick_size\":%.10g,\"tick_size_steps\":%s}",
               in->base, in->contract_size, in->coin ? "USD" : "USDC",
               (long long)(in->created_us / 1000), (long long)(in->expiry_us / 1000), in->id,
               in->name, in->coin ? "reversed" : "linear", in->min_trade_amount,
               in->kind == QUOTE_CALL ? "call" : "put", index, in->coin ? "usd" : "usdc", quote,
               quote, period_name(in->period), in->strike, in->tick_size, steps);
  if (w < 0 || (size_t)w >= cap)
    return ERR_FULL;
  return w;
}

/* ---- server state ---- */

struct msg {
  struct msg *next;
  size_t len;
  unsigned char buf[]; /* LWS_PRE + len */
};

struct conn {
  struct conn *next;
  struct lws *wsi;
  int is_ws;
  int close_now, close_code;
  /* inbound */
  char *rx;
  size_t rx_n;
  int rx_oversize;
  /* outbound queue */
  struct msg *q_head, *q_tail;
  size_t q_bytes;
  /* subscriptions: sorted instrument names */
  char (*subs)[QUOTE_SYMBOL_LEN];
  int n_subs, cap_subs;
  /* heartbeat */
  int hb_interval_s, hb_outstanding;
  int64_t hb_next_us;
  /* HTTP response */
  struct sbuf http;
  size_t http_sent;
};

struct sim_server {
  struct sim_server_config cfg;
  char listen[128];
  char assets[128];
  struct lws_context *ctx;
  struct lws_vhost *vh;
  int port;
  pthread_t thread;
  int thread_started;
  lws_sorted_usec_list_t sul;
  struct sim_market *market;
  int64_t start_mono_us, start_market_us;
  struct conn *conns;
  char text[SIM_TEXT_MAX];
  atomic_int stop, kick, garbage, silent;
  atomic_llong market_us;
  atomic_long n_connects, n_clients, n_requests, n_errors, n_tickers, n_dropped, n_oversize,
      n_hb_timeouts, n_test_answers, n_refused;
};

void sim_server_config_default(struct sim_server_config *c)
{
  memset(c, 0, sizeof(*c));
  c->listen = "127.0.0.1:9901";
  sim_config_default(&c->market);
  c->market.start_us = 0;
  c->speed = 1.0;
  c->tick_ms = 100;
  c->frame_max = 64 * 1024;
  c->max_subs = 8192;
  c->send_max = 16u << 20;
  c->max_clients = 32;
  c->heartbeat_min_s = 10;
}

/* ---- outbound queue ---- */

static void conn_queue_free(struct conn *c)
{
  struct msg *m = c->q_head;
  while (m) {
    struct msg *next = m->next;
    free(m);
    m = next;
  }
  c->q_head = c->q_tail = NULL;
  c->q_bytes = 0;
}

/* Queues one text frame.  Tickers ('droppable') are dropped past send_max;
 * anything else past twice send_max closes the connection: a client that
 * reads that slowly is not keeping up. */
static void conn_send(struct sim_server *s, struct conn *c, const char *text, size_t len,
                      int droppable)
{
  if (c->close_now)
    return;
  if (c->q_bytes + len > s->cfg.send_max) {
    if (droppable) {
      atomic_fetch_add(&s->n_dropped, 1);
      return;
    }
    if (c->q_bytes + len > 2 * s->cfg.send_max) {
      c->close_now = 1;
      c->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
      lws_callback_on_writable(c->wsi);
      return;
    }
  }
  struct msg *m = malloc(sizeof(*m) + LWS_PRE + len);
  if (!m)
    return;
  m->next = NULL;
  m->len = len;
  memcpy(m->buf + LWS_PRE, text, len);
  if (c->q_tail)
    c->q_tail->next = m;
  else
    c->q_head = m;
  c->q_tail = m;
  c->q_bytes += len;
  lws_callback_on_writable(c->wsi);
}

/* ---- subscriptions ---- */

static int subs_find(const struct conn *c, const char *name, int *pos)
{
  int lo = 0, hi = c->n_subs - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    int r = strcmp(c->subs[mid], name);
    if (r == 0) {
      *pos = mid;
      return 1;
    }
    if (r < 0)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  *pos = lo;
  return 0;
}

/* 1 added, 0 already there, ERR_FULL at the cap, ERR_NOMEM. */
static int subs_add(struct conn *c, const char *name, int max_subs)
{
  int pos;
  if (subs_find(c, name, &pos))
    return 0;
  if (c->n_subs >= max_subs)
    return ERR_FULL;
  if (c->n_subs == c->cap_subs) {
    int cap = c->cap_subs ? 2 * c->cap_subs : 64;
    if (cap > max_subs)
      cap = max_subs;
    void *p = realloc(c->subs, (size_t)cap * sizeof(c->subs[0]));
    if (!p)
      return ERR_NOMEM;
    c->subs = p;
    c->cap_subs = cap;
  }
  memmove(&c->subs[pos + 1], &c->subs[pos], (size_t)(c->n_subs - pos) * sizeof(c->subs[0]));
  snprintf(c->subs[pos], sizeof(c->subs[0]), "%s", name);
  c->n_subs++;
  return 1;
}

static int subs_remove(struct conn *c, const char *name)
{
  int pos;
  if (!subs_find(c, name, &pos))
    return 0;
  memmove(&c->subs[pos], &c->subs[pos + 1], (size_t)(c->n_subs - pos - 1) * sizeof(c->subs[0]));
  c->n_subs--;
  return 1;
}

/* "ticker.<name>.100ms" -> name; 0 or ERR_PARSE. */
static int channel_instrument(const char *ch, char *name, size_t cap)
{
  static const char pre[] = "ticker.", suf[] = ".100ms";
  size_t n = strlen(ch), np = sizeof pre - 1, ns = sizeof suf - 1;
  if (n <= np + ns || strncmp(ch, pre, np) != 0 || strcmp(ch + n - ns, suf) != 0)
    return ERR_PARSE;
  size_t len = n - np - ns;
  if (len + 1 > cap)
    return ERR_PARSE;
  memcpy(name, ch + np, len);
  name[len] = '\0';
  return 0;
}

/* ---- JSON-RPC ---- */

static int64_t server_market_now(struct sim_server *s)
{
  return sim_market_now(s->market);
}

/* Appends the envelope tail Deribit adds to every response. */
static void rpc_tail(struct sbuf *out, int64_t us_in)
{
  char tail[160];
  int64_t us_out = us_in + 3;
  snprintf(tail, sizeof tail, ",\"usIn\":%lld,\"usOut\":%lld,\"usDiff\":%lld,\"testnet\":false}",
           (long long)us_in, (long long)us_out, (long long)(us_out - us_in));
  sbuf_puts(out, tail);
}

static void rpc_head(struct sbuf *out, const cJSON *id)
{
  char head[96];
  if (cJSON_IsNumber(id))
    snprintf(head, sizeof head, "{\"jsonrpc\":\"2.0\",\"id\":%.0f,", id->valuedouble);
  else
    snprintf(head, sizeof head, "{\"jsonrpc\":\"2.0\",");
  sbuf_puts(out, head);
}

static void rpc_error(struct sim_server *s, struct sbuf *out, const cJSON *id, int code,
                      const char *message, const char *reason, const char *param)
{
  atomic_fetch_add(&s->n_errors, 1);
  rpc_head(out, id);
  char e[320];
  if (reason)
    snprintf(e, sizeof e,
             "\"error\":{\"message\":\"%s\",\"data\":{\"reason\":\"%s\",\"param\":\"%s\"},"
             "\"code\":%d}",
             message, reason, param ? param : "", code);
  else
    snprintf(e, sizeof e, "\"error\":{\"message\":\"%s\",\"code\":%d}", message, code);
  sbuf_puts(out, e);
  rpc_tail(out, server_market_now(s));
}

static int instrument_matches(const struct sim_instrument *in, const char *currency)
{
  if (strcmp(currency, "any") == 0)
    return 1;
  if (strcmp(currency, "USDC") == 0)
    return !in->coin;
  return in->coin && strcmp(in->base, currency) == 0;
}

static void rpc_get_instruments(struct sim_server *s, struct sbuf *out, const cJSON *id,
                                const cJSON *params)
{
  const cJSON *cur = cJSON_GetObjectItemCaseSensitive(params, "currency");
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive(params, "kind");
  const cJSON *expired = cJSON_GetObjectItemCaseSensitive(params, "expired");
  if (!cJSON_IsString(cur) ||
      (strcmp(cur->valuestring, "BTC") != 0 && strcmp(cur->valuestring, "ETH") != 0 &&
       strcmp(cur->valuestring, "USDC") != 0 && strcmp(cur->valuestring, "USDT") != 0 &&
       strcmp(cur->valuestring, "EURR") != 0 && strcmp(cur->valuestring, "any") != 0)) {
    rpc_error(s, out, id, -32602, "Invalid params", "must be one of the listed currencies",
              "currency");
    return;
  }
  /* Only options and only live ones are simulated: other kinds and
   * expired=true get an empty list, as a venue with none would answer. */
  int none = (kind && !(cJSON_IsString(kind) && strcmp(kind->valuestring, "option") == 0)) ||
             cJSON_IsTrue(expired);
  rpc_head(out, id);
  sbuf_puts(out, "\"result\":[");
  int first = 1;
  for (int i = 0; !none && i < sim_market_count(s->market); i++) {
    const struct sim_instrument *in = sim_market_instrument(s->market, i);
    if (!instrument_matches(in, cur->valuestring))
      continue;
    int n = sim_wire_instrument(in, s->text, sizeof s->text);
    if (n < 0)
      continue;
    if (!first)
      sbuf_puts(out, ",");
    sbuf_put(out, s->text, (size_t)n);
    first = 0;
  }
  sbuf_puts(out, "]");
  rpc_tail(out, server_market_now(s));
}

static void rpc_subscribe(struct sim_server *s, struct conn *c, struct sbuf *out, const cJSON *id,
                          const cJSON *params, int subscribe)
{
  const cJSON *chs = cJSON_GetObjectItemCaseSensitive(params, "channels");
  if (!c || !cJSON_IsArray(chs)) {
    rpc_error(s, out, id, -32602, "Invalid params", c ? "must be an array" : "websocket only",
              "channels");
    return;
  }
  if (subscribe) {
    int n_new = 0;
    const cJSON *ch;
    cJSON_ArrayForEach(ch, chs) n_new++;
    if (c->n_subs + n_new > s->cfg.max_subs) {
      rpc_error(s, out, id, -32602, "Invalid params", "too many subscriptions", "channels");
      return;
    }
  }
  rpc_head(out, id);
  sbuf_puts(out, "\"result\":[");
  int first = 1;
  const cJSON *ch;
  cJSON_ArrayForEach(ch, chs)
  {
    char name[QUOTE_SYMBOL_LEN];
    if (!cJSON_IsString(ch) || channel_instrument(ch->valuestring, name, sizeof name) < 0)
      continue;
    int ok;
    if (subscribe)
      ok = sim_market_find(s->market, name) >= 0 && subs_add(c, name, s->cfg.max_subs) >= 0;
    else
      ok = subs_remove(c, name);
    if (!ok)
      continue;
    if (!first)
      sbuf_puts(out, ",");
    sbuf_puts(out, "\"");
    sbuf_puts(out, ch->valuestring);
    sbuf_puts(out, "\"");
    first = 0;
  }
  sbuf_puts(out, "]");
  rpc_tail(out, server_market_now(s));
}

static void rpc_set_heartbeat(struct sim_server *s, struct conn *c, struct sbuf *out,
                              const cJSON *id, const cJSON *params)
{
  const cJSON *iv = cJSON_GetObjectItemCaseSensitive(params, "interval");
  if (!c || !cJSON_IsNumber(iv) || iv->valuedouble < s->cfg.heartbeat_min_s ||
      iv->valuedouble > 3600) {
    rpc_error(s, out, id, -32602, "Invalid params", "interval too small or not a number",
              "interval");
    return;
  }
  c->hb_interval_s = (int)iv->valuedouble;
  c->hb_outstanding = 0;
  c->hb_next_us = now_mono_us() + (int64_t)c->hb_interval_s * 1000000;
  rpc_head(out, id);
  sbuf_puts(out, "\"result\":\"ok\"");
  rpc_tail(out, server_market_now(s));
}

/* Handles one request text; appends the response to out.  'c' is NULL for
 * HTTP (no subscriptions or heartbeats there).  Returns 0, or -1 when the
 * response is an error (HTTP status 400). */
static int rpc_handle(struct sim_server *s, struct conn *c, const char *text, size_t len,
                      struct sbuf *out)
{
  atomic_fetch_add(&s->n_requests, 1);
  cJSON *root = cJSON_ParseWithLength(text, len);
  int rc = 0;
  long errors_before = atomic_load(&s->n_errors);
  if (!cJSON_IsObject(root)) {
    rpc_error(s, out, NULL, -32700, "Parse error", NULL, NULL);
    goto done;
  }
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
  const cJSON *method = cJSON_GetObjectItemCaseSensitive(root, "method");
  const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
  if (!cJSON_IsString(method)) {
    rpc_error(s, out, id, -32600, "Invalid Request", NULL, NULL);
    goto done;
  }
  const char *m = method->valuestring;
  if (strcmp(m, "public/get_instruments") == 0) {
    rpc_get_instruments(s, out, id, params);
  } else if (strcmp(m, "public/subscribe") == 0) {
    rpc_subscribe(s, c, out, id, params, 1);
  } else if (strcmp(m, "public/unsubscribe") == 0) {
    rpc_subscribe(s, c, out, id, params, 0);
  } else if (strcmp(m, "public/set_heartbeat") == 0) {
    rpc_set_heartbeat(s, c, out, id, params);
  } else if (strcmp(m, "public/test") == 0) {
    if (c)
      c->hb_outstanding = 0;
    atomic_fetch_add(&s->n_test_answers, 1);
    rpc_head(out, id);
    sbuf_puts(out, "\"result\":{\"version\":\"" SIM_API_VERSION "\"}");
    rpc_tail(out, server_market_now(s));
  } else if (strcmp(m, "public/get_time") == 0) {
    char r[64];
    rpc_head(out, id);
    snprintf(r, sizeof r, "\"result\":%lld", (long long)(server_market_now(s) / 1000));
    sbuf_puts(out, r);
    rpc_tail(out, server_market_now(s));
  } else {
    rpc_error(s, out, id, -32601, "Method not found", NULL, NULL);
  }
done:
  if (atomic_load(&s->n_errors) != errors_before)
    rc = -1;
  cJSON_Delete(root);
  return rc;
}

/* ---- ticks: market time, pushes, heartbeats, faults ---- */

static void conn_close(struct conn *c, int code)
{
  if (c->close_now)
    return;
  c->close_now = 1;
  c->close_code = code;
  lws_callback_on_writable(c->wsi);
}

static void server_faults(struct sim_server *s)
{
  if (atomic_exchange(&s->kick, 0))
    for (struct conn *c = s->conns; c; c = c->next)
      if (c->is_ws)
        conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY);
  if (atomic_exchange(&s->garbage, 0)) {
    static const char junk[] = "}{\"jsonrpc\":2.0,garbage\x01";
    for (struct conn *c = s->conns; c; c = c->next)
      if (c->is_ws)
        conn_send(s, c, junk, sizeof junk - 1, 0);
  }
}

static void server_push(struct sim_server *s, struct conn *c)
{
  struct sim_ticker t;
  for (int k = 0; k < c->n_subs && !c->close_now; k++) {
    int i = sim_market_find(s->market, c->subs[k]);
    if (i < 0 || sim_market_ticker(s->market, i, &t) < 0)
      continue; /* expired since: Deribit stops pushing it */
    int n = sim_wire_ticker(sim_market_instrument(s->market, i), &t, s->text, sizeof s->text);
    if (n < 0)
      continue;
    atomic_fetch_add(&s->n_tickers, 1);
    conn_send(s, c, s->text, (size_t)n, 1);
  }
}

static void server_heartbeat(struct sim_server *s, struct conn *c, int64_t now)
{
  if (c->hb_interval_s <= 0 || now < c->hb_next_us)
    return;
  if (c->hb_outstanding) {
    /* Deribit: "If your software fails to do so, the API server will
     * immediately close the connection." */
    atomic_fetch_add(&s->n_hb_timeouts, 1);
    conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION);
    return;
  }
  static const char req[] =
      "{\"jsonrpc\":\"2.0\",\"method\":\"heartbeat\",\"params\":{\"type\":\"test_request\"}}";
  conn_send(s, c, req, sizeof req - 1, 0);
  c->hb_outstanding = 1;
  c->hb_next_us = now + (int64_t)c->hb_interval_s * 1000000;
}

static void server_tick(lws_sorted_usec_list_t *sul)
{
  struct sim_server *s =
      (struct sim_server *)(void *)((char *)sul - offsetof(struct sim_server, sul));
  int64_t now = now_mono_us();
  server_faults(s);
  if (!atomic_load(&s->silent)) {
    int64_t t = s->start_market_us + (int64_t)((double)(now - s->start_mono_us) * s->cfg.speed);
    if (t > sim_market_now(s->market))
      sim_market_advance(s->market, t);
    atomic_store(&s->market_us, sim_market_now(s->market));
    for (struct conn *c = s->conns; c; c = c->next) {
      if (!c->is_ws || c->close_now)
        continue;
      server_heartbeat(s, c, now);
      server_push(s, c);
    }
  }
  lws_sul_schedule(s->ctx, 0, &s->sul, server_tick, (lws_usec_t)s->cfg.tick_ms * 1000);
}

/* ---- lws callback: dispatch only ---- */

static void conn_unlink(struct sim_server *s, struct conn *c)
{
  for (struct conn **p = &s->conns; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  conn_queue_free(c);
  free(c->rx);
  free(c->subs);
  free(c->http.p);
  memset(c, 0, sizeof(*c));
}

static int ws_write_some(struct sim_server *s, struct conn *c)
{
  if (c->close_now) {
    lws_close_reason(c->wsi, (enum lws_close_status)c->close_code, NULL, 0);
    return -1;
  }
  /* Several frames per writable callback while the socket takes them. */
  for (int k = 0; k < 64 && c->q_head; k++) {
    struct msg *m = c->q_head;
    if (lws_write(c->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
      return -1;
    c->q_head = m->next;
    if (!c->q_head)
      c->q_tail = NULL;
    c->q_bytes -= m->len;
    free(m);
    if (lws_send_pipe_choked(c->wsi))
      break;
  }
  (void)s;
  if (c->q_head)
    lws_callback_on_writable(c->wsi);
  return 0;
}

static int ws_receive(struct sim_server *s, struct conn *c, const void *in, size_t len)
{
  if (!c->rx_oversize && c->rx_n + len > s->cfg.frame_max) {
    c->rx_oversize = 1;
    atomic_fetch_add(&s->n_oversize, 1);
  }
  if (!c->rx_oversize) {
    if (!c->rx)
      c->rx = malloc(s->cfg.frame_max + 1);
    if (!c->rx)
      return -1;
    memcpy(c->rx + c->rx_n, in, len);
    c->rx_n += len;
  }
  if (!lws_is_final_fragment(c->wsi))
    return 0;
  if (c->rx_oversize) {
    /* A frame over the cap is an abuse, not a request: close with 1009. */
    c->rx_oversize = 0;
    c->rx_n = 0;
    conn_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
    return 0;
  }
  size_t n = c->rx_n;
  c->rx_n = 0;
  if (atomic_load(&s->silent))
    return 0;
  struct sbuf out = {.max = 2 * s->cfg.send_max + 1};
  rpc_handle(s, c, c->rx, n, &out);
  if (out.n)
    conn_send(s, c, out.p, out.n, 0);
  free(out.p);
  return 0;
}

/* GET /api/v2/public/<method>?k=v&... -> the same handler as WS. */
static int http_request(struct sim_server *s, struct lws *wsi, struct conn *c, const char *uri)
{
  static const char pre[] = "/api/v2/";
  int status = HTTP_STATUS_OK;
  c->http = (struct sbuf){.max = 2 * s->cfg.send_max + 1};
  c->http_sent = 0;
  if (strncmp(uri, pre, sizeof pre - 1) != 0 || atomic_load(&s->silent)) {
    if (atomic_load(&s->silent))
      return -1;
    lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
    return -1;
  }
  cJSON *req = cJSON_CreateObject();
  cJSON *params = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "jsonrpc", "2.0");
  cJSON_AddNumberToObject(req, "id", 0);
  cJSON_AddStringToObject(req, "method", uri + sizeof pre - 1);
  char arg[256];
  for (int n = 0; lws_hdr_copy_fragment(wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, n) > 0;
       n++) {
    char *eq = strchr(arg, '=');
    if (!eq)
      continue;
    *eq = '\0';
    const char *v = eq + 1;
    char *end;
    double x = strtod(v, &end);
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
      cJSON_AddBoolToObject(params, arg, v[0] == 't');
    else if (*v && *end == '\0')
      cJSON_AddNumberToObject(params, arg, x);
    else
      cJSON_AddStringToObject(params, arg, v);
  }
  cJSON_AddItemToObject(req, "params", params);
  char *text = cJSON_PrintUnformatted(req);
  cJSON_Delete(req);
  if (!text)
    return -1;
  if (rpc_handle(s, NULL, text, strlen(text), &c->http) < 0)
    status = HTTP_STATUS_BAD_REQUEST;
  free(text);
  unsigned char hdr[LWS_PRE + 512], *p = hdr + LWS_PRE, *end = hdr + sizeof hdr;
  if (lws_add_http_common_headers(wsi, (unsigned)status, "application/json",
                                  (lws_filepos_t)c->http.n, &p, end) ||
      lws_finalize_write_http_header(wsi, hdr + LWS_PRE, &p, end))
    return 1;
  lws_callback_on_writable(wsi);
  return 0;
}

static int http_write_some(struct conn *c, struct lws *wsi)
{
  size_t left = c->http.n - c->http_sent;
  size_t n = left < SIM_HTTP_CHUNK ? left : SIM_HTTP_CHUNK;
  unsigned char buf[LWS_PRE + SIM_HTTP_CHUNK];
  memcpy(buf + LWS_PRE, c->http.p + c->http_sent, n);
  int final = n == left;
  if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
    return -1;
  c->http_sent += n;
  if (!final) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  free(c->http.p);
  c->http = (struct sbuf){0};
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int sim_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
  struct lws_context *ctx = lws_get_context(wsi);
  struct sim_server *s = ctx ? lws_context_user(ctx) : NULL;
  struct conn *c = user;
  switch (reason) {
  case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
    if (s)
      server_faults(s);
    return 0;
  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
    char uri[64];
    int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
    if (n <= 0 || strcmp(uri, "/ws/api/v2") != 0 ||
        atomic_load(&s->n_clients) >= s->cfg.max_clients) {
      atomic_fetch_add(&s->n_refused, 1);
      return 1;
    }
    return 0;
  }
  case LWS_CALLBACK_ESTABLISHED:
    memset(c, 0, sizeof(*c));
    c->wsi = wsi;
    c->is_ws = 1;
    c->next = s->conns;
    s->conns = c;
    atomic_fetch_add(&s->n_connects, 1);
    atomic_fetch_add(&s->n_clients, 1);
    return 0;
  case LWS_CALLBACK_RECEIVE:
    return ws_receive(s, c, in, len);
  case LWS_CALLBACK_SERVER_WRITEABLE:
    return ws_write_some(s, c);
  case LWS_CALLBACK_CLOSED:
    atomic_fetch_sub(&s->n_clients, 1);
    conn_unlink(s, c);
    return 0;
  case LWS_CALLBACK_HTTP:
    free(c->http.p); /* a previous request on a kept-alive connection */
    memset(c, 0, sizeof(*c));
    c->wsi = wsi;
    return http_request(s, wsi, c, (const char *)in);
  case LWS_CALLBACK_HTTP_WRITEABLE:
    if (!c->http.p)
      return -1;
    return http_write_some(c, wsi);
  case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
  case LWS_CALLBACK_CLOSED_HTTP:
    if (c && !c->is_ws) {
      free(c->http.p);
      c->http.p = NULL;
    }
    return 0;
  default:
    break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- lifecycle ---- */

static void *server_thread(void *arg)
{
  struct sim_server *s = arg;
  lws_sul_schedule(s->ctx, 0, &s->sul, server_tick, (lws_usec_t)s->cfg.tick_ms * 1000);
  while (!atomic_load(&s->stop))
    if (lws_service(s->ctx, 0) < 0)
      break;
  return NULL;
}

static int parse_listen(const char *addr, char *host, size_t cap, int *port)
{
  const char *colon = strrchr(addr, ':');
  if (!colon || colon == addr || (size_t)(colon - addr) >= cap)
    return ERR_INPUT;
  char *end;
  long p = strtol(colon + 1, &end, 10);
  if (*end || end == colon + 1 || p < 0 || p > 65535)
    return ERR_INPUT;
  memcpy(host, addr, (size_t)(colon - addr));
  host[colon - addr] = '\0';
  *port = (int)p;
  return 0;
}

static const struct lws_protocols sim_protocols[] = {
    {"deribit", sim_callback, sizeof(struct conn), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

struct sim_server *sim_server_start(const struct sim_server_config *cfg, char *err, size_t err_cap)
{
  char host[128];
  int port;
  const char *why = "out of memory";
  norm_json_init(); /* before the service thread parses with cJSON */
  struct sim_server *s = calloc(1, sizeof(*s));
  if (!s)
    goto fail;
  s->cfg = *cfg;
  why = "bad --listen address (want HOST:PORT)";
  if (!cfg->listen || parse_listen(cfg->listen, host, sizeof host, &port) < 0)
    goto fail;
  snprintf(s->listen, sizeof s->listen, "%s", cfg->listen);
  s->cfg.listen = s->listen;
  if (cfg->market.assets) {
    snprintf(s->assets, sizeof s->assets, "%s", cfg->market.assets);
    s->cfg.market.assets = s->assets;
  }
  why = "bad configuration (speed, tick, caps)";
  if (!(s->cfg.speed > 0.0) || s->cfg.tick_ms < 1 || s->cfg.frame_max < 256 ||
      s->cfg.max_subs < 1 || s->cfg.send_max < 4096 || s->cfg.max_clients < 1)
    goto fail;
  if (s->cfg.market.start_us == 0)
    s->cfg.market.start_us = now_wall_us();
  why = "unknown asset (known: BTC, ETH, SOL_USDC, XRP_USDC)";
  s->market = sim_market_new(&s->cfg.market);
  if (!s->market)
    goto fail;
  s->start_market_us = sim_market_now(s->market);
  s->start_mono_us = now_mono_us();
  atomic_store(&s->market_us, s->start_market_us);

  lws_set_log_level(LLL_ERR, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = port;
  info.iface = host;
  info.protocols = sim_protocols;
  info.user = s;
  info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
  info.pt_serv_buf_size = SIM_HTTP_CHUNK + LWS_PRE + 1024;
  why = "cannot listen (address in use or not local)";
  s->ctx = lws_create_context(&info);
  if (!s->ctx)
    goto fail;
  s->vh = lws_get_vhost_by_name(s->ctx, "default");
  s->port = s->vh ? lws_get_vhost_listen_port(s->vh) : port;
  if (s->port <= 0)
    goto fail;
  why = "cannot start the service thread";
  if (pthread_create(&s->thread, NULL, server_thread, s) != 0)
    goto fail;
  s->thread_started = 1;
  return s;
fail:
  if (err && err_cap)
    snprintf(err, err_cap, "simulator: %s", why);
  sim_server_stop(s);
  return NULL;
}

int sim_server_port(const struct sim_server *s)
{
  return s->port;
}

void sim_server_stop(struct sim_server *s)
{
  if (!s)
    return;
  if (s->thread_started) {
    atomic_store(&s->stop, 1);
    lws_cancel_service(s->ctx);
    pthread_join(s->thread, NULL);
  }
  if (s->ctx)
    lws_context_destroy(s->ctx); /* closes connections: CLOSED frees each */
  sim_market_free(s->market);
  free(s);
}

void sim_server_stats(struct sim_server *s, struct sim_server_stats *o)
{
  o->n_connects = atomic_load(&s->n_connects);
  o->n_clients = atomic_load(&s->n_clients);
  o->n_requests = atomic_load(&s->n_requests);
  o->n_errors = atomic_load(&s->n_errors);
  o->n_tickers = atomic_load(&s->n_tickers);
  o->n_dropped = atomic_load(&s->n_dropped);
  o->n_oversize = atomic_load(&s->n_oversize);
  o->n_hb_timeouts = atomic_load(&s->n_hb_timeouts);
  o->n_test_answers = atomic_load(&s->n_test_answers);
  o->n_refused = atomic_load(&s->n_refused);
}

int64_t sim_server_market_time(struct sim_server *s)
{
  return (int64_t)atomic_load(&s->market_us);
}

void sim_server_kick_all(struct sim_server *s)
{
  atomic_store(&s->kick, 1);
  lws_cancel_service(s->ctx);
}

void sim_server_send_garbage(struct sim_server *s)
{
  atomic_store(&s->garbage, 1);
  lws_cancel_service(s->ctx);
}

void sim_server_set_silent(struct sim_server *s, int silent)
{
  atomic_store(&s->silent, silent ? 1 : 0);
  lws_cancel_service(s->ctx);
}
