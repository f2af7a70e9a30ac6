/* test_feed_loopback: the live connectors (feeds/feed.h) against a fake
 * venue on loopback (tests/fake_venue.h) speaking each venue's protocol
 * with the recorded payloads in tests/fixtures/<venue>/: listing (Deribit
 * over the socket, the others over REST with libcurl), subscribe, pushes
 * becoming quotes, heartbeats and pings, forced disconnect -> reconnect ->
 * resubscribe, silence -> reconnect, listing refresh -> unsubscribe and
 * resubscribe, garbage and oversize frames counted and survived.
 *
 * The test thread services the client lws_context; the fake venue runs on
 * its own thread.  Every wait has a deadline of a few seconds; fixture
 * expiries are moved 30 days ahead so that the listings are live. */
#if defined(VOLSURF_HAVE_LIVE_FEEDS) && defined(VOLSURF_HAVE_CJSON)
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "err.h"
#include "fake_venue.h"
#include "metrics.h"
#include "feed.h"
#include "feeds_testutil.h"
#include "now.h"
#include "qqueue.h"
#include "sim_server.h"
#include "testutil.h"

#define WAIT_MS 4000

/* ---- the fake venue's side ---------------------------------------------- */

/* What the responders read on the server thread; the test thread changes
 * drop_symbol under the lock. */
static struct {
  pthread_mutex_t mu;
  char drop_symbol[64];
  int64_t expiry_ms;
} fake = {PTHREAD_MUTEX_INITIALIZER, "", 0};

static void fake_drop_symbol(const char *sym)
{
  pthread_mutex_lock(&fake.mu);
  snprintf(fake.drop_symbol, sizeof fake.drop_symbol, "%s", sym ? sym : "");
  pthread_mutex_unlock(&fake.mu);
}

/* A fixture with live expiries, the request id and without drop_symbol. */
static char *live_fixture(const char *venue, const char *name, long long id)
{
  char *raw = feeds_fixture_read(venue, name, NULL);
  if (!raw)
    return NULL;
  pthread_mutex_lock(&fake.mu);
  char *out =
      fake_json_rewrite(raw, id, fake.expiry_ms, fake.drop_symbol[0] ? fake.drop_symbol : NULL);
  pthread_mutex_unlock(&fake.mu);
  free(raw);
  return out;
}

static void send_str(struct fake_venue *fv, const char *s)
{
  fake_venue_send(fv, s, strlen(s));
}

static void send_json(struct fake_venue *fv, cJSON *j)
{
  char *s = cJSON_PrintUnformatted(j);
  if (s)
    send_str(fv, s);
  free(s);
  cJSON_Delete(j);
}

static void send_fixture(struct fake_venue *fv, const char *venue, const char *name)
{
  char *s = feeds_fixture_read(venue, name, NULL);
  if (s)
    send_str(fv, s);
  free(s);
}

/* Deribit JSON-RPC: set_heartbeat (then a test_request at once),
 * get_instruments per currency, subscribe/unsubscribe echo, public/test. */
static void deribit_responder(struct fake_venue *fv, const char *msg, size_t len, void *user)
{
  (void)user;
  cJSON *req = cJSON_ParseWithLength(msg, len);
  const cJSON *m = cJSON_GetObjectItem(req, "method");
  const cJSON *idj = cJSON_GetObjectItem(req, "id");
  const cJSON *params = cJSON_GetObjectItem(req, "params");
  if (!cJSON_IsString(m) || !cJSON_IsNumber(idj)) {
    cJSON_Delete(req);
    return;
  }
  long long id = (long long)idj->valuedouble;
  cJSON *res = cJSON_CreateObject();
  cJSON_AddStringToObject(res, "jsonrpc", "2.0");
  cJSON_AddNumberToObject(res, "id", (double)id);
  if (strcmp(m->valuestring, "public/set_heartbeat") == 0) {
    cJSON_AddStringToObject(res, "result", "ok");
    send_json(fv, res);
    send_fixture(fv, "deribit", "heartbeat_test_request.json");
  } else if (strcmp(m->valuestring, "public/get_instruments") == 0) {
    cJSON_Delete(res);
    const cJSON *cur = cJSON_GetObjectItem(params, "currency");
    const char *c = cJSON_IsString(cur) ? cur->valuestring : "";
    char *body = NULL;
    if (strcmp(c, "BTC") == 0)
      body = live_fixture("deribit", "get_instruments_btc_2026.json", id);
    else if (strcmp(c, "USDC") == 0)
      body = live_fixture("deribit", "get_instruments_usdc_crafted.json", id);
    if (body) {
      send_str(fv, body);
      free(body);
    } else {
      char empty[128];
      snprintf(empty, sizeof empty, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":[]}", id);
      send_str(fv, empty);
    }
  } else if (strstr(m->valuestring, "subscribe")) {
    cJSON_AddItemToObject(res, "result",
                          cJSON_Duplicate(cJSON_GetObjectItem(params, "channels"), 1));
    send_json(fv, res);
  } else {
    cJSON *r = cJSON_AddObjectToObject(res, "result");
    cJSON_AddStringToObject(r, "version", "fake");
    send_json(fv, res);
  }
  cJSON_Delete(req);
}

/* OKX: text ping -> pong; subscribe/unsubscribe -> an ack per op. */
static void okx_responder(struct fake_venue *fv, const char *msg, size_t len, void *user)
{
  (void)user;
  if (len == 4 && memcmp(msg, "ping", 4) == 0) {
    send_str(fv, "pong");
    return;
  }
  cJSON *req = cJSON_ParseWithLength(msg, len);
  const cJSON *op = cJSON_GetObjectItem(req, "op");
  const cJSON *id = cJSON_GetObjectItem(req, "id");
  const cJSON *args = cJSON_GetObjectItem(req, "args");
  if (cJSON_IsString(op) && cJSON_IsString(id) && cJSON_IsArray(args)) {
    cJSON *ack = cJSON_CreateObject();
    cJSON_AddStringToObject(ack, "id", id->valuestring);
    cJSON_AddStringToObject(ack, "event", op->valuestring);
    cJSON_AddItemToObject(ack, "arg", cJSON_Duplicate(cJSON_GetArrayItem(args, 0), 1));
    cJSON_AddStringToObject(ack, "connId", "fake");
    send_json(fv, ack);
  }
  cJSON_Delete(req);
}

/* Bybit option stream: {"op":"ping"} -> the option pong; subscribe -> ok. */
static void bybit_responder(struct fake_venue *fv, const char *msg, size_t len, void *user)
{
  (void)user;
  cJSON *req = cJSON_ParseWithLength(msg, len);
  const cJSON *op = cJSON_GetObjectItem(req, "op");
  if (cJSON_IsString(op) && strcmp(op->valuestring, "ping") == 0)
    send_fixture(fv, "bybit", "pong_option.json");
  else if (cJSON_IsString(op))
    send_fixture(fv, "bybit", "command_resp_ok.json");
  cJSON_Delete(req);
}

/* ---- the client's side -------------------------------------------------- */

static struct {
  struct fake_venue *fv;
  struct lws_context *ctx;
  struct qqueue *qq;
  struct metrics *metrics;
  struct feeds *f;
  int n_quotes, n_up, n_down, n_alive;
  struct quote last;
  uint64_t last_trace, prev_trace;
  int n_traces;
} h;

/* Runs the client loop once (at most one 20 ms feed tick) and drains the
 * queue into the counters. */
static void pump(void)
{
  lws_service(h.ctx, 0);
  struct qq_item it[64];
  int n;
  while ((n = qq_pop(h.qq, it, 64, 0)) > 0) {
    for (int i = 0; i < n; i++) {
      switch (it[i].kind) {
      case QQ_QUOTE:
        h.n_quotes++;
        h.last = it[i].q;
        if (it[i].trace_id != h.last_trace) {
          h.prev_trace = h.last_trace;
          h.last_trace = it[i].trace_id;
          h.n_traces++;
        }
        break;
      case QQ_LINK_UP:
        h.n_up++;
        break;
      case QQ_LINK_DOWN:
        h.n_down++;
        break;
      case QQ_LINK_ALIVE:
        h.n_alive++;
        break;
      }
    }
  }
}

#define WAIT_UNTIL(cond)                                                                           \
  do {                                                                                             \
    int64_t end_ = (now_mono_us() / 1000) + WAIT_MS;                                               \
    while (!(cond) && (now_mono_us() / 1000) < end_)                                               \
      pump();                                                                                      \
  } while (0)

/* The fake venue's count of received frames containing needle, after
 * waiting (bounded) for it to reach n: the client may have sent a frame
 * that the server thread has not read yet. */
static int rx_wait(const char *needle, int n)
{
  WAIT_UNTIL(fake_venue_count_rx(h.fv, needle) >= n);
  return fake_venue_count_rx(h.fv, needle);
}

static int accepts_wait(int n)
{
  WAIT_UNTIL(fake_venue_accepts(h.fv) >= n);
  return fake_venue_accepts(h.fv);
}

static struct feed_status status(void)
{
  struct feed_status st;
  feeds_status(h.f, 0, &st);
  return st;
}

/* Starts the fake venue and one connector for 'venue' against it. */
static void start(const char *venue, fake_on_text responder, struct feed_config *cfg)
{
  memset(&h, 0, sizeof h);
  fake.expiry_ms = (int64_t)time(NULL) * 1000 + 30LL * 86400000;
  fake_drop_symbol(NULL);
  h.fv = fake_venue_start(responder, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h.fv);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  h.ctx = lws_create_context(&info);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h.ctx);
  h.qq = qq_new(4096);
  h.metrics = metrics_new();
  h.f = feeds_new(h.ctx, h.qq, h.metrics);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h.f);
  char ws[128], rest[128];
  int port = fake_venue_port(h.fv);
  snprintf(ws, sizeof ws, "ws://127.0.0.1:%d/ws/api/v2", port);
  snprintf(rest, sizeof rest, "http://127.0.0.1:%d", port);
  cfg->venue = venue;
  cfg->ws_url = ws;
  cfg->rest_url = rest;
  CU_ASSERT_EQUAL_FATAL(feeds_add(h.f, cfg), 0);
  CU_ASSERT_EQUAL(feeds_count(h.f), 1);
}

static void stop(void)
{
  int down_before = h.n_down;
  int was_up = status().connected;
  feeds_free(h.f);
  struct qq_item it[64];
  int n;
  while ((n = qq_pop(h.qq, it, 64, 0)) > 0)
    for (int i = 0; i < n; i++)
      h.n_down += it[i].kind == QQ_LINK_DOWN;
  if (was_up)
    CU_ASSERT(h.n_down > down_before); /* feeds_free says the link went down */
  lws_context_destroy(h.ctx);
  fake_venue_stop(h.fv);
  qq_free(h.qq);
  metrics_free(h.metrics);
}

/* Test defaults: fast backoff, silence well beyond any one wait. */
static struct feed_config test_config(const char *venue)
{
  struct feed_config c;
  feed_config_default(&c, venue);
  c.backoff_min_ms = 20;
  c.backoff_max_ms = 100;
  c.silence_ms = 8000;
  c.msg_max = 16384;
  c.seed = 7;
  return c;
}

/* ---- Deribit ------------------------------------------------------------ */

static void deribit_lists_over_the_socket_subscribes_and_pushes_quotes(void)
{
  struct feed_config c = test_config("deribit");
  start("deribit", deribit_responder, &c);
  WAIT_UNTIL(h.n_up >= 1);
  CU_ASSERT_EQUAL(h.n_up, 1);
  CU_ASSERT_EQUAL(rx_wait("public/get_instruments", 3), 3); /* BTC, ETH, USDC */
  CU_ASSERT_EQUAL(rx_wait("\"currency\":\"USDC\"", 1), 1);
  CU_ASSERT_EQUAL(rx_wait("\"ticker.BTC-23MAY26-68000-C.100ms\"", 1), 1);
  CU_ASSERT_EQUAL(rx_wait("\"ticker.SOL_USDC-10OCT25-230-C.100ms\"", 1), 1);
  CU_ASSERT_EQUAL(rx_wait("\"ticker.MATIC_USDC-9MAR24-1d02-C.100ms\"", 1), 1);
  CU_ASSERT_EQUAL(rx_wait("PERP", 0), 0); /* futures are not options */
  CU_ASSERT_EQUAL(fake_venue_http_hits(h.fv), 0);
  struct feed_status st = status();
  CU_ASSERT_STRING_EQUAL(st.venue, "deribit");
  CU_ASSERT_EQUAL(st.connected, 1);
  CU_ASSERT_EQUAL(st.n_connects, 1);
  CU_ASSERT(st.n_subscribed >= 3);

  send_fixture(h.fv, "deribit", "ticker_btc_5jun20_9250_c.json");
  WAIT_UNTIL(h.n_quotes >= 1);
  CU_ASSERT_STRING_EQUAL(h.last.symbol, "BTC-5JUN20-9250-C");
  send_fixture(h.fv, "deribit", "ticker_matic_usdc_9mar24_1d02_c.json");
  WAIT_UNTIL(h.n_quotes >= 2);
  CU_ASSERT_EQUAL(h.n_quotes, 2);
  CU_ASSERT_STRING_EQUAL(h.last.symbol, "MATIC_USDC-9MAR24-1d02-C");
  CU_ASSERT_EQUAL(h.last.expiry_us, fake.expiry_ms * 1000); /* from the listing, not the symbol */
  CU_ASSERT_STRING_EQUAL(h.last.venue, "deribit");
  CU_ASSERT(h.last.local_ts_us > 0);
  CU_ASSERT(h.prev_trace != 0 && h.last_trace != h.prev_trace); /* one trace id per frame */
  CU_ASSERT(status().last_quote_us > 0);
  static char prom[1 << 16];
  metrics_render_prom(h.metrics, prom, sizeof prom);
  CU_ASSERT_PTR_NOT_NULL(strstr(prom, "volsurf_feed_quotes_total{venue=\"deribit\"} 2"));
  CU_ASSERT_PTR_NOT_NULL(strstr(prom, "volsurf_feed_connected{venue=\"deribit\"} 1"));
  CU_ASSERT_PTR_NOT_NULL(
      strstr(prom, "volsurf_feed_rejected_total{venue=\"deribit\",reason=\"field\"}"));
  stop();
}

static void deribit_answers_a_test_request_with_public_test(void)
{
  struct feed_config c = test_config("deribit");
  start("deribit", deribit_responder, &c);
  WAIT_UNTIL(fake_venue_count_rx(h.fv, "public/test") >= 1 && h.n_alive >= 1);
  CU_ASSERT_EQUAL(rx_wait("\"method\":\"public/set_heartbeat\"", 1), 1);
  CU_ASSERT_EQUAL(rx_wait("\"method\":\"public/test\"", 1), 1);
  CU_ASSERT(h.n_alive >= 1);
  CU_ASSERT(status().stats.n_heartbeats >= 1);
  send_fixture(h.fv, "deribit", "heartbeat_test_request.json");
  WAIT_UNTIL(fake_venue_count_rx(h.fv, "\"method\":\"public/test\"") >= 2);
  CU_ASSERT_EQUAL(rx_wait("\"method\":\"public/test\"", 2), 2);
  stop();
}

static void deribit_reconnects_and_resubscribes_after_a_drop(void)
{
  struct feed_config c = test_config("deribit");
  start("deribit", deribit_responder, &c);
  WAIT_UNTIL(h.n_up >= 1);
  fake_venue_drop(h.fv);
  WAIT_UNTIL(h.n_down >= 1);
  CU_ASSERT_EQUAL(h.n_down, 1);
  WAIT_UNTIL(h.n_up >= 2);
  CU_ASSERT_EQUAL(h.n_up, 2);
  CU_ASSERT_EQUAL(accepts_wait(2), 2);
  struct feed_status st = status();
  CU_ASSERT_EQUAL(st.n_connects, 2);
  CU_ASSERT_EQUAL(st.connected, 1);
  CU_ASSERT_EQUAL(rx_wait("\"ticker.BTC-23MAY26-68000-C.100ms\"", 2), 2);
  CU_ASSERT_EQUAL(rx_wait("public/get_instruments", 3), 3); /* listing kept */
  CU_ASSERT_EQUAL(rx_wait("public/set_heartbeat", 2), 2);
  send_fixture(h.fv, "deribit", "ticker_btc_5jun20_9250_c.json");
  WAIT_UNTIL(h.n_quotes >= 1);
  CU_ASSERT_EQUAL(h.n_quotes, 1);
  stop();
}

static void deribit_counts_garbage_and_oversize_frames_and_keeps_going(void)
{
  struct feed_config c = test_config("deribit");
  start("deribit", deribit_responder, &c);
  WAIT_UNTIL(h.n_up >= 1);
  struct feed_status before = status();
  send_str(h.fv, "garbage{{");
  send_str(h.fv, "[1,2");
  send_str(h.fv, "");
  send_fixture(h.fv, "deribit", "bad_truncated.json");
  send_str(h.fv, "{\"jsonrpc\":\"2.0\",\"method\":\"subscription\",\"params\":{\"channel\":7}}");
  size_t big_len = 3 * c.msg_max;
  char *big = malloc(big_len + 1);
  memset(big, 'a', big_len);
  memcpy(big, "{\"x\":\"", 6);
  memcpy(big + big_len - 2, "\"}", 2);
  big[big_len] = '\0';
  fake_venue_send(h.fv, big, big_len);
  free(big);
  send_fixture(h.fv, "deribit", "ticker_btc_5jun20_9250_c.json");
  WAIT_UNTIL(h.n_quotes >= 1);
  CU_ASSERT_EQUAL(h.n_quotes, 1);
  struct feed_status st = status();
  CU_ASSERT_EQUAL(st.n_oversize, 1);
  CU_ASSERT_EQUAL(st.stats.n_rejected[FEEDS_REJ_TOO_BIG], 1);
  CU_ASSERT(st.stats.n_rejected[FEEDS_REJ_JSON] - before.stats.n_rejected[FEEDS_REJ_JSON] >= 4);
  CU_ASSERT(st.stats.n_rejected[FEEDS_REJ_SHAPE] + st.stats.n_rejected[FEEDS_REJ_UNKNOWN] +
                st.stats.n_rejected[FEEDS_REJ_FIELD] >
            before.stats.n_rejected[FEEDS_REJ_SHAPE] + before.stats.n_rejected[FEEDS_REJ_UNKNOWN] +
                before.stats.n_rejected[FEEDS_REJ_FIELD]);
  CU_ASSERT_EQUAL(st.n_connects, 1); /* survived on the same connection */
  CU_ASSERT_EQUAL(st.connected, 1);
  stop();
}

static void deribit_reconnects_when_the_venue_falls_silent(void)
{
  struct feed_config c = test_config("deribit");
  c.silence_ms = 300; /* the fake sends nothing after the subscribe acks */
  start("deribit", deribit_responder, &c);
  WAIT_UNTIL(status().n_connects >= 2 && h.n_down >= 1 && fake_venue_accepts(h.fv) >= 2);
  CU_ASSERT(status().n_connects >= 2);
  CU_ASSERT(h.n_down >= 1);
  CU_ASSERT(accepts_wait(2) >= 2);
  stop();
}

static void deribit_refresh_unsubscribes_delisted_and_resubscribes_relisted(void)
{
  struct feed_config c = test_config("deribit");
  c.listing_refresh_ms = 200;
  c.assets = "BTC"; /* one get_instruments per refresh: paced at 3/s */
  start("deribit", deribit_responder, &c);
  WAIT_UNTIL(h.n_up >= 1);
  long subscribed = status().n_subscribed;
  fake_drop_symbol("BTC-23MAY26-68000-C");
  WAIT_UNTIL(fake_venue_count_rx(h.fv, "public/unsubscribe") >= 1);
  CU_ASSERT_EQUAL(rx_wait("public/unsubscribe", 1), 1);
  CU_ASSERT_EQUAL(rx_wait("\"ticker.BTC-23MAY26-68000-C.100ms\"", 2), 2);
  WAIT_UNTIL(status().n_subscribed == subscribed - 1);
  CU_ASSERT_EQUAL(status().n_subscribed, subscribed - 1);
  fake_drop_symbol(NULL);
  WAIT_UNTIL(fake_venue_count_rx(h.fv, "\"ticker.BTC-23MAY26-68000-C.100ms\"") >= 3);
  CU_ASSERT_EQUAL(rx_wait("\"ticker.BTC-23MAY26-68000-C.100ms\"", 3), 3);
  CU_ASSERT(rx_wait("public/get_instruments", 3) >= 3);
  CU_ASSERT_EQUAL(status().n_connects, 1);
  stop();
}

/* ---- OKX ---------------------------------------------------------------- */

static void serve_listing(const char *venue, const char *path, const char *name)
{
  char *body = live_fixture(venue, name, -1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(body);
  fake_venue_set_http(h.fv, path, body);
  free(body);
}

static void okx_lists_over_rest_subscribes_families_and_pings(void)
{
  struct feed_config c = test_config("okx");
  c.assets = "BTC,BTC_UM";
  c.ping_ms = 100;
  start("okx", okx_responder, &c);
  serve_listing("okx", "/api/v5/public/instruments", "instruments_reconstructed.json");
  WAIT_UNTIL(h.n_up >= 1);
  CU_ASSERT_EQUAL(h.n_up, 1);
  CU_ASSERT(fake_venue_http_hits(h.fv) >= 2); /* one GET per instFamily */
  CU_ASSERT_EQUAL(rx_wait("{\"channel\":\"opt-summary\",\"instFamily\":\"BTC-USD\"}", 1), 1);
  CU_ASSERT_EQUAL(rx_wait("{\"channel\":\"opt-summary\",\"instFamily\":\"BTC-USD_UM\"}", 1), 1);
  CU_ASSERT_EQUAL(rx_wait("{\"channel\":\"tickers\",\"instId\":\"BTC-USD-241013-70000-P\"}", 1), 1);
  send_fixture(h.fv, "okx", "opt_summary_official.json");
  send_fixture(h.fv, "okx", "tickers_crafted.json");
  WAIT_UNTIL(h.n_quotes >= 2);
  CU_ASSERT_EQUAL(h.n_quotes, 2);
  CU_ASSERT_STRING_EQUAL(h.last.symbol, "BTC-USD-241013-70000-P");
  CU_ASSERT_EQUAL(h.last.expiry_us, fake.expiry_ms * 1000);
  WAIT_UNTIL(h.n_alive >= 1);
  CU_ASSERT(rx_wait("ping", 1) >= 1);
  CU_ASSERT(h.n_alive >= 1);
  fake_venue_drop(h.fv);
  WAIT_UNTIL(h.n_up >= 2);
  CU_ASSERT_EQUAL(h.n_up, 2);
  CU_ASSERT_EQUAL(rx_wait("{\"channel\":\"opt-summary\",\"instFamily\":\"BTC-USD\"}", 2), 2);
  stop();
}

static void okx_retries_a_failed_listing_then_subscribes(void)
{
  struct feed_config c = test_config("okx");
  c.assets = "BTC";
  c.listing_refresh_ms = 200; /* also the retry delay */
  start("okx", okx_responder, &c);
  WAIT_UNTIL(fake_venue_http_hits(h.fv) >= 2); /* 404 twice */
  CU_ASSERT_EQUAL(h.n_up, 0);
  CU_ASSERT_EQUAL(status().n_subscribed, 0);
  serve_listing("okx", "/api/v5/public/instruments", "instruments_reconstructed.json");
  WAIT_UNTIL(h.n_up >= 1);
  CU_ASSERT_EQUAL(h.n_up, 1);
  CU_ASSERT(status().n_subscribed >= 3);
  stop();
}

static void okx_counts_oversize_and_garbage_and_keeps_going(void)
{
  struct feed_config c = test_config("okx");
  c.assets = "BTC";
  start("okx", okx_responder, &c);
  serve_listing("okx", "/api/v5/public/instruments", "instruments_reconstructed.json");
  WAIT_UNTIL(h.n_up >= 1);
  send_str(h.fv, "pon");
  send_fixture(h.fv, "okx", "bad_truncated.json");
  char *big = calloc(1, 2 * c.msg_max + 1);
  memset(big, ' ', 2 * c.msg_max);
  fake_venue_send(h.fv, big, 2 * c.msg_max);
  free(big);
  send_fixture(h.fv, "okx", "opt_summary_official.json");
  WAIT_UNTIL(h.n_quotes >= 1);
  CU_ASSERT_EQUAL(h.n_quotes, 1);
  struct feed_status st = status();
  CU_ASSERT_EQUAL(st.n_oversize, 1);
  CU_ASSERT(st.stats.n_rejected[FEEDS_REJ_JSON] >= 2);
  CU_ASSERT_EQUAL(st.n_connects, 1);
  stop();
}

/* ---- Bybit -------------------------------------------------------------- */

static void bybit_lists_over_rest_subscribes_tickers_pings_and_reconnects(void)
{
  struct feed_config c = test_config("bybit");
  c.assets = "BTC";
  c.ping_ms = 100;
  start("bybit", bybit_responder, &c);
  serve_listing("bybit", "/v5/market/instruments-info", "instruments_info_official.json");
  WAIT_UNTIL(h.n_up >= 1);
  CU_ASSERT_EQUAL(h.n_up, 1);
  CU_ASSERT_EQUAL(rx_wait("\"tickers.BTC-27MAR26-70000-P-USDT\"", 1), 1);
  send_fixture(h.fv, "bybit", "ticker_ws_official.json");
  WAIT_UNTIL(h.n_quotes >= 1);
  CU_ASSERT_STRING_EQUAL(h.last.symbol, "BTC-6JAN23-17500-C");
  WAIT_UNTIL(h.n_alive >= 1);
  CU_ASSERT(rx_wait("\"op\":\"ping\"", 1) >= 1);
  CU_ASSERT(h.n_alive >= 1);
  send_str(h.fv, "\x01\x02garbage");
  send_fixture(h.fv, "bybit", "bad_data_wrong_type.json");
  WAIT_UNTIL(status().stats.n_rejected[FEEDS_REJ_JSON] >= 1);
  CU_ASSERT_EQUAL(status().stats.n_rejected[FEEDS_REJ_JSON], 1);
  fake_venue_drop(h.fv);
  WAIT_UNTIL(h.n_up >= 2);
  CU_ASSERT_EQUAL(h.n_up, 2);
  CU_ASSERT_EQUAL(rx_wait("\"tickers.BTC-27MAR26-70000-P-USDT\"", 2), 2);
  CU_ASSERT_EQUAL(status().n_connects, 2);
  stop();
}

/* ---- Binance ------------------------------------------------------------ */

static void binance_lists_over_rest_subscribes_mark_stream_and_pongs(void)
{
  struct feed_config c = test_config("binance");
  c.ping_ms = 100; /* websocket PING frames */
  start("binance", fake_venue_binance_responder, &c);
  serve_listing("binance", "/eapi/v1/exchangeInfo", "exchange_info_reconstructed.json");
  WAIT_UNTIL(h.n_up >= 1);
  CU_ASSERT_EQUAL(h.n_up, 1);
  CU_ASSERT_EQUAL(rx_wait("{\"method\":\"SUBSCRIBE\"", 1), 1);
  CU_ASSERT_EQUAL(rx_wait("\"btcusdt@optionMarkPrice\"", 1), 1);
  send_fixture(h.fv, "binance", "mark_ws_official.json");
  WAIT_UNTIL(h.n_quotes >= 1);
  CU_ASSERT_STRING_EQUAL(h.last.symbol, "BTC-251120-126000-C");
  WAIT_UNTIL(h.n_alive >= 1); /* our PING answered by the server's PONG */
  CU_ASSERT(h.n_alive >= 1);
  fake_venue_ping(h.fv); /* the server's PING answered by lws */
  WAIT_UNTIL(fake_venue_pongs(h.fv) >= 1);
  CU_ASSERT(fake_venue_pongs(h.fv) >= 1);
  send_fixture(h.fv, "binance", "bad_truncated.json");
  WAIT_UNTIL(status().stats.n_rejected[FEEDS_REJ_JSON] >= 1);
  fake_venue_drop(h.fv);
  WAIT_UNTIL(h.n_up >= 2);
  CU_ASSERT_EQUAL(rx_wait("\"btcusdt@optionMarkPrice\"", 2), 2);
  CU_ASSERT(status().stats.n_rejected[FEEDS_REJ_JSON] >= 1);
  stop();
}

/* The embedded default: the real Deribit connector against the market
 * simulator (feeds/sim_server.h) on loopback. */
static void deribit_connector_streams_the_simulated_market(void)
{
  struct sim_server_config sc;
  sim_server_config_default(&sc);
  sc.listen = "127.0.0.1:0";
  sc.market.assets = "BTC,SOL_USDC";
  sc.tick_ms = 50;
  char err[256];
  struct sim_server *sim = sim_server_start(&sc, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(sim);
  memset(&h, 0, sizeof h);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  h.ctx = lws_create_context(&info);
  h.qq = qq_new(1 << 16);
  h.f = feeds_new(h.ctx, h.qq, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h.f);
  char ws[128];
  snprintf(ws, sizeof ws, "ws://127.0.0.1:%d/ws/api/v2", sim_server_port(sim));
  struct feed_config c = test_config("deribit");
  c.ws_url = ws;
  c.msg_max = FEEDS_MSG_MAX;
  CU_ASSERT_EQUAL_FATAL(feeds_add(h.f, &c), 0);
  WAIT_UNTIL(h.n_up >= 1 && h.n_quotes >= 100);
  CU_ASSERT_EQUAL(h.n_up, 1);
  CU_ASSERT(h.n_quotes >= 100);
  struct feed_status st = status();
  CU_ASSERT(st.n_subscribed > 50); /* BTC and SOL_USDC listings */
  CU_ASSERT_EQUAL(st.n_oversize, 0);
  CU_ASSERT_EQUAL(st.stats.n_rejected[FEEDS_REJ_JSON], 0);
  CU_ASSERT_EQUAL(st.stats.n_expiry_from_symbol, 0); /* every quote found in the listing */
  CU_ASSERT_EQUAL(st.n_dropped_queue, 0);
  feeds_free(h.f);
  lws_context_destroy(h.ctx);
  qq_free(h.qq);
  sim_server_stop(sim);
}

static void feeds_add_refuses_unknown_venues_and_bad_urls(void)
{
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  struct lws_context *ctx = lws_create_context(&info);
  struct qqueue *qq = qq_new(16);
  struct feeds *f = feeds_new(ctx, qq, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  struct feed_config c;
  feed_config_default(&c, "kraken");
  CU_ASSERT_EQUAL(feeds_add(f, &c), ERR_INPUT);
  feed_config_default(&c, "deribit");
  c.ws_url = "http://127.0.0.1:1/ws";
  CU_ASSERT_EQUAL(feeds_add(f, &c), ERR_INPUT);
  c.ws_url = "not a url";
  CU_ASSERT_EQUAL(feeds_add(f, &c), ERR_INPUT);
  CU_ASSERT_EQUAL(feeds_count(f), 0);
  c.ws_url = NULL; /* production default: added, never connected in this test */
  CU_ASSERT_EQUAL(feeds_add(f, &c), 0);
  CU_ASSERT_EQUAL(feeds_count(f), 1);
  feeds_free(f);
  lws_context_destroy(ctx);
  qq_free(qq);
}

int main(void)
{
  /* FEED_TEST_LOG=1 shows the connectors' own log lines. */
  const char *log = getenv("FEED_TEST_LOG");
  lws_set_log_level(log && *log == '1' ? LLL_ERR | LLL_WARN | LLL_USER : LLL_ERR, NULL);
  const struct test_case cases[] = {
      TEST_CASE(deribit_lists_over_the_socket_subscribes_and_pushes_quotes),
      TEST_CASE(deribit_answers_a_test_request_with_public_test),
      TEST_CASE(deribit_reconnects_and_resubscribes_after_a_drop),
      TEST_CASE(deribit_counts_garbage_and_oversize_frames_and_keeps_going),
      TEST_CASE(deribit_reconnects_when_the_venue_falls_silent),
      TEST_CASE(deribit_refresh_unsubscribes_delisted_and_resubscribes_relisted),
      TEST_CASE(okx_lists_over_rest_subscribes_families_and_pings),
      TEST_CASE(okx_retries_a_failed_listing_then_subscribes),
      TEST_CASE(okx_counts_oversize_and_garbage_and_keeps_going),
      TEST_CASE(bybit_lists_over_rest_subscribes_tickers_pings_and_reconnects),
      TEST_CASE(binance_lists_over_rest_subscribes_mark_stream_and_pongs),
      TEST_CASE(deribit_connector_streams_the_simulated_market),
      TEST_CASE(feeds_add_refuses_unknown_venues_and_bad_urls),
  };
  return test_run("feed_loopback", cases, TEST_COUNT(cases));
}

#else
int main(void)
{
  return 77; /* built without libwebsockets/libcurl or cJSON */
}
#endif
